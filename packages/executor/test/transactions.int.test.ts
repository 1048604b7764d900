import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlValue } from '@shardgate/planner';
import { seededRandom } from '@shardgate/test-kit';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { FixturePlanner, bind, bindExpr, ks, plan, planned, route, sql, tpl } from './support/plan-builders.js';
import { COMMERCE_SHARDS, testCluster, type TestCluster } from './support/test-cluster.js';

const commerce = ks('commerce');

function planner(): FixturePlanner {
  return new FixturePlanner()
    .on(/^insert into orders/i, (_m, params) =>
      planned(
        plan(
          {
            operator: 'Insert',
            variant: 'Sharded',
            keyspace: commerce,
            table: 'orders',
            prefix: 'insert into orders(id, customer_id, amount) values ',
            rowTemplate: tpl`(${bind('$0')}, ${bind('$1')}, ${bind('$2')})`,
            rowsBind: '__rows',
            suffix: sql(''),
            primaryVindex: [{ vindex: 'hash', valueIndex: 1 }],
          },
          'INSERT',
        ),
        { __rows: [params] as unknown as SqlValue[] },
      ),
    )
    .on(/^select count\(\*\) from orders$/i, () => plan(route('Scatter', commerce, sql('select count(*) from orders'))))
    .on(/^select id from orders where customer_id = \?$/i, (_m, params) =>
      planned(plan(route('EqualUnique', commerce, tpl`select id from orders where customer_id = ${bind('v1')}`, { vindex: 'hash', values: [bindExpr('v1')] })), { v1: params[0] }),
    )
    .on(/^select connection_id\(\) from orders where customer_id = \?$/i, (_m, params) =>
      planned(plan(route('EqualUnique', commerce, tpl`select connection_id(), sleep(0.01) from dual where ${bind('v1')} is not null`, { vindex: 'hash', values: [bindExpr('v1')] })), { v1: params[0] }),
    )
    .on(/^select @@session.time_zone, @@session.sql_mode$/i, () => plan(route('Scatter', commerce, sql('select @@session.time_zone, @@session.sql_mode'))))
    .on(/^select @@session.foreign_key_checks, @@session.unique_checks$/i, () => plan(route('Scatter', commerce, sql('select @@session.foreign_key_checks, @@session.unique_checks'))))
    .on(/^select date_format/i, () => plan(route('Scatter', commerce, sql("select date_format('2024-03-04', '%M %W'), week('2024-01-01')"))))
    .on(/^select sleep/i, () => plan(route('Scatter', commerce, sql('select sleep(0.01)'))));
}

describe('sessions and transactions (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let nextId = 1;
  const exec = async (s: ExecutorSession, text: string, params?: SqlValue[]) => {
    const sink = new CollectingSink();
    await s.execute(text, sink, params);
    return sink;
  };
  const openTrx = async () => {
    // InnoDB refreshes its information_schema transaction cache at most every 100 ms.
    await new Promise((r) => setTimeout(r, 150));
    let n = 0;
    for (const shard of [...COMMERCE_SHARDS, 'main']) {
      const [rows] = await (await tc.direct(shard)).query<any[]>('select count(*) as n from information_schema.innodb_trx where trx_mysql_thread_id <> connection_id()');
      n += Number(rows[0].n);
    }
    return n;
  };
  /**
   * Begins a transaction in `s` that inserts one order on every shard, then kills the session's
   * connection on the third shard (from the shard itself, as a crash or an operator would).
   */
  const writeOnEveryShardAndKillThird = async (s: ExecutorSession) => {
    await exec(s, 'begin');
    const shards = Object.keys(customerOnShard);
    const inserted: Record<string, string> = {};
    for (const shard of shards) {
      inserted[shard] = String(nextId);
      await exec(s, 'insert into orders', [BigInt(nextId++), customerOnShard[shard], '4.00']);
    }
    const victim = shards[2];
    await killOpenTransactionOn(victim);
    return { shards, inserted, victim };
  };
  /** Kills, from the shard itself, the one connection there with an open transaction (the session's). */
  const killOpenTransactionOn = async (shard: string) => {
    const direct = await tc.direct(shard);
    await new Promise((r) => setTimeout(r, 150)); // InnoDB's trx cache
    const [trx] = await direct.query<any[]>('select trx_mysql_thread_id as id from information_schema.innodb_trx where trx_mysql_thread_id <> connection_id()');
    expect(trx.length).toBe(1);
    await direct.query(`kill ${trx[0].id}`);
  };
  const count = async (s: ExecutorSession) => Number((await exec(s, 'select count(*) from orders')).rows.reduce((a, r) => a + Number(r[0]), 0));
  /** Customer ids 1..4 land on four different shards with the hash vindex? Find two on different shards. */
  const customerOnShard: Record<string, bigint> = {};

  beforeAll(async () => {
    tc = await testCluster('exec_tx');
    executor = tc.executor(planner(), { poolSize: 4 });
    await executor.start();
    const { ShardMap } = await import('@shardgate/vschema');
    const map = new ShardMap([...COMMERCE_SHARDS]);
    const hash = tc.vschema.keyspace('commerce')!.vindexes.get('hash') as { map(v: bigint): Uint8Array };
    for (let c = 1n; Object.keys(customerOnShard).length < 4; c++) customerOnShard[map.shardFor(hash.map(c))] ??= c;
  });
  afterAll(async () => {
    await tc?.drop();
  });

  it('ROLLBACK undoes writes on every shard; COMMIT keeps them', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await exec(s, 'begin');
    for (const c of Object.values(customerOnShard)) await exec(s, 'insert into orders', [BigInt(nextId++), c, '1.00']);
    expect(s.status()).toEqual({ inTransaction: true, autocommit: true });
    expect(await openTrx()).toBe(4);
    await exec(s, 'rollback');
    expect(await count(s)).toBe(0);
    expect(await openTrx()).toBe(0);
    await exec(s, 'begin');
    for (const c of Object.values(customerOnShard)) await exec(s, 'insert into orders', [BigInt(nextId++), c, '2.00']);
    await exec(s, 'commit');
    expect(await count(s)).toBe(4);
    expect(await openTrx()).toBe(0);
    await s.close();
    expect(executor.stats().pools.every((p) => p.inUse === 0)).toBe(true);
  });

  it('single transaction mode refuses a second shard', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await exec(s, "set transaction_mode = 'single'");
    await exec(s, 'begin');
    const [a, b] = Object.values(customerOnShard);
    await exec(s, 'insert into orders', [BigInt(nextId++), a, '3.00']);
    await expect(exec(s, 'insert into orders', [BigInt(nextId++), b, '3.00'])).rejects.toMatchObject({ errno: 1105, message: expect.stringMatching(/single transaction mode/) });
    await exec(s, 'rollback');
    await s.close();
    expect(await openTrx()).toBe(0);
  });

  it('multi mode commits shard by shard and reports a partial failure truthfully', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    // The session's connection on the third shard is killed: its COMMIT will fail.
    const { shards, inserted, victim } = await writeOnEveryShardAndKillThird(s);
    const err = await exec(s, 'commit').catch((e) => e);
    expect(err.errno).toBe(1180);
    expect(err.message).toContain(`committed on commerce/${shards[0]}, commerce/${shards[1]}`);
    expect(err.message).toContain(`commit failed on commerce/${victim}`);
    expect(err.message).toContain(`rolled back on commerce/${shards[3]}`);
    expect(s.status().inTransaction).toBe(false);
    // exactly the shards the error names as committed have the rows
    for (const [i, shard] of shards.entries()) {
      const got = await exec(s, 'select id from orders where customer_id = ?', [customerOnShard[shard]]);
      expect(got.rows.some((r) => r[0] === inserted[shard])).toBe(i < 2);
    }
    expect(await openTrx()).toBe(0);
    await s.close();
  });

  it('multi mode commits nothing when a shard connection of the transaction is already known lost', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    // The session's connection on the third shard is killed, and the session finds out (2013).
    const { shards, inserted, victim } = await writeOnEveryShardAndKillThird(s);
    const lost = await exec(s, 'select id from orders where customer_id = ?', [customerOnShard[victim]]).catch((e) => e);
    expect(lost.errno).toBe(2013);
    // Its insert is gone with the connection: committing the other three would commit part of the
    // transaction (it did, and said so only afterwards).
    const err = await exec(s, 'commit').catch((e) => e);
    expect(err.errno).toBe(1180);
    expect(err.message).toContain(`the connection to commerce/${victim} was lost`);
    expect(err.message).toContain('nothing was committed');
    expect(err.message).toContain(`rolled back ${shards.filter((x) => x !== victim).map((x) => `commerce/${x}`).join(', ')}`);
    expect(s.status().inTransaction).toBe(false);
    for (const shard of shards) {
      const got = await exec(s, 'select id from orders where customer_id = ?', [customerOnShard[shard]]);
      expect(got.rows.some((r) => r[0] === inserted[shard])).toBe(false);
    }
    expect(await openTrx()).toBe(0);
    await s.close();
  });

  it('a transaction that only reads joins each shard with its first SELECT, reads one snapshot per shard, and commits the shards together', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    const other = executor.openSession({ user: 'u', database: 'commerce' });
    const before = await count(s);
    await exec(s, 'begin');
    // START TRANSACTION goes out with each shard's first statement (one write): the shards are in
    // the transaction, and the first read took each shard's snapshot, as on one MariaDB.
    expect(await count(s)).toBe(before);
    expect(await openTrx()).toBe(4);
    for (const c of Object.values(customerOnShard)) await exec(other, 'insert into orders', [BigInt(nextId++), c, '5.00']);
    expect(await count(s)).toBe(before);
    await exec(s, 'commit');
    expect(await openTrx()).toBe(0);
    expect(await count(s)).toBe(before + 4);

    // One shard's COMMIT fails: the client's COMMIT fails, naming it and the shards that committed.
    await exec(s, 'begin');
    expect(await count(s)).toBe(before + 4);
    const shards = Object.keys(customerOnShard);
    const victim = shards[1];
    await killOpenTransactionOn(victim);
    const err = await exec(s, 'commit').catch((e) => e);
    expect(err.errno).toBe(1180);
    expect(err.message).toContain(`commit failed on commerce/${victim}`);
    expect(err.message).toContain(`committed on ${shards.filter((x) => x !== victim).sort().map((x) => `commerce/${x}`).join(', ')}`);
    expect(s.status().inTransaction).toBe(false);
    expect(await count(s)).toBe(before + 4);
    expect(await openTrx()).toBe(0);
    await s.close();
    await other.close();
    expect(executor.stats().pools.every((p) => p.inUse === 0)).toBe(true);
  });

  it('a shard that joins with a pipelined SELECT after a SAVEPOINT gets the savepoint too', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    const before = await count(s);
    await exec(s, 'begin');
    await exec(s, 'savepoint a');
    // Every shard joins here: START TRANSACTION, SAVEPOINT a and the SELECT in one write each.
    expect(await count(s)).toBe(before);
    for (const c of Object.values(customerOnShard)) await exec(s, 'insert into orders', [BigInt(nextId++), c, '6.00']);
    expect(await count(s)).toBe(before + 4);
    await exec(s, 'rollback to savepoint a');
    expect(await count(s)).toBe(before);
    await exec(s, 'commit');
    expect(await count(s)).toBe(before);
    expect(await openTrx()).toBe(0);
    await s.close();
  });

  it('concurrent statements of one session never reserve two connections for one shard', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await exec(s, 'begin');
    const c = Object.values(customerOnShard)[0];
    const sinks = await Promise.all(Array.from({ length: 12 }, () => exec(s, 'select connection_id() from orders where customer_id = ?', [c])));
    const ids = new Set(sinks.map((k) => k.rows[0][0]));
    expect(ids.size).toBe(1);
    await exec(s, 'rollback');
    await s.close();
  });

  it('session variables are applied to every shard connection, and reset before reuse', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await exec(s, "set time_zone = '+05:00'");
    await exec(s, "set sql_mode = 'ONLY_FULL_GROUP_BY'");
    const got = await exec(s, 'select @@session.time_zone, @@session.sql_mode');
    expect(got.rows).toEqual(COMMERCE_SHARDS.map(() => ['+05:00', 'ONLY_FULL_GROUP_BY']));
    // Modes the gateway's rendering does not follow are refused (a quote rendered `\'` would end a
    // string under NO_BACKSLASH_ESCAPES; ORACLE and MSSQL are other dialects). The session's
    // sql_mode stays as it was.
    for (const mode of ['no_backslash_escapes', 'oracle', 'STRICT_TRANS_TABLES,MSSQL']) {
      await expect(exec(s, `set sql_mode = '${mode}'`)).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
    expect((await exec(s, 'select @@session.time_zone, @@session.sql_mode')).rows).toEqual(COMMERCE_SHARDS.map(() => ['+05:00', 'ONLY_FULL_GROUP_BY']));
    const text = 'select "c", count (*) from t';
    expect(s.inSqlMode(text)).toBe(text);
    // ANSI's flags are read back from a shard, combination modes expanded, and the session's
    // text is read in them (ANSI_QUOTES, IGNORE_SPACE; || refused under PIPES_AS_CONCAT).
    await exec(s, "set sql_mode = 'STRICT_TRANS_TABLES,ANSI'");
    expect(s.inSqlMode(text)).toBe('select `c`, count(*) from t');
    expect(() => s.inSqlMode("select 'a' || 'b'")).toThrow(expect.objectContaining({ errno: 1235 }));
    await exec(s, "set sql_mode = 'ONLY_FULL_GROUP_BY'");
    expect(s.inSqlMode(text)).toBe(text);
    // A dump's `SET FOREIGN_KEY_CHECKS=0` (and unique_checks, sql_safe_updates) reach the shards too.
    await exec(s, 'set foreign_key_checks = 0');
    await exec(s, 'set unique_checks = 0');
    expect((await exec(s, 'select @@session.foreign_key_checks, @@session.unique_checks')).rows).toEqual(COMMERCE_SHARDS.map(() => ['0', '0']));
    // Month and day names, and WEEK()'s mode, as the session set them.
    await exec(s, "set lc_time_names = 'de_DE'");
    await exec(s, 'set default_week_format = 1');
    expect((await exec(s, 'select date_format')).rows).toEqual(COMMERCE_SHARDS.map(() => ['März Montag', '1']));
    await expect(exec(s, "set time_zone = 'Mars/Olympus'")).rejects.toMatchObject({ errno: 1298 });
    await s.close();
    const fresh = executor.openSession({ user: 't', database: 'commerce' });
    const after = await exec(fresh, 'select @@session.time_zone, @@session.sql_mode');
    for (const r of after.rows) {
      expect(r[0]).not.toBe('+05:00');
      expect(r[1]).not.toBe('ONLY_FULL_GROUP_BY');
    }
    await fresh.close();
  });

  it('autocommit = 0 opens transactions implicitly', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    const before = await count(s);
    await exec(s, 'set autocommit = 0');
    await exec(s, 'insert into orders', [BigInt(nextId++), Object.values(customerOnShard)[1], '5.00']);
    expect(s.status()).toEqual({ inTransaction: true, autocommit: false });
    await exec(s, 'rollback');
    expect(await count(s)).toBe(before);
    await exec(s, 'set autocommit = 1');
    await s.close();
    expect(await openTrx()).toBe(0);
  });

  it('10,000 random sessions with abrupt disconnects leave pools at size and no open transaction', async () => {
    const random = seededRandom(20240611);
    const customers = Object.values(customerOnShard);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
    let failures = 0;
    const oneSession = async () => {
      const s = executor.openSession({ user: 'fuzz', database: 'commerce' });
      const steps = 1 + Math.floor(random() * 3);
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < steps; i++) {
        const action = random();
        const sink = new CollectingSink();
        let p: Promise<unknown>;
        if (action < 0.2) p = s.execute('begin', sink);
        else if (action < 0.45) p = s.execute('insert into orders', sink, [BigInt(100_000 + nextId++), pick(customers), '1.00']);
        else if (action < 0.65) p = s.execute('select id from orders where customer_id = ?', sink, [pick(customers)]);
        else if (action < 0.75) p = s.execute('select sleep(0.01)', sink);
        else if (action < 0.8) p = s.execute("set time_zone = '+01:00'", sink);
        else if (action < 0.9) p = s.execute('commit', sink);
        else p = s.execute('rollback', sink);
        p = p.catch(() => failures++);
        pending.push(p);
        if (random() < 0.3) {
          // abrupt disconnect mid-statement: the client vanishes, the gateway closes the session
          sink.controller.abort();
          break;
        }
        await p;
      }
      await s.close();
      await Promise.all(pending);
    };
    const total = 10_000;
    let started = 0;
    const worker = async () => {
      while (started < total) {
        started++;
        await oneSession();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const stats = executor.stats();
    expect(stats.sessions).toBe(0);
    for (const p of stats.pools) {
      expect(p.inUse).toBe(0);
      expect(p.open).toBeLessThanOrEqual(p.size);
    }
    expect(await openTrx()).toBe(0);
    for (const shard of COMMERCE_SHARDS) {
      const [rows] = await (await tc.direct(shard)).query<any[]>("select count(*) as n from information_schema.processlist where db = database() and id <> connection_id() and command <> 'Sleep'");
      expect(Number(rows[0].n)).toBe(0);
    }
    expect(failures).toBeLessThan(total); // some statements fail by design (aborted), not all
  }, 120_000);
});
