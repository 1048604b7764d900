/**
 * BIT_AND, BIT_OR and BIT_XOR across shards, against one plain MariaDB holding the same rows: each
 * shard's result per group, combined by the same operation at the gateway (they were refused with
 * 1235). Negative values take part as their 64-bit two's complement, as in MariaDB.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SCHEMA = 'create table t (id bigint primary key, g varchar(4), k bigint, u int unsigned)';
const ROWS = `insert into t (id, g, k, u) values ${Array.from({ length: 40 }, (_, i) => `(${i + 1}, '${['a', 'b', 'c'][i % 3]}', ${i % 7 === 0 ? 'null' : i % 5 === 0 ? -(i * 3) : i * 37 + 5}, ${(i * 2654435761) % 4294967296})`).join(', ')}`;

const QUERIES = [
  'select bit_and(k) as a, bit_or(k) as o, bit_xor(k) as x, bit_and(u), bit_or(u), bit_xor(u) from t',
  'select g, bit_and(k) as a, bit_or(k) as o, bit_xor(k) as x, count(*) as n from t group by g order by g',
  'select bit_and(k) as a, bit_or(k) as o, bit_xor(k) as x from t where id > 1000',
  'select g, bit_or(u) as o from t group by g order by bit_or(u) desc, g',
  'select bit_xor(u) + 1 as p, bit_or(k) - 1 as q from t where id < 30',
  'select g from t group by g having bit_and(u) = 0 or bit_xor(u) > 5 order by g',
];

let pair: GatewayAndReference;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { ks: hashKeyspace({ t: 'id' }) } }, keyspaces: { ks: { shards: ['-40', '40-80', '80-c0', 'c0-'], schema: SCHEMA } } }, 'ks', SCHEMA);
  ({ ref, sub } = pair);
  await pair.loadBoth([ROWS]);
}, 120_000);

afterAll(() => pair?.stop());

async function answer(conn: mysql.Connection, sql: string, prepared: boolean): Promise<unknown> {
  const [rows, fields] = prepared ? await conn.execute({ sql, rowsAsArray: true }) : await conn.query({ sql, rowsAsArray: true });
  return { rows, columns: (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}:${(Number(f.flags) & 32) !== 0 ? 'unsigned' : 'signed'}`) };
}

describe('BIT_AND, BIT_OR, BIT_XOR across 4 shards, vs one MariaDB', () => {
  for (const prepared of [false, true]) {
    it.each(QUERIES)(`${prepared ? 'prepared' : 'text'}: %s`, async (sql) => {
      expect(await answer(sub, sql, prepared)).toEqual(await answer(ref, sql, prepared));
    });
  }

  it('runs them on every shard (not one route)', async () => {
    const [rows] = await sub.query({ sql: `vexplain plan ${QUERIES[0]}`, rowsAsArray: true });
    expect(JSON.stringify(rows)).toMatch(/Aggregate/);
  });
});
