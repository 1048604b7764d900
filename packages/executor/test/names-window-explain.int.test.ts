/**
 * With the real planner, against real MariaDB: column names of gateway-computed columns equal
 * those one plain MariaDB gives for the same query (no `count(:v1)`); window functions run when
 * the whole query goes to one shard and are refused otherwise; EXPLAIN of a statement is answered
 * by the shard that holds its rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import { ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { COMMERCE_SHARDS, testCluster, type TestCluster } from './support/test-cluster.js';

describe('column names, window functions and EXPLAIN through the planner (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let s: ExecutorSession;
  let plain: mysql.Connection;
  let shardOf: (id: bigint) => string;
  const exec = async (sql: string) => {
    const sink = new CollectingSink();
    await s.execute(sql, sink);
    return sink;
  };
  // The plain server holds every table in one database.
  const plainNames = async (sql: string) => {
    const [, fields] = await plain.query(sql.replace(/\bmain\./g, ''));
    return (fields as mysql.FieldPacket[]).map((f) => f.name);
  };

  beforeAll(async () => {
    tc = await testCluster('names_window');
    executor = tc.executor(new Planner({ vschema: tc.vschema }));
    await executor.start();
    s = executor.openSession({ user: 't', database: 'commerce' });
    plain = await tc.direct('reference');
    const rows = Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'n${(i % 5) + 1}', ${i + 1}.50)`).join(', ');
    await exec(`insert into customer (id, name, balance) values ${rows}`);
    await plain.query(`insert into customer (id, name, balance) values ${rows}`);
    const map = new ShardMap([...COMMERCE_SHARDS]);
    const hash = tc.vschema.keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
    shardOf = (id) => map.shardFor(hash.map(id)!);
  });
  afterAll(async () => {
    await s?.close();
    await tc?.drop();
  });

  it('names aggregates over literals as MariaDB does, with the values of each execution', async () => {
    const queries = [
      'select count(1) from customer',
      'select sum(1), max(2) from customer',
      "select count(1), sum(2), min('a'), max(3.50), avg(4), count(*), COUNT( customer.id ) from customer",
      "select count(distinct 'x') from customer",
      'select name, count(1), sum(1) * 2 from customer group by name order by name',
      'select count(1) as c, sum(7) total from customer',
      'select name, max(5) from customer group by name having count(1) > 1 order by max(5), name',
      'select id, 1, \'lit\' from customer where id = 3',
      'select c.id, 2, \'two\', p.title from customer c join main.product p on p.id = c.id',
    ];
    for (const q of queries) {
      const r = await exec(q);
      expect(r.fields!.map((f) => f.name), q).toEqual(await plainNames(q));
    }
    // The same plan (cached by its normalized text) with other values gives other names.
    const again = 'select sum(9), max(8) from customer';
    const r = await exec(again);
    expect(r.fields!.map((f) => f.name)).toEqual(['sum(9)', 'max(8)']);
    expect(r.fields!.map((f) => f.name)).toEqual(await plainNames(again));
    expect(r.rows).toEqual([['180', '8']]);
  });

  it('runs a window function when the whole query goes to one shard, and refuses it across shards', async () => {
    const one = await exec('select id, row_number() over (order by id) as rn from customer where id = 7');
    expect(one.rows).toEqual([['7', '1']]);
    expect((await exec('select row_number() over ()')).rows).toEqual([['1']]);
    for (const q of [
      'select id, row_number() over (order by id) from customer',
      'select id, rank() over w from customer where id in (1, 2) window w as (order by id)',
      'select * from (select id, row_number() over (order by id) as rn from customer) t where id = 7',
      'select c.id, row_number() over () from customer c join main.product p on p.id = c.id where c.id = 1',
    ]) {
      await expect(exec(q), q).rejects.toMatchObject({ errno: 1235, sqlState: '42000', message: expect.stringContaining('window function') });
    }
  });

  it('answers EXPLAIN of a single-shard statement from the shard that holds the row', async () => {
    const id = 11n;
    const owner = shardOf(id);
    const other = COMMERCE_SHARDS.find((x) => x !== owner)!;
    const q = `select * from customer where id = ${id}`;
    const r = await exec(`explain ${q}`);
    const [ownerRows, ownerFields] = await (await tc.direct(owner)).query({ sql: `explain ${q}`, rowsAsArray: true });
    const [otherRows] = await (await tc.direct(other)).query({ sql: `explain ${q}`, rowsAsArray: true });
    const text = (rows: unknown) => (rows as unknown[][]).map((row) => row.map((v) => (v === null ? null : String(v))));
    expect(r.fields!.map((f) => f.name)).toEqual((ownerFields as mysql.FieldPacket[]).map((f) => f.name));
    expect(r.rows).toEqual(text(ownerRows));
    // Another shard, which has no such row, explains differently ("Impossible WHERE…").
    expect(r.rows).not.toEqual(text(otherRows));
    // DESCRIBE SELECT, EXPLAIN EXTENDED, FORMAT=JSON, DML and scatter statements work too.
    expect((await exec(`describe ${q}`)).rows).toEqual(text(ownerRows));
    expect((await exec(`explain extended ${q}`)).rows.length).toBe(1);
    expect(JSON.parse((await exec(`explain format=json ${q}`)).rows[0]![0]!)).toHaveProperty('query_block');
    expect((await exec(`explain update customer set name = 'z' where id = ${id}`)).rows.length).toBe(1);
    expect((await exec('explain select count(*) from customer where name = \'n1\'')).rows.length).toBeGreaterThan(0);
    expect((await exec('explain select * from customer where id in (1, 2, 3)')).rows.length).toBe(1);
    // The table-columns forms are untouched.
    expect((await exec('describe customer')).rows.map((x) => x[0])).toContain('balance');
    expect((await exec('explain customer')).rows.map((x) => x[0])).toContain('balance');
    // Several routes: refused with a clear error.
    await expect(exec('explain select c.id from customer c join main.product p on p.id = c.id')).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
  });
});
