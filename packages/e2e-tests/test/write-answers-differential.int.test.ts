/**
 * Writes the random write differential found answered differently from one MariaDB, through a
 * 4-shard gateway and on one plain MariaDB holding the same rows: each statement's answer
 * (affected rows, insert id, warning count, or error number) and the rows after it.
 * - INSERT IGNORE of a duplicate into a reference table warned once per copy (4, not 1).
 * - A multi-row INSERT with explicit ids across shards reported the first shard to answer's last
 *   id, not the statement's last row's.
 * - A consistent lookup: two rows of one statement taking one new value were both written (on
 *   different shards), where MariaDB's unique key answers 1062; an UPDATE of several rows, or one
 *   changing only the case of its value, waited for itself until the lock wait timeout (1205).
 * - UPDATE and DELETE with LOW_PRIORITY, QUICK or IGNORE were a syntax error (1064); with IGNORE
 *   on a table owning a lookup vindex they are refused (1235), checked in the last test. So were
 *   INSERT and REPLACE with LOW_PRIORITY, HIGH_PRIORITY or DELAYED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SCHEMA = `create table customer (id bigint primary key, name varchar(40) not null, email varchar(64) null, unique key (email)) default charset=utf8mb4 collate=utf8mb4_general_ci;
create table product (id int primary key, sku varchar(16) not null, stock int not null default 0, unique key (sku));`;
const MAIN = `create table email_lkp (email varchar(64) not null primary key, keyspace_id varbinary(16) not null) default charset=utf8mb4 collate=utf8mb4_general_ci;`;
const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: { email_lkp: {} } },
    ks: {
      sharded: true,
      vindexes: { hash: { type: 'hash' }, email_lkp: { type: 'consistent_lookup_unique', params: { table: 'main.email_lkp', from: 'email', to: 'keyspace_id' }, owner: 'customer' } },
      tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'email', name: 'email_lkp' }] }, product: { type: 'reference' } },
    },
  },
};

let pair: GatewayAndReference;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: VSCHEMA, keyspaces: { main: { shards: ['0'], schema: MAIN }, ks: { shards: SHARDS, schema: SCHEMA } } }, 'ks', SCHEMA);
  await pair.loadBoth([
    "insert into customer (id, name, email) values (1, 'a', 'c1@example.com'), (2, 'a', 'c2@example.com'), (3, 'b', 'c3@example.com'), (4, 'b', 'c4@example.com'), (5, 'c', 'c5@example.com'), (6, 'c', null)",
    "insert into product (id, sku, stock) values (1, 'SKU-1', 5), (2, 'SKU-2', 7)",
  ]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

type Answer = { affected: number; insertId: string; warnings: number } | { errno: number };

async function answer(conn: mysql.Connection, sql: string): Promise<Answer> {
  try {
    const [r] = await conn.query(sql);
    const h = r as mysql.ResultSetHeader;
    return { affected: h.affectedRows, insertId: String(h.insertId), warnings: h.warningStatus };
  } catch (err) {
    return { errno: (err as { errno: number }).errno };
  }
}

const STATEMENTS = [
  // Reference table: every copy warns alike; one MariaDB warns once.
  "insert ignore into product (id, sku, stock) values (1, 'SKU-9', 1)",
  "insert ignore into product (id, sku, stock) values (3, 'SKU-3', 1), (2, 'SKU-8', 1)",
  'update product set stock = stock + 1 where id = 1',
  // Explicit ids across shards: the last row's id.
  "insert into customer (id, name, email) values (57, 'd', 'c57@example.com'), (61, 'd', 'c61@example.com')",
  "insert into customer (id, name, email) values (34, 'e', 'c34@example.com'), (69, 'e', null), (37, 'e', 'c37@example.com')",
  // Two rows of one statement taking one value.
  "insert into customer (id, name, email) values (70, 'f', 'dup@example.com'), (71, 'f', 'DUP@example.com')",
  "update customer set email = 'c9@example.com' where name = 'a'",
  // Several rows, one of which holds the value already under the column's collation.
  "update customer set email = 'C3@EXAMPLE.COM' where name = 'b'",
  // A change of case only keeps its lookup row.
  "update customer set email = 'C5@Example.com' where id = 5",
  "update customer set email = 'c5@example.com' where name = 'c'",
  // UPDATE and DELETE modifiers (a syntax error, 1064, from the gateway before): IGNORE turns a
  // row's duplicate key into a warning on each shard and on the reference table's every copy.
  "update ignore product set sku = 'SKU-1' where id > 1",
  "update low_priority ignore product set stock = stock + 5",
  "update ignore customer set name = concat(name, '!') where id < 40",
  "delete low_priority quick ignore from product where id = 3",
  'delete quick from customer where id = 69',
  // INSERT and REPLACE priorities (a syntax error, 1064, from the gateway before), passed on.
  "insert low_priority into customer (id, name, email) values (80, 'g', 'c80@example.com')",
  "insert high_priority ignore into product (id, sku, stock) values (1, 'SKU-7', 1), (6, 'SKU-6', 2)",
  "replace low_priority into product (id, sku, stock) values (5, 'SKU-5', 1)",
  "insert delayed into customer (id, name) values (81, 'h')",
];

describe('writes answered as one MariaDB answers them', () => {
  it.each(STATEMENTS)('%s', async (sql) => {
    expect(await answer(pair.sub, sql)).toEqual(await answer(pair.ref, sql));
  });

  it('refuses UPDATE or DELETE IGNORE on a table that owns a lookup vindex (1235)', async () => {
    for (const sql of ["update ignore customer set email = 'x@example.com' where id = 57", 'delete ignore from customer where id = 61']) {
      expect(await answer(pair.sub, sql), sql).toEqual({ errno: 1235 });
    }
  });

  it('leaves the same rows, every copy of the reference table alike, and one lookup row per email', async () => {
    for (const sql of ['select * from customer order by id', 'select * from product order by id']) {
      expect((await pair.sub.query(sql))[0], sql).toEqual((await pair.ref.query(sql))[0]);
    }
    const [lookup] = await pair.sub.query('select email from main.email_lkp order by email');
    expect(lookup).toEqual((await pair.ref.query('select email from customer where email is not null order by email'))[0]);
    for (const shard of SHARDS) {
      const conn = await pair.gw.connectShard('ks', shard);
      try {
        expect((await conn.query('select id, sku, stock from product order by id'))[0], shard).toEqual((await pair.ref.query('select id, sku, stock from product order by id'))[0]);
      } finally {
        await conn.end();
      }
    }
  });
});
