/**
 * Durable local shards, through the `shardgate` binary: with dataDir, committed rows survive a
 * clean stop (SIGTERM), a restart, and a SIGKILL of the gateway, whose orphaned mariadbd servers
 * the next start finds and stops; the seed runs on the first start only; no log line holds the
 * users' password.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { mariadbdUnder, startGatewayProcess, type GatewayProcess } from './support/cli-process.js';

const PASSWORD = 'pw-Zq81-never-logged';
const dir = mkdtempSync(path.join(tmpdir(), 'sg-durable-'));
const dataDir = path.join(dir, 'data');
writeFileSync(
  path.join(dir, 'vschema.json'),
  JSON.stringify({ keyspaces: { shop: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { item: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } }),
);
writeFileSync(path.join(dir, 'shop.sql'), 'CREATE TABLE item (id BIGINT PRIMARY KEY, name VARCHAR(40));');
writeFileSync(path.join(dir, 'seed.sql'), "INSERT INTO shop.item (id, name) VALUES (1, 'seed one'), (2, 'seed two');");
const config = path.join(dir, 'shardgate.yaml');
writeFileSync(
  config,
  `listen: { mysql: "127.0.0.1:0", http: null }
users: [ { user: app, password: "${PASSWORD}" } ]
vschema: ./vschema.json
keyspaces:
  shop: { schema: ./shop.sql, shards: { "-80": local, "80-": local } }
seed: ./seed.sql
dataDir: ./data
drainTimeoutMs: 2000
`,
);

let current: GatewayProcess | null = null;
afterAll(async () => {
  if (current && current.child.exitCode === null) {
    current.child.kill('SIGTERM');
    await current.exited;
  }
  for (const pid of mariadbdUnder(dataDir)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function up(): Promise<{ gw: GatewayProcess; conn: mysql.Connection }> {
  const gw = startGatewayProcess(config);
  current = gw;
  const m = await gw.waitFor(/mariadb -h 127\.0\.0\.1 -P (\d+) -u app -p\n/);
  const conn = await mysql.createConnection({ host: '127.0.0.1', port: Number(m[1]), user: 'app', password: PASSWORD, database: 'shop' });
  return { gw, conn };
}

async function names(conn: mysql.Connection): Promise<string[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT name FROM item ORDER BY id');
  return rows.map((r) => String(r.name));
}

describe('dataDir keeps local shards', () => {
  it('first start: creates the datadirs and seeds; rows committed before a SIGKILL are kept', async () => {
    const { gw, conn } = await up();
    expect(await names(conn)).toEqual(['seed one', 'seed two']);
    await conn.query("INSERT INTO item (id, name) VALUES (3, 'before kill'), (300, 'before kill too')");
    await conn.end();
    expect(existsSync(path.join(dataDir, 'shop', '-80', 'data'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'shop', '80-', 'data'))).toBe(true);
    const kept = gw.logs().find((l) => l.msg === 'local shard data is kept in dataDir');
    expect(kept).toMatchObject({ created: 2, reused: 0 });
    expect(gw.output()).not.toContain(PASSWORD);

    gw.child.kill('SIGKILL');
    await gw.exited;
    // The gateway had no chance to stop its servers: they run on, orphaned.
    expect(mariadbdUnder(dataDir).length).toBe(2);
  });

  it('after the SIGKILL: the orphans are stopped, the rows are there, the seed does not run again', async () => {
    const orphans = mariadbdUnder(dataDir);
    const { gw, conn } = await up();
    expect(await names(conn)).toEqual(['seed one', 'seed two', 'before kill', 'before kill too']);
    const stopped = gw.logs().filter((l) => typeof l.msg === 'string' && l.msg.includes('left running'));
    expect(stopped.length).toBe(2);
    for (const pid of orphans) expect(mariadbdUnder(dataDir)).not.toContain(pid);
    expect(gw.logs().find((l) => l.msg === 'local shard data is kept in dataDir')).toMatchObject({ created: 0, reused: 2 });
    await conn.query("INSERT INTO item (id, name) VALUES (4, 'before sigterm')");
    await conn.end();

    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
    expect(mariadbdUnder(dataDir)).toEqual([]);
    expect(gw.logs().some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('after a clean stop: every committed row is there; SIGHUP reloads the users', async () => {
    const { gw, conn } = await up();
    expect(await names(conn)).toEqual(['seed one', 'seed two', 'before kill', 'before sigterm', 'before kill too']);
    const port = conn.config.port!;
    await conn.end();

    // SIGHUP: a user added to the config file can log in, without a restart.
    const login = (user: string, password: string) => mysql.createConnection({ host: '127.0.0.1', port, user, password, database: 'shop' });
    await expect(login('ops', 'second-pw-77')).rejects.toMatchObject({ errno: 1045 });
    writeFileSync(config, readFileSync(config, 'utf8').replace('users: [', 'users: [ { user: ops, password: "second-pw-77" },'));
    gw.child.kill('SIGHUP');
    await gw.waitFor(/"msg":"vschema and users reloaded"/);
    const ops = await login('ops', 'second-pw-77');
    expect(await names(ops)).toHaveLength(5);
    await ops.end();
    gw.child.kill('SIGINT');
    expect((await gw.exited).code).toBe(0);
    expect(gw.output()).not.toContain(PASSWORD);
    expect(gw.output()).not.toContain('second-pw-77');
  });
});
