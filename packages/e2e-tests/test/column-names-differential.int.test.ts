/**
 * The names of a result's columns, through a 2-shard gateway and on one plain MariaDB. MariaDB
 * names a column without an alias by the item's text as written; the shards get the gateway's
 * text, in which a `?` or a user variable is a value, a literal is written the gateway's way
 * (`x'41'` as `X'41'`, `- 1` as `-1`, `'it''s'` as `'it\'s'`) and blanks are one space. Such a
 * column used to come back named after that text (`select ?` named `5e0`, `1  +  1` named
 * `1 + 1`). Compared on every route kind: one shard, a merge, a gateway aggregate, a join, a
 * union, no table; text and prepared.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKeyspace } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SCHEMA = 'create table t (id bigint primary key, k int, c varchar(20))';
const ROWS = `insert into t (id, k, c) values ${Array.from({ length: 12 }, (_, i) => `(${i + 1}, ${(i * 7) % 5}, 'row${i + 1}')`).join(', ')}`;

/** Statements whose columns the shards would name otherwise, and some they name alike. */
const QUERIES = [
  'select id  +  1, k from t where id = 3',
  'select id, k\t*\t2 from t order by id',
  'select id, k  *  2 from t order by id limit 3',
  'select count(*), sum( k ), max(k)  +  1, min(k) from t',
  'select k, count(*)  *  2 from t group by k order by k',
  "select concat(c , 'x'), - 1, x'41', X'42', 007, 0x43, 1.50 from t where id = 1",
  "select c, 'it''s', concat('it''s'), \"dq\", 'a' 'b' from t where id in (1, 2) order by id",
  'select id,\n  k\n    + 1\nfrom t where id = 2',
  'select k /* note */ + 1, k from t where id = 2',
  'select k  +  1 from t where id = 1 union all select k from t where id = 2',
  'select a.id, b.k  -  1 from t a join t b on a.k = b.id order by a.id',
  'select 1  +  1, abs(  -3 ), 2 between 1 and  3, count(*) from t',
  'select 1 in (1 ,  2), 1 in (1, 2), k in (1 ,  2) from t where id = 5',
  'select 1  +  1, - 1, @@autocommit  +  0',
  // The session's values the gateway writes in (upper(database()) reached the shards as upper('ks')).
  'select upper(database()), concat(database(), 1), connection_id() > 0, user() is not null, version() is not null from t where id = 1',
  'select database(), schema(), last_insert_id()',
  // Likewise its system variables within a larger item (`@@autocommit + 0` reached them as `if(1, 1, @@autocommit) + 0`).
  'select @@autocommit + 0, @@version_comment is not null, k + @@autocommit from t where id = 1',
  "select @@version like '%', 1 + @@last_insert_id, @@AUTOCOMMIT * 2, @@session.autocommit",
  // Spelled as the shards get them: no alias is needed, and none changes the answer.
  "select k + 1, concat(c, 'x'), count(1) from t where id = 4 group by k, c",
];

/** Statements with `?` in their select list, and their params. */
const PREPARED: [string, unknown[]][] = [
  ['select ?, k + ? from t where id = ?', [5, 1, 3]],
  ['select concat(?, c), ?  *  2 as twice from t order by id limit 2', ['x', 4]],
  ['select count(*) + ?, max(k) from t', [10]],
];

let pair: GatewayAndReference;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { ks: hashKeyspace({ t: 'id' }) } }, keyspaces: { ks: { shards: ['-80', '80-'], schema: SCHEMA } } }, 'ks', SCHEMA);
  await pair.loadBoth([ROWS]);
});

afterAll(() => pair?.stop());

interface Named {
  names: string[];
  rows: unknown;
}

async function named(c: mysql.Connection, sql: string, params?: unknown[]): Promise<Named> {
  const [rows, fields] = params === undefined ? await c.query({ sql, rowsAsArray: true }) : await c.execute({ sql, rowsAsArray: true }, params as never[]);
  return { names: (fields as mysql.FieldPacket[]).map((f) => f.name), rows };
}

describe('a column without an alias is named as on one MariaDB', () => {
  it.each(QUERIES)('text: %s', async (sql) => {
    expect(await named(pair.sub, sql)).toEqual(await named(pair.ref, sql));
  });

  it.each(QUERIES)('prepared: %s', async (sql) => {
    expect(await named(pair.sub, sql, [])).toEqual(await named(pair.ref, sql, []));
  });

  it.each(PREPARED)('prepared with ? in the select list: %s', async (sql, params) => {
    expect(await named(pair.sub, sql, params)).toEqual(await named(pair.ref, sql, params));
  });
});
