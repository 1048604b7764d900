/**
 * START TRANSACTION READ ONLY through the executor and the real planner, against real MariaDB:
 * reads work, writes fail with the error one plain MariaDB gives (the cluster's "reference"
 * server), nothing is written, and the next transaction is not read-only.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import type { Executor, ExecutorSession } from '../src/index.js';
import { executeCollecting, mysqlErrorOf } from './support/collecting-sink.js';
import { startExecutor } from './support/executor-on-shards.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const SCHEMA = ['create table customer (id bigint not null primary key, name varchar(64)) engine=innodb'];
const VSCHEMA = {
  keyspaces: {
    commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
  },
};

describe('read-only transactions (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  let session: ExecutorSession;
  const exec = (sql: string) => executeCollecting(session, sql);
  const error = mysqlErrorOf;

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'readonlytx', { schema: SCHEMA });
    const topology = { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s) }])) };
    executor = await startExecutor(VSCHEMA, topology);
    reference = await mysql.createConnection({ ...db.shard('reference') });
    session = executor.openSession({ user: 't', database: 'commerce' });
    await exec("insert into customer (id, name) values (1, 'one'), (2, 'two'), (3, 'three')");
    await reference.query("insert into customer (id, name) values (1, 'one'), (2, 'two'), (3, 'three')");
  });
  afterAll(async () => {
    await session?.close();
    await executor?.close();
    await reference?.end();
    await db?.drop();
  });

  it('reads, refuses writes as MariaDB does, and leaves the next transaction writable', async () => {
    await exec('start transaction read only');
    await reference.query('start transaction read only');
    expect((await exec('select name from customer where id = 2')).rows).toEqual([['two']]);
    expect((await exec('select count(*) from customer')).rows).toEqual([['3']]);
    for (const write of ["insert into customer (id, name) values (4, 'four')", "update customer set name = 'x' where id = 1", 'delete from customer where id in (1, 2, 3)']) {
      const want = await error(reference.query(write));
      expect(want, write).not.toBeNull();
      expect(await error(exec(write)), write).toEqual(want);
    }
    await exec('commit');
    await reference.query('commit');
    expect((await exec('select id, name from customer order by id')).rows).toEqual([['1', 'one'], ['2', 'two'], ['3', 'three']]);

    // A plain transaction afterwards writes (READ ONLY applied to that transaction only).
    await exec('begin');
    await exec("update customer set name = 'uno' where id = 1");
    await exec('commit');
    expect((await exec('select name from customer where id = 1')).rows).toEqual([['uno']]);
    expect(executor.stats().pools.every((p) => p.inUse === 0)).toBe(true);
  });

  it('SET SESSION TRANSACTION READ ONLY refuses autocommitted writes too; READ WRITE overrides it per transaction', async () => {
    const write = "update customer set name = 'dos' where id = 2";
    await exec('set session transaction read only');
    await reference.query('set session transaction read only');
    const want = await error(reference.query(write));
    expect(want).toMatchObject({ errno: 1792, sqlState: '25006' });
    expect(await error(exec(write))).toEqual(want);
    expect((await exec('select name from customer where id = 2')).rows).toEqual([['two']]);
    await exec('start transaction read write');
    await exec(write);
    await exec('commit');
    expect((await exec('select name from customer where id = 2')).rows).toEqual([['dos']]);
    await exec('set session transaction read write');
    await reference.query('set session transaction read write');
    await exec("update customer set name = 'two' where id = 2");
  });

  it('SET TRANSACTION READ ONLY applies to the next transaction only', async () => {
    await exec('set transaction read only');
    await exec('begin');
    expect(await error(exec("update customer set name = 'z' where id = 3"))).toMatchObject({ errno: 1792, sqlState: '25006' });
    await exec('commit');
    await exec('begin');
    await exec("update customer set name = 'tres' where id = 3");
    await exec('commit');
    expect((await exec('select name from customer where id = 3')).rows).toEqual([['tres']]);
    // Not while a transaction is open, as in MariaDB.
    await exec('begin');
    const want = await (async () => {
      await reference.query('begin');
      try {
        return await error(reference.query('set transaction read only'));
      } finally {
        await reference.query('rollback');
      }
    })();
    expect(await error(exec('set transaction read only'))).toEqual(want);
    await exec('rollback');
  });
});
