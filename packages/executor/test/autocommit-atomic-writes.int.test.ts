/**
 * An autocommitted write that reaches several shards takes effect on all of them or on none, as
 * one statement does on one plain MariaDB (the cluster's "reference" server): a multi-row INSERT
 * with a duplicate key on one shard, or a scatter UPDATE that fails on one shard, leaves every
 * shard as it was.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import type { Executor, ExecutorSession } from '../src/index.js';
import { executeCollecting, mysqlErrorOf } from './support/collecting-sink.js';
import { startExecutor } from './support/executor-on-shards.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const SCHEMA = ['create table customer (id bigint not null primary key, email varchar(64), score tinyint, unique key (email)) engine=innodb'];
const VSCHEMA = {
  keyspaces: {
    commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
  },
};
const SEED = "insert into customer (id, email, score) values (1, 'a@x', 10), (2, 'b@x', 20), (3, 'c@x', 120)";

describe('autocommitted writes across shards are all or nothing (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  let session: ExecutorSession;
  const all = 'select id, email, score from customer order by id';
  const rows = async (sql: string) => (await executeCollecting(session, sql)).rows;
  const refRows = async (sql: string) => ((await reference.query({ sql, rowsAsArray: true }))[0] as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v))));

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'atomicwrites', { schema: SCHEMA });
    const topology = { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s) }])) };
    executor = await startExecutor(VSCHEMA, topology);
    reference = await mysql.createConnection({ ...db.shard('reference') });
    session = executor.openSession({ user: 't', database: 'commerce' });
    await executeCollecting(session, SEED);
    await reference.query(SEED);
  });
  afterAll(async () => {
    await session?.close();
    await executor?.close();
    await reference?.end();
    await db?.drop();
  });

  it('a multi-row INSERT with a duplicate key writes no row on any shard', async () => {
    // Rows for many shards; only id 3 collides (its shard's other rows and every other shard's
    // rows must not stay).
    const insert = `insert into customer (id, email, score) values ${Array.from({ length: 12 }, (_, i) => `(${i + 10}, 'n${i}@x', 1)`).join(', ')}, (3, 'dup@x', 1)`;
    const want = await mysqlErrorOf(reference.query(insert));
    expect(want).toMatchObject({ errno: 1062 });
    expect(await mysqlErrorOf(executeCollecting(session, insert))).toMatchObject({ errno: 1062 });
    expect(await rows(all)).toEqual(await refRows(all));
    expect(executor.stats().pools.every((p) => p.inUse === 0)).toBe(true);
  });

  it('a scatter UPDATE that fails on one shard changes no shard', async () => {
    // score + 10 overflows TINYINT only for id 3 (strict mode: error 1264 there).
    const update = 'update customer set score = score + 10 where score > 0';
    const want = await mysqlErrorOf(reference.query(update));
    expect(want).toMatchObject({ errno: 1264 });
    expect(await mysqlErrorOf(executeCollecting(session, update))).toMatchObject({ errno: 1264 });
    expect(await rows(all)).toEqual(await refRows(all));
    // …and one that succeeds changes every shard's rows.
    const ok = 'update customer set score = score - 1 where score > 0';
    await reference.query(ok);
    await executeCollecting(session, ok);
    expect(await rows(all)).toEqual(await refRows(all));
  });
});
