/**
 * DATE and DATETIME values the gateway carries from one query into another (a pulled-out scalar or
 * IN subquery across shards, a join var of a cross-shard join), through a 2-shard gateway and on
 * one plain MariaDB holding the same rows. As string literals they compared as text with string
 * columns (`'2024-02-01 00:00:00' = '2024-2-1 0:0:0'` is false, the dates are equal) and came back
 * as VARCHAR columns; MariaDB compares and types them as the temporal values they are.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKeyspace } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SCHEMA = `create table ev (id bigint primary key, at datetime, d date, s varchar(30), n int);
create table other (oid bigint primary key, ev_id bigint, label varchar(30), v int);`;
const ROWS = [
  "insert into ev (id, at, d, s, n) values (1, '2024-01-05 10:00:00', '2024-01-05', '2024-1-5', 3), (2, '2024-02-01 00:00:00', '2024-02-01', '2024-2-1 0:0:0', 4), (3, '2023-12-31 23:59:59', '2023-12-31', 'x', 5), (4, null, null, null, 6)",
  "insert into other (oid, ev_id, label, v) values (10, 1, '2024-1-5', 7), (11, 2, '2024-02-01', 8), (12, 3, 'y', 9), (13, 4, null, 1)",
];

let pair: GatewayAndReference;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { ks: hashKeyspace({ ev: 'id', other: 'oid' }) } }, keyspaces: { ks: { shards: ['-80', '80-'], schema: SCHEMA } } }, 'ks', SCHEMA);
  await pair.loadBoth(ROWS);
});

afterAll(() => pair?.stop());

async function answer(conn: mysql.Connection, sql: string): Promise<unknown> {
  const [rows, fields] = await conn.query({ sql, rowsAsArray: true });
  return { rows, types: (fields as mysql.FieldPacket[]).map((f) => `${f.columnType}/${f.decimals}`) };
}

const CASES = [
  // Scalar subqueries: compared with a string literal, and selected (DATETIME and DATE columns).
  "select id from ev where (select max(at) from ev) > '2024-1-5' order by id",
  "select id from ev where (select min(d) from ev) = '2023-12-31' order by id",
  'select id from ev where at = (select max(at) from ev)',
  'select id, (select max(at) from ev) as m, (select min(d) from ev) as md from ev order by id',
  // IN subqueries whose values are dates, against a string column and a date column.
  'select id from ev where s in (select at from ev) order by id',
  'select id from ev where at in (select at from ev where n > 3) order by id',
  'select id from ev where d not in (select d from ev where n > 4) order by id',
  'select id from ev where at in (select label from other) order by id',
  // Join vars: the outer side's DATETIME or DATE compared with the inner side's string column.
  'select o.oid from ev e join other o on o.label = e.at order by o.oid',
  'select o.oid from ev e join other o on o.ev_id = e.id where o.label < e.d order by o.oid',
  'select o.oid from other o join ev e on e.at = o.label order by o.oid',
  'select o.oid, e.at + o.v from other o join ev e on e.id = o.ev_id order by o.oid',
];

describe('temporal values carried between queries across shards, as one MariaDB answers', () => {
  it.each(CASES)('%s', async (sql) => {
    expect(await answer(pair.sub, sql)).toEqual(await answer(pair.ref, sql));
  });
});
