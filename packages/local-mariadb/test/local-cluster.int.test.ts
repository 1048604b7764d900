import { existsSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCluster, MariaDbNotFoundError } from '../src/index.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('LocalCluster', () => {
  let cluster: LocalCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts shards, writes and reads, survives kill + restart, and stop leaves nothing behind', async () => {
    cluster = await LocalCluster.start({
      shards: ['-80', { name: '80-', database: 'other' }],
      schema: 'CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(20)); CREATE TABLE u (id INT);',
    });
    expect(cluster.shards.map((s) => s.name)).toEqual(['-80', '80-']);
    const [a, b] = cluster.shards;
    expect(a.port).not.toBe(b.port);
    expect(b.database).toBe('other');

    for (const shard of cluster.shards) {
      const conn = await mysql.createConnection(shard.connectionOptions());
      await conn.query('INSERT INTO t VALUES (?, ?)', [1, shard.name]);
      const [rows] = await conn.query('SELECT name, DATABASE() AS db, @@character_set_server AS cs FROM t');
      expect(rows).toEqual([{ name: shard.name, db: shard.database, cs: 'utf8mb4' }]);
      await conn.end();
    }

    const oldPid = cluster.shard('80-').pid;
    const port = cluster.shard('80-').port;
    await cluster.kill('80-');
    expect(alive(oldPid)).toBe(false);
    expect(cluster.shard('80-').pid).toBe(-1);
    await expect(mysql.createConnection({ ...cluster.shard('80-').connectionOptions(), connectTimeout: 2000 })).rejects.toThrow();
    // The other shard is unaffected.
    const other = await mysql.createConnection(cluster.shard('-80').connectionOptions());
    await other.query('SELECT 1');
    await other.end();

    await cluster.restart('80-');
    const restarted = cluster.shard('80-');
    expect(restarted.port).toBe(port);
    expect(restarted.pid).not.toBe(oldPid);
    const conn = await mysql.createConnection(restarted.connectionOptions());
    const [rows] = await conn.query('SELECT name FROM t');
    expect(rows).toEqual([{ name: '80-' }]); // committed row survived the SIGKILL
    await conn.end();

    const pids = cluster.shards.map((s) => s.pid);
    const dirs = cluster.shards.map((s) => s.datadir);
    await cluster.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    for (const dir of dirs) expect(existsSync(dir)).toBe(false);
    expect(existsSync(cluster.rootDir)).toBe(false);
  });

  it('rejects unknown shard names and duplicate names with a clear message', async () => {
    await expect(LocalCluster.start({ shards: ['a', 'a'] })).rejects.toThrow(/duplicate shard name/);
  });

  it('explains how to install MariaDB when mariadbd is missing', async () => {
    const err = await LocalCluster.start({ shards: ['a'], mariadbd: '/nonexistent/mariadbd' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MariaDbNotFoundError);
    expect((err as Error).message).toMatch(/apt-get install -y mariadb-server mariadb-client/);
  });
});
