/**
 * Shard warnings reach the client, differentially against one plain MariaDB (real MariaDB): each
 * statement runs through the executor (rows spread over four shards) and on the same rows of one
 * server (the cluster's reference server). The OK/EOF packet's warning count, a following
 * `select @@warning_count` and `SHOW WARNINGS` must be what that one MariaDB gives: for a scatter,
 * every shard's warnings, counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import type { Executor } from '../src/index.js';
import type { Session } from '../src/session.js';
import { CollectingSink } from './support/collecting-sink.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

/** What a client learns about a statement's warnings. */
interface Diagnostics {
  /** The count in the statement's own OK or EOF packet. */
  packetCount: number;
  /** `select @@warning_count` right after it. */
  warningCount: number;
  /** `SHOW WARNINGS` right after it: "Level Code Message". */
  list: string[];
}

const SEED = `insert into customer (id, name, balance) values ${Array.from({ length: 12 }, (_, i) => `(${i + 1}, 'n${i + 1}', ${i}.50)`).join(', ')}`;

describe('shard warnings match one MariaDB (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  const sessions: Session[] = [];
  const plains: mysql.Connection[] = [];

  const openSession = (): Session => {
    const s = executor.openSession({ user: 't', database: 'commerce' }) as Session;
    sessions.push(s);
    return s;
  };
  const openPlain = async (): Promise<mysql.Connection> => {
    const c = await mysql.createConnection({ ...tc.db.shard('reference'), dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
    plains.push(c);
    return c;
  };

  const exec = async (session: Session, sql: string): Promise<CollectingSink> => {
    const sink = new CollectingSink();
    await session.execute(sql, sink);
    return sink;
  };
  const line = (r: readonly unknown[]) => `${String(r[0])} ${String(r[1])} ${String(r[2])}`;

  const viaExecutor = async (session: Session, sql: string): Promise<Diagnostics> => {
    const sink = await exec(session, sql);
    const packetCount = (sink.okInfo ?? sink.endInfo)?.warnings ?? 0;
    const count = await exec(session, 'select @@warning_count');
    const shown = await exec(session, 'show warnings');
    expect(shown.names).toEqual(['Level', 'Code', 'Message']);
    return { packetCount, warningCount: Number(count.rows[0][0]), list: shown.rows.map(line) };
  };
  const viaPlain = async (c: mysql.Connection, sql: string): Promise<Diagnostics> => {
    const [r] = await c.query(sql);
    const [[count]] = await c.query<mysql.RowDataPacket[][]>({ sql: 'select @@warning_count', rowsAsArray: true });
    const [shown] = await c.query<mysql.RowDataPacket[][]>({ sql: 'show warnings', rowsAsArray: true });
    const warningCount = Number(count[0]);
    // mysql2 does not give a SELECT's EOF warning count: that packet's count is @@warning_count.
    const packetCount = Array.isArray(r) ? warningCount : (r as mysql.ResultSetHeader).warningStatus;
    return { packetCount, warningCount, list: shown.map(line) };
  };
  /**
   * The statement on both; a scatter's shards report in any order, so lists compare sorted. With
   * `shardRowNumbers`, the "at row N" of a message is left out: each shard numbers the rows IT
   * processed, and which client-visible row that was is known to no one for a scattered UPDATE.
   */
  const compare = async (session: Session, plain: mysql.Connection, sql: string, opts: { shardRowNumbers?: boolean } = {}): Promise<Diagnostics> => {
    const want = await viaPlain(plain, sql);
    const got = await viaExecutor(session, sql);
    const row = (m: string) => (opts.shardRowNumbers ? m.replace(/ at row \d+$/, ' at row ?') : m);
    const sorted = (d: Diagnostics) => ({ ...d, list: d.list.map(row).sort() });
    expect({ sql, ...sorted(got) }).toEqual({ sql, ...sorted(want) });
    return got;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_warnings');
    executor = tc.executor(new Planner({ vschema: tc.vschema }));
    await executor.start();
    const seeder = await openPlain();
    await seeder.query(SEED);
    const sink = await exec(openSession(), SEED);
    expect(sink.okInfo?.affectedRows).toBe(12n);
  });
  afterAll(async () => {
    await Promise.all(plains.map((c) => c.end()));
    await Promise.all(sessions.map((s) => s.close()));
    await tc?.drop();
  });

  it('DML: INSERT IGNORE duplicates (one shard and several) and decimal rounding notes', async () => {
    const [s, plain] = [openSession(), await openPlain()];
    let d = await compare(s, plain, `insert ignore into customer (id, name) values (1, 'dup')`);
    expect(d.list).toEqual([`Warning 1062 Duplicate entry '1' for key 'PRIMARY'`]);
    // Duplicates on several shards, plus a new row: one warning per duplicate, summed.
    d = await compare(s, plain, `insert ignore into customer (id, name) values (2, 'a'), (3, 'b'), (4, 'c'), (5, 'd'), (40, 'new')`);
    expect(d.packetCount).toBe(4);
    d = await compare(s, plain, 'insert into customer (id, name, balance) values (41, "r", 1.005)');
    expect(d.list).toEqual([`Note 1265 Data truncated for column 'balance' at row 1`]);
    await compare(s, plain, 'update customer set balance = 2.555 where id in (1, 2, 3, 4, 5, 6)', { shardRowNumbers: true });
  });

  it('SELECT: warnings of a result set (division by zero, bad casts), one shard and a scatter', async () => {
    const [s, plain] = [openSession(), await openPlain()];
    let d = await compare(s, plain, 'select 1/0');
    expect(d.list).toEqual(['Warning 1365 Division by 0']);
    d = await compare(s, plain, `select cast('abc' as signed)`);
    expect(d.list).toEqual([`Warning 1292 Truncated incorrect INTEGER value: 'abc'`]);
    await compare(s, plain, 'select id, 1/0 from customer where id = 7');
    // Every shard's rows warn: the client gets all of them (12 rows, 12 warnings).
    d = await compare(s, plain, 'select id, cast(name as signed) from customer where id <= 12');
    expect(d.warningCount).toBe(12);
    await compare(s, plain, 'select id, 1/0 from customer where id <= 12 order by id');
  });

  it('a statement without warnings clears them: count 0 and SHOW WARNINGS empty', async () => {
    const [s, plain] = [openSession(), await openPlain()];
    await compare(s, plain, 'select 1/0');
    const d = await compare(s, plain, 'select id, name from customer where id = 1');
    expect(d).toEqual({ packetCount: 0, warningCount: 0, list: [] });
    await compare(s, plain, 'select count(*) from customer');
    await compare(s, plain, `insert ignore into customer (id, name) values (1, 'dup')`);
    await compare(s, plain, `update customer set name = 'x' where id = 1`);
  });

  it('DDL on every shard warns once, as one server', async () => {
    const [s, plain] = [openSession(), await openPlain()];
    const d = await compare(s, plain, 'create table if not exists customer (id bigint primary key)');
    expect(d.list).toEqual([`Note 1050 Table 'customer' already exists`]);
  });

  it("sql_mode='' (reserved connections): a bad decimal value is a warning", async () => {
    const [s, plain] = [openSession(), await openPlain()];
    await exec(s, `set sql_mode = ''`);
    await plain.query(`set sql_mode = ''`);
    const d = await compare(s, plain, `insert into customer (id, name, balance) values (42, 'bad', 'abc')`);
    expect(d.list).toEqual([`Warning 1366 Incorrect decimal value: 'abc' for column \`${tc.db.name}\`.\`customer\`.\`balance\` at row 1`]);
    await compare(s, plain, `update customer set balance = 'xyz' where id in (1, 2, 3, 4, 5)`, { shardRowNumbers: true });
    await compare(s, plain, 'select id, 1/0 from customer where id <= 12');
    await compare(s, plain, 'select id from customer where id = 1');
  });

  it('in a transaction (reserved connections)', async () => {
    const [s, plain] = [openSession(), await openPlain()];
    await exec(s, 'begin');
    await plain.query('begin');
    await compare(s, plain, `insert ignore into customer (id, name) values (6, 'dup'), (7, 'dup'), (43, 'new')`);
    await compare(s, plain, 'select id, 1/0 from customer where id <= 12');
    await compare(s, plain, `select cast('abc' as signed)`);
    await exec(s, 'rollback');
    await plain.query('rollback');
  });

  it('OLAP: streamed results count the warnings that arrive at the end of each stream', async () => {
    const [s, plain] = [openSession(), await openPlain()];
    await exec(s, `set workload = 'olap'`);
    expect(s.mustBuffer).toBe(false);
    let d = await compare(s, plain, 'select id, 1/0 from customer where id <= 12');
    expect(d.packetCount).toBe(12);
    d = await compare(s, plain, 'select id, cast(name as signed) from customer where id = 9');
    expect(d.packetCount).toBe(1);
    await compare(s, plain, 'select id, 1/0 from customer where id <= 12 order by id');
    d = await compare(s, plain, 'select id from customer where id <= 12');
    expect(d.list).toEqual([]);
  });
});
