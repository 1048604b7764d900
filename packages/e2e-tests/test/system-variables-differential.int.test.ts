/**
 * `SET` of session system variables the gateway does not answer itself, through a 2-shard gateway
 * and on one plain MariaDB, each script on fresh connections: unknown, global-only and read-only
 * names fail as MariaDB fails them (they were accepted and ignored), the client connection's
 * timeouts read back as set, `SET last_insert_id` is what LAST_INSERT_ID() returns, and a
 * result-affecting variable reaches the shards. What the gateway cannot reproduce is refused.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKeyspace, type RunningGateway } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SCHEMA = 'create table acct (id bigint primary key, owner varchar(20))';
const ROWS = `insert into acct (id, owner) values ${Array.from({ length: 8 }, (_, i) => `(${i + 1}, 'owner${i + 1}')`).join(', ')}`;

let pair: GatewayAndReference;
let gw: RunningGateway;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { bank: hashKeyspace({ acct: 'id' }) } }, keyspaces: { bank: { shards: ['-80', '80-'], schema: SCHEMA } } }, 'bank', SCHEMA);
  gw = pair.gw;
  await pair.loadBoth([ROWS]);
});

afterAll(() => pair?.stop());

/** Both connections decode numbers alike (the gateway harness's connect turns big numbers into strings). */
const SAME_DECODING = { supportBigNumbers: true, bigNumberStrings: true } as const;

type Answer = { errno: number; sqlState: string } | { rows: unknown; types: unknown };

async function answer(c: mysql.Connection, sql: string): Promise<Answer> {
  try {
    const [rows, fields] = await c.query(sql);
    const types = Array.isArray(fields) ? fields.map((f) => ({ name: f.name, type: f.columnType, flags: f.flags, length: f.columnLength })) : null;
    return { rows, types };
  } catch (err) {
    const e = err as { errno: number; sqlState: string };
    return { errno: e.errno, sqlState: e.sqlState };
  }
}

/** Each statement's answer, on a fresh gateway connection and a fresh MariaDB one. */
async function onBoth(script: readonly string[]): Promise<[Answer[], Answer[]]> {
  const sub = await gw.connect({ database: 'bank', ...SAME_DECODING });
  const ref = await mysql.createConnection({ ...pair.reference.shard('reference').connectionOptions(), ...SAME_DECODING });
  try {
    const a: Answer[] = [];
    const b: Answer[] = [];
    for (const sql of script) {
      a.push(await answer(sub, sql));
      b.push(await answer(ref, sql));
    }
    return [a, b];
  } finally {
    await sub.end();
    await ref.end();
  }
}

describe('SET of session system variables, as one MariaDB answers it', () => {
  it.each([
    ['an unknown name', 'SET foo = 1', 1193],
    ['an unknown name set to DEFAULT', 'SET @@session.foo = DEFAULT', 1193],
    ['an unknown name after a known one', 'SET max_sort_length = 100, foo = 1', 1193],
    ['a global-only variable', 'SET max_connections = 5', 1229],
    ['a read-only variable', "SET SESSION version = 'x'", 1238],
    ['a session-read-only variable', 'SET max_allowed_packet = 1000', 1621],
    ['a string for a number', "SET wait_timeout = 'x'", 1232],
    ['DEFAULT for last_insert_id', 'SET last_insert_id = DEFAULT', 1230],
  ])('fails %s with its error (%s)', async (_what, sql, errno) => {
    const [a, b] = await onBoth([sql]);
    expect(b[0]).toMatchObject({ errno });
    expect(a).toEqual(b);
  });

  it('keeps the client connection timeouts it was given (clamped as MariaDB clamps them)', async () => {
    const [a, b] = await onBoth([
      'SET net_read_timeout = 0, net_write_timeout = 31536001, interactive_timeout = 77',
      'SELECT @@net_read_timeout, @@net_write_timeout, @@session.interactive_timeout, @@net_retry_count',
      'SHOW WARNINGS',
      // What Rails sends on every connection.
      "SET @@SESSION.sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), @@SESSION.sql_auto_is_null = 0, @@SESSION.wait_timeout = 2147483",
      'SELECT @@wait_timeout, @@sql_auto_is_null',
      'SET wait_timeout = DEFAULT',
      'SELECT @@wait_timeout',
      // Out of range under STRICT_ALL_TABLES: refused, where it was clamped above.
      'SET wait_timeout = 0',
      'SELECT @@wait_timeout',
    ]);
    expect(a).toEqual(b);
    expect(b[1]).toMatchObject({ rows: [{ '@@net_read_timeout': '1', '@@net_write_timeout': '31536000', '@@session.interactive_timeout': '77' }] });
  });

  it('makes SET last_insert_id and SET identity what LAST_INSERT_ID() returns', async () => {
    const [a, b] = await onBoth([
      'SET last_insert_id = 42',
      'SELECT last_insert_id(), @@last_insert_id',
      'SELECT last_insert_id() AS l, id FROM acct WHERE id = 3',
      'SET identity = -1',
      'SHOW WARNINGS',
      'SELECT last_insert_id()',
      'SET last_insert_id = 2.5',
      'SELECT last_insert_id()',
    ]);
    expect(a).toEqual(b);
    expect(b[1]).toMatchObject({ rows: [{ 'last_insert_id()': '42' }] });
  });

  it('applies a result-affecting variable on the shards a statement reaches', async () => {
    const [a, b] = await onBoth([
      'SET max_sort_length = 100',
      'SELECT @@max_sort_length',
      'SELECT id, @@max_sort_length AS m FROM acct WHERE id IN (1, 2, 3, 4, 5, 6) ORDER BY id',
      'SET max_sort_length = DEFAULT',
      'SELECT @@max_sort_length',
    ]);
    expect(a).toEqual(b);
    expect(b[1]).toMatchObject({ rows: [{ '@@max_sort_length': '100' }] });
  });
});

describe('wait_timeout', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('closes a client idle past it, as MariaDB does, and rolls back its open transaction', async () => {
    const sub = await gw.connect({ database: 'bank', ...SAME_DECODING });
    const ref = await mysql.createConnection({ ...pair.reference.shard('reference').connectionOptions(), ...SAME_DECODING });
    const closed = (c: mysql.Connection) => new Promise<boolean>((resolve) => c.once('end', () => resolve(true)).once('error', () => resolve(true)));
    for (const c of [sub, ref]) {
      await c.query('SET wait_timeout = 1');
      await c.query('begin');
      await c.query("update acct set owner = 'idle' where id = 1");
    }
    const [subClosed, refClosed] = [closed(sub), closed(ref)];
    await sleep(3500);
    // Both servers dropped the connection without an error packet; the next statement fails.
    for (const c of [sub, ref]) await expect(c.query('select 1')).rejects.toMatchObject({ fatal: true });
    expect(await Promise.race([Promise.all([subClosed, refClosed]), sleep(100).then(() => 'open')])).toEqual([true, true]);
    // The update was never committed, and its row lock is gone (no 1205 after 1 s).
    const other = await gw.connect({ database: 'bank', ...SAME_DECODING });
    try {
      await other.query('SET innodb_lock_wait_timeout = 1');
      expect((await other.query('select owner from acct where id = 1'))[0]).toEqual([{ owner: 'owner1' }]);
      await other.query("update acct set owner = 'owner1' where id = 1");
    } finally {
      await other.end();
    }
  });

  it('keeps a client that sends a statement within it, and reads back as set', async () => {
    const sub = await gw.connect({ database: 'bank', ...SAME_DECODING });
    try {
      expect((await sub.query('SELECT @@wait_timeout AS w'))[0]).toEqual([{ w: '28800' }]);
      await sub.query('SET wait_timeout = 2');
      for (let i = 0; i < 6; i++) {
        await sleep(700);
        expect((await sub.query('SELECT @@wait_timeout AS w'))[0]).toEqual([{ w: '2' }]);
      }
    } finally {
      await sub.end();
    }
  });
});

describe('SET values the gateway cannot reproduce', () => {
  it.each([
    ['SET sql_auto_is_null = 1', 'sql_auto_is_null'],
    ['SET insert_id = 5', 'insert_id'],
    ['SET auto_increment_increment = 2', 'auto_increment_increment'],
    ['SET rand_seed1 = 7', 'rand_seed1'],
    ["SET completion_type = 'CHAIN'", 'completion_type'],
  ])('refuses %s with 1235 and applies nothing of its statement', async (sql, name) => {
    const sub = await gw.connect({ database: 'bank' });
    try {
      await expect(sub.query(`SET max_sort_length = 100, ${sql.slice(4)}`)).rejects.toMatchObject({ errno: 1235, sqlState: '42000', message: expect.stringContaining(name) });
      expect((await sub.query('SELECT @@max_sort_length AS m'))[0]).toEqual([{ m: '1024' }]);
    } finally {
      await sub.end();
    }
  });

  it('accepts their defaults, which drivers and mysqlbinlog send', async () => {
    const [a, b] = await onBoth([
      'SET sql_auto_is_null = 0, insert_id = 0, auto_increment_increment = 1, auto_increment_offset = 1, completion_type = 0',
      'SET @@session.sql_auto_is_null = OFF, insert_id = DEFAULT',
      "SET completion_type = 'no_chain'",
      'SELECT @@sql_auto_is_null, @@auto_increment_increment, @@completion_type',
    ]);
    expect(a).toEqual(b);
  });
});
