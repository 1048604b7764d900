/**
 * User variables and bit literals through the executor and the real planner, against real
 * MariaDB: the same statements on one plain MariaDB (the cluster's "reference" server) give the
 * same results, and no user variable set by one session is visible to another (the shard pools
 * hold one connection per shard, so every session shares the same shard connections).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { startExecutor } from './support/executor-on-shards.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const SCHEMA = [
  'create table customer (id bigint not null primary key, name varchar(64)) engine=innodb',
  'create table types_t (id bigint not null primary key, bt bit(8)) engine=innodb',
];
const VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] }, types_t: { column_vindexes: [{ column: 'id', name: 'hash' }] } },
    },
  },
};
const SEED = [
  "insert into customer (id, name) values (1, 'one'), (2, 'two'), (5, 'five'), (6, 'six'), (7, 'seven')",
  "insert into types_t (id, bt) values (1, b'10100101'), (2, b'1'), (3, 0b11000011), (4, b'0')",
];

describe('user variables and bit literals (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let reference: mysql.Connection;
  const sessions: ExecutorSession[] = [];
  const open = () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    sessions.push(s);
    return s;
  };
  const exec = async (s: ExecutorSession, sql: string) => {
    const sink = new CollectingSink();
    await s.execute(sql, sink);
    return sink;
  };
  /** Rows of the reference server as the executor's sink shows them (text, NULL as null). */
  const ref = async (sql: string) => {
    const [rows] = await reference.query({ sql, rowsAsArray: true });
    return (rows as unknown[][]).map((r) => r.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v))));
  };
  const sorted = (rows: (string | null)[][]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'uservars', { schema: SCHEMA });
    const topology = { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s), poolSize: 1 }])) };
    executor = await startExecutor(VSCHEMA, topology);
    reference = await mysql.createConnection({ ...db.shard('reference'), charset: 'UTF8MB4_GENERAL_CI', supportBigNumbers: true, bigNumberStrings: true });
    const s = open();
    for (const q of SEED) {
      await exec(s, q);
      await reference.query(q);
    }
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await executor?.close();
    await reference?.end();
    await db?.drop();
  });

  it('SET then SELECT, WHERE and UPDATE with @x behave as on plain MariaDB', async () => {
    const s = open();
    const statements = ['set @x = 5', "set @N = 'renamed', @neg = -2, @dec = 1.5, @q = 'it''s'", 'set @y = @x'];
    for (const q of statements) {
      await exec(s, q);
      await reference.query(q);
    }
    for (const q of [
      'select @x, @x+1, @y * 2, @X, @neg, @dec, @q, @unset',
      'select * from customer where id = @x',
      'select id from customer where id in (@x, @y, 7) order by id',
      'select id, name from customer where id > @neg and name <> @q order by id',
    ]) {
      expect((await exec(s, q)).rows, q).toEqual(await ref(q));
    }
    // Columns are named by the text, as on MariaDB (the shard sees the value).
    const named = 'select @x, @x+1, @Y as y, concat(@q, 1) from customer where id = 1';
    const [, refFields] = await reference.query(named);
    expect((await exec(s, named)).names).toEqual((refFields as { name: string }[]).map((f) => f.name));
    const upd = 'update customer set name = @n where id = @x';
    expect((await exec(s, upd)).okInfo?.affectedRows).toBe(1n);
    await reference.query(upd);
    const after = 'select id, name from customer order by id';
    expect((await exec(s, after)).rows).toEqual(await ref(after));
    expect((await exec(s, 'select name from customer where id = 5')).rows).toEqual([['renamed']]);
    // An INSERT row reads the variable too (and is routed by its value).
    await exec(s, 'set @id = 11');
    await exec(s, "insert into customer (id, name) values (@id, 'eleven')");
    expect((await exec(s, 'select name from customer where id = 11')).rows).toEqual([['eleven']]);
  });

  it('keeps a DOUBLE user variable whole and computes with it as MariaDB does', async () => {
    const s = open();
    // pi() shows 6 decimals and a FLOAT column its own digits; the variable holds the whole double.
    const statements = ['set @p = pi(), @fl = cast(1.1 as float), @e = 1.5e0, @w = 2e0, @r = round(2/3, 2) * 1e0'];
    for (const q of statements) {
      await exec(s, q);
      await reference.query(q);
    }
    for (const q of ['select @p, @fl, @e, @w, @r', 'select @p + 1, @fl * 2, @e + 1, @w / 3, @r - 0.5, @e + @p', 'select id from customer where id > @p * @e and id < 10 order by id', 'select round(@p, 3), floor(@fl * 10), @w div 1']) {
      expect((await exec(s, q)).rows, q).toEqual(await ref(q));
    }
  });

  it('SELECT … INTO @vars assigns the one row of a statement across shards, as MariaDB does', async () => {
    const s = open();
    const statements = [
      'select max(id), min(name) into @mx, @mn from customer where id < 10',
      'select count(*) from customer where id > 1 and id < 10 into @n',
      'select @mx + @n, @mn',
      "select id into @one from customer where name = 'seven' for update",
      'select @one',
      'select id, name into @a, @b from customer where id < 0',
      'select @a, @b',
    ];
    for (const q of statements) {
      const mine = await exec(s, q);
      const [theirs] = await reference.query({ sql: q, rowsAsArray: true });
      if (Array.isArray(theirs)) expect(mine.rows, q).toEqual(await ref(q));
    }
    // SELECT @a, @b uses no table: the 1329 of the SELECT … INTO before it stays listed, as in MariaDB.
    expect((await exec(s, 'show warnings')).rows).toEqual(await ref('show warnings'));
    // Errors as MariaDB's: several rows, another column count.
    for (const q of ['select id into @x from customer', 'select id, name into @x from customer where id = 1']) {
      const want = await reference.query(q).then(() => null, (e: { errno: number }) => e.errno);
      expect(want, q).not.toBeNull();
      await expect(exec(s, q), q).rejects.toMatchObject({ errno: want });
    }
  });

  it('refuses statements that would assign a user variable on a shard connection', async () => {
    const s = open();
    for (const q of ["select @leak := 'secret'", "select id, @leak := name from customer"]) {
      await expect(exec(s, q), q).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
    // SET @v = (subquery) is the session's own statement: it runs the SELECT and keeps the value.
    await exec(s, 'set @v = (select count(*) from customer where id < 0)');
    expect((await exec(s, 'select @v')).rows).toEqual([['0']]);
  });

  it('keeps each session its own variables (no value reaches a shared shard connection)', async () => {
    const a = open();
    const b = open();
    await exec(a, "set @secret = 'a-only', @id = 1");
    await exec(b, 'set @id = 2');
    expect((await exec(a, 'select @secret, @id')).rows).toEqual([['a-only', '1']]);
    expect((await exec(b, 'select @secret, @id')).rows).toEqual([[null, '2']]);
    expect((await exec(a, 'select name from customer where id = @id')).rows).toEqual([['one']]);
    expect((await exec(b, 'select name from customer where id = @id')).rows).toEqual([['two']]);
    // A fresh session sees nothing, whatever the (single, shared) shard connections ran before.
    const c = open();
    expect((await exec(c, 'select @secret, @id, @leak, @x')).rows).toEqual([[null, null, null, null]]);
    expect((await exec(c, 'select count(*) from customer where name = @secret')).rows).toEqual([['0']]);
  });

  it('compares bit literals with a BIT column as numbers, and INSERT rows store the right bits', async () => {
    const s = open();
    for (const q of [
      "select id from types_t where bt = b'10100101'",
      "select id from types_t where bt = B'1' or bt = 0b11000011 order by id",
      "select id from types_t where bt in (b'0', b'10100101') order by id",
      'select id, bt + 0 from types_t order by id',
    ]) {
      expect((await exec(s, q)).rows, q).toEqual(await ref(q));
    }
    expect((await exec(s, "select id from types_t where bt = b'10100101'")).rows).toEqual([['1']]);
    expect(sorted((await exec(s, 'select id, bt + 0 from types_t')).rows)).toEqual([['1', '165'], ['2', '1'], ['3', '195'], ['4', '0']]);
  });
});
