/**
 * The contract every ShardConnector keeps, run over both implementations against real MariaDB:
 * WireShardConnector (the query path) and MysqlShardConnector (the mysql2 pool kept for
 * embedders). Both share CheckedOutConnection's abort and release rules, so each rule is checked
 * on each: an aborted statement is killed on the shard and its connection comes back clean, a
 * dirty session is rolled back and reset on release, warnings and errors pass through, and a
 * stream waits for its consumer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { WireShardConnector } from '../src/wire-shard-connector.js';
import { MysqlShardConnector, type ShardConnector } from '../src/shard-pool.js';
import type { ShardConnectionOptions } from '../src/types.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

const IMPLEMENTATIONS: [string, (options: ShardConnectionOptions) => ShardConnector][] = [
  ['WireShardConnector', (o) => new WireShardConnector('main', '0', o, 1)],
  ['MysqlShardConnector', (o) => new MysqlShardConnector('main', '0', o, 1)],
];

const text = (cell: Uint8Array | null | undefined) => (cell == null ? null : Buffer.from(cell).toString('utf8'));

describe.each(IMPLEMENTATIONS)('%s keeps the ShardConnector contract (real MariaDB)', (_name, create) => {
  let tc: TestCluster;
  let direct: mysql.Connection;
  let pool: ShardConnector;

  beforeAll(async () => {
    tc = await testCluster('conn');
    direct = await tc.direct('main');
    await direct.query('create table t (id int primary key, v int)');
    await direct.query('insert into t values (1, 1), (2, 2)');
    // One connection, so every test below sees the connection the previous one handed back.
    pool = create({ ...tc.topology.main['0'], poolSize: 1 });
    await pool.start();
  }, 120_000);

  /** Until the shard runs `select sleep(30)` on the connection `threadId` (at most 4 s). */
  const untilRunning = async (threadId: number) => {
    for (let i = 0; i < 200; i++) {
      const [rows] = (await direct.query(`select count(*) n from information_schema.processlist where id = ${threadId} and info like 'select sleep(30)%'`)) as unknown as [{ n: number }[]];
      if (Number(rows[0].n) > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  afterAll(async () => {
    await pool?.close();
    await direct?.end();
    await tc?.drop();
  });

  it('passes rows, OK packets, warnings and errors through', async () => {
    const conn = await pool.acquire();
    try {
      const r = await conn.query('select id, v from t order by id');
      expect(r.rows.map((row) => row.map(text))).toEqual([['1', '1'], ['2', '2']]);
      expect(await conn.query('update t set v = 2 where id <= 2')).toMatchObject({ isResultSet: false, affectedRows: 1n, counts: { matched: 2n, changed: 1n } });
      const warn = await conn.query('select 1 / 0');
      expect(warn.warnings).toEqual([{ level: 'Warning', code: 1365, message: 'Division by 0' }]);
      await expect(conn.query('select * from no_such_table')).rejects.toMatchObject({ errno: 1146, sqlState: '42S02' });
    } finally {
      await conn.release();
    }
  });

  it('an aborted statement is killed on the shard, and the connection comes back usable', async () => {
    const conn = await pool.acquire();
    const threadId = conn.threadId;
    const abort = new AbortController();
    const sleeping = conn.query('select sleep(30)', { signal: abort.signal });
    // Abort once the shard is really running the statement.
    await untilRunning(threadId);
    abort.abort(new Error('client went away'));
    await expect(sleeping).rejects.toThrow('client went away');
    await conn.release();
    const next = await pool.acquire();
    try {
      // The same connection (a pool of one): KILL QUERY stopped only the statement.
      expect(next.threadId).toBe(threadId);
      expect((await next.query('select 5')).rows.map((row) => text(row[0]))).toEqual(['5']);
    } finally {
      await next.release();
    }
    expect(pool.stats()).toMatchObject({ open: 1, inUse: 0, waiting: 0 });
  });

  it("a held connection's next statement waits for an aborted one's KILL QUERY, and every aborted statement is killed", async () => {
    // As in a transaction: one connection kept across statements, whose statements a LIMIT or a
    // timeout may abort.
    const conn = await pool.acquire();
    const threadId = conn.threadId;
    try {
      for (let round = 0; round < 5; round++) {
        // Aborted as it is sent: the statement ends before its KILL QUERY, which goes through
        // another connection, reaches the shard...
        const abort = new AbortController();
        const quick = conn.query('select 1', { signal: abort.signal });
        abort.abort(new Error('limit reached'));
        await expect(quick).rejects.toThrow('limit reached');
        // ...so, sent at once, the next statement met it: SLEEP answered 1 (interrupted), or 1317.
        const next = await conn.query('select sleep(0.2)');
        expect(next.rows.map((row) => text(row[0]))).toEqual(['0']);
      }
      // A later aborted statement on the same connection is killed too; only one KILL per
      // checkout was sent before, and the connection was dropped when the statement ran on.
      const abort = new AbortController();
      const sleeping = conn.query('select sleep(30)', { signal: abort.signal });
      await untilRunning(threadId);
      abort.abort(new Error('client went away'));
      await expect(sleeping).rejects.toThrow('client went away');
      expect((await conn.query('select 5')).rows.map((row) => text(row[0]))).toEqual(['5']);
      expect(conn.threadId).toBe(threadId);
    } finally {
      await conn.release();
    }
    const again = await pool.acquire();
    try {
      expect(again.threadId).toBe(threadId);
    } finally {
      await again.release();
    }
  });

  // queryOnce is optional (the point-select path); WireShardConnector implements it.
  it.runIf(_name === 'WireShardConnector')('queryOnce answers as acquire, query, release(false) do, and hands the connection back, also after an abort', async () => {
    const queryOnce = pool.queryOnce!.bind(pool);
    const signal = new AbortController().signal;
    const r = await queryOnce('select id from t order by id', signal);
    expect(r.rows.map((row) => row.map(text))).toEqual([['1'], ['2']]);
    expect(pool.stats()).toMatchObject({ open: 1, inUse: 0, idle: 1 });
    const warn = await queryOnce('select 1 / 0', signal);
    expect(warn.warnings).toEqual([{ level: 'Warning', code: 1365, message: 'Division by 0' }]);
    await expect(queryOnce('select * from no_such_table', signal)).rejects.toMatchObject({ errno: 1146, sqlState: '42S02' });
    expect(pool.stats()).toMatchObject({ open: 1, inUse: 0, idle: 1 });
    // Aborted mid-statement: killed on the shard, checked, and pooled again before it settles.
    const abort = new AbortController();
    const sleeping = queryOnce('select sleep(30)', abort.signal);
    for (let i = 0; i < 200; i++) {
      const [rows] = (await direct.query(`select count(*) n from information_schema.processlist where info like 'select sleep(30)%'`)) as unknown as [{ n: number }[]];
      if (Number(rows[0].n) > 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    abort.abort(new Error('client went away'));
    await expect(sleeping).rejects.toThrow('client went away');
    expect(pool.stats()).toMatchObject({ open: 1, inUse: 0, idle: 1 });
    expect((await queryOnce('select 5', signal)).rows.map((row) => text(row[0]))).toEqual(['5']);
    // Two at once on a pool of one: the second waits for the first's connection.
    const both = await Promise.all([queryOnce('select 6', signal), queryOnce('select 7', signal)]);
    expect(both.map((x) => text(x.rows[0]![0]))).toEqual(['6', '7']);
    expect(pool.stats()).toMatchObject({ open: 1, inUse: 0, idle: 1, waiting: 0 });
  });

  it('a dirty release rolls back the open transaction and resets the session variables', async () => {
    const conn = await pool.acquire();
    const baseline = text((await conn.query('select @@session.sql_mode')).rows[0][0]);
    await conn.query("set session sql_mode = 'ANSI_QUOTES'");
    await conn.query('begin');
    await conn.query('insert into t values (3, 3)');
    await conn.release(true);
    const next = await pool.acquire();
    try {
      expect(text((await next.query('select @@session.sql_mode')).rows[0][0])).toBe(baseline);
      expect(text((await next.query('select count(*) from t')).rows[0][0])).toBe('2');
      expect(text((await next.query('select @@in_transaction')).rows[0][0])).toBe('0');
    } finally {
      await next.release();
    }
  });

  it('runs each statement in the collation it asks for, with a SET only when the connection has another one', async () => {
    const conn = await pool.acquire();
    const sets = async () => Number(text((await conn.query("show session status like 'Com_set_option'")).rows[0]![1]));
    const inCollation = async (collation: string | undefined) => {
      const r = await conn.query("select @@collation_connection, 'a' < '_'", { collation });
      return r.rows[0]!.map(text);
    };
    try {
      expect(await inCollation('utf8mb4_bin')).toEqual(['utf8mb4_bin', '0']);
      const before = await sets();
      expect(await inCollation('utf8mb4_bin')).toEqual(['utf8mb4_bin', '0']);
      expect(await inCollation(undefined)).toEqual(['utf8mb4_bin', '0']);
      expect(await sets()).toBe(before);
      expect(await inCollation('utf8mb4_general_ci')).toEqual(['utf8mb4_general_ci', '1']);
      expect(await sets()).toBe(before + 1);
      const streamed: (string | null)[] = [];
      await conn.stream('select @@collation_connection', { fields: () => undefined, rows: (rows) => void streamed.push(...rows.map((row) => text(row[0]))) }, { collation: 'utf8mb4_unicode_ci' });
      expect(streamed).toEqual(['utf8mb4_unicode_ci']);
      expect(await sets()).toBe(before + 2);
      await expect(conn.query('select 1', { collation: 'utf8mb4_unicode_ci; drop table t' })).rejects.toThrow(/invalid collation name/);
    } finally {
      await conn.release(true);
    }
    // The reset of a dirty release leaves collation_connection as it was, and the pool knows it.
    const next = await pool.acquire();
    try {
      const r = await next.query('select @@collation_connection', { collation: 'utf8mb4_unicode_ci' });
      expect(text(r.rows[0]![0])).toBe('utf8mb4_unicode_ci');
    } finally {
      await next.release();
    }
  });

  it.runIf(_name === 'WireShardConnector')('queryOnce prefers an idle connection already in the collation asked for', async () => {
    const two = create({ ...tc.topology.main['0'], poolSize: 2 });
    await two.start();
    try {
      const a = await two.acquire();
      const b = await two.acquire();
      const threadOf = async (collation: string) => {
        const r = await two.queryOnce!('select connection_id(), @@collation_connection', new AbortController().signal, collation);
        return r.rows[0]!.map(text);
      };
      await a.query('select 1', { collation: 'utf8mb4_bin' });
      await b.query('select 1', { collation: 'utf8mb4_unicode_ci' });
      await a.release();
      await b.release();
      for (let i = 0; i < 3; i++) {
        expect(await threadOf('utf8mb4_bin')).toEqual([String(a.threadId), 'utf8mb4_bin']);
        expect(await threadOf('utf8mb4_unicode_ci')).toEqual([String(b.threadId), 'utf8mb4_unicode_ci']);
      }
    } finally {
      await two.close();
    }
  });

  it('streams in chunks and hands the next chunk over only after the consumer is done', async () => {
    const conn = await pool.acquire();
    let inFlight = 0;
    let maxInFlight = 0;
    let total = 0;
    let warnings = 0;
    try {
      await conn.stream('select seq, seq / 0 from seq_1_to_5000', {
        fields: (f) => expect(f.length).toBe(2),
        rows: async (rows) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          total += rows.length;
          await new Promise((r) => setImmediate(r));
          inFlight--;
        },
        warnings: (w) => (warnings = w.length),
      });
    } finally {
      await conn.release();
    }
    expect(total).toBe(5000);
    expect(maxInFlight).toBe(1);
    // MariaDB lists at most max_error_count (64) warnings of the 5000 divisions by zero.
    expect(warnings).toBe(64);
  });
});
