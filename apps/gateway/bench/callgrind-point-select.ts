/**
 * Instructions per point select, counted by valgrind's callgrind, which load does not change: the
 * plain Node relay (bench/tcp-relay.mjs) and one or two gateway builds each run under callgrind
 * against one real MariaDB, driven from this process over loopback. After a warm-up (JIT, plan
 * cache, pools) the counters are zeroed (`callgrind_control -z`), QUERIES point selects run, and
 * the counters are dumped (`callgrind_control -d`): instructions of every thread of the process
 * (JIT code, V8 builtins and runtime, GC, libuv, libc; not the kernel) divided by QUERIES.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/callgrind-point-select.ts
 *   BASE_DIST=<other checkout>/apps/gateway/dist QUERIES=3000 [PS=1|mysql2] [KEEP=<dir>] \
 *     pnpm --filter @shardgate/gateway exec tsx bench/callgrind-point-select.ts
 *
 * One connection (CLIENTS=1) by default, one query at a time: under callgrind the target runs ~50×
 * slower, and with several connections it would read several queries per event-loop turn, which a
 * gateway at full speed does not. KEEP=<dir> keeps the dumps for `callgrind_annotate` (JIT code
 * shows as `???`; builtins, the runtime, GC and libc by name).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import mysql2 from 'mysql2';
import { ColumnType, ShardClient, type QueryReceiver } from '@shardgate/mysql-protocol';
import { comStmtExecute, comStmtPrepare, isOkPacket, RawMysqlClient } from '@shardgate/mysql-protocol/testing';
import { freePort, nodeFlagsOf, startPreparedShard, TABLE_SIZE, waitFor } from './sysbench-harness.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const QUERIES = Number(process.env.QUERIES ?? 3000);
const WARMUP = Number(process.env.WARMUP ?? 10000);
const CLIENTS = Number(process.env.CLIENTS ?? 1);
/** PS=1: prepared statements as sysbench sends them; PS=mysql2: as mysql2's `execute` does. */
const PS_DRIVER = process.env.PS === '1' ? preparedDriver : process.env.PS === 'mysql2' ? mysql2PreparedDriver : null;
const PREPARED = PS_DRIVER !== null;
const KEEP = process.env.KEEP;
const IDLE_MS = Number(process.env.IDLE_MS ?? 5000);
/** PERF_MAP=1: node writes /tmp/perf-<pid>.map (--perf-basic-prof), kept with KEEP, to name the JIT code callgrind shows as `???`. */
const PERF_MAP = process.env.PERF_MAP === '1';

interface Driver {
  select(id: number): Promise<void>;
  close(): void;
}

async function textDriver(port: number, user: string, password: string): Promise<Driver> {
  // Under callgrind on a busy machine the handshake alone can take longer than the default 10 s.
  const c = new ShardClient({ host: '127.0.0.1', port, user, password, database: 'sbtest', connectTimeoutMs: 300_000 });
  await c.connect();
  return {
    select: (id) =>
      new Promise((resolve, reject) => {
        const receiver: QueryReceiver = {
          columns: () => {},
          row: () => {},
          end: () => resolve(),
          ok: () => resolve(),
          error: (e) => reject(new Error(e.message)),
        };
        c.query(`SELECT c FROM sbtest1 WHERE id=${id}`, receiver);
      }),
    close: () => c.quit(),
  };
}

/**
 * COM_STMT_EXECUTE as sysbench sends it (`--db-ps-mode=auto`, libmariadb): the statement prepared
 * once, its one param bound as MYSQL_TYPE_LONG, the types sent with the first execute only
 * (new-params-bound 0 after it).
 */
async function preparedDriver(port: number, user: string, password: string): Promise<Driver> {
  const { client: c, reply } = await RawMysqlClient.login(port, { user, password, database: 'sbtest' });
  if (!isOkPacket(reply.payload)) throw new Error(`login refused: ${reply.payload.toString('latin1')}`);
  c.send(comStmtPrepare('SELECT c FROM sbtest1 WHERE id=?'));
  const ok = (await c.nextPacket()).payload;
  if (!isOkPacket(ok)) throw new Error(`prepare refused: ${ok.toString('latin1')}`);
  const id = ok.readUInt32LE(1);
  const columns = ok.readUInt16LE(5);
  const params = ok.readUInt16LE(7);
  // The param and column definitions, each list followed by an EOF.
  for (let i = (params > 0 ? params + 1 : 0) + (columns > 0 ? columns + 1 : 0); i > 0; i--) await c.nextPacket();
  let typesSent = false;
  return {
    select: async (value) => {
      c.send(comStmtExecute(id, [{ type: ColumnType.LONG, value }], { newParamsBound: !typesSent }));
      typesSent = true;
      const r = await c.readResult();
      if (r.kind !== 'resultset' || r.rows.length !== 1) throw new Error(`execute: unexpected ${r.kind} reply with ${r.rows.length} rows`);
    },
    close: () => c.close(),
  };
}

/** COM_STMT_EXECUTE as mysql2's `execute` sends it (PS=mysql2): its statement cache, the types with every execute, a number as DOUBLE. */
async function mysql2PreparedDriver(port: number, user: string, password: string): Promise<Driver> {
  const c = mysql2.createConnection({ host: '127.0.0.1', port, user, password, database: 'sbtest', connectTimeout: 300_000 });
  await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
  return {
    select: (id) => new Promise((resolve, reject) => c.execute('SELECT c FROM sbtest1 WHERE id=?', [id], (err) => (err ? reject(err) : resolve()))),
    close: () => c.destroy(),
  };
}

let seed = 1;
async function drive(drivers: Driver[], n: number): Promise<void> {
  let started = 0;
  await Promise.all(
    drivers.map(async (d) => {
      while (started < n) {
        started++;
        seed = (seed * 48271) % 2147483647;
        await d.select(1 + (seed % TABLE_SIZE));
      }
    }),
  );
}

/** Instructions counted in the dump callgrind writes for `callgrind_control -d` (its `totals:` line). */
function totalsOf(file: string): number {
  const m = /^totals:\s+(\d+)/m.exec(readFileSync(file, 'utf8')) ?? /^summary:\s+(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

interface Target {
  name: string;
  /** The command under valgrind, and a port it listens on once ready. */
  start(dir: string, shardPort: number): { argv: string[]; port: number; ready: RegExp; user: string; password: string };
}

function relayTarget(port: number): Target {
  return {
    name: 'relay',
    start: (_dir, shardPort) => ({ argv: ['node', ...(PERF_MAP ? ['--perf-basic-prof'] : []), path.join(here, 'tcp-relay.mjs'), String(port), String(shardPort)], port, ready: /relay listening/, user: 'root', password: '' }),
  };
}

function gatewayTarget(name: string, dist: string, port: number): Target {
  return {
    name,
    start: (dir, shardPort) => {
      writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify({ keyspaces: { sbtest: { sharded: false, tables: { sbtest1: {} } } } }));
      const cfg = path.join(dir, 'gw.yaml');
      // The first plan (in a plan worker that starts under callgrind too) takes far longer than 5 s.
      writeFileSync(
        cfg,
        `listen: { mysql: "127.0.0.1:${port}", http: null }\nusers: [ { user: sb, password: sb } ]\nvschema: ./vschema.json\npoolSize: ${CLIENTS}\nplanTimeoutMs: 600000\nkeyspaces:\n  sbtest:\n    shards: { "0": "mysql://root:@127.0.0.1:${shardPort}/sbtest" }\n`,
      );
      const cli = path.join(dist, 'cli.js');
      // Something on the shared machine SIGINTs processes that look like gateways (three runs lost
      // that way); the measured one runs its CLI through a launcher that ignores SIGINT (SIGTERM
      // still stops it).
      const launcher = path.join(dir, 'measured-gateway.mjs');
      writeFileSync(
        launcher,
        `const on = process.on.bind(process);\nprocess.on = (event, fn) => (event === 'SIGINT' ? process : on(event, fn));\non('SIGINT', () => {});\nawait import(${JSON.stringify(pathToFileURL(cli).href)});\n`,
      );
      return { argv: ['node', ...nodeFlagsOf(cli), ...(PERF_MAP ? ['--perf-basic-prof'] : []), launcher, 'up', '--config', cfg], port, ready: /Connect with/, user: 'sb', password: 'sb' };
    },
  };
}

/** Instructions in the dumps callgrind wrote since `seen` (one file per thread; thread 01 is the event loop). */
async function newDumps(dir: string, seen: Set<string>, label: string): Promise<{ all: number; main: number; io: number }> {
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
    if (KEEP) copyFileSync(path.join(dir, f), path.join(KEEP, `callgrind.${label}.${f.slice(f.lastIndexOf('-') + 1)}`));
  }
  if (all === 0) throw new Error(`no new dump in ${dir}`);
  return { all, main, io };
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

interface Count {
  /** Instructions per query, all threads and the main thread, less what the process does idle. */
  all: number;
  main: number;
  /** The main thread's instructions in I/O callbacks per query (ioCallbacksOf), nothing taken out. */
  io: number;
  /** What the idle process runs per second (timers: the event-loop delay monitor, health pings). */
  idlePerSecond: number;
}

async function measure(target: Target, shardPort: number): Promise<Count> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-callgrind-'));
  const { argv, port, ready, user, password } = target.start(dir, shardPort);
  const out = path.join(dir, 'callgrind.out');
  const label = `${target.name.replace(/\W+/g, '-')}.${PREPARED ? `ps-${process.env.PS}` : 'text'}`;
  // JIT code is written and patched at run time: callgrind must look for changed code outside files.
  const child: ChildProcess = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${out}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  // The target's last output, to say why it exited if it does so before the end.
  let tail = '';
  const keepTail = (b: Buffer): void => void (tail = (tail + b.toString()).slice(-4000));
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) console.error(`${target.name} exited early (code ${code}, signal ${signal}):\n${tail}`);
      resolve();
    }),
  );
  const seen = new Set<string>();
  const control = (flag: string): Promise<unknown> => run('callgrind_control', [flag, String(child.pid)]);
  try {
    await waitFor(child, ready, target.name, 900_000);
    const drivers = await Promise.all(Array.from({ length: CLIENTS }, () => (PS_DRIVER ?? textDriver)(port, user, password)));
    await drive(drivers, WARMUP);
    // Time-driven work runs per second, not per query, and the target runs ~50x slower under
    // callgrind, so it would weigh ~50x more per query than at full speed: measured idle, taken out.
    await control('-z');
    let t0 = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    await control('-d');
    const idleSeconds = (performance.now() - t0) / 1000;
    const idle = await newDumps(dir, seen, `${label}.idle`);
    await control('-z');
    t0 = performance.now();
    await drive(drivers, QUERIES);
    await control('-d');
    const busySeconds = (performance.now() - t0) / 1000;
    const busy = await newDumps(dir, seen, label);
    if (KEEP && PERF_MAP) copyFileSync(`/tmp/perf-${child.pid}.map`, path.join(KEEP, `perf.${label}.map`));
    for (const d of drivers) d.close();
    return {
      all: (busy.all - (idle.all / idleSeconds) * busySeconds) / QUERIES,
      main: (busy.main - (idle.main / idleSeconds) * busySeconds) / QUERIES,
      io: busy.io / QUERIES,
      idlePerSecond: idle.all / idleSeconds,
    };
  } finally {
    stopping = true;
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    if (PERF_MAP) rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
  }
}

async function main(): Promise<void> {
  const targets: Target[] = [relayTarget(await freePort()), gatewayTarget('this build', path.resolve(here, '../dist'), await freePort())];
  if (process.env.BASE_DIST) targets.push(gatewayTarget('BASE_DIST', path.resolve(process.env.BASE_DIST), await freePort()));
  if (process.env.ONLY) targets.splice(0, targets.length, ...targets.filter((t) => process.env.ONLY!.split(',').includes(t.name)));
  const { cluster, port } = await startPreparedShard();
  try {
    console.log(`${QUERIES} point selects after ${WARMUP} (${PREPARED ? 'prepared statements' : 'text protocol'}), ${CLIENTS} connection(s), each target under callgrind`);
    const n = (x: number): string => Math.round(x).toLocaleString('en-US');
    for (const t of targets) {
      const r = await measure(t, port);
      console.log(`${t.name}: ${n(r.all)} instructions per query, ${n(r.main)} of them on the main thread (idle: ${n(r.idlePerSecond)} per second, taken out); ${n(r.io)} in the main thread's I/O callbacks`);
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
