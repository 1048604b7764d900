/**
 * The `shardgate` binary as a user runs it: config errors name the key and exit non-zero; `up`
 * on the demo config serves queries, and Ctrl-C (SIGINT) stops it together with every MariaDB it
 * started, leaving no process and no data directory behind.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from './support/cli-process.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(here, '../dist/cli.js');
const DEMO = path.resolve(here, '../../../examples/demo');

const tmp = mkdtempSync(path.join(tmpdir(), 'sg-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Child processes of `pid` with their command lines (mariadbd servers the gateway started). */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirProc()) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function readdirProc(): string[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('shardgate CLI', () => {
  it('keeps serving after a promise rejection nothing handled: logged at error level and counted', async () => {
    const cluster = await LocalCluster.start({ shards: [{ name: '-', database: 'ks' }], schema: 'CREATE TABLE t (id BIGINT PRIMARY KEY)' });
    // A rejection with no handler, made inside the running gateway process on SIGUSR2 (as a bug in
    // a failed statement's path would make one): Node's default would stop the process.
    const inject = path.join(tmp, 'reject-on-sigusr2.mjs');
    writeFileSync(inject, "process.on('SIGUSR2', () => { Promise.reject(new Error('injected rejection')); });\n");
    writeFileSync(path.join(tmp, 'one.json'), JSON.stringify({ keyspaces: { ks: { sharded: false, tables: { t: {} } } } }));
    const file = path.join(tmp, 'one.yaml');
    writeFileSync(
      file,
      `listen: { mysql: "127.0.0.1:0", http: "127.0.0.1:0" }\nusers: [ { user: app, password: secret } ]\nvschema: ${path.join(tmp, 'one.json')}\nkeyspaces:\n  ks:\n    shards:\n      "-": "mysql://root:@127.0.0.1:${cluster.shard('-').port}/ks"\n`,
    );
    const gw = startGatewayProcess(file, { NODE_OPTIONS: `--import=${inject}` });
    try {
      const port = Number((await gw.waitFor(/mariadb -h 127\.0\.0\.1 -P (\d+) -u app -p\n/))[1]);
      gw.child.kill('SIGUSR2');
      await gw.waitFor(/unhandled promise rejection/);
      const line = gw.logs().find((l) => String(l.msg).startsWith('unhandled promise rejection'));
      expect(line).toMatchObject({ level: 50, err: { message: 'injected rejection' } });
      const status = gw.logs().find((l) => l.msg === 'shardgate started')!.status as string;
      const metrics = await (await fetch(new URL('metrics', status))).text();
      expect(metrics).toMatch(/^shardgate_internal_errors_total 1$/m);
      const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'ks' });
      const [rows] = await conn.query<mysql.RowDataPacket[]>('select count(*) as n from t');
      expect(String(rows[0].n)).toBe('0');
      await conn.end();
      gw.child.kill('SIGINT');
      expect((await gw.exited).code).toBe(0);
    } finally {
      if (gw.child.exitCode === null) gw.child.kill('SIGKILL');
      await cluster.stop();
    }
  });

  it('prints the version of its package with --version', async () => {
    const { version } = JSON.parse(readFileSync(path.resolve(here, '../package.json'), 'utf8')) as { version: string };
    const { stdout } = await run('node', [CLI, '--version']);
    expect(stdout).toBe(`${version}\n`);
  });

  it('prints its usage for --help after a command, and names an unknown option without a stack trace', async () => {
    for (const command of ['up', 'plan']) {
      const { stdout } = await run('node', [CLI, command, '--help']);
      expect(stdout).toMatch(/^usage:/);
    }
    const err = await run('node', [CLI, 'plan', '--vschema', 'x.json', '--bogus', 'select 1']).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toMatch(/^shardgate: Unknown option '--bogus'[^\n]*\nusage:/);
    expect(err?.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a config error with the wrong key and exits non-zero', async () => {
    const file = path.join(tmp, 'bad.yaml');
    writeFileSync(file, 'users: [ { user: app, password: x } ]\nworkload: turbo\nvschema: ./nope.json\nkeyspaces: { ks: { shards: { "-80": local } } }\n');
    const err = await run('node', [CLI, 'up', '--config', file]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/workload: must be 'oltp' or 'olap'/);
  });

  it('reports a missing vschema file by its key', async () => {
    const file = path.join(tmp, 'novschema.yaml');
    writeFileSync(file, 'users: [ { user: app, password: x } ]\nvschema: ./nope.json\nkeyspaces: { ks: { shards: { "0": local } } }\n');
    const err = await run('node', [CLI, 'up', '--config', file]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/vschema: cannot load/);
  });

  it('serves the demo until SIGINT, then leaves no mariadbd and no data dir behind', async () => {
    // The demo config with ephemeral ports, so the test never collides with a running `npm start`.
    // Without dataDir: the throwaway local shards of a gateway that keeps nothing.
    const demo = readFileSync(path.join(DEMO, 'shardgate.yaml'), 'utf8')
      .replace(/listen:.*\n/, 'listen: { mysql: "127.0.0.1:0", http: "127.0.0.1:0" }\n')
      .replace(/dataDir:.*\n/, '')
      .replace(/\.\//g, `${DEMO}/`);
    const file = path.join(tmp, 'demo.yaml');
    writeFileSync(file, demo);
    const gw = startGatewayProcess(file);
    const child = gw.child;
    try {
      const port = Number((await gw.waitFor(/mariadb -h 127\.0\.0\.1 -P (\d+) -u app -p\n/))[1]);
      // The start banner says the data will not outlive the gateway; no line holds the password.
      expect(gw.logs().find((l) => l.level === 40 && String(l.msg).includes('local shards are TEMPORARY'))).toBeDefined();
      expect(gw.logs().find((l) => l.msg === 'shardgate started')).toMatchObject({ localShards: 5, dataDir: null });
      expect(gw.output()).not.toContain('secret');
      const servers = childrenOf(child.pid!).filter((c) => c.cmdline.includes('mariadbd'));
      expect(servers.length).toBe(5);
      const datadirs = servers.map((s) => /--datadir=(\S+)/.exec(s.cmdline)?.[1]).filter((d): d is string => !!d);
      expect(datadirs.length).toBe(5);

      const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret' });
      const [rows] = await conn.query<mysql.RowDataPacket[]>('select count(*) as n from commerce.customer');
      expect(String(rows[0].n)).toBe('8');
      await conn.end();

      child.kill('SIGINT');
      expect((await gw.exited).code).toBe(0);
      expect(gw.logs().map((l) => l.msg)).toEqual(expect.arrayContaining(['stopping: draining client sessions', 'stopped']));
      for (const s of servers) expect(alive(s.pid)).toBe(false);
      for (const d of datadirs) expect(existsSync(d)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
