/**
 * Writes to a reference table (`country`, type reference in the 4-shard commerce keyspace) change
 * every shard's copy, all or nothing, and answer as one plain MariaDB (the cluster's "reference"
 * server) holding the same rows; checkReferenceTables finds a copy that drifted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import { type Executor, type ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { COMMERCE_SHARDS, testCluster, type TestCluster } from './support/test-cluster.js';

describe('reference tables (real MariaDB)', () => {
  let cluster: TestCluster;
  let executor: Executor;
  let session: ExecutorSession;
  let plain: mysql.Connection;
  const shards: mysql.Connection[] = [];
  const exec = async (sql: string) => {
    const sink = new CollectingSink();
    await session.execute(sql, sink);
    return sink;
  };
  const error = (p: Promise<unknown>) => p.then(() => null, (e: { errno: number; sqlState: string }) => ({ errno: e.errno, sqlState: e.sqlState }));
  /** Each shard's copy, as sorted rows. */
  const copies = async () => Promise.all(shards.map(async (c) => (await c.query('select code, name from country order by code'))[0]));
  const plainRows = async () => (await plain.query('select code, name from country order by code'))[0];

  beforeAll(async () => {
    cluster = await testCluster('reftables');
    executor = cluster.executor(new Planner({ vschema: cluster.vschema }));
    await executor.start();
    session = executor.openSession({ user: 't', database: 'commerce' });
    plain = await cluster.direct('reference');
    for (const s of COMMERCE_SHARDS) shards.push(await cluster.direct(s));
  });
  afterAll(async () => {
    await session?.close();
    await cluster?.drop();
  });

  it('INSERT, UPDATE and DELETE change every copy and count as one MariaDB does', async () => {
    const writes = [
      "insert into country (code, name) values ('de', 'Germany'), ('fr', 'France'), ('it', 'Italy'), ('nl', 'Netherlands')",
      "insert into country (code, name) values ('es', 'Spain')",
      "update country set name = concat(name, '!') where code in ('fr', 'es', 'xx')",
      "delete from country where code = 'it'",
      "insert into country (code, name) values ('de', 'Deutschland') on duplicate key update name = values(name)",
    ];
    for (const sql of writes) {
      const [want] = (await plain.query(sql)) as unknown as [{ affectedRows: number; info: string }];
      const got = await exec(sql);
      expect({ affected: BigInt(got.okInfo?.affectedRows ?? -1), info: got.okInfo?.info ?? '' }, sql).toEqual({ affected: BigInt(want.affectedRows), info: want.info ?? '' });
      const expected = await plainRows();
      for (const copy of await copies()) expect(copy, sql).toEqual(expected);
    }
    // Reads go to any one copy: each answer is the same.
    for (let i = 0; i < 12; i++) expect((await exec('select count(*) from country')).rows).toEqual([['4']]);
    const checks = await executor.checkReferenceTables(cluster.vschema);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ keyspace: 'commerce', table: 'country', diverged: false });
    expect(checks[0]!.copies.map((c) => c.rows)).toEqual(['4', '4', '4', '4']);
  });

  it('a write that fails on one copy changes no copy, with the error MariaDB gives', async () => {
    // One copy already holds 'pl' (a write made on the shard directly): the insert fails there.
    await shards[2]!.query("insert into country (code, name) values ('pl', 'Poland')");
    const drifted = await executor.checkReferenceTables(cluster.vschema);
    expect(drifted[0]!.diverged).toBe(true);
    expect(drifted[0]!.copies.map((c) => c.rows)).toEqual(['4', '4', '5', '4']);

    await plain.query("insert into country (code, name) values ('pl', 'Poland')");
    const sql = "insert into country (code, name) values ('be', 'Belgium'), ('pl', 'Polska')";
    const want = await error(plain.query(sql));
    expect(want).toMatchObject({ errno: 1062, sqlState: '23000' });
    expect(await error(exec(sql))).toEqual(want);
    const after = await copies();
    // No copy got 'be': the statement was rolled back on every shard.
    for (const copy of after) expect((copy as { code: string }[]).map((r) => r.code)).not.toContain('be');
    await shards[2]!.query("delete from country where code = 'pl'");
    await plain.query("delete from country where code = 'pl'");
    expect((await executor.checkReferenceTables(cluster.vschema))[0]!.diverged).toBe(false);
    expect(executor.stats().pools.every((p) => p.inUse === 0)).toBe(true);
  });

  it('inside a transaction the copies change together on COMMIT and not at all on ROLLBACK', async () => {
    await exec('begin');
    await exec("insert into country (code, name) values ('pt', 'Portugal')");
    await exec('rollback');
    for (const copy of await copies()) expect((copy as { code: string }[]).map((r) => r.code)).not.toContain('pt');
    await exec('begin');
    await exec("insert into country (code, name) values ('pt', 'Portugal')");
    await exec('commit');
    await plain.query("insert into country (code, name) values ('pt', 'Portugal')");
    const expected = await plainRows();
    for (const copy of await copies()) expect(copy).toEqual(expected);
  });

  it('joins of a sharded table with the reference table answer as one MariaDB', async () => {
    const rows = "insert into customer (id, name) values (1, 'ann'), (2, 'bob'), (3, 'cy'), (4, 'di'), (5, 'ed'), (6, 'flo')";
    await exec(rows);
    await plain.query(rows);
    const ord = "insert into orders (id, customer_id, amount, note) values (1, 1, 10, 'de'), (2, 2, 20, 'fr'), (3, 3, 30, 'pt'), (4, 4, 40, 'xx'), (5, 5, 50, 'es'), (6, 6, 60, 'nl')";
    await exec(ord);
    await plain.query(ord);
    const sql = 'select o.id, c.name from orders o join country c on c.code = o.note order by o.id';
    const [want] = (await plain.query({ sql, rowsAsArray: true })) as unknown as [unknown[][]];
    expect((await exec(sql)).rows).toEqual(want.map((r) => r.map((v) => (v === null ? null : String(v)))));
  });
});
