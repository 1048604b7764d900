/**
 * Transaction isolation levels through the executor and the real planner, against real MariaDB:
 * `SET SESSION TRANSACTION ISOLATION LEVEL` holds for the session's transactions on every shard,
 * `SET TRANSACTION ISOLATION LEVEL` for the next transaction only, and what a transaction sees of
 * another session's commit is what one plain MariaDB (the cluster's "reference" server) shows
 * under the same level. MySQL 8's `transaction_isolation` is MariaDB 10.11's `tx_isolation`.
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
const ROWS = "insert into customer (id, name) values (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')";

describe('transaction isolation levels (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  let referenceOther: mysql.Connection;
  let other: ExecutorSession;
  const sessions: ExecutorSession[] = [];
  const open = () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    sessions.push(s);
    return s;
  };
  const rows = async (s: ExecutorSession, sql: string) => (await executeCollecting(s, sql)).rows;
  const refRows = async (c: mysql.Connection, sql: string) => ((await c.query({ sql, rowsAsArray: true }))[0] as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v))));

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'isolation', { schema: SCHEMA });
    const topology = { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s) }])) };
    executor = await startExecutor(VSCHEMA, topology);
    reference = await mysql.createConnection({ ...db.shard('reference') });
    referenceOther = await mysql.createConnection({ ...db.shard('reference') });
    other = open();
    await executeCollecting(other, ROWS);
    await reference.query(ROWS);
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await executor?.close();
    await reference?.end();
    await referenceOther?.end();
    await db?.drop();
  });

  /**
   * What a transaction's second read of every row shows after another session commits a change
   * between its two reads: the old names under REPEATABLE READ, the new ones under READ COMMITTED.
   * The same steps run through the gateway and on the reference server.
   */
  const secondRead = async (s: ExecutorSession, setup: readonly string[], name: string) => {
    const read = 'select id, name from customer order by id';
    const change = `update customer set name = '${name}' where id in (1, 4)`;
    for (const q of setup) {
      await executeCollecting(s, q);
      await reference.query(q);
    }
    await executeCollecting(s, 'start transaction');
    await reference.query('start transaction');
    expect(await rows(s, read)).toEqual(await refRows(reference, read));
    await executeCollecting(other, change);
    await referenceOther.query(change);
    const got = await rows(s, read);
    expect(got).toEqual(await refRows(reference, read));
    await executeCollecting(s, 'commit');
    await reference.query('commit');
    return got.filter((r) => r[1] === name).length;
  };

  it('SET SESSION TRANSACTION ISOLATION LEVEL holds on every shard for every later transaction', async () => {
    const s = open();
    expect(await secondRead(s, [], 'rr')).toBe(0); // the default: REPEATABLE READ
    expect(await secondRead(s, ['set session transaction isolation level read committed'], 'rc1')).toBe(2);
    expect(await secondRead(s, [], 'rc2')).toBe(2);
    const level = 'select @@tx_isolation, @@session.tx_isolation';
    expect(await rows(s, level)).toEqual(await refRows(reference, level));
    expect(await rows(s, 'select @@transaction_isolation')).toEqual([['READ-COMMITTED']]);
    expect(await secondRead(s, ["set session tx_isolation = 'repeatable-read'"], 'rr2')).toBe(0);
    expect(await rows(s, level)).toEqual(await refRows(reference, level));
  });

  it('SET TRANSACTION ISOLATION LEVEL holds for the next transaction only; transaction_isolation is tx_isolation', async () => {
    const s = open();
    expect(await secondRead(s, ['set transaction isolation level read committed'], 'next1')).toBe(2);
    expect(await secondRead(s, [], 'next2')).toBe(0);
    // MySQL 8's name, which MySQL 8 clients send (MariaDB 10.11 itself answers 1193).
    await executeCollecting(s, "set session transaction_isolation = 'READ-COMMITTED'");
    expect(await rows(s, 'select @@transaction_isolation, @@session.transaction_isolation')).toEqual([['READ-COMMITTED', 'READ-COMMITTED']]);
    expect(await secondRead(s, ["set tx_isolation = 'read-committed'"], 'next3')).toBe(2);
    await executeCollecting(s, 'set session transaction isolation level repeatable read');
    await reference.query('set session transaction isolation level repeatable read');
  });

  it('refuses a bad level and a change inside a transaction as MariaDB does', async () => {
    const s = open();
    const bad = "set session tx_isolation = 'sometimes'";
    const want = await mysqlErrorOf(reference.query(bad));
    expect(want).not.toBeNull();
    // The shard's error, its message prefixed with the shard ("target: commerce.-40: …").
    expect(await mysqlErrorOf(executeCollecting(s, bad))).toMatchObject({ errno: want!.errno, sqlState: want!.sqlState });
    await executeCollecting(s, 'start transaction');
    await reference.query('start transaction');
    const inTx = 'set transaction isolation level serializable';
    const wantInTx = await mysqlErrorOf(reference.query(inTx));
    expect(wantInTx).toMatchObject({ errno: 1568 });
    expect(await mysqlErrorOf(executeCollecting(s, inTx))).toEqual(wantInTx);
    await executeCollecting(s, 'rollback');
    await reference.query('rollback');
    const level = 'select @@tx_isolation';
    expect(await rows(s, level)).toEqual(await refRows(reference, level));
  });

  it('reads @@transaction_read_only from the session, not from a pooled shard connection', async () => {
    const s = open();
    await executeCollecting(s, 'set session transaction read only');
    await reference.query('set session transaction read only');
    const q = 'select @@tx_read_only';
    expect(await rows(s, q)).toEqual(await refRows(reference, q));
    expect(await rows(s, 'select @@transaction_read_only')).toEqual([['1']]);
    await executeCollecting(s, 'set session transaction read write');
    await reference.query('set session transaction read write');
    expect(await rows(s, q)).toEqual(await refRows(reference, q));
  });
});
