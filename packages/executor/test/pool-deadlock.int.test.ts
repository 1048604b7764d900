/**
 * Hold-and-wait across shard pools (real MariaDB): transactions that each hold a connection of
 * one shard and then need one of another shard, with both pools exhausted, used to wait for each
 * other forever and freeze every later client. Now a session that already holds a connection
 * waits a bounded time (ShardReservations) and gets 1203 / 42000, its transaction still usable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Planner } from '@shardgate/planner';
import { ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import type { Executor, ExecutorSession } from '../src/index.js';
import { hasMysqlCode } from '../src/errors.js';
import { CollectingSink } from './support/collecting-sink.js';
import { COMMERCE_SHARDS, testCluster, type TestCluster } from './support/test-cluster.js';

const POOL = 2;

describe('transactions on two shards with exhausted pools (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let idA = 0n;
  let idB = 0n;
  const exec = async (s: ExecutorSession, sql: string) => {
    const sink = new CollectingSink();
    await s.execute(sql, sink);
    return sink;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_pooldl');
    for (const shard of Object.values(tc.topology.commerce)) shard.poolSize = POOL;
    executor = tc.executor(new Planner({ vschema: tc.vschema }));
    await executor.start();
    // Two ids on different shards.
    const map = new ShardMap([...COMMERCE_SHARDS]);
    const hash = tc.vschema.keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
    const shardOf = (id: bigint) => map.shardFor(hash.map(id)!);
    idA = 1n;
    idB = 2n;
    while (shardOf(idB) === shardOf(idA)) idB++;
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await exec(s, `insert into customer (id, name) values (${idA}, 'a'), (${idB}, 'b')`);
    await s.close();
  });
  afterAll(async () => {
    await tc?.drop();
  });

  it('every client finishes (committed or 1203), the transaction stays usable, and the gateway keeps serving', async () => {
    // Twice the pool: half the clients take A then B, half B then A. Each first takes its own
    // first shard's connection; once all hold one, all cross over: a cycle with no free connection.
    const clients = Array.from({ length: 2 * POOL }, () => executor.openSession({ user: 't', database: 'commerce' }));
    let holding = 0;
    let allHold!: () => void;
    const everyoneHolds = new Promise<void>((resolve) => (allHold = resolve));
    const outcomes: string[] = [];

    const run = async (s: ExecutorSession, i: number) => {
      const [first, second] = i % 2 === 0 ? [idA, idB] : [idB, idA];
      await exec(s, 'begin');
      expect((await exec(s, `select name from customer where id = ${first}`)).rows.length).toBe(1);
      if (++holding === clients.length) allHold();
      await everyoneHolds;
      try {
        await exec(s, `select name from customer where id = ${second}`);
        await exec(s, 'commit');
        outcomes.push('committed');
      } catch (err) {
        expect(hasMysqlCode(err)).toBe(true);
        const e = err as { errno: number; sqlState: string; message: string };
        expect([e.errno, e.sqlState]).toEqual([1203, '42000']);
        expect(e.message).toMatch(/transaction pool connection limit exceeded.*commerce\//);
        // Only the statement failed: the transaction still answers on the shard it holds.
        expect(s.status().inTransaction).toBe(true);
        expect((await exec(s, `select name from customer where id = ${first}`)).rows.length).toBe(1);
        await exec(s, 'rollback');
        outcomes.push('1203');
      }
    };

    // Not a timing assertion: without the fix the clients wait forever, and this turns the hang
    // into a failure that says so instead of the test runner's timeout.
    let hang: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<'hung'>((resolve) => (hang = setTimeout(() => resolve('hung'), 30_000)));
    // A plain (autocommit) client arriving in the middle of the jam must get through too.
    const plain = executor.openSession({ user: 't', database: 'commerce' });
    const plainQuery = everyoneHolds.then(() => exec(plain, `select name from customer where id = ${idA}`));
    const finished = await Promise.race([Promise.all([...clients.map(run), plainQuery]).then(() => 'finished' as const), hung]);
    clearTimeout(hang);
    expect(finished).toBe('finished');
    expect(outcomes.length).toBe(clients.length);
    // The cycle was real: at least one client had to give up.
    expect(outcomes).toContain('1203');
    expect((await plainQuery).rows).toEqual([['a']]);

    await Promise.all([...clients, plain].map((s) => s.close()));
    for (const pool of executor.stats().pools) expect(pool.inUse).toBe(0);

    // A fresh client afterwards: a point select and a two-shard transaction both work.
    const fresh = executor.openSession({ user: 't', database: 'commerce' });
    expect((await exec(fresh, `select name from customer where id = ${idB}`)).rows).toEqual([['b']]);
    await exec(fresh, 'begin');
    await exec(fresh, `update customer set name = 'a2' where id = ${idA}`);
    await exec(fresh, `update customer set name = 'b2' where id = ${idB}`);
    await exec(fresh, 'commit');
    expect((await exec(fresh, `select name from customer where id in (${idA}, ${idB}) order by id`)).rows).toEqual([['a2'], ['b2']]);
    await fresh.close();
  });

  it('a session holding nothing waits as long as it takes (no error when the pool is merely busy)', async () => {
    const holders = Array.from({ length: POOL }, () => executor.openSession({ user: 't', database: 'commerce' }));
    for (const h of holders) {
      await exec(h, 'begin');
      await exec(h, `select name from customer where id = ${idA}`);
    }
    // Pool of A is exhausted by open transactions; a new transaction's first statement queues.
    const waiter = executor.openSession({ user: 't', database: 'commerce' });
    await exec(waiter, 'begin');
    const pending = exec(waiter, `select name from customer where id = ${idA}`);
    // Well past the bounded wait (1 s): still no error, it holds nothing and cannot be in a cycle.
    await new Promise((r) => setTimeout(r, 1500));
    await exec(holders[0], 'commit');
    expect((await pending).rows.length).toBe(1);
    await exec(waiter, 'commit');
    await Promise.all([...holders, waiter].map((s) => s.close()));
  });

  it('COM_STMT_PREPARE in a transaction whose session holds the last pooled connections answers, not hangs', async () => {
    // Every connection of both shards is held by an open transaction, two of them this session's.
    const [s, other] = [0, 1].map(() => executor.openSession({ user: 't', database: 'commerce' }));
    for (const h of [s, other]) {
      await exec(h, 'begin');
      await exec(h, `select name from customer where id = ${idA}`);
      await exec(h, `select name from customer where id = ${idB}`);
    }
    // The prepare's column probe needs a pooled connection outside the transaction: its wait is
    // bounded (1203), and a prepare whose probe failed answers without columns (the execute
    // brings them). Not a timing assertion: without the bound it waited forever, and this says so
    // instead of the runner's timeout.
    const sql = 'select name from customer where id between ? and ? order by id';
    let hang: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<'hung'>((resolve) => (hang = setTimeout(() => resolve('hung'), 30_000)));
    const outcome = await Promise.race([s.prepare(sql), hung]);
    clearTimeout(hang);
    expect(outcome).toEqual({ paramCount: 2, columns: [], preparedIn: 'commerce' });
    // The transaction still answers, with the statement's values bound.
    expect(s.status().inTransaction).toBe(true);
    const sink = new CollectingSink();
    await s.execute(sql, sink, [idA, idB]);
    expect(sink.rows.length).toBe(2); // the rows of idA and idB (idA < idB)
    // Once a connection is free, the prepare has its columns again.
    await exec(other, 'commit');
    const prepared = await s.prepare(sql);
    expect([prepared.paramCount, prepared.columns.map((c) => c.name)]).toEqual([2, ['name']]);
    await exec(s, 'commit');
    await Promise.all([s, other].map((h) => h.close()));
    for (const pool of executor.stats().pools) expect(pool.inUse).toBe(0);
  });
});
