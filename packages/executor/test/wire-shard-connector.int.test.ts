/**
 * The shard client and its pool against real MariaDB: results read through WireShardConnector
 * are compared byte for byte with what mysql2 reads from the same server (cells and column
 * metadata), error codes and OK packets pass through, a dead pooled connection is replaced, and a
 * waiter that gives up leaves the pool whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { ShardClient, decodeTextRow } from '@shardgate/mysql-protocol';
import { WireShardConnector } from '../src/wire-shard-connector.js';
import { toFieldInfo } from '../src/field-cache.js';
import { rowPacketsOf, rowsWithPackets } from '../src/row-packets.js';
import type { ShardConnectionOptions } from '../src/types.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';
import { Planner } from '@shardgate/planner';
import { encodeTextRow } from './support/text-row.js';
import { CollectingSink } from './support/collecting-sink.js';
import type { Session } from '../src/session.js';

/** A text-protocol sink that takes forwarded row packets, and checks each equals the row it stands for. */
class RawRowSink extends CollectingSink {
  raw = 0;
  encoded = 0;
  override row(values: readonly (Uint8Array | string | null)[]): boolean {
    this.encoded++;
    return super.row(values);
  }
  rawRow(source: Uint8Array, start: number, end: number, values: readonly (Uint8Array | null)[]): boolean {
    this.raw++;
    this.encoded--;
    if (!Buffer.from(source.subarray(start, end)).equals(encodeTextRow(values))) throw new Error('a forwarded packet differs from its row');
    return this.row(values);
  }
}

describe('WireShardConnector (real MariaDB)', () => {
  let tc: TestCluster;
  let options: ShardConnectionOptions;
  let direct: mysql.Connection;
  const connectors: WireShardConnector[] = [];

  const connector = async (poolSize = 2): Promise<WireShardConnector> => {
    const c = new WireShardConnector('main', '0', { ...options, poolSize }, poolSize);
    connectors.push(c);
    await c.start();
    return c;
  };

  beforeAll(async () => {
    tc = await testCluster('wire');
    options = tc.topology.main['0'];
    direct = await tc.direct('main');
    await direct.query(
      `create table wide (id bigint primary key, d decimal(30,10), s varchar(300) collate utf8mb4_bin, b longblob, j json, t datetime(6), f double, n int)`,
    );
    await direct.query(
      `insert into wide values (1, -12345678901234567890.0123456789, 'é\\'x', repeat('z', 70000), '{"a": [1, 2]}', '2024-02-29 23:59:59.123456', 1e308, null),
        (2, 0, '', x'00ff', null, null, -0.0, 2147483647), (9223372036854775807, null, null, null, '[]', '1000-01-01 00:00:00', null, -1)`,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(connectors.map((c) => c.close()));
    await direct?.end();
    await tc?.drop();
  });

  it('reads every cell and column definition exactly as mysql2 reads them from the same server', async () => {
    const c = await connector();
    const conn = await c.acquire();
    const sql = 'select id, d, s, b, j, t, f, n, id - 1 as prev, concat(s, s) from wide order by id';
    const r = await conn.query(sql);
    await conn.release();
    const { poolSize: _poolSize, ...connection } = options;
    const raw = await mysql.createConnection({ ...connection, rowsAsArray: true, typeCast: false, charset: 'UTF8MB4_GENERAL_CI' } as mysql.ConnectionOptions);
    const [rows, fields] = (await raw.query({ sql, rowsAsArray: true })) as unknown as [(Buffer | null)[][], mysql.FieldPacket[]];
    await raw.end();
    expect(r.isResultSet).toBe(true);
    expect(r.rows.map((row) => row.map((cell) => (cell === null ? null : Buffer.from(cell).toString('hex'))))).toEqual(
      rows.map((row) => row.map((cell) => (cell === null ? null : cell.toString('hex')))),
    );
    expect(r.fields).toEqual(fields.map((f) => toFieldInfo(f, 'main')));
    // The JSON column is announced as MySQL's JSON type, from MariaDB's extended metadata.
    expect(r.fields[4].columnType).toBe(245);
    // Each row's packet is the row itself, length-encoded: what goes to a text-protocol client.
    const packets = r.packets!;
    expect(rowPacketsOf(rowsWithPackets(r))).toEqual(packets);
    expect(packets.sources.length).toBe(3);
    packets.sources.forEach((p, i) => expect(decodeTextRow(Buffer.from(p), 10, packets.bounds[2 * i], packets.bounds[2 * i + 1])).toEqual(r.rows[i].map((cell) => (cell === null ? null : Buffer.from(cell)))));
  });

  it('passes OK packets, warnings and server errors through, and the connection stays usable', async () => {
    const c = await connector();
    const conn = await c.acquire();
    await conn.query('create table ok_t (id int primary key, v int)');
    const ins = await conn.query('insert into ok_t values (1, 1), (2, 2), (3, 3)');
    expect(ins).toMatchObject({ isResultSet: false, affectedRows: 3n, info: 'Records: 3  Duplicates: 0  Warnings: 0' });
    const upd = await conn.query('update ok_t set v = 2 where id <= 2');
    expect(upd).toMatchObject({ affectedRows: 1n, counts: { matched: 2n, changed: 1n } });
    const warn = await conn.query('select 1 / 0');
    expect(warn.warningCount).toBe(1);
    expect(warn.warnings).toEqual([{ level: 'Warning', code: 1365, message: 'Division by 0' }]);
    await expect(conn.query('select * from no_such_table')).rejects.toMatchObject({ errno: 1146, sqlState: '42S02' });
    await expect(conn.query('selec 1')).rejects.toMatchObject({ errno: 1064, sqlState: '42000' });
    expect((await conn.query('select 2')).rows.map((row) => Buffer.from(row[0]!).toString())).toEqual(['2']);
    await conn.release();
  });

  it('pipelines statements: each runs in order, after a failed one too; only the last one reads its warnings', async () => {
    const c = await connector();
    const conn = await c.acquire();
    const text = (r: { rows: readonly (readonly (Uint8Array | null)[])[] }) => r.rows.map((row) => row.map((cell) => (cell === null ? null : Buffer.from(cell).toString())));
    const [begin, inTrx] = conn.queryPipelined!(['start transaction read only', 'select @@in_transaction']);
    expect(await begin).toMatchObject({ isResultSet: false });
    expect(text(await inTrx)).toEqual([['1']]);
    const [fail, after, warn] = conn.queryPipelined!(['select * from no_such_table', 'select 1 / 0', 'select 2 / 0']);
    await expect(fail).rejects.toMatchObject({ errno: 1146 });
    const a = await after;
    expect([a.warningCount, a.warnings]).toEqual([1, undefined]);
    expect((await warn).warnings).toEqual([{ level: 'Warning', code: 1365, message: 'Division by 0' }]);
    expect(text(await conn.query('select @@in_transaction'))).toEqual([['1']]);
    await conn.release(true);
  });

  it('streams with backpressure: no rows are handed over while the consumer works', async () => {
    const c = await connector();
    const conn = await c.acquire();
    let inFlight = 0;
    let maxInFlight = 0;
    let total = 0;
    await conn.stream('select seq, repeat(\'x\', 100) from seq_1_to_20000', {
      fields: () => {},
      rows: async (rows) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        total += rows.length;
        await new Promise((r) => setImmediate(r));
        inFlight--;
      },
    });
    await conn.release();
    expect(total).toBe(20000);
    expect(maxInFlight).toBe(1);
  });

  it('replaces a pooled connection the server killed, and keeps its size', async () => {
    const c = await connector(1);
    const first = await c.acquire();
    const id = first.threadId;
    await first.release();
    await direct.query(`kill connection ${id}`);
    // The idle client notices the close, or the next statement fails on it; either way it leaves the pool.
    for (let i = 0; i < 50 && c.stats().open > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const second = await c.acquire();
    expect(second.threadId).not.toBe(id);
    expect((await second.query('select 3')).rows.length).toBe(1);
    await second.release();
    expect(c.stats()).toMatchObject({ open: 1, inUse: 0, idle: 1, waiting: 0 });
  });

  it('a waiter that gives up is not served; the next waiter gets the connection', async () => {
    const c = await connector(1);
    const held = await c.acquire();
    const limit = new AbortController();
    const gaveUp = c.acquire(undefined, limit.signal);
    const next = c.acquire();
    expect(c.stats().waiting).toBe(2);
    limit.abort(new Error('waited long enough'));
    await expect(gaveUp).rejects.toThrow('waited long enough');
    await held.release();
    const got = await next;
    expect(c.stats()).toMatchObject({ open: 1, inUse: 1, waiting: 0 });
    await got.release();
  });

  it('forwards the shard row packets of rows nothing changed, and encodes the others', async () => {
    const executor = tc.executor(new Planner({ vschema: tc.vschema }));
    await executor.start();
    const session = executor.openSession({ user: 't', database: 'commerce' }) as Session;
    const run = async (sql: string, workload: 'oltp' | 'olap' = 'oltp') => {
      session.workload = workload;
      const sink = new RawRowSink();
      await session.execute(sql, sink);
      return sink;
    };
    await run(`insert into customer (id, name, balance) values ${Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'n${i}', ${i}.25)`).join(', ')}`);
    for (const workload of ['oltp', 'olap'] as const) {
      const one = await run('select id, name, balance from customer where id = 7', workload);
      expect([one.rows, one.raw, one.encoded]).toEqual([[['7', 'n6', '6.25']], 1, 0]);
      const scatter = await run('select id, name from customer', workload);
      expect([scatter.rows.length, scatter.raw, scatter.encoded]).toEqual([40, 40, 0]);
      // Merged in ORDER BY order: the rows pass through MergeSort, and are encoded.
      const ordered = await run('select id, name from customer order by id', workload);
      expect(ordered.rows.map((r) => r[0])).toEqual(Array.from({ length: 40 }, (_, i) => String(i + 1)));
      expect([ordered.raw, ordered.encoded]).toEqual([0, 40]);
      // Merged under a Limit, the route trimming the helper columns after them (weight strings):
      // each row goes out as its shard packet cut after its last shown cell (RawRowSink checks the
      // bytes against the row), also with an offset and with shown cells ending in NULLs (each one
      // 0xFB byte of the packet). Rows whose shown cells are all NULL are encoded.
      const first = await run('select id, name from customer order by id limit 40', workload);
      expect(first.rows).toEqual(ordered.rows);
      expect([first.raw, first.encoded]).toEqual([40, 0]);
      const window = await run('select name, created, score from customer order by balance desc, id limit 7 offset 3', workload);
      expect(window.rows).toEqual(Array.from({ length: 7 }, (_, i) => [`n${36 - i}`, null, null]));
      expect([window.raw, window.encoded]).toEqual([7, 0]);
      const nulls = await run('select created, score from customer order by id limit 2', workload);
      expect([nulls.rows, nulls.raw, nulls.encoded]).toEqual([[[null, null], [null, null]], 0, 2]);
      const counted = await run('select count(*) from customer', workload);
      expect([counted.rows, counted.raw]).toEqual([[['40']], 0]);
    }
    // An unsharded read (runUnshardedRead): the rows go out as the shard's packets too, also to a
    // client that stops reading after every row (each later row written after drain()).
    const unsharded = executor.openSession({ user: 't', database: 'main' }) as Session;
    for (const every of [0, 1]) {
      const sink = new RawRowSink().slowClient(every);
      const done = unsharded.execute('select id, n from wide where id in (1, 2, 9223372036854775807)', sink);
      while (every > 0 && sink.endInfo === null) {
        await new Promise((r) => setTimeout(r, 5));
        sink.release();
      }
      await done;
      expect([sink.rows, sink.raw, sink.encoded]).toEqual([[['1', null], ['2', '2147483647'], ['9223372036854775807', '-1']], 3, 0]);
    }
    await unsharded.close();
    await session.close();
  });

  it('a result read whole over many socket reads keeps every row in order, a 17 MB row among them, each packet its row', async () => {
    // Rows of varying length, so packets straddle the socket reads (runs copied out of the shared
    // read buffer, rows split across two reads), and one row longer than a packet in the middle
    // (reassembled by the client, recorded on its own between the runs).
    await direct.query('SET GLOBAL max_allowed_packet = 67108864');
    const c = await connector(1);
    const sql = "select seq, repeat(char(97 + seq % 26), seq % 400), if(seq % 7 = 0, null, seq * 3), if(seq = 1500, repeat('z', 17000000), '') from seq_1_to_3000";
    const { poolSize: _poolSize, ...connection } = options;
    const raw = await mysql.createConnection({ ...connection, rowsAsArray: true, typeCast: false, charset: 'UTF8MB4_GENERAL_CI' } as mysql.ConnectionOptions);
    const [rows] = (await raw.query({ sql, rowsAsArray: true })) as unknown as [(Buffer | null)[][]];
    await raw.end();
    const hex = (row: readonly (Uint8Array | null)[]) => row.map((cell) => (cell === null ? null : Buffer.from(cell).toString('hex')));
    for (const read of ['rows', 'rowAt'] as const) {
      const conn = await c.acquire();
      const r = await conn.query(sql);
      await conn.release();
      expect(r.rowCount).toBe(3000);
      // rowAt first (a merge under a Limit), or all rows at once.
      const got = read === 'rows' ? r.rows : Array.from({ length: r.rowCount! }, (_, i) => r.rowAt!(i));
      expect(got.length).toBe(rows.length);
      const same = (a: Uint8Array | null, b: Buffer | null) => (a === null || b === null ? a === b : b.equals(a));
      for (let i = 0; i < rows.length; i++) if (!got[i].every((cell, k) => same(cell, rows[i][k])) || got[i].length !== rows[i].length) expect([i, hex(got[i])]).toEqual([i, hex(rows[i])]);
      const p = r.packets!;
      expect([p.sources.length, p.bounds.length]).toEqual([3000, 6000]);
      for (let i = 0; i < 3000; i += i === 1498 ? 1 : 97) {
        expect(Buffer.from(p.sources[i].subarray(p.bounds[2 * i], p.bounds[2 * i + 1])).equals(encodeTextRow(got[i]))).toBe(true);
      }
    }
  }, 60_000);

  it('talks to a server with the client directly: ping, quit', async () => {
    const client = new ShardClient({ host: options.host, port: options.port, user: options.user, password: options.password, database: options.database });
    await client.connect();
    expect(client.serverVersion).toMatch(/MariaDB/);
    const pong = await new Promise((resolve, reject) => client.ping({ ok: resolve, error: reject }));
    expect(pong).toMatchObject({ warnings: 0 });
    client.quit();
    expect(client.usable).toBe(false);
  });
});
