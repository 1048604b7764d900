/**
 * Views through the executor and the real planner, against real MariaDB. A view over sharded
 * tables is declared in the vschema (`"views"`) and planned as the derived table it stands for;
 * one plain MariaDB holding the same rows and the same CREATE VIEW gives the same answers. CREATE
 * VIEW in a sharded keyspace is refused at once (1235) rather than leaving per-shard views that a
 * later SELECT could not use; in an unsharded keyspace it goes to its shard and works.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import { loadVSchema } from '@shardgate/vschema';
import { Executor, type ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const VIEWS = {
  paid_orders: "select id, customer_id, total from orders where status = 'paid'",
  big_paid: 'select customer_id, total from paid_orders where total > 50',
  per_status: 'select status, count(*) as n, sum(total) as total from orders group by status',
  no_orders: 'select id, customer_id from orders where 1 = 0',
};
const SCHEMA = [
  'create table customer (id bigint not null primary key, name varchar(64)) engine=innodb',
  'create table orders (id bigint not null primary key, customer_id bigint not null, status varchar(16), total decimal(10,2)) engine=innodb',
];
const VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] }, orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
      views: VIEWS,
    },
    main: { sharded: false, tables: {} },
  },
};
const SEED = [
  "insert into customer (id, name) values (1, 'one'), (2, 'two'), (3, null), (4, 'four'), (5, 'five')",
  "insert into orders (id, customer_id, status, total) values (10, 1, 'paid', 20.50), (11, 1, 'paid', 99.99), (12, 2, 'open', null), (13, 3, 'paid', null), (14, 4, null, 70.00), (15, 5, 'paid', 51.00), (16, 5, 'open', 5.25)",
];

describe('views (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  let session: ExecutorSession;
  const exec = async (sql: string, s = session) => {
    const sink = new CollectingSink();
    await s.execute(sql, sink);
    return sink;
  };
  const ref = async (sql: string) => {
    const [rows] = await reference.query({ sql, rowsAsArray: true });
    return (rows as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v))));
  };
  const sorted = (rows: (string | null)[][]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'views', { schema: SCHEMA });
    const topology = {
      commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s), poolSize: 2 }])),
      main: { '0': { ...db.shard('main'), poolSize: 2 } },
    };
    executor = new Executor({ vschema: loadVSchema(VSCHEMA), planner: new Planner({ vschema: loadVSchema(VSCHEMA) }), topology });
    await executor.start();
    reference = await mysql.createConnection({ ...db.shard('reference'), supportBigNumbers: true, bigNumberStrings: true });
    session = executor.openSession({ user: 't', database: 'commerce' });
    for (const q of SEED) {
      await exec(q);
      await reference.query(q);
    }
    for (const [name, body] of Object.entries(VIEWS)) await reference.query(`create view ${name} as ${body}`);
  });
  afterAll(async () => {
    await session?.close();
    await executor?.close();
    await reference?.end();
    await db?.drop();
  });

  it('answers SELECTs over vschema views as one MariaDB with the same views does, NULLs and empty views included', async () => {
    for (const q of [
      'select * from paid_orders',
      'select id, total from paid_orders where customer_id = 1',
      'select count(*), sum(total), max(total) from big_paid',
      'select p.id, c.name from paid_orders p join customer c on c.id = p.customer_id',
      'select status, n, total from per_status',
      'select * from no_orders',
      'select count(*), max(id) from no_orders',
      'select id from customer where id in (select customer_id from paid_orders)',
      'select id from customer where id not in (select customer_id from no_orders)',
    ]) {
      expect(sorted((await exec(q)).rows), q).toEqual(sorted(await ref(q)));
    }
    // Qualified by its keyspace (the reference's database has another name).
    expect(sorted((await exec('select v.customer_id from commerce.big_paid as v')).rows)).toEqual(sorted(await ref('select v.customer_id from big_paid as v')));
    const named = 'select * from paid_orders where customer_id = 5';
    const [, fields] = await reference.query(named);
    expect((await exec(named)).names).toEqual((fields as { name: string }[]).map((f) => f.name));
  });

  it('refuses CREATE VIEW and ALTER VIEW in a sharded keyspace at once, naming the vschema alternative', async () => {
    await expect(exec('create view v1 as select * from customer')).rejects.toMatchObject({ errno: 1235, sqlState: '42000', message: expect.stringContaining('"views"') });
    await expect(exec('alter view paid_orders as select 1')).rejects.toMatchObject({ errno: 1235 });
    // Nothing reached a shard: no shard has v1.
    for (const s of COMMERCE_SHARDS) {
      const conn = await mysql.createConnection(db.shard(s));
      const [rows] = await conn.query("select count(*) as n from information_schema.views where table_name = 'v1' and table_schema = database()");
      await conn.end();
      expect((rows as { n: number | string }[])[0]!.n, s).toEqual(0);
    }
  });

  it('creates and reads a view in an unsharded keyspace', async () => {
    const main = executor.openSession({ user: 't', database: 'main' });
    try {
      await exec('create table t (id int primary key, v varchar(8))', main);
      await exec("insert into t (id, v) values (1, 'a'), (2, null)", main);
      await exec('create view tv as select id, v from t where id > 0', main);
      expect((await exec('select * from tv order by id', main)).rows).toEqual([['1', 'a'], ['2', null]]);
      await exec('drop view tv', main);
    } finally {
      await main.close();
    }
  });
});
