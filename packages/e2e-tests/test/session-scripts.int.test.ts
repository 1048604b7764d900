/**
 * What scripts and dump tools send, through a 2-shard gateway and on one plain MariaDB holding
 * the same rows: executable comments (`/*!40101 … *\/`), savepoints inside a transaction that
 * reaches several shards (including shards that join after the savepoint), `SET @v = expr`,
 * `character_set_results = binary`, and `UNLOCK TABLES`. Then mysqldump itself: a dump taken
 * through the gateway holds every row, and loading it back through the gateway restores them.
 */
import { execFile } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKeyspace, PASSWORD, USER, type RunningGateway } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const run = promisify(execFile);

const SCHEMA = `create table acct (id bigint primary key, owner varchar(20) collate utf8mb4_general_ci, balance decimal(10,2))`;
const ROWS = `insert into acct (id, owner, balance) values ${Array.from({ length: 12 }, (_, i) => `(${i + 1}, 'owner${i + 1}', ${(i + 1) * 10}.50)`).join(', ')}`;

let pair: GatewayAndReference;
let gw: RunningGateway;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { bank: hashKeyspace({ acct: 'id' }) } }, keyspaces: { bank: { shards: ['-80', '80-'], schema: SCHEMA } } }, 'bank', SCHEMA);
  ({ gw, ref, sub } = pair);
  await pair.loadBoth([ROWS]);
});

afterAll(() => pair?.stop());

/** Runs each statement on both servers; returns the last statement's rows (or OK) from each. */
async function both(statements: readonly string[]): Promise<[unknown, unknown]> {
  let a: unknown;
  let b: unknown;
  for (const sql of statements) {
    a = (await sub.query(sql))[0];
    b = (await ref.query(sql))[0];
  }
  return [a, b];
}

const rowsOf = async (c: mysql.Connection, sql: string) => (await c.query(sql))[0];

describe('statements scripts send, as one MariaDB answers them', () => {
  it('runs the SQL inside executable comments, and skips comments for newer versions', async () => {
    // A statement that is only a comment for a version newer than the gateway's 8.0.31, or for
    // MariaDB only (/*M!…*/), is empty, as on MySQL 8.0.31 (MariaDB 10.11, being 101100, runs both).
    await expect(sub.query('/*!99999 SET @saved = 99 */')).rejects.toMatchObject({ errno: 1065 });
    await expect(sub.query("/*M!100100 SET @saved = 'mariadb only' */")).rejects.toMatchObject({ errno: 1065 });
    const [a, b] = await both([
      "/*!40101 SET @saved = 'kept' */",
      'SELECT /*!40001 SQL_NO_CACHE */ @saved AS v, count(*) AS n /*!50000 , 1 AS one */ FROM acct WHERE /*!40000 id > 0 AND */ 1 = 1 /*!99999 AND id < 0 */',
    ]);
    expect(a).toEqual(b);
    expect(a).toEqual([{ v: 'kept', n: '12', one: 1 }]);
    expect(await rowsOf(sub, "select '/*!40101 not a comment */' as s")).toEqual(await rowsOf(ref, "select '/*!40101 not a comment */' as s"));
  });

  it('SAVEPOINT / ROLLBACK TO / RELEASE across shards, with shards joining before and after the savepoint', async () => {
    const script = [
      'begin',
      'update acct set balance = balance + 1 where id = 1',
      'savepoint a',
      'update acct set balance = balance + 100 where id = 1',
      // Rows on other shards: they join the transaction after savepoint a.
      'update acct set balance = balance + 100 where id in (2, 3, 4, 5, 6, 7, 8)',
      'savepoint `b b`',
      'update acct set balance = 0 where id = 9',
      'rollback to savepoint `b b`',
      'update acct set balance = balance + 7 where id = 10',
      'rollback work to a',
      'update acct set balance = balance + 3 where id = 11',
      'release savepoint a',
      'commit',
      'select id, balance from acct order by id',
    ];
    const [a, b] = await both(script);
    expect(a).toEqual(b);
    expect((b as { balance: string }[])[0].balance).toBe('11.50');
  });

  it('ROLLBACK TO an unknown or released savepoint is error 1305, as in MariaDB; SAVEPOINT outside a transaction is OK', async () => {
    for (const c of [sub, ref]) {
      await c.query('savepoint lone');
      await expect(c.query('rollback to savepoint lone')).rejects.toMatchObject({ errno: 1305, sqlState: '42000', message: 'SAVEPOINT lone does not exist' });
      await c.query('begin');
      await c.query('savepoint s1');
      await c.query('release savepoint s1');
      await expect(c.query('rollback to s1')).rejects.toMatchObject({ errno: 1305, sqlState: '42000' });
      await c.query('rollback');
    }
  });

  it('SET @v = expression takes the value and type the expression has', async () => {
    const [a, b] = await both([
      'set @total = (select sum(balance) from acct), @n = (select count(*) from acct where id > 6), @x = 1.5 * 2, @cs = @@character_set_client, @s = concat(upper(\'ab\'), 1)',
      'select concat(@total) total, concat(@n) n, concat(@x) x, @cs cs, @s s',
    ]);
    expect(a).toEqual(b);
    expect(a).toEqual([{ total: '790.00', n: '6', x: '3.0', cs: 'utf8mb4', s: 'AB1' }]);
  });

  it('reads a DECIMAL user variable as it is, and refuses computing with one (MariaDB does that at scale 38)', async () => {
    const [a, b] = await both([
      'set @t = 60.50, @n = 6',
      // (Types: the gateway reports @n as INT where MariaDB says BIGINT, hence concat.)
      'select @t as t, concat(@t) as c, @t = 60.5 as eq, @t in (60.50, 1) as inlist, cast(@t as decimal(10,3)) as d, concat(@n) as n',
    ]);
    expect(a).toEqual(b);
    expect(a).toEqual([{ t: '60.50', c: '60.50', eq: 1, inlist: 1, d: '60.500', n: '6' }]);
    const above = 'select id from acct where balance > @t order by id';
    expect(await rowsOf(sub, above)).toEqual(await rowsOf(ref, above));
    for (const sql of ['select @t * 2', 'select @n + @t', 'select round(@t, 1)', 'set @y = @t / @n', 'select id from acct where balance > @t - 1']) {
      await expect(sub.query(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000', message: expect.stringContaining('scale 38') });
    }
  });

  it('refuses ROW_COUNT(), and FOUND_ROWS() inside a routed statement, which a shard would answer for another client\'s statement', async () => {
    await sub.query('update acct set balance = balance where id = 1');
    for (const sql of ['select row_count()', 'select id, found_rows() from acct where id = 1']) {
      await expect(sub.query(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
  });

  it('character_set_results = binary reports string columns as binary (63), and UNLOCK TABLES answers OK', async () => {
    const columns = async (c: mysql.Connection) => {
      await c.query("set session character_set_results = 'binary'");
      const [rows, fields] = await c.query('select owner, id, \'é\' as lit from acct where id = 3');
      await c.query('set session character_set_results = utf8mb4');
      const [, after] = await c.query('select owner from acct where id = 3');
      return { charsets: fields.map((f) => f.characterSet), rows, after: after.map((f) => f.characterSet) };
    };
    expect(await columns(sub)).toEqual(await columns(ref));
    const [a, b] = await both(['unlock tables']);
    expect(a).toMatchObject({ affectedRows: 0 });
    expect(b).toMatchObject({ affectedRows: 0 });
  });
});

describe('mysqldump through the gateway', () => {
  const args = () => ['-h', '127.0.0.1', '-P', String(gw.port), `-u${USER}`, `-p${PASSWORD}`];

  it('dumps every row with --single-transaction, and the dump loads back through the gateway', async () => {
    const before = await rowsOf(sub, 'select * from acct order by id');
    const { stdout: dump } = await run('mysqldump', [...args(), '--single-transaction', '--complete-insert', '--skip-add-locks', 'bank'], { maxBuffer: 64 << 20 });
    expect(dump).toContain('CREATE TABLE `acct`');
    expect(dump).toMatch(/INSERT INTO `acct` \(`id`, `owner`, `balance`\) VALUES/);
    const dir = await mkdtemp(join(tmpdir(), 'shardgate-dump-'));
    try {
      await writeFile(join(dir, 'bank.sql'), dump);
      // The dump drops and recreates the table on every shard, then inserts each row on its shard.
      await run('bash', ['-c', `mariadb ${args().join(' ')} bank < ${join(dir, 'bank.sql')}`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await rowsOf(sub, 'select * from acct order by id')).toEqual(before);
  });

  it('refuses LOCK TABLES (a default mysqldump) with 1235 that names the options that work', async () => {
    const failed = await run('mysqldump', [...args(), 'bank']).then(
      () => null,
      (e: { stderr: string }) => e.stderr,
    );
    expect(failed).toMatch(/1235.*LOCK TABLES.*--single-transaction/);
  });
});
