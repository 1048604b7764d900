/**
 * SQL-level PREPARE / EXECUTE / DEALLOCATE PREPARE through the executor and the real planner,
 * against real MariaDB: each script runs on a gateway session and on one plain MariaDB holding
 * the same rows, and every statement gives the same rows or the same error number there.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import { loadVSchema } from '@shardgate/vschema';
import { Executor, type ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const SCHEMA = ['create table customer (id bigint not null primary key, name varchar(64), score int) engine=innodb'];
const VSCHEMA = {
  keyspaces: {
    commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
  },
};
const SEED = ["insert into customer (id, name, score) values (1, 'one', 10), (2, 'two', null), (5, 'five', 50), (6, null, 60), (7, 'seven', 70)"];

type Outcome = { rows: (string | null)[][] } | { ok: true } | { errno: number };

describe('SQL-level prepared statements (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  const sessions: ExecutorSession[] = [];
  const open = () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    sessions.push(s);
    return s;
  };
  const viaGateway = async (s: ExecutorSession, sql: string): Promise<Outcome> => {
    const sink = new CollectingSink();
    try {
      await s.execute(sql, sink);
    } catch (err) {
      return { errno: (err as { errno: number }).errno };
    }
    return sink.fields ? { rows: sink.rows } : { ok: true };
  };
  const viaReference = async (sql: string): Promise<Outcome> => {
    try {
      const [rows, fields] = await reference.query({ sql, rowsAsArray: true });
      if (!fields) return { ok: true };
      return { rows: (rows as unknown[][]).map((r) => r.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)))) };
    } catch (err) {
      return { errno: (err as { errno: number }).errno };
    }
  };
  const sortRows = (o: Outcome): Outcome => ('rows' in o ? { rows: [...o.rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) } : o);
  /** Runs the script statement by statement on both; row order is compared where the statement orders. */
  const same = async (s: ExecutorSession, script: readonly string[]) => {
    for (const sql of script) {
      const got = await viaGateway(s, sql);
      const want = await viaReference(sql);
      expect(sortRows(got), sql).toEqual(sortRows(want));
    }
  };

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'sqlprep', { schema: SCHEMA });
    const topology = { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s), poolSize: 1 }])) };
    executor = new Executor({ vschema: loadVSchema(VSCHEMA), planner: new Planner({ vschema: loadVSchema(VSCHEMA) }), topology });
    await executor.start();
    reference = await mysql.createConnection({ ...db.shard('reference'), supportBigNumbers: true, bigNumberStrings: true });
    const s = open();
    for (const q of SEED) {
      await viaGateway(s, q);
      await reference.query(q);
    }
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await executor?.close();
    await reference?.end();
    await db?.drop();
  });

  it('prepares once and executes with user variables, literals, NULL and no matching rows', async () => {
    await same(open(), [
      "prepare byId from 'select id, name, score from customer where id = ?'",
      'set @a = 5',
      'execute byId using @a',
      'set @a = 6',
      'execute byId using @a',
      'execute byId using @unset',
      'execute byId using 404',
      'execute BYID using 1',
      "prepare scan from 'select id, score from customer where score > ? or name = ? order by id'",
      "set @min = 55, @n = 'two'",
      'execute scan using @min, @n',
      'execute scan using null, null',
      "prepare agg from 'select count(*), sum(score), max(name) from customer where id in (?, ?, ?)'",
      'execute agg using 1, 2, 6',
      'execute agg using 100, 200, 300',
      "prepare lim from 'select id from customer order by id limit ?'",
      'execute lim using 2',
      'deallocate prepare byId',
      'execute byId using 1',
      'drop prepare scan',
      'execute scan using 1, 2',
      'deallocate prepare scan',
    ]);
  });

  it('writes through EXECUTE, routed by the bound value', async () => {
    const s = open();
    await same(s, [
      "prepare ins from 'insert into customer (id, name, score) values (?, ?, ?)'",
      "set @id = 11, @name = 'eleven'",
      'execute ins using @id, @name, null',
      "prepare upd from 'update customer set score = score + ? where id = ?'",
      'execute upd using 3, @id',
      'execute upd using 3, 5',
      'select id, name, score from customer order by id',
      "prepare del from 'delete from customer where id = ?'",
      'execute del using @id',
      'select count(*) from customer',
    ]);
  });

  it('takes the text from a user variable, and EXECUTE IMMEDIATE', async () => {
    await same(open(), [
      "set @q = 'select name from customer where id = ? or id = ?'",
      'prepare fromVar from @q',
      'execute fromVar using 1, 7',
      "execute immediate 'select count(*) from customer where score is null'",
      "execute immediate 'select name from customer where id = ?' using 2",
      'set @q2 = "select id from customer where name = ? order by id"',
      "execute immediate @q2 using 'seven'",
    ]);
  });

  it('reports the errors MariaDB reports', async () => {
    const s = open();
    await same(s, [
      'execute nothing',
      'deallocate prepare nothing',
      "prepare two from 'select id from customer where id = ? and score = ?'",
      'execute two using 1',
      'execute two using 1, 2, 3',
      'execute two',
      "prepare bad from 'selec 1'",
      "prepare nested from 'prepare x from ''select 1'''",
      "prepare nested from 'execute two using 1, 2'",
      // A failed PREPARE drops the statement of that name, as in MariaDB.
      "prepare two from 'select nonsense from'",
      'execute two using 1, 2',
    ]);
    // Each session keeps its own statements.
    const other = open();
    expect(await viaGateway(s, "prepare mine from 'select 1'")).toEqual({ ok: true });
    expect(await viaGateway(other, 'execute mine')).toEqual({ errno: 1243 });
    expect(await viaGateway(s, 'execute mine')).toEqual({ rows: [['1']] });
  });

  it('refuses with 1235 what the planner refuses, at PREPARE time', async () => {
    const s = open();
    expect(await viaGateway(s, "prepare w from 'select @v := 1'")).toEqual({ errno: 1235 });
    expect(await viaGateway(s, 'execute w')).toEqual({ errno: 1243 });
  });
});
