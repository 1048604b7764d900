/**
 * OLAP streams (`set workload = 'olap'`) through the gateway, compared with one MariaDB holding
 * the same rows. A route that needs no merge forwards the shards' row packets to the client in
 * bulk, renumbered, at chunk granularity (interleaving 4 shards): every row must arrive whole and
 * exactly once, NULLs and a row longer than one packet (16 MiB) included; one shard's error
 * in mid-stream must reach the client as an error, never as a short result; a slow client and a
 * client that leaves or is killed mid-stream must leave the gateway answering correctly. The same
 * scatter in OLTP forwards the packets it read whole (the last describe).
 */
import { createHash } from 'node:crypto';
import type { Connection as CoreConnection } from 'mysql2';
import type mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { hashKeyspace } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const ROWS = 20_000;
/** The row whose blob is longer than one packet: MariaDB and the gateway send it in two. */
const LONG_ID = 12_345;
const LONG_BYTES = 17_000_000;
// max_allowed_packet is raised before any connection is opened, so every session can hold the long row.
const SCHEMA = `SET GLOBAL max_allowed_packet = 67108864;
CREATE TABLE t (id BIGINT PRIMARY KEY, k INT NOT NULL, c VARCHAR(300) NOT NULL, n INT NULL, b LONGBLOB NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
const VSCHEMA = { keyspaces: { olap: hashKeyspace({ t: 'id' }) } };

const hash = loadVSchema(VSCHEMA).keyspace('olap')!.vindexes.get('hash') as FunctionalVindex;
const shardMap = new ShardMap(SHARDS);
const shardOf = (id: number): string => shardMap.shardFor(hash.map(BigInt(id))!);

/** Rows of varying length (so packets straddle the socket reads at every offset), NULLs in n and b. */
function inserts(): string[] {
  const out: string[] = [];
  for (let from = 1; from <= ROWS; from += 2000) {
    const values: string[] = [];
    for (let id = from; id < from + 2000; id++) {
      const c = `${'abcdefghij'.repeat(1 + (id % 23))}-${id}`;
      values.push(`(${id}, ${(id * 7919) % 100_003}, '${c}', ${id % 7 === 0 ? 'null' : id % 1000}, ${id % 5 === 0 ? `x'${(id % 256).toString(16).padStart(2, '0')}ff00'` : 'null'})`);
    }
    out.push(`insert into t (id, k, c, n, b) values ${values.join(', ')}`);
  }
  out.push(`update t set b = repeat('z', ${LONG_BYTES}) where id = ${LONG_ID}`);
  return out;
}

/** A result as something toEqual can compare cheaply: row count, NULL count, and a digest of the rows in order. */
function digest(rows: readonly unknown[][], sort: boolean): { rows: number; nulls: number; sha: string; longest: number } {
  let nulls = 0;
  let longest = 0;
  const lines = rows.map((r) =>
    JSON.stringify(
      r.map((v) => {
        if (v === null) nulls++;
        if (!Buffer.isBuffer(v)) return v;
        longest = Math.max(longest, v.length);
        return `${v.length}:${createHash('sha256').update(v).digest('hex')}`;
      }),
    ),
  );
  if (sort) lines.sort();
  return { rows: rows.length, nulls, sha: createHash('sha256').update(lines.join('\n')).digest('hex'), longest };
}

/** The callback connection under a promise one: its row events and streams show a result as it arrives. */
const core = (c: mysql.Connection): CoreConnection => (c as unknown as { connection: CoreConnection }).connection;

async function read(conn: mysql.Connection, sql: string, params?: number[]): Promise<unknown[][]> {
  const [rows] = params === undefined ? await conn.query({ sql, rowsAsArray: true }) : await conn.execute({ sql, rowsAsArray: true }, params);
  return rows as unknown[][];
}

function errorOf(p: Promise<unknown>): Promise<{ errno: number; sqlState: string } | null> {
  return p.then(
    () => null,
    (e: { errno: number; sqlState: string }) => ({ errno: e.errno, sqlState: e.sqlState }),
  );
}

let pair: GatewayAndReference;
let olap: mysql.Connection;
/**
 * What mysql2 reports of packets out of sequence (it reads on after a 'warn'): forwarded packets
 * carry the shards' sequence ids until the gateway renumbers them.
 */
const outOfOrder: string[] = [];
const watchSequence = (c: mysql.Connection): void => void core(c).on('warn', (e: Error) => outOfOrder.push(e.message));

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: VSCHEMA, keyspaces: { olap: { shards: SHARDS, schema: SCHEMA } } }, 'olap', SCHEMA);
  await pair.loadBoth(inserts());
  olap = await pair.gw.connect({ database: 'olap' });
  watchSequence(olap);
  await olap.query("set workload = 'olap'");
}, 180_000);

afterEach(() => {
  expect(outOfOrder).toEqual([]);
});

afterAll(async () => {
  await olap?.end().catch(() => undefined);
  await pair?.stop();
});

describe('OLAP stream through the gateway against one MariaDB', () => {
  it('a 4-shard scatter returns every row whole and once, text and prepared, NULLs and a 17 MB row included', async () => {
    const sql = 'select id, k, c, n, b from t';
    const expected = digest(await read(pair.ref, sql), true);
    expect(expected.rows).toBe(ROWS);
    expect(expected.longest).toBe(LONG_BYTES);
    expect(digest(await read(olap, sql), true)).toEqual(expected);
    // Binary protocol: the shards' text rows are encoded again, never forwarded.
    expect(digest(await read(olap, `${sql} where id > ?`, [0]), true)).toEqual(expected);
  });

  it("a single-shard route keeps the shard's order", async () => {
    const ids = Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => shardOf(id) === '80-c0').slice(0, 3000);
    const sql = `select id, c, n from t where id in (${ids.join(', ')}) order by c desc, id`;
    const expected = digest(await read(pair.ref, sql), false);
    expect(expected.rows).toBe(3000);
    expect(digest(await read(olap, sql), false)).toEqual(expected);
  });

  it('FOUND_ROWS() and LAST_INSERT_ID(expr) count and read rows that went out as packets', async () => {
    for (const c of [olap, pair.ref]) await read(c, 'select id, c from t');
    expect(await read(olap, 'select found_rows()')).toEqual(await read(pair.ref, 'select found_rows()'));
    for (const c of [olap, pair.ref]) await read(c, 'select id, last_insert_id(id * 3) from t where id = 77');
    expect(await read(olap, 'select last_insert_id()')).toEqual([['231']]);
  });

  it('an error one shard raises mid-stream reaches the client as that error, and the connection goes on', async () => {
    // The last id of one shard overflows BIGINT: that shard has sent its other rows by then.
    const last = Array.from({ length: ROWS }, (_, i) => ROWS - i).find((id) => shardOf(id) === '40-80')!;
    const sql = `select id, c, if(id = ${last}, 9223372036854775807 + id, 0) as o from t`;
    const expected = await errorOf(read(pair.ref, sql));
    expect(expected).toEqual({ errno: 1690, sqlState: '22003' });
    let rowsBeforeError = 0;
    const error = await new Promise<{ errno: number; sqlState: string } | null>((resolve) => {
      core(olap)
        .query(sql)
        .on('result', () => rowsBeforeError++)
        .on('error', (e: { errno: number; sqlState: string }) => resolve({ errno: e.errno, sqlState: e.sqlState }))
        .on('end', () => resolve(null));
    });
    expect(error).toEqual(expected);
    expect(rowsBeforeError).toBeGreaterThan(0);
    expect(rowsBeforeError).toBeLessThan(ROWS);
    expect(await read(olap, 'select count(*), sum(k) from t')).toEqual(await read(pair.ref, 'select count(*), sum(k) from t'));
  });

  it('a slow client gets every row', async () => {
    const sql = 'select id, k, c, n from t';
    const expected = digest(await read(pair.ref, sql), true);
    const rows: unknown[][] = [];
    const stream = core(olap).query({ sql, rowsAsArray: true }).stream({ highWaterMark: 64 });
    for await (const row of stream as AsyncIterable<unknown[]>) {
      rows.push(row);
      // Stops reading now and then, long enough for every socket on the way to fill up.
      if (rows.length % 5000 === 0) await new Promise((r) => setTimeout(r, 300));
    }
    expect(digest(rows, true)).toEqual(expected);
  });

  it('a client that leaves or is killed mid-stream leaves the gateway answering whole results', async () => {
    const sql = 'select id, k, c, n from t';
    const leaving = await pair.gw.connect({ database: 'olap' });
    watchSequence(leaving);
    await leaving.query("set workload = 'olap'");
    await new Promise<void>((resolve) => {
      let n = 0;
      core(leaving)
        .query(sql)
        .on('result', () => {
          if (++n === 1000) {
            leaving.destroy();
            resolve();
          }
        })
        .on('error', () => resolve());
    });
    const killed = await pair.gw.connect({ database: 'olap' });
    watchSequence(killed);
    await killed.query("set workload = 'olap'");
    const [[{ id }]] = (await killed.query('select connection_id() as id')) as unknown as [[{ id: number }]];
    const error = new Promise<{ errno: number } | null>((resolve) => {
      let n = 0;
      core(killed)
        .query(sql)
        .on('result', () => {
          // Stops reading after a few rows so the statement is still running when KILL arrives.
          if (++n === 100) {
            core(killed).pause();
            void olap.query(`kill query ${id}`).then(() => core(killed).resume());
          }
        })
        .on('error', (e: { errno: number }) => resolve({ errno: e.errno }))
        .on('end', () => resolve(null));
    });
    // Killed mid-stream: 1317, unless the whole result was already on its way.
    const e = await error;
    if (e !== null) expect(e.errno).toBe(1317);
    await killed.end();
    const expected = digest(await read(pair.ref, sql), true);
    expect(digest(await read(olap, sql), true)).toEqual(expected);
  });
});

/**
 * The same scatter in OLTP (the default workload): read whole first, then written. A route that
 * needs no merge keeps the shards' rows as their packets and forwards those bytes (or builds
 * binary rows from them) without decoding a row; the 17 MB row, reassembled from two packets,
 * goes out on its own. An error after some rows must still be the only reply.
 */
describe('the same rows in OLTP, forwarded as packets', () => {
  let oltp: mysql.Connection;
  beforeAll(async () => {
    oltp = await pair.gw.connect({ database: 'olap' });
    watchSequence(oltp);
  });
  afterAll(async () => {
    await oltp?.end().catch(() => undefined);
  });

  it('a 4-shard scatter returns every row whole and once, text and prepared, the 17 MB row included', async () => {
    const sql = 'select id, k, c, n, b from t';
    const expected = digest(await read(pair.ref, sql), true);
    expect(expected.longest).toBe(LONG_BYTES);
    expect(digest(await read(oltp, sql), true)).toEqual(expected);
    expect(digest(await read(oltp, `${sql} where id > ?`, [0]), true)).toEqual(expected);
    for (const c of [oltp, pair.ref]) await read(c, 'select id, c from t');
    expect(await read(oltp, 'select found_rows()')).toEqual(await read(pair.ref, 'select found_rows()'));
    await read(oltp, 'select id, last_insert_id(id * 3) from t where id = 77');
    expect(await read(oltp, 'select last_insert_id()')).toEqual([['231']]);
  });

  it('an error one shard raises after its other rows is the only reply', async () => {
    const last = Array.from({ length: ROWS }, (_, i) => ROWS - i).find((id) => shardOf(id) === '40-80')!;
    const sql = `select id, c, if(id = ${last}, 9223372036854775807 + id, 0) as o from t`;
    let rowsBeforeError = 0;
    const error = await new Promise<{ errno: number; sqlState: string } | null>((resolve) => {
      core(oltp)
        .query(sql)
        .on('result', () => rowsBeforeError++)
        .on('error', (e: { errno: number; sqlState: string }) => resolve({ errno: e.errno, sqlState: e.sqlState }))
        .on('end', () => resolve(null));
    });
    expect(error).toEqual(await errorOf(read(pair.ref, sql)));
    expect(rowsBeforeError).toBe(0);
  });

  it('a merged ORDER BY … LIMIT returns the rows in order, text and prepared, the 17 MB row and an error on one shard included', async () => {
    // Merged under a Limit: each shard's reply is kept as its runs of packets and the merge
    // decodes only the rows it reaches (the 17 MB row among them, in the window of the third).
    const cases: [string, number[] | undefined][] = [
      ['select id, k, c, n from t order by c, id limit 100', undefined],
      ['select id, k, c, n from t order by k desc, id limit 50 offset 1000', undefined],
      [`select id, n, b from t order by id limit 20 offset ${LONG_ID - 5}`, undefined],
      ['select id, c from t where id > ? order by c desc, id limit 300', [7]],
      // The 17 MB row chosen for its short visible cells (its helper column, the long blob's
      // collation key, makes it a row of several packets), text and prepared.
      ['select id, n from t order by b like \'zzz%\' desc, b, id limit 3', undefined],
      ['select id, n from t where id > ? order by b like \'zzz%\' desc, b, id limit 3', [0]],
    ];
    for (const [sql, params] of cases) {
      const expected = digest(await read(pair.ref, sql, params), false);
      expect(digest(await read(oltp, sql, params), false)).toEqual(expected);
      if (sql.includes(' b from ')) expect(expected.longest).toBe(LONG_BYTES);
      if (sql.includes("'zzz%'")) expect(String((await read(pair.ref, sql, params))[0]![0])).toBe(String(LONG_ID));
    }
    // An id among the first 100 of shard 40-80: that shard fails while the others send rows.
    const bad = Array.from({ length: 100 }, (_, i) => i + 1).find((id) => shardOf(id) === '40-80')!;
    const sql = `select id, c, if(id = ${bad}, 9223372036854775807 + id, 0) as o from t order by id limit 100`;
    const expectedError = await errorOf(read(pair.ref, sql));
    expect(expectedError).not.toBeNull();
    expect(await errorOf(read(oltp, sql))).toEqual(expectedError);
    expect(await read(oltp, 'select 1')).toEqual([[1]]);
  });

  it('a slow client gets every row', async () => {
    const sql = 'select id, k, c, n from t';
    const expected = digest(await read(pair.ref, sql), true);
    const rows: unknown[][] = [];
    const stream = core(oltp).query({ sql, rowsAsArray: true }).stream({ highWaterMark: 64 });
    for await (const row of stream as AsyncIterable<unknown[]>) {
      rows.push(row);
      if (rows.length % 10000 === 0) await new Promise((r) => setTimeout(r, 300));
    }
    expect(digest(rows, true)).toEqual(expected);
  });
});
