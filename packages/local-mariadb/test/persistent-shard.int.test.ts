/**
 * Durable shards: a shard in a persistentDir runs with durable InnoDB settings, keeps committed
 * rows across a clean stop and across a SIGKILL of the process that owns it, and the next start
 * stops the orphaned mariadbd it finds there instead of failing on the InnoDB lock. Schema is
 * applied only where tables are missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { DatadirInUseError, LocalCluster } from '../src/index.js';

const child = fileURLToPath(new URL('./fixtures/persistent-child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'sg-persistent-'));
const dir = join(root, 'ks', '-80');
const schemaV1 = 'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))';
const schemaV2 = `${schemaV1}; CREATE TABLE u (id INT PRIMARY KEY)`;

function isGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

async function query(port: number, sql: string): Promise<mysql.RowDataPacket[]> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', database: 'shardgate' });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
    return rows;
  } finally {
    conn.destroy();
  }
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('LocalCluster with a persistentDir', () => {
  let orphanPid = -1;

  it('runs durable, and refuses a datadir whose live owner still runs it', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: proc.stdout }).once('line', resolve));
      const info = JSON.parse(line) as { pid: number; port: number; createdNow: boolean };
      expect(info.createdNow).toBe(true);
      const [settings] = await query(info.port, 'SELECT @@innodb_flush_log_at_trx_commit AS f, @@innodb_doublewrite AS d');
      expect([Number(settings!.f), Number(settings!.d)]).toEqual([1, 1]);
      await query(info.port, "INSERT INTO t VALUES (1, 'committed'), (2, 'also')");

      await expect(LocalCluster.start({ shards: [{ name: 'a', persistentDir: dir }] })).rejects.toBeInstanceOf(DatadirInUseError);
      expect(isGone(info.pid)).toBe(false);

      // The owner dies without a chance to clean up; its mariadbd keeps running, orphaned.
      proc.kill('SIGKILL');
      await exited;
      expect(isGone(info.pid)).toBe(false);
      orphanPid = info.pid;
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
  });

  it('the next start stops the orphan, reuses the rows, and creates only the missing table', async () => {
    const cluster = await LocalCluster.start({ shards: [{ name: 'a', persistentDir: dir, schema: schemaV2 }] });
    try {
      const shard = cluster.shards[0]!;
      expect(shard.orphan.stoppedPid).toBe(orphanPid);
      expect(isGone(orphanPid)).toBe(true);
      expect(shard.createdNow).toBe(false);
      expect(shard.persistent).toBe(true);
      expect(await query(shard.port, 'SELECT id, v FROM t ORDER BY id')).toEqual([
        { id: 1, v: 'committed' },
        { id: 2, v: 'also' },
      ]);
      expect(await query(shard.port, 'SELECT COUNT(*) AS n FROM u')).toEqual([{ n: 0 }]);
      const dbs = await query(shard.port, "SELECT schema_name AS s FROM information_schema.schemata WHERE schema_name LIKE '\\_shardgate%'");
      expect(dbs).toEqual([]);
      await query(shard.port, 'INSERT INTO u VALUES (7)');
    } finally {
      await cluster.stop();
    }
    expect(existsSync(join(dir, 'data'))).toBe(true);
    expect(existsSync(join(dir, 'owner.pid'))).toBe(false);
  });

  it('a clean stop and start keeps every committed row and finds nothing to stop', async () => {
    const cluster = await LocalCluster.start({ shards: [{ name: 'a', persistentDir: dir, schema: schemaV2 }] });
    try {
      const shard = cluster.shards[0]!;
      expect(shard.orphan).toEqual({});
      expect(shard.createdNow).toBe(false);
      expect(await query(shard.port, 'SELECT (SELECT COUNT(*) FROM t) AS t, (SELECT id FROM u) AS u')).toEqual([{ t: 2, u: 7 }]);
    } finally {
      await cluster.stop();
    }
  });
});
