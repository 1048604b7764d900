/**
 * sysbench's OLTP workloads through a 2-shard keyspace, with prepared statements (the default
 * `--db-ps-mode=auto`): sbtest1 sharded by `id` with a hash vindex and ids from a sequence, as in
 * Vitess's own sysbench setup. sysbench only counts errors, so the statements it issues are also
 * run with mysql2 `execute` and compared with one plain MariaDB holding the same rows.
 *
 * Regression: a prepared scatter SELECT used to desync libmariadb clients (2014 "Commands out of
 * sync"): the prepare reply announced no columns, so sysbench took the SELECT for a statement
 * without rows and never read its result set.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '@shardgate/test-kit';
import { PASSWORD, startGateway, USER, type RunningGateway } from './support/gateway-harness.js';

const run = promisify(execFile);
const TABLE_SIZE = 1000;

/** sysbench's table, sharded by id (hash), its ids from a sequence in the unsharded keyspace. */
const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: { sbtest1_seq: { type: 'sequence' } } },
    sbtest: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { sbtest1: { column_vindexes: [{ column: 'id', name: 'hash' }], auto_increment: { column: 'id', sequence: 'main.sbtest1_seq' } } },
    },
  },
};
const SEQUENCE_DDL = 'CREATE TABLE sbtest1_seq (id INT NOT NULL PRIMARY KEY, next_id BIGINT NOT NULL, cache BIGINT NOT NULL) ENGINE=InnoDB; INSERT INTO sbtest1_seq VALUES (0, 1, 1000)';

let gw: RunningGateway;
let reference: LocalCluster;
let conn: mysql.Connection;
let ref: mysql.Connection;

beforeAll(async () => {
  [gw, reference] = await Promise.all([
    startGateway({ vschema: VSCHEMA, keyspaces: { main: { shards: ['0'], schema: SEQUENCE_DDL }, sbtest: { shards: ['-80', '80-'] } } }),
    LocalCluster.start({ shards: ['reference'], database: 'sbtest' }),
  ]);
  ref = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), supportBigNumbers: true, bigNumberStrings: true });
});

afterAll(async () => {
  await conn?.end().catch(() => undefined);
  await ref?.end().catch(() => undefined);
  await Promise.all([gw?.stop(), reference?.stop()]);
});

function sysbench(test: string, args: string[]): Promise<{ stdout: string }> {
  return run(
    'sysbench',
    [test, '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${gw.port}`, `--mysql-user=${USER}`, `--mysql-password=${PASSWORD}`, '--mysql-db=sbtest', '--tables=1', `--table-size=${TABLE_SIZE}`, ...args],
    { maxBuffer: 16 << 20 },
  );
}

function counts(stdout: string): { queries: number; errors: number; reconnects: number } {
  return {
    queries: Number(/queries:\s+(\d+)/.exec(stdout)?.[1]),
    errors: Number(/ignored errors:\s+(\d+)/.exec(stdout)?.[1]),
    reconnects: Number(/reconnects:\s+(\d+)/.exec(stdout)?.[1]),
  };
}

describe('sysbench through a 2-shard keyspace', () => {
  it('prepares sbtest1 (CREATE TABLE, INSERTs with sequence ids, secondary index)', async () => {
    const { stdout } = await sysbench('oltp_read_write', ['prepare']);
    expect(stdout).toMatch(new RegExp(`Inserting ${TABLE_SIZE} records into 'sbtest1'`));
    conn = await gw.connect({ database: 'sbtest' });
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select count(*) as n, min(id) as lo, max(id) as hi from sbtest1');
    expect(rows.map((r) => [String(r.n), String(r.lo), String(r.hi)])).toEqual([[String(TABLE_SIZE), '1', String(TABLE_SIZE)]]);
    // Both shards hold rows: the ranges below really are scatters.
    for (const shard of ['-80', '80-']) {
      const direct = await gw.connectShard('sbtest', shard);
      const [[{ n }]] = await direct.query<mysql.RowDataPacket[]>('select count(*) as n from sbtest1');
      await direct.end();
      expect(Number(n)).toBeGreaterThan(0);
    }
  });

  // One thread for read_write: two threads deleting and re-inserting the same id may deadlock,
  // which sysbench counts as an ignored error on one MariaDB too.
  for (const [test, threads] of [['oltp_read_only', 2], ['oltp_read_write', 1]] as const) {
    for (const psMode of ['auto', 'disable']) {
      it(`runs ${test} with --db-ps-mode=${psMode}: 0 errors, 0 reconnects`, async () => {
        const { stdout } = await sysbench(test, [`--threads=${threads}`, '--events=100', '--time=20', `--db-ps-mode=${psMode}`, 'run']);
        const c = counts(stdout);
        expect(c.queries).toBeGreaterThan(0);
        expect({ errors: c.errors, reconnects: c.reconnects }).toEqual({ errors: 0, reconnects: 0 });
      });
    }
  }

  it("copies the gateway's rows into the reference MariaDB", async () => {
    const [[create]] = await conn.query<mysql.RowDataPacket[]>('show create table sbtest1');
    await ref.query(String(create['Create Table']));
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select id, k, c, pad from sbtest1 order by id');
    expect(rows.length).toBe(TABLE_SIZE);
    await ref.query('insert into sbtest1 (id, k, c, pad) values ?', [rows.map((r) => [r.id, r.k, r.c, r.pad])]);
  });

  /** The statements of oltp_read_write, with parameters as sysbench binds them. */
  const READS: [string, (string | number)[]][] = [
    ['SELECT c FROM sbtest1 WHERE id=?', [17]],
    ['SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?', [100, 199]],
    ['SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?', [250, 349]],
    ['SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c', [400, 499]],
    ['SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c', [600, 699]],
    ['SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?', [995, 1100]],
    ['SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?', [5000, 6000]],
  ];

  async function bothExecute(sql: string, params: (string | number)[]): Promise<[unknown, unknown]> {
    const [a] = await conn.execute(sql, params);
    const [b] = await ref.execute(sql, params);
    return [a, b];
  }

  it('answers every read of oltp_read_write exactly as one MariaDB, through mysql2 execute', async () => {
    for (const [sql, params] of READS) {
      const [got, want] = await bothExecute(sql, params);
      // ORDER BY c gives the order; the others are compared as sets (no order is promised).
      const norm = (rows: unknown) => (/ORDER BY/.test(sql) ? rows : [...(rows as object[])].map((r) => JSON.stringify(r)).sort());
      expect(norm(got), sql).toEqual(norm(want));
    }
  });

  it('announces at prepare the columns one MariaDB announces (none for BEGIN and the writes)', async () => {
    const statements = [...READS.map(([sql]) => sql), 'BEGIN', 'COMMIT', 'UPDATE sbtest1 SET k=k+1 WHERE id=?', 'DELETE FROM sbtest1 WHERE id=?', 'INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)'];
    const describe = async (c: mysql.Connection, sql: string) => {
      // mysql2/promise wraps the callback API's PreparedStatementInfo, which holds the prepare reply.
      // Not closed: mysql2's execute() reuses the statements prepare() cached, also after a close().
      const stmt = (await c.prepare(sql)) as unknown as { statement: { columns: { name: string }[]; parameters: unknown[] } };
      return { columns: stmt.statement.columns.map((col) => col.name), params: stmt.statement.parameters.length };
    };
    for (const sql of statements) expect(await describe(conn, sql), sql).toEqual(await describe(ref, sql));
  });

  it('applies the writes of oltp_read_write (UPDATE, DELETE, INSERT, in BEGIN/COMMIT) as one MariaDB does', async () => {
    const writes: [string, (string | number)[]][] = [
      ['BEGIN', []],
      ['UPDATE sbtest1 SET k=k+1 WHERE id=?', [42]],
      ['UPDATE sbtest1 SET c=? WHERE id=?', ['11111111111-22222222222-33333333333', 43]],
      ['DELETE FROM sbtest1 WHERE id=?', [44]],
      ['INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)', [44, 4242, 'cc-44', 'pad-44']],
      ['DELETE FROM sbtest1 WHERE id=?', [TABLE_SIZE + 50]],
      ['COMMIT', []],
    ];
    for (const [sql, params] of writes) {
      const [got, want] = (await bothExecute(sql, params)) as [mysql.ResultSetHeader, mysql.ResultSetHeader];
      expect({ affected: got.affectedRows, changed: got.changedRows }, sql).toEqual({ affected: want.affectedRows, changed: want.changedRows });
    }
    const all = 'select id, k, c, pad from sbtest1 order by id';
    const [[got], [want]] = await Promise.all([conn.query(all), ref.query(all)]);
    expect(got).toEqual(want);
  });

  it('cleans up', async () => {
    await sysbench('oltp_read_write', ['cleanup']);
    const err = await conn.query('select 1 from sbtest1').then(
      () => null,
      (e: { errno: number }) => e.errno,
    );
    expect(err).toBe(1146);
  });
});
