/**
 * Pieces shared by the sysbench scripts: one prepared MariaDB shard, HAProxy in front of it, a
 * gateway process (optionally under --cpu-prof) with an unsharded keyspace on it, and a sysbench
 * oltp_point_select run that returns QPS and errors.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LocalCluster } from '@shardgate/test-kit';

export const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
/** The gateway CLI built from this checkout. */
export const CLI = path.resolve(here, '../dist/cli.js');
export const TABLE_SIZE = 10_000;

/**
 * The node flags a build's `shardgate` bin starts with (its `#!/usr/bin/env -S node …` line), so
 * a bench that starts `node cli.js` runs the gateway as the bin does; none for older builds.
 */
export function nodeFlagsOf(cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0];
  const m = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(first);
  return m ? m[1].split(/\s+/).filter(Boolean) : [];
}
/** USER_HZ: 100 on every Linux we run on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface SysbenchRun {
  port: number;
  user: string;
  password: string;
  db: string;
  threads: number;
  seconds: number;
  /** `disable` = text protocol (COM_QUERY); `auto` = prepared statements (COM_STMT_EXECUTE). */
  psMode?: 'disable' | 'auto';
  /** The sysbench test (default oltp_point_select). */
  test?: string;
}

export interface SysbenchResult {
  qps: number;
  queries: number;
  /** Transactions per second (for oltp_point_select, one query each). */
  tps: number;
  transactions: number;
  errors: number;
}

export async function sysbench(r: SysbenchRun): Promise<SysbenchResult> {
  const { stdout } = await run(
    'sysbench',
    [
      r.test ?? 'oltp_point_select',
      '--mysql-host=127.0.0.1',
      `--mysql-port=${r.port}`,
      `--mysql-user=${r.user}`,
      `--mysql-password=${r.password}`,
      `--mysql-db=${r.db}`,
      '--tables=1',
      `--table-size=${TABLE_SIZE}`,
      `--threads=${r.threads}`,
      `--time=${r.seconds}`,
      `--db-ps-mode=${r.psMode ?? 'disable'}`,
      '--report-interval=0',
      'run',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const m = /queries:\s+(\d+)\s+\(([\d.]+) per sec\.\)/.exec(stdout);
  const t = /transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)/.exec(stdout);
  const e = /ignored errors:\s+(\d+)/.exec(stdout);
  if (!m || !t) throw new Error(`could not read QPS from sysbench output:\n${stdout}`);
  return { qps: Number(m[2]), queries: Number(m[1]), tps: Number(t[2]), transactions: Number(t[1]), errors: e ? Number(e[1]) : 0 };
}

/**
 * CPU time (user, system; µs) a process has used so far, from /proc (Linux). Divided by the
 * queries of a run, it gives the gateway's CPU cost per query, which depends far less on what
 * else the shared cores are doing than QPS does.
 */
export function processCpuMicros(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / CLOCK_TICKS_PER_SECOND;
  return { user: Number(fields[11]) * tick, system: Number(fields[12]) * tick };
}

/**
 * The main thread's time on a CPU and time runnable but waiting for one (ns), from
 * /proc/<pid>/task/<pid>/schedstat: a single-threaded server that every query passes through twice
 * waits for a CPU each time the machine's cores are busy with its clients and backends.
 */
export function mainThreadSchedNs(pid: number): { run: number; wait: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { run: run!, wait: wait! };
}

/** The whole machine's CPU time so far (µs), busy and idle (iowait counted idle), from /proc/stat. */
export function machineCpuMicros(): { busy: number; idle: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const tick = 1e6 / CLOCK_TICKS_PER_SECOND;
  const idle = (fields[3]! + fields[4]!) * tick;
  const busy = fields.reduce((a, b) => a + b, 0) * tick - idle;
  return { busy, idle };
}

/**
 * Minor page faults and context switches (voluntary + involuntary) of every thread of a process so
 * far, from /proc: the kernel-side costs a query can add beyond its system calls.
 */
export function processFaultsAndSwitches(pid: number): { minorFaults: number; switches: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const minorFaults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  let switches = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // the thread exited between the listing and the read
    }
    for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) switches += Number(m[1]);
  }
  return { minorFaults, switches };
}

export function waitFor(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${seen}`)), timeoutMs);
    const onData = (b: Buffer): void => {
      seen += b.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.removeListener('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${seen}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** One MariaDB with the sysbench table prepared. */
export async function startPreparedShard(): Promise<{ cluster: LocalCluster; port: number }> {
  const cluster = await LocalCluster.start({ shards: [{ name: 'direct', database: 'sbtest' }] });
  const port = cluster.shard('direct').port;
  await run('sysbench', ['oltp_point_select', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, '--mysql-user=root', '--mysql-db=sbtest', '--tables=1', `--table-size=${TABLE_SIZE}`, 'prepare']);
  return { cluster, port };
}

export async function startHaproxy(dir: string, shardPort: number): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global\n  maxconn 1024\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend fe\n  bind 127.0.0.1:${port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:${shardPort}\n`,
  );
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((r) => setTimeout(r, 500));
  return { child, port };
}

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  /** SIGINT, then waits for the exit (the gateway stops cleanly, so --cpu-prof writes its file). */
  stop(): Promise<void>;
}

/**
 * A gateway process with one unsharded keyspace `sbtest` on the shard (user sb/sb).
 * `cli` picks the build (for A/B runs against a copy of an older build).
 */
export async function startGateway(opts: { dir: string; name: string; shardPort: number; poolSize: number; cli?: string; nodeArgs?: string[] }): Promise<GatewayProcess> {
  const port = await freePort();
  const vschema = path.join(opts.dir, 'vschema.json');
  writeFileSync(vschema, JSON.stringify({ keyspaces: { sbtest: { sharded: false, tables: { sbtest1: {} } } } }));
  const cfg = path.join(opts.dir, `gw-${opts.name}.yaml`);
  writeFileSync(
    cfg,
    `listen: { mysql: "127.0.0.1:${port}", http: null }\nusers: [ { user: sb, password: sb } ]\nvschema: ./vschema.json\npoolSize: ${opts.poolSize}\nkeyspaces:\n  sbtest:\n    shards: { "0": "mysql://root:@127.0.0.1:${opts.shardPort}/sbtest" }\n`,
  );
  return { ...(await startGatewayProcessFromConfig(cfg, opts)), port };
}

/** `shardgate up --config cfg` as a child process, once it accepts connections. */
export async function startGatewayProcessFromConfig(
  cfg: string,
  opts: { name?: string; cli?: string; nodeArgs?: string[] } = {},
): Promise<Omit<GatewayProcess, 'port'>> {
  const child = spawn('node', [...nodeFlagsOf(opts.cli ?? CLI), ...(opts.nodeArgs ?? []), opts.cli ?? CLI, 'up', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /Connect with/, `shardgate (${opts.name ?? cfg})`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}
