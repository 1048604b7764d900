/**
 * Affected rows and the OK packet's info text, differentially against one plain MariaDB (real
 * MariaDB): the same statements run through the executor (rows spread over four shards) and on
 * one table of one server, through a client connection WITHOUT CLIENT_FOUND_ROWS (the `mariadb`
 * CLI) and one WITH it (mysql2's default). The executor's DmlOutcome must give both answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import type { Executor } from '../src/index.js';
import { copyBindVars, QueryContext } from '../src/query-context.js';
import { CollectingReceiver } from '../src/row-flow.js';
import { runPrimitive } from '../src/primitive-runner.js';
import type { Session } from '../src/session.js';
import type { DmlOutcome } from '../src/types.js';
import { CollectingSink } from './support/collecting-sink.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

interface Ok {
  affectedRows: bigint;
  info: string;
}

describe('affected rows and info text match one MariaDB (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let planner: Planner;
  let session: Session;
  /** One plain MariaDB (the `main` server's database), seen by two kinds of client. */
  let plainNoFound: mysql.Connection;
  let plainFound: mysql.Connection;

  /** Runs a DML statement's plan on the executor: its outcome for both kinds of client. */
  const viaExecutor = async (sql: string): Promise<{ noFound: Ok; found: Ok; outcome: DmlOutcome }> => {
    const planned = await planner.plan(sql, { keyspace: 'commerce', params: [] });
    const ctx = new QueryContext(
      session,
      executor.routing,
      { workload: 'oltp', maxMemoryRows: 1000, scatterErrorsAsWarnings: false, divPrecisionIncrement: 4, keyspace: 'commerce' },
      new AbortController().signal,
    );
    const bv = copyBindVars(planned.bindVars);
    bv.__vtdbname = 'commerce';
    const outcome = (await runPrimitive(ctx, planned.plan.instructions, bv, new CollectingReceiver())) as DmlOutcome;
    const found = outcome.foundRows ?? outcome;
    return {
      noFound: { affectedRows: outcome.affectedRows, info: outcome.infoText ?? '' },
      found: { affectedRows: found.affectedRows, info: found.infoText ?? '' },
      outcome,
    };
  };
  const viaPlain = async (c: mysql.Connection, sql: string): Promise<Ok> => {
    const [h] = await c.query<mysql.ResultSetHeader>(sql);
    return { affectedRows: BigInt(h.affectedRows), info: h.info ?? '' };
  };
  /** The statement on the executor and on the plain server (twice: rolled back for one client). */
  const compare = async (sql: string) => {
    await plainFound.query('begin');
    const found = await viaPlain(plainFound, sql);
    await plainFound.query('rollback');
    const noFound = await viaPlain(plainNoFound, sql);
    const got = await viaExecutor(sql);
    expect({ sql, noFound: got.noFound, found: got.found }).toEqual({ sql, noFound, found });
    return got.outcome;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_affected');
    planner = new Planner({ vschema: tc.vschema });
    executor = tc.executor(planner);
    await executor.start();
    session = executor.openSession({ user: 't', database: 'commerce' }) as Session;
    const main = tc.db.shard('main');
    plainNoFound = await mysql.createConnection({ ...main, flags: ['-FOUND_ROWS'] });
    plainFound = await mysql.createConnection({ ...main, flags: ['FOUND_ROWS'] });
    const seed = `insert into customer (id, name, score) values ${Array.from({ length: 12 }, (_, i) => `(${i + 1}, 'n${i + 1}', ${i % 3})`).join(', ')}`;
    await plainNoFound.query(seed);
    const sink = new CollectingSink();
    await session.execute(seed, sink);
    expect(sink.okInfo?.affectedRows).toBe(12n);
  });
  afterAll(async () => {
    await plainNoFound?.end();
    await plainFound?.end();
    await session?.close();
    await tc?.drop();
  });

  it('single-shard UPDATE: matched and changed rows', async () => {
    let o = await compare(`update customer set name = 'x1' where id = 1`);
    expect([o.matchedRows, o.changedRows]).toEqual([1n, 1n]);
    o = await compare(`update customer set name = 'x1' where id = 1`);
    expect([o.matchedRows, o.changedRows]).toEqual([1n, 0n]);
  });

  it('scatter and IN UPDATE: matched and changed summed over the shards', async () => {
    let o = await compare('update customer set name = name where id in (1, 3)');
    expect([o.affectedRows, o.matchedRows, o.changedRows]).toEqual([0n, 2n, 0n]);
    o = await compare('update customer set score = 1 where id < 100');
    expect([o.matchedRows, o.changedRows]).toEqual([12n, 8n]);
    await compare('update customer set score = score + 1 where score > 100');
  });

  it('INSERT … ON DUPLICATE KEY UPDATE: unchanged, changed and new rows, one row and several', async () => {
    await compare(`insert into customer (id, name) values (2, 'n2') on duplicate key update name = values(name)`);
    await compare(`insert into customer (id, name) values (2, 'y2') on duplicate key update name = values(name)`);
    await compare(`insert into customer (id, name) values (20, 'n20') on duplicate key update name = values(name)`);
    // Several rows over several shards: unchanged (4, 5), changed (6, 7), new (21, 22, 23).
    await compare(
      `insert into customer (id, name) values (4, 'n4'), (5, 'n5'), (6, 'z6'), (7, 'z7'), (21, 'a'), (22, 'b'), (23, 'c') on duplicate key update name = values(name)`,
    );
  });

  it('multi-row INSERT, INSERT IGNORE and DELETE', async () => {
    await compare(`insert into customer (id, name) values (30, 'a'), (31, 'b'), (32, 'c')`);
    await compare(`insert ignore into customer (id, name) values (30, 'a'), (33, 'b'), (34, 'c'), (8, 'd')`);
    await compare(`insert into customer (id, name) values (40, 'one row')`);
    await compare('delete from customer where id in (30, 31, 40)');
  });

  it('the session reports changed rows as affected rows (a client without CLIENT_FOUND_ROWS)', async () => {
    const sink = new CollectingSink();
    await session.execute(`update customer set name = 'w' where id in (9, 10, 11, 12)`, sink);
    expect(sink.okInfo?.affectedRows).toBe(4n);
    const again = new CollectingSink();
    await session.execute(`update customer set name = 'w' where id in (9, 10, 11, 12)`, again);
    expect(again.okInfo?.affectedRows).toBe(0n);
  });
});
