/**
 * Cross-shard joins whose select list, WHERE or ON holds a CASE, a CAST or a unary expression (`NOT x`,
 * `-x`, `!x`, `~x`), against one plain MariaDB holding the same rows. node-sql-parser gives those
 * nodes no position in the text, so the planner could not cut them out for the join's two sides
 * and refused every such join with 1235 (sql-parser.ts locateUnlocated now derives it).
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SCHEMA = `
create table customer (id bigint primary key, tier varchar(10) collate utf8mb4_general_ci, balance decimal(10,2), code int);
create table orders (id bigint primary key, customer_id bigint, status varchar(10) collate utf8mb4_general_ci, total int, qty tinyint, placed date);
`;
const INSERTS = [
  `insert into customer (id, tier, balance, code) values ${Array.from({ length: 24 }, (_, i) => `(${i + 1}, ${i % 4 === 0 ? 'null' : `'${['gold', 'silver', 'bronze'][i % 3]}'`}, ${i % 5 === 0 ? 'null' : `${i * 7}.25`}, ${i % 6})`).join(', ')}`,
  `insert into orders (id, customer_id, status, total, qty, placed) values ${Array.from({ length: 40 }, (_, i) => `(${i + 1}, ${(i % 26) + 1}, ${i % 7 === 0 ? 'null' : `'${['new', 'paid', 'shipped'][i % 3]}'`}, ${i % 9 === 0 ? 'null' : (i * 13) % 50}, ${i % 8 === 0 ? 'null' : i % 5}, '2024-0${(i % 9) + 1}-1${i % 10}')`).join(', ')}`,
];

const QUERIES = [
  'select c.id, case when c.code = o.total - 10 then 1 when o.total > 20 then c.code else -o.total end as x from customer c join orders o on o.customer_id = c.id',
  'select o.id, case c.tier when \'gold\' then o.total when \'silver\' then -c.code else null end as x, case when o.status is null then \'none\' else o.status end as s from orders o join customer c on c.id = o.customer_id',
  'select c.id, o.id from customer c join orders o on o.customer_id = c.id where not (o.total < c.code) and not c.tier = \'bronze\'',
  'select c.id, o.id, !(o.total < 10) as b, ~c.code as t, -(c.balance) as m from customer c join orders o on o.customer_id = c.id where not not o.total between 5 and 40',
  'select c.id, o.id from customer c left join orders o on o.customer_id = c.id and not o.status = \'new\' where case when c.code > 2 then c.balance else 0 end < 80',
  'select c.tier, count(*) as n, sum(case when o.total > 15 then 1 else 0 end) as big from customer c join orders o on o.customer_id = c.id group by c.tier',
  // CAST had no location either (sql-parser.ts locateUnlocated).
  'select c.id, cast(o.total as char) as t, cast(c.code + o.total as decimal(10,2)) as d, cast((o.total) as signed) from customer c join orders o on o.customer_id = c.id where cast(o.total as unsigned) > c.code',
];

/**
 * A LEFT JOIN's select list or ORDER BY over both sides: a left row without a match gets the
 * expression over NULLs for the right columns (`coalesce(o.status, c.tier)` is c.tier there),
 * not NULL. They were refused with 1235.
 */
const LEFT_JOIN_QUERIES = [
  "select c.id, coalesce(o.total, c.code) as s, o.total + c.code as t, ifnull(o.status, 'none') as st from customer c left join orders o on o.customer_id = c.id and o.total > 20",
  "select c.id, concat(c.code, '-', ifnull(o.status, 'none')) as label, o.total is null or c.code > 3 as flag, coalesce(o.total * c.balance, c.balance, -1) as v from customer c left join orders o on o.customer_id = c.id and o.status = 'paid'",
  'select c.id, o.id, case when o.id is null then -c.code else o.total - c.code end as d from customer c left join orders o on o.customer_id = c.id and o.total between 10 and 30 where c.id < 20',
]
/** A left DECIMAL that is NULL, sent to the right side's shard: the expression keeps the column's scale there. */
const NULL_DECIMAL_QUERIES = [
  'select c.id, coalesce(o.total * c.balance, c.balance, -1) as v, ifnull(c.balance, o.total) as w from customer c join orders o on o.customer_id = c.id',
  'select c.id, coalesce(o.total * c.balance, c.balance, -1) as v from customer c left join orders o on o.customer_id = c.id and o.total > 20',
];
/**
 * An INT of one side inside an expression over narrower values of the other side: the value is
 * sent there as a literal, and `year(o.placed) - 5` is an INT where `year(o.placed) - c.code` is a
 * BIGINT (a NULL sent bare made it a DOUBLE). IFNULL over the two stays an INT, as in MariaDB.
 */
const INTEGER_WIDTH_QUERIES = [
  'select c.id, year(o.placed) - c.code as d, o.qty + c.code as s, o.qty * c.code as p, o.qty - c.code as n from customer c join orders o on o.customer_id = c.id',
  'select c.id, ifnull(o.qty, c.code) as f, coalesce(o.qty, c.code, 0) as g, o.qty < c.code as lt from customer c join orders o on o.customer_id = c.id',
  'select c.id, year(o.placed) - nullif(c.code, 0) as d, o.qty + nullif(c.code, 3) as s from customer c join orders o on o.customer_id = c.id',
  'select c.id, o.qty + c.code as s, year(o.placed) * c.code as p from customer c left join orders o on o.customer_id = c.id and o.total > 20',
];
/** `a RIGHT JOIN b` of two tables, planned as `b LEFT JOIN a` (it was refused with 1235). */
const RIGHT_JOIN_QUERIES = [
  // An ON term over the kept side only decides matches, not which rows are kept (both were
  // answered with only the customers of code 1).
  'select c.id, o.id from orders o right join customer c on o.customer_id = c.id and c.code = 1',
  'select c.id, o.id from customer c left join orders o on o.customer_id = c.id and c.code = 1',
  'select c.id, o.id from customer c left join orders o on o.customer_id = c.id and 1 = 0 where c.id < 10',
  'select c.id, o.id, o.total from orders o right join customer c on o.customer_id = c.id and o.total > 20',
  'select c.id, c.tier from orders o right outer join customer c on o.customer_id = c.id and o.status = \'paid\' where o.id is null',
  'select o.id as oid, coalesce(o.total, c.code) as t, c.id from orders o right join customer c on c.id = o.customer_id and o.total between 10 and 30 where c.id < 22',
];
/**
 * BIT_AND, BIT_OR and BIT_XOR across the shards (one table; refused with 1235 before): each
 * shard's result per group, combined by the same operation at the gateway. Negative values take
 * part as their 64-bit two's complement, as in MariaDB.
 */
const BIT_AGGREGATE_QUERIES = [
  'select bit_and(total) as a, bit_or(total) as o, bit_xor(total) as x, bit_and(-id), bit_or(id * 2654435761), bit_xor(id * 40503) from orders',
  'select status, bit_and(total) as a, bit_or(total) as o, bit_xor(id) as x, count(*) as n from orders group by status order by status',
  'select bit_and(total) as a, bit_or(total) as o, bit_xor(total) as x from orders where id > 1000',
  'select status, bit_or(id) as o from orders group by status order by bit_or(id) desc, status',
  'select bit_xor(id) + 1 as p, bit_or(total) - 1 as q from orders where id < 30',
  'select status from orders group by status having bit_and(id) = 0 or bit_xor(id) > 5 order by status',
];
const LEFT_JOIN_ORDERED = 'select c.id, o.id, o.total from customer c left join orders o on o.customer_id = c.id and o.total > 30 order by coalesce(o.total, c.code * 10) desc, c.id, o.id';

let pair: GatewayAndReference;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { commerce: hashKeyspace({ customer: 'id', orders: 'id' }) } }, keyspaces: { commerce: { shards: ['-80', '80-'], schema: SCHEMA } } }, 'commerce', SCHEMA);
  ({ ref, sub } = pair);
  await pair.loadBoth(INSERTS);
}, 120_000);

afterAll(() => pair?.stop());

/** Rows as sorted JSON (no ORDER BY: a join's row order is not fixed), and each column's name and type. */
async function answer(conn: mysql.Connection, sql: string, prepared: boolean): Promise<unknown> {
  const [rows, fields] = prepared ? await conn.execute({ sql, rowsAsArray: true }) : await conn.query({ sql, rowsAsArray: true });
  return {
    rows: (rows as unknown[]).map((r) => JSON.stringify(r)).sort(),
    columns: (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}`),
  };
}

describe('CASE and unary expressions over both sides of a cross-shard join, vs one MariaDB', () => {
  for (const prepared of [false, true]) {
    it.each(QUERIES)(`${prepared ? 'prepared' : 'text'}: %s`, async (sql) => {
      const want = await answer(ref, sql, prepared);
      expect((want as { rows: unknown[] }).rows.length).toBeGreaterThan(2);
      expect(await answer(sub, sql, prepared)).toEqual(want);
    });
  }

  for (const [join, queries] of [['LEFT JOIN', LEFT_JOIN_QUERIES], ['RIGHT JOIN', RIGHT_JOIN_QUERIES]] as const) {
    for (const prepared of [false, true]) {
      it.each(queries)(`${join}, ${prepared ? 'prepared' : 'text'}: %s`, async (sql) => {
        const want = await answer(ref, sql, prepared);
        expect((want as { rows: unknown[] }).rows.length).toBeGreaterThan(2);
        expect(await answer(sub, sql, prepared)).toEqual(want);
      });
    }
  }

  for (const prepared of [false, true]) {
    it.each(NULL_DECIMAL_QUERIES)(`a NULL DECIMAL sent across, ${prepared ? 'prepared' : 'text'}: %s`, async (sql) => {
      const want = await answer(ref, sql, prepared);
      expect((want as { rows: string[] }).rows.join()).toContain('"-1.00"');
      expect(await answer(sub, sql, prepared)).toEqual(want);
    });
  }


  for (const prepared of [false, true]) {
    it.each(INTEGER_WIDTH_QUERIES)(`an INT sent across into narrower values, ${prepared ? 'prepared' : 'text'}: %s`, async (sql) => {
      const want = await answer(ref, sql, prepared);
      expect((want as { rows: unknown[] }).rows.length).toBeGreaterThan(2);
      expect(await answer(sub, sql, prepared)).toEqual(want);
    });
  }

  for (const prepared of [false, true]) {
    it.each(BIT_AGGREGATE_QUERIES)(`BIT_* aggregates, ${prepared ? 'prepared' : 'text'}: %s`, async (sql) => {
      const [want, wantFields] = prepared ? await ref.execute({ sql, rowsAsArray: true }) : await ref.query({ sql, rowsAsArray: true });
      const [got, gotFields] = prepared ? await sub.execute({ sql, rowsAsArray: true }) : await sub.query({ sql, rowsAsArray: true });
      expect(got).toEqual(want);
      // Name, type and UNSIGNED: BIT_* results are BIGINT UNSIGNED.
      const types = (fs: unknown) => (fs as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}:${(Number(f.flags) & 32) !== 0 ? 'unsigned' : 'signed'}`);
      expect(types(gotFields)).toEqual(types(wantFields));
    });
  }

  it(`LEFT JOIN ordered by an expression over both sides, in order: ${LEFT_JOIN_ORDERED}`, async () => {
    const [want] = await ref.query({ sql: LEFT_JOIN_ORDERED, rowsAsArray: true });
    expect((want as unknown[]).length).toBeGreaterThan(20);
    expect((await sub.query({ sql: LEFT_JOIN_ORDERED, rowsAsArray: true }))[0]).toEqual(want);
  });

  it('a LEFT JOIN whose ON compares a text column of the kept side with a literal is refused (1235), not answered otherwise', async () => {
    const sql = "select c.id, o.id from customer c left join orders o on o.customer_id = c.id and c.tier = 'gold'";
    await expect(sub.query(sql)).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
  });

  it('a LEFT JOIN expression over both sides with a text column of the left side is refused (1235), not answered otherwise', async () => {
    const sql = 'select c.id, coalesce(o.status, c.tier) as s from customer c left join orders o on o.customer_id = c.id and o.total > 20';
    await expect(sub.query(sql)).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
  });

  it('plans them as joins across the shards (not one route)', async () => {
    const [rows] = await sub.query({ sql: `vexplain plan ${QUERIES[0]}`, rowsAsArray: true });
    expect(JSON.stringify(rows)).toMatch(/Join/);
  });
});
