/**
 * Owned lookup vindexes kept in step by the real Planner + Executor on real MariaDB: a 2-shard
 * sharded keyspace whose `users` table owns a lookup_unique, a consistent_lookup_unique and a
 * (non-unique) lookup vindex, all backed by tables of an unsharded keyspace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { Executor, type ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';

const VSCHEMA = {
  keyspaces: {
    user_ks: {
      sharded: true,
      vindexes: {
        hash: { type: 'hash' },
        email_lkp: { type: 'lookup_unique', params: { table: 'lookup_ks.email_lkp', from: 'email', to: 'keyspace_id' }, owner: 'users' },
        uname_lkp: { type: 'consistent_lookup_unique', params: { table: 'lookup_ks.uname_lkp', from: 'uname', to: 'keyspace_id' }, owner: 'users' },
        city_lkp: { type: 'lookup', params: { table: 'lookup_ks.city_lkp', from: 'city', to: 'keyspace_id' }, owner: 'users' },
      },
      tables: {
        users: {
          column_vindexes: [
            { column: 'id', name: 'hash' },
            { column: 'email', name: 'email_lkp' },
            { column: 'uname', name: 'uname_lkp' },
            { column: 'city', name: 'city_lkp' },
          ],
        },
      },
    },
    lookup_ks: { sharded: false, tables: { email_lkp: {}, uname_lkp: {}, city_lkp: {} } },
  },
};

// Applied on every server; each keyspace only uses its own tables.
const SCHEMA = [
  `create table users (id bigint primary key, email varchar(64), uname varchar(64), city varchar(64)) engine=innodb`,
  `create table email_lkp (email varchar(64) primary key, keyspace_id varbinary(16) not null) engine=innodb`,
  `create table uname_lkp (uname varchar(64) primary key, keyspace_id varbinary(16) not null) engine=innodb`,
  `create table city_lkp (city varchar(64) not null, keyspace_id varbinary(16) not null, primary key (city, keyspace_id)) engine=innodb`,
];

/** The two shards of user_ks, on two servers of the shared cluster; lookup_ks on a third. */
const SERVER_OF: Record<string, string> = { '-80': '-40', '80-': '80-c0' };

describe('lookup vindex upkeep (real Planner, real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let s: ExecutorSession;
  const conns: mysql.Connection[] = [];
  let lookupDb: mysql.Connection;
  const shardConn: Record<string, mysql.Connection> = {};
  const vschema = loadVSchema(VSCHEMA);
  const hash = vschema.keyspace('user_ks')!.vindexes.get('hash') as FunctionalVindex;
  const ksidHex = (id: bigint) => Buffer.from(hash.map(id)!).toString('hex');
  const shardOf = (id: bigint) => new ShardMap(['-80', '80-']).shardFor(hash.map(id)!);
  const other = (shard: string) => (shard === '-80' ? '80-' : '-80');

  const exec = async (sql: string, session: ExecutorSession = s) => {
    const sink = new CollectingSink();
    await session.execute(sql, sink);
    return sink;
  };
  /** A lookup table's rows as [from, hex keyspace id], sorted. */
  const lookupRows = async (table: string): Promise<[string, string][]> => {
    const [rows] = await lookupDb.query<any[]>(`select * from ${table}`);
    return rows.map((r) => [String(Object.values(r)[0]), Buffer.from(r.keyspace_id).toString('hex')] as [string, string]).sort();
  };
  const usersOn = async (shard: string): Promise<string[]> => {
    const [rows] = await shardConn[shard].query<any[]>('select id from users order by id');
    return rows.map((r) => String(r.id));
  };

  beforeAll(async () => {
    const info = inject('shardgateCluster');
    db = await freshDatabase(info, 'exec_lookup', { schema: SCHEMA });
    executor = new Executor({
      vschema,
      planner: new Planner({ vschema }),
      topology: {
        user_ks: Object.fromEntries(Object.entries(SERVER_OF).map(([shard, server]) => [shard, { ...db.shard(server), poolSize: 4 }])),
        lookup_ks: { '0': { ...db.shard('main'), poolSize: 4 } },
      },
    });
    await executor.start();
    s = executor.openSession({ user: 't', database: 'user_ks' });
    const open = async (server: string) => {
      const c = await mysql.createConnection({ ...db.shard(server), supportBigNumbers: true, bigNumberStrings: true });
      conns.push(c);
      return c;
    };
    lookupDb = await open('main');
    for (const [shard, server] of Object.entries(SERVER_OF)) shardConn[shard] = await open(server);
  });
  afterAll(async () => {
    await s?.close();
    await executor?.close();
    await Promise.all(conns.map((c) => c.end()));
    await db?.drop();
  });

  it('INSERT writes one lookup row per vindex, pointing at the row’s keyspace id', async () => {
    const r = await exec(
      "insert into users (id, email, uname, city) values (1, 'a@x', 'ann', 'oslo'), (2, 'b@x', 'bob', 'oslo'), (3, 'c@x', 'cat', 'rome'), (4, 'd@x', 'dan', NULL)",
    );
    expect(r.okInfo?.affectedRows).toBe(4n);
    expect(await lookupRows('email_lkp')).toEqual([
      ['a@x', ksidHex(1n)],
      ['b@x', ksidHex(2n)],
      ['c@x', ksidHex(3n)],
      ['d@x', ksidHex(4n)],
    ]);
    expect(await lookupRows('uname_lkp')).toEqual([
      ['ann', ksidHex(1n)],
      ['bob', ksidHex(2n)],
      ['cat', ksidHex(3n)],
      ['dan', ksidHex(4n)],
    ]);
    // NULL has no lookup row; a non-unique value has one row per owner row.
    expect(await lookupRows('city_lkp')).toEqual(
      [
        ['oslo', ksidHex(1n)],
        ['oslo', ksidHex(2n)],
        ['rome', ksidHex(3n)],
      ].sort() as [string, string][],
    );
    // The test needs rows on both shards.
    expect(new Set([1n, 2n, 3n, 4n].map(shardOf)).size).toBe(2);
  });

  it('a SELECT by a lookup column goes to the one right shard', async () => {
    const home = shardOf(3n);
    // A decoy row with the same email on the other shard, written behind the gateway's back: a
    // scatter would return it too.
    await shardConn[other(home)].query("insert into users values (1003, 'c@x', 'decoy', NULL)");
    try {
      expect((await exec("select id, uname from users where email = 'c@x'")).rows).toEqual([['3', 'cat']]);
      expect((await exec("select id from users where uname = 'cat'")).rows).toEqual([['3']]);
      expect((await exec("select id from users where email = 'nobody@x'")).rows).toEqual([]);
    } finally {
      await shardConn[other(home)].query('delete from users where id = 1003');
    }
  });

  it('DELETE removes the rows and their lookup rows', async () => {
    const r = await exec('delete from users where id = 1');
    expect(r.okInfo?.affectedRows).toBe(1n);
    expect((await lookupRows('email_lkp')).map((x) => x[0])).toEqual(['b@x', 'c@x', 'd@x']);
    expect((await lookupRows('uname_lkp')).map((x) => x[0])).toEqual(['bob', 'cat', 'dan']);
    expect(await lookupRows('city_lkp')).toEqual(
      [
        ['oslo', ksidHex(2n)],
        ['rome', ksidHex(3n)],
      ].sort() as [string, string][],
    );
    expect([...(await usersOn('-80')), ...(await usersOn('80-'))]).not.toContain('1');
    // Routed by a lookup column itself.
    expect((await exec("delete from users where email = 'd@x'")).okInfo?.affectedRows).toBe(1n);
    expect((await lookupRows('uname_lkp')).map((x) => x[0])).toEqual(['bob', 'cat']);
    expect((await exec("select id from users where email = 'd@x'")).rows).toEqual([]);
  });

  it('UPDATE of lookup columns moves their lookup rows', async () => {
    const r = await exec("update users set email = 'b2@x', uname = 'bobby', city = 'rome' where id = 2");
    expect(r.okInfo?.affectedRows).toBe(1n);
    expect(await lookupRows('email_lkp')).toEqual([
      ['b2@x', ksidHex(2n)],
      ['c@x', ksidHex(3n)],
    ]);
    expect(await lookupRows('uname_lkp')).toEqual([
      ['bobby', ksidHex(2n)],
      ['cat', ksidHex(3n)],
    ]);
    expect(await lookupRows('city_lkp')).toEqual(
      [
        ['rome', ksidHex(2n)],
        ['rome', ksidHex(3n)],
      ].sort() as [string, string][],
    );
    expect((await exec("select id, email from users where email = 'b2@x'")).rows).toEqual([['2', 'b2@x']]);
    expect((await exec("select id from users where email = 'b@x'")).rows).toEqual([]);
    // Routed by the column it changes, and an unchanged value (a no-op for the lookup row).
    expect((await exec("update users set uname = 'bob', email = 'b2@x' where uname = 'bobby'")).okInfo?.affectedRows).toBe(1n);
    expect((await lookupRows('uname_lkp')).map((x) => x[0])).toEqual(['bob', 'cat']);
    expect((await exec("select id from users where uname = 'bob'")).rows).toEqual([['2']]);
  });

  it('a duplicate lookup_unique value fails with 1062 and leaves no orphan row anywhere', async () => {
    const before = { email: await lookupRows('email_lkp'), uname: await lookupRows('uname_lkp'), city: await lookupRows('city_lkp') };
    // The email is taken: the statement fails as a whole, in any position of a multi-row insert.
    const dupEmail = exec("insert into users (id, email, uname, city) values (10, 'new@x', 'newbie', 'lima'), (11, 'c@x', 'other', 'lima')");
    await expect(dupEmail).rejects.toMatchObject({ errno: 1062, sqlState: '23000', message: expect.stringContaining('email_lkp') });
    // The lookup rows are fine but the row's primary key is taken on its shard.
    await expect(exec("insert into users (id, email, uname, city) values (3, 'fresh@x', 'fresh', 'lima')")).rejects.toMatchObject({ errno: 1062 });
    // An UPDATE to a taken value.
    await expect(exec("update users set email = 'c@x' where id = 2")).rejects.toMatchObject({ errno: 1062 });
    expect({ email: await lookupRows('email_lkp'), uname: await lookupRows('uname_lkp'), city: await lookupRows('city_lkp') }).toEqual(before);
    expect([...(await usersOn('-80')), ...(await usersOn('80-'))].sort()).toEqual(['2', '3']);
    expect((await exec("select email from users where id = 2")).rows).toEqual([['b2@x']]);
  });

  it('a consistent lookup takes over an orphan lookup row, but not a live one', async () => {
    // An orphan: a lookup row whose owner row does not exist (what a crash between commits leaves).
    await lookupDb.query(`insert into uname_lkp values ('ghost', X'${ksidHex(99n)}')`);
    await exec("insert into users (id, email, uname) values (20, 'g@x', 'ghost')");
    expect((await lookupRows('uname_lkp')).find((x) => x[0] === 'ghost')).toEqual(['ghost', ksidHex(20n)]);
    expect((await exec("select id from users where uname = 'ghost'")).rows).toEqual([['20']]);
    await expect(exec("insert into users (id, email, uname) values (21, 'h@x', 'ghost')")).rejects.toMatchObject({ errno: 1062, message: expect.stringContaining('uname_lkp') });
    expect((await lookupRows('email_lkp')).map((x) => x[0])).not.toContain('h@x');
  });

  it('with autocommit off the lookup rows follow the transaction, also in single transaction mode', async () => {
    const t = executor.openSession({ user: 't', database: 'user_ks' });
    try {
      await exec("set transaction_mode = 'single'", t);
      await exec('set autocommit = 0', t);
      await exec("insert into users (id, email, uname, city) values (30, 'r@x', 'rita', 'kyiv')", t);
      await exec('rollback', t);
      expect((await lookupRows('email_lkp')).map((x) => x[0])).not.toContain('r@x');
      expect((await lookupRows('uname_lkp')).map((x) => x[0])).not.toContain('rita');

      await exec('delete from users where id = 3', t);
      // Not committed yet: the lookup rows are still visible to others.
      expect((await lookupRows('email_lkp')).map((x) => x[0])).toContain('c@x');
      await exec('commit', t);
      expect((await lookupRows('email_lkp')).map((x) => x[0])).not.toContain('c@x');
      expect((await lookupRows('uname_lkp')).map((x) => x[0])).not.toContain('cat');
      expect((await lookupRows('city_lkp')).filter((x) => x[1] === ksidHex(3n))).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
