/**
 * sql_select_limit through the executor and the real planner, against real MariaDB: a SELECT
 * without a LIMIT of its own returns at most that many rows (after its ORDER BY), across shards,
 * joins and UNIONs; its own LIMIT, a subquery's LIMIT and other statements are not affected; the
 * same statements on one plain MariaDB (the cluster's "reference" server) give the same rows.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import type { Executor, ExecutorSession } from '../src/index.js';
import { executeCollecting } from './support/collecting-sink.js';
import { startExecutor } from './support/executor-on-shards.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const SCHEMA = ['create table customer (id bigint not null primary key, name varchar(64), grp int) engine=innodb'];
const VSCHEMA = {
  keyspaces: {
    commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
  },
};
const ROWS = `insert into customer (id, name, grp) values ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'c${i + 1}', ${i % 4})`).join(', ')}`;

describe('sql_select_limit (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  let session: ExecutorSession;
  const rows = async (sql: string) => (await executeCollecting(session, sql)).rows;
  const refRows = async (sql: string) => ((await reference.query({ sql, rowsAsArray: true }))[0] as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v))));
  const both = async (sql: string) => {
    await executeCollecting(session, sql);
    await reference.query(sql);
  };

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'selectlimit', { schema: SCHEMA });
    const topology = { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s) }])) };
    executor = await startExecutor(VSCHEMA, topology);
    reference = await mysql.createConnection({ ...db.shard('reference'), supportBigNumbers: true, bigNumberStrings: true });
    session = executor.openSession({ user: 't', database: 'commerce' });
    await both(ROWS);
  });
  afterAll(async () => {
    await session?.close();
    await executor?.close();
    await reference?.end();
    await db?.drop();
  });

  it('cuts a SELECT without its own LIMIT after its ORDER BY, as MariaDB does', async () => {
    await both('set sql_select_limit = 3');
    for (const q of [
      'select id, name from customer order by id desc',
      'select grp, count(*) from customer group by grp order by grp',
      'select a.id, b.id from customer a join customer b on b.grp = a.grp where a.id < 6 order by a.id, b.id',
      '(select id from customer where id < 4) union all (select id from customer where id > 18) order by id',
      'select id from (select id from customer where grp = 1 order by id limit 5) t order by id',
      'select id from customer order by id limit 5',
      'select id from customer order by id limit 1, 6',
    ]) {
      expect(await rows(q), q).toEqual(await refRows(q));
    }
    // FOUND_ROWS() counts the rows the client got.
    await rows('select id from customer order by id');
    await reference.query('select id from customer order by id');
    expect(await rows('select found_rows()')).toEqual(await refRows('select found_rows()'));
    expect(await rows('select @@sql_select_limit')).toEqual(await refRows('select @@sql_select_limit'));
  });

  it('leaves other statements alone, and DEFAULT lifts it', async () => {
    await both('set sql_select_limit = 2');
    await both("update customer set name = concat(name, '!') where grp = 2");
    const all = 'select count(*) from customer where name like "%!"';
    expect(await rows(all)).toEqual(await refRows(all));
    await both('set sql_select_limit = 0');
    expect(await rows('select id from customer')).toEqual([]);
    await both('set sql_select_limit = default');
    const q = 'select id from customer order by id';
    expect((await rows(q)).length).toBe(20);
    expect(await rows('select @@sql_select_limit')).toEqual(await refRows('select @@sql_select_limit'));
  });
});
