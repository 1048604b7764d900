/**
 * Instructions per query of a process under valgrind's callgrind, which load does not change: the
 * process (a gateway build, or the plain Node relay bench/tcp-relay.mjs) runs under callgrind and
 * is driven from the bench process over loopback. After a warm-up (JIT, plan cache, pools) the
 * counters are zeroed (`callgrind_control -z`), the queries run, and the counters are dumped
 * (`callgrind_control -d`): instructions of every thread of the process (JIT code, V8 builtins and
 * runtime, GC, libuv, libc; not the kernel) divided by the queries.
 *
 * Shared by bench/callgrind-point-select.ts (one unsharded MariaDB) and
 * bench/callgrind-statement.ts (any SQL against a 4-shard cluster). With KEEP=<dir> the dumps are
 * kept for `callgrind_annotate`; with PERF_MAP=1 node also writes /tmp/perf-<pid>.map
 * (--perf-basic-prof), kept beside them, which names the JIT code callgrind shows as `???`
 * (bench/callgrind-breakdown.ts reads both).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ShardClient, type QueryReceiver } from '@shardgate/mysql-protocol';
import { nodeFlagsOf, waitFor } from './sysbench-harness.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

/** One client connection of the driver: `next()` runs one query and settles when its answer is read. */
export interface QueryDriver {
  next(): Promise<void>;
  close(): void;
}

export interface StartedTarget {
  /** The command to run under valgrind, the port it listens on once `ready` shows on its output. */
  argv: string[];
  port: number;
  ready: RegExp;
  user: string;
  password: string;
}

export interface CallgrindTarget {
  name: string;
  /** Writes what the process needs into `dir` (its cwd) and says how to start it. */
  start(dir: string): StartedTarget;
}

export interface CallgrindOptions {
  /** Opens one driver connection to the started target. */
  connect(port: number, user: string, password: string): Promise<QueryDriver>;
  clients: number;
  warmup: number;
  queries: number;
  /** Names the kept dumps (`callgrind.<target>.<label>.<thread>`). */
  label: string;
  /** Directory to keep the dumps (and the perf map) in, or undefined. */
  keep?: string;
  perfMap: boolean;
  /** How long the idle process is measured, to take its timers out. */
  idleMs: number;
}

export interface InstructionCount {
  /** Instructions per query, all threads and the main thread, less what the process does idle. */
  all: number;
  main: number;
  /** The main thread's instructions in I/O callbacks per query (ioCallbacksOf), nothing taken out. */
  io: number;
  /** What the idle process runs per second (timers: the event-loop delay monitor, health pings). */
  idlePerSecond: number;
}

/** The plain Node relay (bench/tcp-relay.mjs) from `port` to `shardPort`: the floor a proxy's instructions compare with. */
/**
 * A text-protocol driver on the protocol package's shard client (the lightest client, so its own
 * work stays small beside the target's): each `next()` sends `sql()` and waits for its reply.
 */
export async function textQueryDriver(port: number, user: string, password: string, database: string, sql: () => string): Promise<QueryDriver> {
  // Under callgrind on a busy machine the handshake alone can take longer than the default 10 s.
  const c = new ShardClient({ host: '127.0.0.1', port, user, password, database, connectTimeoutMs: 300_000 });
  await c.connect();
  return {
    next: () =>
      new Promise((resolve, reject) => {
        const receiver: QueryReceiver = {
          columns: () => {},
          row: () => {},
          end: () => resolve(),
          ok: () => resolve(),
          error: (e) => reject(new Error(e.message)),
        };
        c.query(sql(), receiver);
      }),
    close: () => c.quit(),
  };
}

export function relayTarget(port: number, shardPort: number, perfMap: boolean): CallgrindTarget {
  return {
    name: 'relay',
    start: () => ({ argv: ['node', ...(perfMap ? ['--perf-basic-prof'] : []), path.join(here, 'tcp-relay.mjs'), String(port), String(shardPort)], port, ready: /relay listening/, user: 'root', password: '' }),
  };
}

export interface GatewayTargetConfig {
  vschema: unknown;
  /** Keyspace → shard name → MySQL URL. */
  keyspaces: Record<string, Record<string, string>>;
  /** The one user, whose password is its name. */
  user: string;
  /** Further top-level config lines (`poolSize: 4`, `workload: olap`). */
  settings: readonly string[];
}

/** `shardgate up` of the build in `dist`, with the node flags of its bin. */
export function gatewayTarget(name: string, dist: string, port: number, config: GatewayTargetConfig, perfMap: boolean): CallgrindTarget {
  return {
    name,
    start: (dir) => {
      writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(config.vschema));
      const keyspaces = Object.entries(config.keyspaces).flatMap(([ks, shards]) => [
        `  ${ks}:`,
        '    shards:',
        ...Object.entries(shards).map(([shard, url]) => `      "${shard}": "${url}"`),
      ]);
      const cfg = path.join(dir, 'gw.yaml');
      // The first plan (in a plan worker that starts under callgrind too) takes far longer than 5 s.
      writeFileSync(
        cfg,
        [
          `listen: { mysql: "127.0.0.1:${port}", http: null }`,
          `users: [ { user: ${config.user}, password: ${config.user} } ]`,
          'vschema: ./vschema.json',
          'planTimeoutMs: 600000',
          ...config.settings,
          'keyspaces:',
          ...keyspaces,
          '',
        ].join('\n'),
      );
      const cli = path.join(dist, 'cli.js');
      return {
        argv: ['node', ...nodeFlagsOf(cli), ...(perfMap ? ['--perf-basic-prof'] : []), `--import=${path.join(here, 'ignore-sigint.mjs')}`, cli, 'up', '--config', cfg],
        port,
        ready: /Connect with/,
        user: config.user,
        password: config.user,
      };
    },
  };
}

/** Runs `n` queries over the drivers, one at a time on each. */
async function drive(drivers: QueryDriver[], n: number): Promise<void> {
  let started = 0;
  await Promise.all(
    drivers.map(async (d) => {
      while (started < n) {
        started++;
        await d.next();
      }
    }),
  );
}

/** Instructions counted in the dump callgrind writes for `callgrind_control -d` (its `totals:` line). */
function totalsOf(file: string): number {
  const text = readFileSync(file, 'utf8');
  const m = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

/**
 * The main thread's instructions inside libuv's I/O poll (every socket callback and what runs in
 * its turn: the gateway's whole work on a query, GC included), not its timers: under callgrind a
 * query takes ~50x longer, so the timers (the event-loop lag monitor's 10 and 20 ms ticks, health
 * pings) fire ~50x more often per query than at full speed.
 */
async function ioCallbacksOf(file: string): Promise<number> {
  const { stdout } = await run('callgrind_annotate', ['--inclusive=yes', '--auto=no', '--threshold=100', file], { maxBuffer: 256 * 1024 * 1024 });
  const m = /^\s*([\d,]+) .*unix\/linux\.c:uv__io_poll /m.exec(stdout);
  return m ? Number(m[1]!.replace(/,/g, '')) : NaN;
}

/** Instructions in the dumps callgrind wrote since `seen` (one file per thread; thread 01 is the event loop). */
async function newDumps(dir: string, seen: Set<string>, label: string, keep: string | undefined): Promise<{ all: number; main: number; io: number }> {
  let all = 0;
  let main = 0;
  let io = 0;
  for (const f of readdirSync(dir).filter((f) => f.startsWith('callgrind.out.') && !seen.has(f))) {
    seen.add(f);
    const n = totalsOf(path.join(dir, f));
    all += n;
    if (f.endsWith('-01')) {
      main = n;
      io = await ioCallbacksOf(path.join(dir, f));
    }
    if (keep) copyFileSync(path.join(dir, f), path.join(keep, `callgrind.${label}.${f.slice(f.lastIndexOf('-') + 1)}`));
  }
  if (all === 0) throw new Error(`no new dump in ${dir}`);
  return { all, main, io };
}

/**
 * Makes the bench process outlive a stray SIGINT (see ignore-sigint.mjs); its shards must then not
 * stop on signals either (LocalCluster's `stopOnSignals: false`), only when it exits.
 */
export function ignoreStraySigint(): void {
  process.on('SIGINT', () => console.error('SIGINT ignored (stop the bench with SIGTERM)'));
}

/** Starts the target under callgrind, warms it up, and counts the instructions of `o.queries` queries. */
export async function instructionsPerQuery(target: CallgrindTarget, o: CallgrindOptions): Promise<InstructionCount> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-callgrind-'));
  const { argv, port, ready, user, password } = target.start(dir);
  const out = path.join(dir, 'callgrind.out');
  const label = `${target.name.replace(/\W+/g, '-')}.${o.label}`;
  // JIT code is written and patched at run time: callgrind must look for changed code outside files.
  const child: ChildProcess = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${out}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The target's own output, shown when the run fails (a crash under valgrind, a config error).
  let output = '';
  const keepOutput = (b: Buffer): void => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keepOutput);
  child.stderr?.on('data', keepOutput);
  const seen = new Set<string>();
  const control = (flag: string): Promise<unknown> => run('callgrind_control', [flag, String(child.pid)]);
  try {
    await waitFor(child, ready, target.name, 900_000);
    const drivers = await Promise.all(Array.from({ length: o.clients }, () => o.connect(port, user, password)));
    await drive(drivers, o.warmup);
    // Time-driven work runs per second, not per query, and the target runs ~50x slower under
    // callgrind, so it would weigh ~50x more per query than at full speed: measured idle, taken out.
    await control('-z');
    let t0 = performance.now();
    await new Promise((r) => setTimeout(r, o.idleMs));
    await control('-d');
    const idleSeconds = (performance.now() - t0) / 1000;
    const idle = await newDumps(dir, seen, `${label}.idle`, o.keep);
    await control('-z');
    t0 = performance.now();
    await drive(drivers, o.queries);
    await control('-d');
    const busySeconds = (performance.now() - t0) / 1000;
    const busy = await newDumps(dir, seen, label, o.keep);
    if (o.keep && o.perfMap) copyFileSync(`/tmp/perf-${child.pid}.map`, path.join(o.keep, `perf.${label}.map`));
    for (const d of drivers) d.close();
    return {
      all: (busy.all - (idle.all / idleSeconds) * busySeconds) / o.queries,
      main: (busy.main - (idle.main / idleSeconds) * busySeconds) / o.queries,
      io: busy.io / o.queries,
      idlePerSecond: idle.all / idleSeconds,
    };
  } catch (err) {
    console.error(`${target.name} under callgrind, its output:\n${output}`);
    throw err;
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    if (o.perfMap) rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
  }
}

/** One line of a count, instructions rounded. */
export function formatCount(name: string, r: InstructionCount): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  return `${name}: ${n(r.all)} instructions per query, ${n(r.main)} of them on the main thread (idle: ${n(r.idlePerSecond)} per second, taken out); ${n(r.io)} in the main thread's I/O callbacks`;
}
