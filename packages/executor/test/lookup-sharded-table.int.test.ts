/**
 * Owned lookup vindexes whose backing tables are themselves sharded (the common Vitess layout:
 * the lookup table lives in the owner's sharded keyspace, sharded by its `from` column). Real
 * Planner + Executor on two real MariaDB shards, each statement also run on one plain MariaDB
 * (the `main` server) whose answers the gateway's must equal.
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
        loose: { type: 'unicode_loose_md5' },
        email_lkp: { type: 'lookup_unique', params: { table: 'email_lkp', from: 'email', to: 'keyspace_id' }, owner: 'users' },
        uname_lkp: { type: 'consistent_lookup_unique', params: { table: 'user_ks.uname_lkp', from: 'uname', to: 'keyspace_id' }, owner: 'users' },
        city_lkp: { type: 'lookup', params: { table: 'city_lkp', from: 'city', to: 'keyspace_id' }, owner: 'users' },
        binary: { type: 'binary' },
        // Lookup tables sharded by their `to` column: fine for a non-unique vindex, refused for a
        // unique one (each shard's unique key would see only its own rows).
        tag_lkp: { type: 'lookup', params: { table: 'tag_lkp', from: 'tag', to: 'keyspace_id' }, owner: 'things' },
        code_lkp: { type: 'lookup_unique', params: { table: 'code_lkp', from: 'code', to: 'keyspace_id' }, owner: 'codes' },
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
        email_lkp: { column_vindexes: [{ column: 'email', name: 'loose' }] },
        uname_lkp: { column_vindexes: [{ column: 'uname', name: 'loose' }] },
        city_lkp: { column_vindexes: [{ column: 'city', name: 'loose' }] },
        things: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'tag', name: 'tag_lkp' }] },
        codes: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'code', name: 'code_lkp' }] },
        tag_lkp: { column_vindexes: [{ column: 'keyspace_id', name: 'binary' }] },
        code_lkp: { column_vindexes: [{ column: 'keyspace_id', name: 'binary' }] },
      },
    },
  },
};

// Applied on every server: the two shards and the reference (`main`).
const SCHEMA = [
  `create table users (id bigint primary key, email varchar(64), uname varchar(64), city varchar(64), unique key (email), unique key (uname)) engine=innodb`,
  `create table email_lkp (email varchar(64) primary key, keyspace_id varbinary(16) not null) engine=innodb`,
  `create table uname_lkp (uname varchar(64) primary key, keyspace_id varbinary(16) not null) engine=innodb`,
  `create table city_lkp (city varchar(64) not null, keyspace_id varbinary(16) not null, primary key (city, keyspace_id)) engine=innodb`,
  `create table things (id bigint primary key, tag varchar(64)) engine=innodb`,
  `create table codes (id bigint primary key, code varchar(64)) engine=innodb`,
  `create table tag_lkp (tag varchar(64) not null, keyspace_id varbinary(16) not null, primary key (tag, keyspace_id)) engine=innodb`,
  `create table code_lkp (code varchar(64) primary key, keyspace_id varbinary(16) not null) engine=innodb`,
];

const SERVER_OF: Record<string, string> = { '-80': '-40', '80-': '80-c0' };
const SHARDS = ['-80', '80-'];

describe('lookup vindexes backed by sharded tables (real Planner, real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let s: ExecutorSession;
  let reference: mysql.Connection;
  const conns: mysql.Connection[] = [];
  const shardConn: Record<string, mysql.Connection> = {};
  const vschema = loadVSchema(VSCHEMA);
  const hash = vschema.keyspace('user_ks')!.vindexes.get('hash') as FunctionalVindex;
  const loose = vschema.keyspace('user_ks')!.vindexes.get('loose') as FunctionalVindex;
  const shardMap = new ShardMap(SHARDS);
  const ksidHex = (id: bigint) => Buffer.from(hash.map(id)!).toString('hex');
  const shardOfId = (id: bigint) => shardMap.shardFor(hash.map(id)!);
  const shardOfText = (v: string) => shardMap.shardFor(loose.map(v)!);
  const other = (shard: string) => (shard === '-80' ? '80-' : '-80');

  const exec = async (sql: string, session: ExecutorSession = s) => {
    const sink = new CollectingSink();
    await session.execute(sql, sink);
    return sink;
  };
  /** The statement through the gateway and on the reference: same rows (sorted), or the same error number. */
  const both = async (sql: string): Promise<(string | null)[][] | { errno: number }> => {
    const [viaGateway, viaReference] = await Promise.all([
      exec(sql).then(
        (r) => (r.fields ? r.rows.map((row) => row.map((v) => (v === null ? null : String(v)))).sort() : []),
        (e: { errno: number }) => ({ errno: e.errno }),
      ),
      reference.query<any[]>({ sql, rowsAsArray: true }).then(
        ([rows]) => (Array.isArray(rows) ? (rows as unknown[][]).map((row) => row.map((v) => (v === null ? null : String(v)))).sort() : []),
        (e: { errno: number }) => ({ errno: e.errno }),
      ),
    ]);
    expect(viaGateway).toEqual(viaReference);
    return viaGateway;
  };
  /**
   * Every row of a lookup table on the shards, as [from, hex keyspace id], sorted; asserts each row
   * sits on the shard its from value maps to.
   */
  const lookupRows = async (table: string): Promise<[string, string][]> => {
    const out: [string, string][] = [];
    for (const shard of SHARDS) {
      const [rows] = await shardConn[shard].query<any[]>(`select * from ${table}`);
      for (const r of rows) {
        const from = String(Object.values(r)[0]);
        expect({ table, from, shard }).toEqual({ table, from, shard: shardOfText(from) });
        out.push([from, Buffer.from(r.keyspace_id).toString('hex')]);
      }
    }
    return out.sort();
  };

  beforeAll(async () => {
    const info = inject('shardgateCluster');
    db = await freshDatabase(info, 'exec_lookup_sharded', { schema: SCHEMA });
    executor = new Executor({
      vschema,
      planner: new Planner({ vschema }),
      topology: { user_ks: Object.fromEntries(Object.entries(SERVER_OF).map(([shard, server]) => [shard, { ...db.shard(server), poolSize: 4 }])) },
    });
    await executor.start();
    s = executor.openSession({ user: 't', database: 'user_ks' });
    const open = async (server: string) => {
      const c = await mysql.createConnection({ ...db.shard(server), supportBigNumbers: true, bigNumberStrings: true });
      conns.push(c);
      return c;
    };
    reference = await open('main');
    for (const [shard, server] of Object.entries(SERVER_OF)) shardConn[shard] = await open(server);
  });
  afterAll(async () => {
    await s?.close();
    await executor?.close();
    await Promise.all(conns.map((c) => c.end()));
    await db?.drop();
  });

  it('INSERT writes each lookup row on the lookup table’s shard for its value', async () => {
    await both("insert into users (id, email, uname, city) values (1, 'a@x', 'ann', 'oslo'), (2, 'b@x', 'bob', 'oslo'), (3, 'c@x', 'cat', 'rome'), (4, 'd@x', 'dan', NULL), (5, 'e@x', 'eve', 'lima')");
    expect(await lookupRows('email_lkp')).toEqual([1n, 2n, 3n, 4n, 5n].map((i) => [`${'abcde'[Number(i) - 1]}@x`, ksidHex(i)]));
    expect((await lookupRows('uname_lkp')).map((r) => r[0])).toEqual(['ann', 'bob', 'cat', 'dan', 'eve']);
    expect(await lookupRows('city_lkp')).toEqual(
      ([['oslo', ksidHex(1n)], ['oslo', ksidHex(2n)], ['rome', ksidHex(3n)], ['lima', ksidHex(5n)]] as [string, string][]).sort(),
    );
    // The test needs lookup rows on both shards, and owner rows away from their lookup rows.
    expect(new Set(['a@x', 'b@x', 'c@x', 'd@x', 'e@x'].map(shardOfText)).size).toBe(2);
    expect([1n, 2n, 3n, 4n, 5n].some((i) => shardOfId(i) !== shardOfText(`${'abcde'[Number(i) - 1]}@x`))).toBe(true);
  });

  it('a SELECT by a lookup column reads the lookup table on its value’s shard only', async () => {
    // A decoy lookup row on the wrong shard, and its owner row: a read that asked every shard of
    // the lookup table would find two rows for one unique value.
    const home = shardOfText('c@x');
    await shardConn[other(home)].query(`insert into email_lkp values ('c@x', X'${ksidHex(1003n)}')`);
    await shardConn[shardOfId(1003n)].query("insert into users values (1003, 'c@x', 'decoy', NULL)");
    try {
      expect(await both("select id, uname from users where email = 'c@x'")).toEqual([['3', 'cat']]);
    } finally {
      await shardConn[other(home)].query("delete from email_lkp where email = 'c@x'");
      await shardConn[shardOfId(1003n)].query('delete from users where id = 1003');
    }
    expect(await both("select id from users where uname = 'CAT'")).toEqual([['3']]);
    expect(await both("select id, email from users where city = 'oslo'")).toEqual([['1', 'a@x'], ['2', 'b@x']]);
    expect(await both("select id from users where email in ('a@x', 'e@x', 'nobody@x')")).toEqual([['1'], ['5']]);
    expect(await both("select id from users where city in ('rome', 'lima')")).toEqual([['3'], ['5']]);
  });

  it('UPDATE moves lookup rows between the lookup table’s shards', async () => {
    // A new value on the other shard of the lookup table than the old one.
    const target = ['b2@x', 'b3@x', 'b4@x', 'b5@x', 'b6@x'].find((v) => shardOfText(v) !== shardOfText('b@x'))!;
    await both(`update users set email = '${target}', city = 'rome' where id = 2`);
    expect((await lookupRows('email_lkp')).find((r) => r[1] === ksidHex(2n))).toEqual([target, ksidHex(2n)]);
    expect((await lookupRows('city_lkp')).filter((r) => r[1] === ksidHex(2n))).toEqual([['rome', ksidHex(2n)]]);
    expect(await both(`select id from users where email = '${target}'`)).toEqual([['2']]);
    expect(await both("select id from users where email = 'b@x'")).toEqual([]);
    expect(await both("select id from users where city = 'rome'")).toEqual([['2'], ['3']]);
    // Routed by the lookup column it changes.
    await both("update users set uname = 'bobby' where uname = 'bob'");
    expect((await lookupRows('uname_lkp')).map((r) => r[0])).toEqual(['ann', 'bobby', 'cat', 'dan', 'eve']);
  });

  it('DELETE removes the lookup rows on every shard they are on', async () => {
    await both("delete from users where city = 'oslo' or id = 4");
    expect((await lookupRows('email_lkp')).map((r) => r[0]).sort()).toEqual(['c@x', 'e@x', (await exec('select email from users where id = 2')).rows[0][0]].sort());
    expect((await lookupRows('uname_lkp')).map((r) => r[0])).toEqual(['bobby', 'cat', 'eve']);
    expect((await lookupRows('city_lkp')).map((r) => r[0])).toEqual(['lima', 'rome', 'rome']);
    expect(await both("select id from users where email = 'a@x'")).toEqual([]);
    expect(await both('select id, email, uname, city from users')).toHaveLength(3);
  });

  it('a duplicate value fails with 1062 as on one MariaDB and leaves no lookup row behind on any shard', async () => {
    const before = { email: await lookupRows('email_lkp'), uname: await lookupRows('uname_lkp'), city: await lookupRows('city_lkp') };
    // Rows whose lookup rows go to both shards; the last one's email is taken.
    const fresh = ['f1@x', 'f2@x', 'f3@x', 'f4@x', 'f5@x', 'f6@x'];
    expect(new Set(fresh.map(shardOfText)).size).toBe(2);
    const values = fresh.map((e, i) => `(${10 + i}, '${e}', 'u${i}', 'c${i}')`).join(', ');
    expect(await both(`insert into users (id, email, uname, city) values ${values}, (20, 'c@x', 'newcat', 'x')`)).toEqual({ errno: 1062 });
    expect(await both("update users set email = 'c@x' where id = 5")).toEqual({ errno: 1062 });
    expect({ email: await lookupRows('email_lkp'), uname: await lookupRows('uname_lkp'), city: await lookupRows('city_lkp') }).toEqual(before);
  });

  it('a consistent lookup takes over an orphan row on its shard, but not a live one', async () => {
    await shardConn[shardOfText('ghost')].query(`insert into uname_lkp values ('ghost', X'${ksidHex(99n)}')`);
    await both("insert into users (id, email, uname) values (30, 'g@x', 'ghost')");
    expect((await lookupRows('uname_lkp')).find((r) => r[0] === 'ghost')).toEqual(['ghost', ksidHex(30n)]);
    expect(await both("select id from users where uname = 'ghost'")).toEqual([['30']]);
    expect(await both("insert into users (id, email, uname) values (31, 'h@x', 'ghost')")).toEqual({ errno: 1062 });
    expect((await lookupRows('email_lkp')).map((r) => r[0])).not.toContain('h@x');
  });

  it('a lookup table sharded by its to column: rows beside their owner for a non-unique vindex, refused (1235) for a unique one', async () => {
    await expect(exec("insert into codes (id, code) values (1, 'c1')")).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('uniqueness could not be checked') });
    for (const shard of SHARDS) {
      expect(Number((await shardConn[shard].query<any[]>('select count(*) as n from codes'))[0][0].n)).toBe(0);
      expect(Number((await shardConn[shard].query<any[]>('select count(*) as n from code_lkp'))[0][0].n)).toBe(0);
    }
    await exec("insert into things (id, tag) values (1, 'red'), (2, 'red'), (3, 'blue')");
    for (const id of [1n, 2n, 3n]) {
      const [rows] = await shardConn[shardOfId(id)].query<any[]>(`select tag from tag_lkp where keyspace_id = X'${ksidHex(id)}'`);
      expect(rows.map((r) => r.tag)).toEqual([id === 3n ? 'blue' : 'red']);
    }
    expect((await exec("select id from things where tag = 'red' order by id")).rows).toEqual([['1'], ['2']]);
    await exec('delete from things where id = 2');
    expect((await exec("select id from things where tag = 'red'")).rows).toEqual([['1']]);
    expect(Number((await shardConn[shardOfId(2n)].query<any[]>(`select count(*) as n from tag_lkp where keyspace_id = X'${ksidHex(2n)}'`))[0][0].n)).toBe(0);
  });

  it('in a transaction the lookup rows on other shards commit and roll back with it, also in single mode', async () => {
    const t = executor.openSession({ user: 't', database: 'user_ks' });
    try {
      await exec("set transaction_mode = 'single'", t);
      await exec('set autocommit = 0', t);
      await exec("insert into users (id, email, uname, city) values (40, 'r@x', 'rita', 'kyiv')", t);
      // The transaction sees its own lookup rows.
      expect((await exec("select id from users where email = 'r@x'", t)).rows).toEqual([['40']]);
      await exec('rollback', t);
      expect((await lookupRows('email_lkp')).map((r) => r[0])).not.toContain('r@x');
      expect((await lookupRows('city_lkp')).map((r) => r[0])).not.toContain('kyiv');
      expect(await both("select id from users where uname = 'rita'")).toEqual([]);

      await exec("insert into users (id, email, uname, city) values (41, 's@x', 'sam', 'kyiv')", t);
      await exec('commit', t);
    } finally {
      await t.close();
    }
    // The reference gets the committed row the plain way.
    await reference.query("insert into users (id, email, uname, city) values (41, 's@x', 'sam', 'kyiv')");
    expect(await both("select id, email, uname, city from users where email = 's@x'")).toEqual([['41', 's@x', 'sam', 'kyiv']]);
    expect(await both("select id from users where uname = 'sam'")).toEqual([['41']]);
    expect((await lookupRows('city_lkp')).filter((r) => r[0] === 'kyiv')).toEqual([['kyiv', ksidHex(41n)]]);
    expect(await both('select id, email, uname, city from users')).toHaveLength(5);
  });
});
