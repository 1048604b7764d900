/**
 * transactionTimeoutMs (as Vitess's transaction_timeout): an open transaction idle past it is
 * rolled back on every shard it touched and its connections go back to their pools; the client
 * hears it on its next statement (except ROLLBACK), and nothing of the transaction is committed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

describe('transactionTimeoutMs (real MariaDB)', () => {
  let cluster: TestCluster;
  let executor: Executor;
  let main: mysql.Connection;
  const exec = async (session: ExecutorSession, sql: string) => {
    const sink = new CollectingSink();
    await session.execute(sql, sink);
    return sink;
  };
  const timedOut = async (n: number) => vi.waitFor(() => expect(executor.stats().transactionTimeouts).toBe(n), { timeout: 10_000, interval: 20 });

  beforeAll(async () => {
    cluster = await testCluster('txtimeout');
    executor = cluster.executor(new Planner({ vschema: cluster.vschema }), { transactionTimeoutMs: 200 });
    await executor.start();
    main = await cluster.direct('main');
  });
  afterAll(async () => {
    await cluster?.drop();
  });

  it('rolls back an idle transaction, frees its connections, and tells the client once', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await exec(s, 'begin');
    await exec(s, "insert into main.product (id, title) values (1, 'lost')");
    await exec(s, "insert into customer (id, name) values (7, 'lost too')");
    await timedOut(1);
    expect(executor.stats().transactions).toBe(0);
    await vi.waitFor(() => expect(executor.stats().pools.every((p) => p.inUse === 0)).toBe(true), { timeout: 5_000, interval: 20 });
    const [rows] = (await main.query('select count(*) n from product')) as unknown as [{ n: number }[]];
    expect(Number(rows[0]!.n)).toBe(0);
    // The next statement, whatever it is, fails with the reason; nothing was committed.
    await expect(exec(s, 'commit')).rejects.toMatchObject({ errno: 1317, sqlState: '70100', message: expect.stringContaining('transactionTimeoutMs') });
    expect((await exec(s, 'select count(*) from customer where id = 7')).rows).toEqual([['0']]);
    expect((await exec(s, 'select count(*) from main.product')).rows).toEqual([['0']]);
    await s.close();
  });

  it('answers ROLLBACK after the timeout normally, and keeps busy transactions', async () => {
    const s = executor.openSession({ user: 't', database: 'main' });
    await exec(s, 'begin');
    await exec(s, "insert into product (id, title) values (2, 'x')");
    await timedOut(2);
    await exec(s, 'rollback');
    expect((await exec(s, 'select count(*) from product')).rows).toEqual([['0']]);
    // A transaction that keeps working commits as usual.
    await exec(s, 'begin');
    await exec(s, "insert into product (id, title) values (3, 'kept')");
    await exec(s, 'commit');
    expect((await exec(s, 'select title from product where id = 3')).rows).toEqual([['kept']]);
    // autocommit = 0 opens a transaction with the first statement: it times out too.
    await exec(s, 'set autocommit = 0');
    await exec(s, "insert into product (id, title) values (4, 'idle')");
    await timedOut(3);
    await expect(exec(s, 'select 1')).rejects.toMatchObject({ errno: 1317 });
    expect((await exec(s, 'select count(*) from product where id = 4')).rows).toEqual([['0']]);
    await exec(s, 'rollback');
    await s.close();
  });
});
