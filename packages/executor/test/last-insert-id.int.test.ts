/**
 * LAST_INSERT_ID(expr) sets the value the session's next LAST_INSERT_ID() returns, as on one plain
 * MariaDB (the cluster's "reference" server): in an UPDATE the shard's OK packet carries it;
 * `SELECT LAST_INSERT_ID(constant)` alone is answered by a shard and kept by the session. With FROM
 * it would set a pooled shard connection's value instead, so the gateway refuses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

describe('LAST_INSERT_ID(expr) (real MariaDB)', () => {
  let cluster: TestCluster;
  let executor: Executor;
  let session: ExecutorSession;
  let plain: mysql.Connection;
  const exec = async (sql: string) => {
    const sink = new CollectingSink();
    await session.execute(sql, sink);
    return sink;
  };

  beforeAll(async () => {
    cluster = await testCluster('lastinsertid');
    executor = cluster.executor(new Planner({ vschema: cluster.vschema }));
    await executor.start();
    session = executor.openSession({ user: 't', database: 'main' });
    plain = await cluster.direct('reference');
  });
  afterAll(async () => {
    await session?.close();
    await cluster?.drop();
  });

  it('an UPDATE with LAST_INSERT_ID(expr) sets the session value, as on MariaDB', async () => {
    const setup = "insert into product (id, title) values (1, 'counter')";
    await exec(setup);
    await plain.query(setup);
    for (const sql of ['update product set id = last_insert_id(id + 10) where id = 1', 'update product set id = last_insert_id(id + 5) where id = 11']) {
      const [ok] = (await plain.query(sql)) as unknown as [{ insertId: number }];
      const got = await exec(sql);
      expect(BigInt(got.okInfo?.lastInsertId ?? -1), sql).toBe(BigInt(ok.insertId));
      const [[want]] = (await plain.query({ sql: 'select last_insert_id()', rowsAsArray: true })) as unknown as [unknown[][]];
      expect((await exec('select last_insert_id()')).rows, sql).toEqual([[String(want![0])]]);
    }
    expect((await exec('select last_insert_id()')).rows).toEqual([['16']]);
  });

  it('a SELECT with LAST_INSERT_ID(expr) where MariaDB evaluates it out of send order is refused clearly and changes nothing', async () => {
    for (const sql of ['select id from product where last_insert_id(8)', 'select last_insert_id(id) from product group by id', 'select last_insert_id(7), count(*) from product']) {
      await expect(exec(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
    expect((await exec('select last_insert_id()')).rows).toEqual([['16']]);
  });

  it('a SELECT with LAST_INSERT_ID(expr) as a column and FROM sets the last row\'s value, as on MariaDB', async () => {
    const sql = 'select last_insert_id(id + 1) from product where id = 16';
    const [rows] = (await plain.query({ sql, rowsAsArray: true })) as unknown as [unknown[][]];
    expect((await exec(sql)).rows).toEqual(rows.map((r) => r.map((c) => String(c))));
    const [[want]] = (await plain.query({ sql: 'select last_insert_id()', rowsAsArray: true })) as unknown as [unknown[][]];
    expect((await exec('select last_insert_id()')).rows).toEqual([[String(want![0])]]);
    expect(String(want![0])).toBe('17');
  });

  it('SELECT LAST_INSERT_ID(constant) alone answers and sets the session value, as on MariaDB', async () => {
    for (const sql of ['select last_insert_id(5)', 'select last_insert_id(NULL)', 'select last_insert_id(-1) as x', "select last_insert_id('12') id", 'select last_insert_id(2.7)', 'select last_insert_id(18446744073709551615)']) {
      const [rows, fields] = (await plain.query({ sql, rowsAsArray: true })) as unknown as [unknown[][], mysql.FieldPacket[]];
      const got = await exec(sql);
      expect(got.rows, sql).toEqual(rows.map((r) => r.map((c) => (c === null ? null : String(c)))));
      expect((got.fields ?? []).map((f) => [f.name, f.columnType]), sql).toEqual(fields.map((f) => [f.name, f.columnType]));
      const [[want]] = (await plain.query({ sql: 'select last_insert_id()', rowsAsArray: true })) as unknown as [unknown[][]];
      expect((await exec('select last_insert_id()')).rows, sql).toEqual([[String(want![0])]]);
    }
  });
});
