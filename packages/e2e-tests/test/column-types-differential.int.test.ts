/**
 * Column types the gateway reports where it, not one shard, decides them, against one plain
 * MariaDB holding the same rows: a client decodes each value by its column type (mysql2 gives a
 * BIGINT or INT as a number, a DECIMAL as a string), so a wrong type is a wrong answer. Found by
 * the random differential once it compared column types (pnpm fuzz --seed 7), and by hand.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const SCHEMA = `
create table person (
  id bigint primary key,
  name varchar(20) collate utf8mb4_general_ci,
  code varchar(20) collate utf8mb4_bin,
  tier enum('gold', 'silver', 'bronze'),
  n int,
  bio text
);
`;
const CODES = ['ab', 'AB', 'áb', 'b'];
const INSERT = `insert into person (id, name, code, tier, n, bio) values ${Array.from(
  { length: 24 },
  (_, i) => `(${i + 1}, '${['alice', 'Bob', 'zoë'][i % 3]}', '${CODES[i % 4]}', '${['gold', 'silver', 'bronze'][i % 3]}', ${i % 5}, 'bio ${i % 4}')`,
).join(', ')}`;

let pair: GatewayAndReference;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { commerce: hashKeyspace({ person: 'id' }) } }, keyspaces: { commerce: { shards: SHARDS, schema: SCHEMA } } }, 'commerce', SCHEMA);
  ({ ref, sub } = pair);
  await pair.loadBoth([INSERT]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

/** Rows (as the servers' text) and each column's name, type and, for DECIMAL, scale. */
async function answer(conn: mysql.Connection, sql: string): Promise<{ rows: unknown; columns: string[] }> {
  const [rows, fields] = await conn.query({ sql, rowsAsArray: true, typeCast: false });
  return {
    rows: (rows as Buffer[][]).map((r) => r.map((v) => (v === null ? null : v.toString()))),
    columns: (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}${f.columnType === 246 ? `(${f.decimals})` : ''}`),
  };
}

async function expectSameAnswer(sql: string): Promise<void> {
  const [expected, got] = [await answer(ref, sql), await answer(sub, sql)];
  expect(got, sql).toEqual(expected);
}

describe('column types decided at the gateway vs one MariaDB', () => {
  it('an integer user variable is a BIGINT column, alone and in expressions', async () => {
    await ref.query('set @a = 5, @n = -7');
    await sub.query('set @a = 5, @n = -7');
    await expectSameAnswer('select @a, @n, @a + 1, @a * id as x from person where id = @a');
    await expectSameAnswer('select @a as x, count(*) from person');
  });

  it("a pulled-out scalar subquery keeps its type: COUNT is a BIGINT, SUM of integers a DECIMAL", async () => {
    await expectSameAnswer('select (select count(*) from person) as c, (select sum(n) from person) as s, (select max(id) from person) as m');
    await expectSameAnswer('select id from person where id > (select count(*) from person) - 3 order by id');
  });

  it("a BIGINT sent from one side of a join across shards into the other's expression stays a BIGINT", async () => {
    await expectSameAnswer('select coalesce(p2.n, p1.id) as c, p2.n + p1.id as d from person p1 join person p2 on p1.n = p2.id order by p1.id, p2.id');
  });

  it('refuses a pulled-out string value: the outer query would compare it without its collation', async () => {
    // MariaDB compares MAX(code) = 'áb' in utf8mb4_bin: not equal to 'AB'.
    const [[expected]] = (await ref.query({ sql: "select count(*) from person where (select max(code) from person) = 'AB'", rowsAsArray: true })) as unknown as [[string[]]];
    expect(expected).toEqual(['0']);
    await expect(sub.query("select count(*) from person where (select max(code) from person) = 'AB'")).rejects.toMatchObject({ errno: 1235 });
  });

  it('MIN/MAX of an ENUM merged at the gateway is a VARCHAR', async () => {
    await expectSameAnswer('select count(distinct name) as c, max(tier) as t, min(tier) as u from person');
  });

  it('a UNION of TEXT parts across shards is a BLOB column, as MariaDB reports it under ORDER BY', async () => {
    await expectSameAnswer('select bio from person where n = 1 union all select bio from person where n = 2 order by 1');
  });

  it('a UNION merged at the gateway describes its columns as MariaDB does: streamed (UNION ALL) or through its temporary table (ORDER BY, DISTINCT)', async () => {
    const definitions = async (conn: mysql.Connection, sql: string) => {
      const [, fields] = await conn.query({ sql, rowsAsArray: true });
      return (fields as mysql.FieldPacket[]).map((f) => ({ name: f.name, orgName: f.orgName, db: f.db, table: f.table, orgTable: f.orgTable, charset: f.characterSet, type: f.columnType, flags: f.flags, length: f.columnLength, decimals: f.decimals }));
    };
    const columns = 'id, name, code, tier, n, bio, b, u, big, ubig, d, ts, f, amount, blobby';
    const both = [
      'alter table person add column b tinyint(1), add column u int unsigned, add column big bigint, add column ubig bigint unsigned not null default 7, add column d date, add column ts datetime(3), add column f float, add column amount decimal(10,2), add column blobby tinytext',
      'update person set b = id % 2, u = id, big = -id, ubig = id, d = date_add(\'2020-01-01\', interval id day), ts = \'2020-01-01 10:00:00.125\', f = id / 4, amount = id + 0.25, blobby = name',
    ];
    for (const sql of both) {
      await ref.query(sql);
      await sub.query(sql);
    }
    try {
      for (const sql of [
        // Two parts on different shards (and on one): merged at the gateway.
        `select ${columns} from person where id = 1 union all select ${columns} from person where id = 2`,
        `select ${columns} from person where id = 1 union all select ${columns} from person where id = 3 limit 5`,
        `select ${columns} from person where id = 1 union all select ${columns} from person where id = 2 order by 1`,
        `select ${columns} from person where id = 1 union select ${columns} from person where id = 4`,
        // Signed with unsigned integers is a DECIMAL in MariaDB 10.11 (mysql2 reads it as a string).
        'select b, n, big, u from person where id = 1 union all select u, u, ubig, b from person where id = 2',
        'select b, n, big from person where id = 1 union all select u, ubig, ubig from person where id = 2 order by 1',
        'select n, name, bio from person where id = 1 union all select null, bio, code from person where id = 2',
        "select name, 'x', 5, 2.5 from person where id = 1 union all select 'y', name, n, amount from person where id = 2",
      ]) {
        expect(await definitions(sub, sql), sql).toEqual(await definitions(ref, sql));
        await expectSameAnswer(sql.includes('order by') ? sql : `${sql.replace(/ limit 5$/, '')}`);
      }
    } finally {
      const drop = 'alter table person drop column b, drop column u, drop column big, drop column ubig, drop column d, drop column ts, drop column f, drop column amount, drop column blobby';
      await ref.query(drop);
      await sub.query(drop);
    }
  });

  it('the session functions and variables the gateway answers are described as MariaDB describes them', async () => {
    const definitions = async (conn: mysql.Connection, sql: string) => {
      const [, fields] = await conn.query({ sql, rowsAsArray: true });
      return (fields as mysql.FieldPacket[]).map((f) => ({ name: f.name, orgName: f.orgName, table: f.table, type: f.columnType, flags: f.flags, length: f.columnLength, decimals: f.decimals }));
    };
    for (const sql of [
      // Planned and sent to a shard with the session's value in: DATABASE() is a nullable
      // VARCHAR(64) there, not the 8-byte literal 'commerce'.
      'select database()',
      'select schema(), user(), current_user()',
      'select upper(database()), id from person where id = 1',
      // Answered by the session: CONNECTION_ID() is an INT UNSIGNED, not a BIGINT (mysql2 with
      // bigNumberStrings read it as a string); no column has an original name.
      'select connection_id()',
      'select connection_id(), last_insert_id(), @@autocommit, @@wait_timeout, database(), user()',
      'select @@warning_count, @@session.autocommit',
    ]) {
      expect(await definitions(sub, sql), sql).toEqual(await definitions(ref, sql));
    }
  });

  it('columns carry the database, flags and length MariaDB gives them: no database for an expression, no NUM flag, COUNT, SUM and AVG as MariaDB sizes and flags them', async () => {
    const definitions = async (conn: mysql.Connection, sql: string) => {
      const [, fields] = await conn.query({ sql, rowsAsArray: true });
      return (fields as mysql.FieldPacket[]).map((f) => ({ name: f.name, db: f.db, table: f.table, type: f.columnType, flags: f.flags, length: f.columnLength, decimals: f.decimals }));
    };
    await ref.query('alter table person add column amount decimal(10,2), add column u int unsigned');
    await sub.query('alter table person add column amount decimal(10,2), add column u int unsigned');
    try {
      await ref.query('update person set amount = id + 0.25, u = id');
      await sub.query('update person set amount = id + 0.25, u = id');
      for (const sql of [
        'select count(*), count(n), sum(n), avg(n), avg(amount), avg(u), sum(amount) from person',
        'select n, count(*), count(name) from person group by n order by n',
        'select sum(n), sum(amount), count(distinct name) from person',
        "select id, n + 1, concat(name, code), 1.5, 'x' from person where id = 2",
        'select id, n * 2 from person order by id limit 3',
        // SHOW's columns are information_schema's, as on MariaDB (the gateway named the keyspace).
        'show full columns from person',
        'show index from person',
        'show table status like \'person\'',
      ]) {
        expect(await definitions(sub, sql), sql).toEqual(await definitions(ref, sql));
      }
    } finally {
      await ref.query('alter table person drop column amount, drop column u');
      await sub.query('alter table person drop column amount, drop column u');
    }
  });
});
