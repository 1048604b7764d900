/**
 * INSERT … SELECT into a sharded keyspace, or into an unsharded one from another (refused with
 * 1235 before), through a 4-shard gateway
 * and on one plain MariaDB holding the same rows: each statement's answer (affected rows, insert
 * id, warnings, the "Records:" text, or the error number) and the tables after it, the lookup
 * vindex's rows too. The SELECT runs first and whole; its rows are routed as VALUES rows are, so
 * each value must keep its type: a DATETIME stays a DATETIME in a BIGINT column (as a string it
 * would be truncated, 1265 in strict mode), a binary string a string in an INT one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const REFERENCE_ONLY = 'create table tally (k int primary key, c bigint, names varchar(200)) default charset=utf8mb4;';
const SCHEMA = `create table item (id bigint primary key, n int, amount decimal(10,2), f double, d date, ts datetime(3), t time(2), name varchar(20) collate utf8mb4_general_ci, b varbinary(8), e enum('x','y'), w float) default charset=utf8mb4;
create table item_copy (id bigint primary key, n int, amount decimal(10,2), f double, d date, ts datetime(3), t time(2), name varchar(20) collate utf8mb4_general_ci, b varbinary(8)) default charset=utf8mb4;
create table num_copy (id bigint primary key, v int, w bigint, s varchar(30)) default charset=utf8mb4;
create table person (id bigint primary key, email varchar(64), unique key (email)) default charset=utf8mb4 collate=utf8mb4_general_ci;
create table tagged (id bigint not null auto_increment primary key, name varchar(20)) default charset=utf8mb4;
create table ref_copy (id bigint primary key, name varchar(20)) default charset=utf8mb4;`;
const MAIN = `create table email_lkp (email varchar(64) not null primary key, keyspace_id varbinary(16) not null) default charset=utf8mb4 collate=utf8mb4_general_ci;
create table tagged_seq (id int not null primary key, next_id bigint not null, cache bigint not null);
insert into tagged_seq values (0, 1000, 10);
create table tally (k int primary key, c bigint, names varchar(200)) default charset=utf8mb4;`;
const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: { email_lkp: {}, tagged_seq: { type: 'sequence' }, tally: {} } },
    ks: {
      sharded: true,
      vindexes: { hash: { type: 'hash' }, email_lkp: { type: 'consistent_lookup_unique', params: { table: 'main.email_lkp', from: 'email', to: 'keyspace_id' }, owner: 'person' } },
      tables: {
        item: { column_vindexes: [{ column: 'id', name: 'hash' }] },
        item_copy: { column_vindexes: [{ column: 'id', name: 'hash' }] },
        num_copy: { column_vindexes: [{ column: 'id', name: 'hash' }] },
        person: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'email', name: 'email_lkp' }] },
        tagged: { column_vindexes: [{ column: 'id', name: 'hash' }], auto_increment: { column: 'id', sequence: 'main.tagged_seq' } },
        ref_copy: { type: 'reference' },
      },
    },
  },
};

let pair: GatewayAndReference;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: VSCHEMA, keyspaces: { main: { shards: ['0'], schema: MAIN }, ks: { shards: SHARDS, schema: SCHEMA } } }, 'ks', `${SCHEMA}\n${REFERENCE_ONLY}`);
  const rows = Array.from({ length: 12 }, (_, i) => {
    const id = i + 1;
    const b = i % 4 === 0 ? 'null' : `'${i * 3}'`;
    return `(${id}, ${i % 3}, ${i}.25, ${i / 10}, '2020-01-0${(i % 9) + 1}', '2020-01-01 10:00:0${i % 10}.125', '${i}:30:15.5', '${['alice', 'Bob', 'zoë'][i % 3]}', ${b}, '${i % 2 ? 'y' : 'x'}', ${i}.1)`;
  });
  // The reference's AUTO_INCREMENT hands out the sequence's ids.
  await pair.ref.query('alter table tagged auto_increment = 1000');
  await pair.loadBoth([`insert into item (id, n, amount, f, d, ts, t, name, b, e, w) values ${rows.join(', ')}`]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

type Answer = { affected: number; insertId: string; warnings: number; info: string } | { errno: number };

async function answer(conn: mysql.Connection, sql: string): Promise<Answer> {
  try {
    const [r] = await conn.query(sql);
    const h = r as mysql.ResultSetHeader;
    return { affected: h.affectedRows, insertId: String(h.insertId), warnings: h.warningStatus, info: h.info };
  } catch (err) {
    return { errno: (err as { errno: number }).errno };
  }
}

const STATEMENTS = [
  // Every type class, across shards: each row goes to the shard of its own id.
  'insert into item_copy (id, n, amount, f, d, ts, t, name, b) select id, n, amount, f, d, ts, t, name, b from item',
  // Expressions and a filter; the new ids land on other shards than their source rows.
  'insert into item_copy (id, n, name, f) select id + 100, n * 2, upper(name), f / 3 from item where n > 0',
  // A duplicate key on one shard: nothing of the statement stays, anywhere.
  'insert into item_copy (id, n) select id + 200, n from item union all select 1, 0',
  // IGNORE: the duplicates are warnings, the rest is written.
  'insert ignore into item_copy (id, n) select id + 95, n from item',
  // Nothing selected: still "Records: 0".
  'insert into item_copy (id, n) select id, n from item where id < 0',
  // One row: the "Records:" text too.
  'insert into num_copy (id, v) select 500, count(*) from item',
  // Binary strings into INT, DATETIME into BIGINT, DECIMAL and TIME into text.
  'insert into num_copy (id, v, w, s) select id, b, ts, amount from item where b is not null',
  'insert into num_copy (id, s, w) select id + 1000, t, d from item',
  // Aggregated across shards, in a parenthesized SELECT.
  'insert into num_copy (id, v, w) (select n + 2000, count(*), sum(id) from item group by n)',
  // The table read is the table written: MariaDB reads it whole first, so does the gateway.
  'insert into item_copy (id, n, name) select id + 10000, n, name from item_copy where id < 100',
  // The widths differ (1136), also over no rows.
  'insert into item_copy (id, n) select id from item',
  'insert into item_copy (id, n) select id, n, n from item where id < 0',
  // An owned lookup vindex gets its rows; a duplicate email fails (1062) and leaves none.
  "insert into person (id, email) select id, concat(lower(name), id, '@example.com') from item",
  "insert into person (id, email) select id + 50, 'dup@example.com' from item where id < 3",
  // Ids from the sequence, the first of them the statement's insert id, handed out in the
  // SELECT's order (without ORDER BY that order is the shards' here and undefined on MariaDB).
  'insert into tagged (name) select name from item where id < 6 order by id',
  'insert into tagged (id, name) select id + 500, name from item where id < 3',
  // REPLACE: a replaced row counts twice, as on MariaDB; LOW_PRIORITY is kept.
  'replace into item_copy (id, n) select id, n + 10 from item where id < 4',
  'insert low_priority into item_copy (id, n) select id + 60000, n from item where n = 0',
  // A reference table: every shard's copy gets the rows.
  'insert into ref_copy (id, name) select id, name from item where n = 1',
];

describe('INSERT … SELECT into a sharded keyspace, answered as one MariaDB answers it', () => {
  it.each(STATEMENTS)('%s', async (sql) => {
    expect(await answer(pair.sub, sql)).toEqual(await answer(pair.ref, sql));
  });

  it('fills a table of an unsharded keyspace from a sharded one (refused as "across keyspaces" before)', async () => {
    // A report table filled from a scatter aggregate; the gateway names its keyspace, the one
    // MariaDB holds every table in one database.
    const select = "select n, count(*), group_concat(name order by id separator ',') from item group by n";
    expect(await answer(pair.sub, `insert into main.tally (k, c, names) ${select}`)).toEqual(await answer(pair.ref, `insert into tally (k, c, names) ${select}`));
    expect((await pair.sub.query('select * from main.tally order by k'))[0]).toEqual((await pair.ref.query('select * from tally order by k'))[0]);
  });

  it('takes prepared-statement parameters in the SELECT', async () => {
    const sql = 'insert into item_copy (id, n, name) select id + ?, n, ? from item where n = ?';
    const run = async (conn: mysql.Connection): Promise<Answer> => {
      const [r] = await conn.execute(sql, [20000, 'prepared', 1]);
      const h = r as mysql.ResultSetHeader;
      return { affected: h.affectedRows, insertId: String(h.insertId), warnings: h.warningStatus, info: h.info };
    };
    expect(await run(pair.sub)).toEqual(await run(pair.ref));
  });

  it('is undone with the transaction it ran in', async () => {
    for (const conn of [pair.sub, pair.ref]) {
      await conn.query('begin');
      await conn.query('insert into item_copy (id, n) select id + 30000, n from item');
      await conn.query('rollback');
    }
    const check = 'select count(*) as n from item_copy where id > 30000';
    expect((await pair.sub.query(check))[0]).toEqual((await pair.ref.query(check))[0]);
  });

  it('fails alone inside a transaction, which goes on', async () => {
    const script = ['begin', 'insert into item_copy (id, n) select id + 40000, n from item', 'insert into item_copy (id, n) select id + 40000, n from item', 'insert into item_copy (id, n) select id + 50000, n from item where n = 2', 'commit'];
    const answers = async (conn: mysql.Connection): Promise<Answer[]> => {
      const out: Answer[] = [];
      for (const sql of script) out.push(await answer(conn, sql));
      return out;
    };
    expect(await answers(pair.sub)).toEqual(await answers(pair.ref));
  });

  it('leaves the same rows, and one lookup row per email', async () => {
    for (const shard of ['-40', 'c0-']) {
      const conn = await pair.gw.connectShard('ks', shard);
      try {
        expect((await conn.query('select * from ref_copy order by id'))[0], shard).toEqual((await pair.ref.query('select * from ref_copy order by id'))[0]);
      } finally {
        await conn.end();
      }
    }
    for (const sql of ['select * from item_copy order by id', 'select * from num_copy order by id', 'select * from person order by id', 'select * from tagged order by id']) {
      expect((await pair.sub.query(sql))[0], sql).toEqual((await pair.ref.query(sql))[0]);
    }
    const [lookup] = await pair.sub.query('select email from main.email_lkp order by email');
    expect(lookup).toEqual((await pair.ref.query('select email from person where email is not null order by email'))[0]);
  });

  it('refuses, with 1235, the values whose type the result does not carry whole, and writes nothing', async () => {
    // …and a primary vindex value the vindex cannot map (2000.25 for a BIGINT id): MariaDB rounds it into the column first.
    for (const sql of ['insert into num_copy (id, s) select id + 3000, e from item', 'insert into num_copy (id, s) select id + 3000, w from item', 'insert into num_copy (id, s) select amount + 3000, name from item']) {
      expect(await answer(pair.sub, sql), sql).toEqual({ errno: 1235 });
    }
    expect((await pair.sub.query('select count(*) as n from num_copy where id > 3000'))[0]).toEqual([{ n: '0' }]);
    // Cast, they go.
    const sql = 'insert into num_copy (id, s, w) select id + 3000, cast(e as char), e + 0 from item';
    expect(await answer(pair.sub, sql)).toEqual(await answer(pair.ref, sql));
    const check = 'select * from num_copy where id > 3000 order by id';
    expect((await pair.sub.query(check))[0]).toEqual((await pair.ref.query(check))[0]);
  });
});
