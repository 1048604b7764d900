/**
 * A statement's warning count across shards, against one MariaDB holding the same rows. Each shard
 * lists at most @@max_error_count (64) warnings in SHOW WARNINGS but counts them all in its OK or
 * EOF packet, as one MariaDB does; the gateway counted only the listed ones, so a statement with
 * more than 64 warnings on a shard reported fewer than MariaDB (the write fuzz, seed 49: 119
 * against 124, an UPDATE over four shards), and SHOW WARNINGS listed up to 64 of every shard's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SCHEMA = 'create table item (id bigint primary key, code varchar(20) not null, price decimal(10,2) not null);';
const ROWS = 400;

let pair: GatewayAndReference;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { ks: hashKeyspace({ item: 'id' }) } }, keyspaces: { ks: { shards: ['-40', '40-80', '80-c0', 'c0-'], schema: SCHEMA } } }, 'ks', SCHEMA);
  // 400 rows: about 100 on each shard, each of whose statements below warns once per row.
  await pair.loadBoth([`insert into item (id, code, price) values ${Array.from({ length: ROWS }, (_, i) => `(${i + 1}, '${i + 1}x', ${i}.50)`).join(', ')}`]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

async function warningCounts(conn: mysql.Connection, sql: string, params?: unknown[]): Promise<{ reply: number; warningCount: string }> {
  const [r] = params === undefined ? await conn.query(sql) : await conn.execute(sql, params as never[]);
  const reply = Array.isArray(r) ? -1 : (r as mysql.ResultSetHeader).warningStatus;
  const [[count]] = (await conn.query({ sql: 'select @@warning_count', rowsAsArray: true })) as unknown as [[string | number][]];
  return { reply, warningCount: String(count) };
}

describe('a statement with more warnings on a shard than it lists counts them all, as one MariaDB', () => {
  it('a scatter SELECT: @@warning_count after it', async () => {
    const sql = 'select id, cast(code as unsigned) from item';
    const [gwRows] = await pair.sub.query(sql);
    const [refRows] = await pair.ref.query(sql);
    expect(new Set((gwRows as { id: number }[]).map((r) => JSON.stringify(r)))).toEqual(new Set((refRows as { id: number }[]).map((r) => JSON.stringify(r))));
    // Read at once: select @@warning_count uses no table, so it clears nothing.
    const [[gwCount]] = (await pair.sub.query({ sql: 'select @@warning_count', rowsAsArray: true })) as unknown as [unknown[][]];
    const [[refCount]] = (await pair.ref.query({ sql: 'select @@warning_count', rowsAsArray: true })) as unknown as [unknown[][]];
    expect(String(gwCount)).toBe(String(refCount));
    expect(Number(refCount)).toBe(ROWS);
  });

  it('a multi-shard UPDATE (the OK count), as text and as a prepared statement, and @@warning_count after it', async () => {
    for (const [sql, params] of [
      ['update item set price = price + 0.125 where id <= 400', undefined],
      ['update item set price = price + ? where id <= ?', [0.125, ROWS]],
    ] as const) {
      const got = await warningCounts(pair.sub, sql, params as unknown[] | undefined);
      const expected = await warningCounts(pair.ref, sql, params as unknown[] | undefined);
      expect(got, sql).toEqual(expected);
      expect(expected.reply, sql).toBe(ROWS);
    }
    // SHOW WARNINGS lists the first @@max_error_count of them, here and after SET max_error_count.
    const listed = async (conn: mysql.Connection) => ((await conn.query('show warnings'))[0] as unknown[]).length;
    await pair.sub.query('update item set price = price + 0.125 where id <= 400');
    await pair.ref.query('update item set price = price + 0.125 where id <= 400');
    expect(await listed(pair.sub)).toBe(await listed(pair.ref));
    for (const conn of [pair.sub, pair.ref]) {
      await conn.query('set max_error_count = 10');
      await conn.query('update item set price = price + 0.125 where id <= 400');
    }
    expect(await listed(pair.sub)).toBe(10);
    expect(await listed(pair.ref)).toBe(10);
    expect(await warningCounts(pair.sub, 'update item set price = price + 0.125 where id <= 400')).toEqual(await warningCounts(pair.ref, 'update item set price = price + 0.125 where id <= 400'));
    for (const conn of [pair.sub, pair.ref]) await conn.query('set max_error_count = default');
    const [gwRows] = await pair.sub.query('select id, price from item order by id');
    const [refRows] = await pair.ref.query('select id, price from item order by id');
    expect(gwRows).toEqual(refRows);
  });
});

describe('which statements clear the last statement\'s warnings, as one MariaDB', () => {
  /** What each statement of `seq` leaves: its rows or OK count, then SHOW WARNINGS, SHOW COUNT(*) WARNINGS and @@warning_count. */
  async function diagnosticsAfter(conn: mysql.Connection, seq: readonly string[]): Promise<unknown[]> {
    const seen: unknown[] = [];
    for (const sql of seq) {
      try {
        const [r] = await conn.query({ sql, rowsAsArray: true });
        seen.push(Array.isArray(r) ? r.length : (r as mysql.ResultSetHeader).warningStatus);
      } catch (e) {
        seen.push((e as { errno?: number }).errno);
      }
    }
    for (const sql of ['show warnings', 'show count(*) warnings', 'show count(*) errors', 'select @@warning_count']) seen.push((await conn.query({ sql, rowsAsArray: true }))[0]);
    return seen;
  }

  // MariaDB clears them only for a statement that uses a table, or that raises its own: a
  // connection pool's `SELECT 1`, a SET or a SELECT of variables leave SHOW WARNINGS and
  // @@warning_count as they were (while their own reply counts 0); a SHOW answered from
  // information_schema's tables clears them.
  it.each([
    ['select 1/0', 'select 1'],
    ['select 1/0', 'select 1 from dual', 'select now() is not null', "select database() = 'ks'"],
    ['select 1/0', 'set @a = 1', 'set names utf8mb4', 'do 1'],
    ['select 1/0', 'select (select 1)', 'select 1 union select 2'],
    ['select 1/0', 'select * from (select 1) t'],
    // A `from` in a string or in a function's syntax is no FROM clause; one in a subquery is.
    ['select 1/0', "select 'data from here'", "select extract(year from '2024-05-06')", "select trim(leading 'x' from 'xxa')", "select substring('abc' from 2)", 'select (select 1 from dual)'],
    ['select 1/0', 'select (select count(*) from item)'],
    ['select 1/0', 'select exists (select 1 from item where id = 2)'],
    ['select 1/0', 'select id from item where id = 1'],
    ['select 1/0', 'show variables like \'xyz\''],
    ['select 1/0', 'show tables'],
    ['select 1/0', 'select 2/0, 3/0'],
    ['select 1/0', 'set @b = 1/0'],
    ['select 1/0', 'show count(*) warnings', 'show warnings'],
    ['select * from nosuch', 'select 1'],
    ["update item set price = price / 0 where code = 'none'", 'select 1', 'set @c = 2'],
  ])('%s, then %s …', async (...seq) => {
    expect(await diagnosticsAfter(pair.sub, seq)).toEqual(await diagnosticsAfter(pair.ref, seq));
  });
});
