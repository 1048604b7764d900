/**
 * A SELECT our parser rejects (nested parenthesized UNIONs) whose tables are all in one unsharded
 * keyspace goes to that keyspace's shard as written: through the executor and the real planner,
 * against real MariaDB, compared with one plain MariaDB (the cluster's "reference" server).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import type { Executor, ExecutorSession } from '../src/index.js';
import { executeCollecting, mysqlErrorOf } from './support/collecting-sink.js';
import { startExecutor } from './support/executor-on-shards.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const SCHEMA = ['create table note (id bigint not null primary key, body varchar(20))', 'create table tag (id bigint not null primary key, label varchar(20))'];
const ROWS = ["insert into note values (1, 'a'), (2, 'b'), (3, 'b')", "insert into tag values (1, 'b'), (4, 'c')"];
const VSCHEMA = { keyspaces: { main: { sharded: false, tables: { note: {}, tag: {} } } } };

describe('SELECTs the parser rejects, on one unsharded keyspace (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  let session: ExecutorSession;

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'unparsedunsharded', { schema: SCHEMA });
    executor = await startExecutor(VSCHEMA, { main: { '0': { ...db.shard(COMMERCE_SHARDS[0]!) } } });
    reference = await mysql.createConnection({ ...db.shard('reference') });
    session = executor.openSession({ user: 't', database: 'main' });
    for (const sql of ROWS) {
      await executeCollecting(session, sql);
      await reference.query(sql);
    }
  });
  afterAll(async () => {
    await session?.close();
    await executor?.close();
    await reference?.end();
    await db?.drop();
  });

  it('answers nested UNIONs as MariaDB does, and MariaDB syntax errors as MariaDB does', async () => {
    for (const sql of [
      '(select id from note union select id from tag) union (select id from tag where id > 1 union select body from note)',
      "(select body from note n where n.id < 3 union all select label from tag) union all (select 'x' from dual union select 'y') order by 1",
    ]) {
      const [want] = await reference.query({ sql, rowsAsArray: true });
      const got = await executeCollecting(session, sql);
      expect(got.rows.map((r) => r.map(String)).sort(), sql).toEqual((want as unknown[][]).map((r) => r.map(String)).sort());
    }
    const bad = '(select id from note union select id from tag) union (select id fro note)';
    const want = await mysqlErrorOf(reference.query(bad));
    expect((await mysqlErrorOf(executeCollecting(session, bad)))?.errno).toBe(want?.errno);
  });
});
