/**
 * What a client sees through the gateway process, against one MariaDB holding the same rows:
 *   1. scatter `ORDER BY c, id LIMIT 100` over 4 shards (MergeSort + Limit): queries/s, once
 *      read in index order (the gateway's own cost dominates) and once sorted by every server
 *      (the shards' work dominates, and the four of them sort in parallel);
 *   2. an OLAP (`set workload = 'olap'`) stream of every row (1M) over 4 shards with mysql2's
 *      `.stream()`: rows/s (the median of PAIRS=5 interleaved pairs of gateway and one MariaDB),
 *      and the gateway's peak RSS; then the same stream read by a slow client
 *      that stops reading for a while, to show that backpressure holds the gateway's memory flat;
 *   3. cross-shard nested-loop joins (outer scatter, inner routed per outer row): joined rows/s.
 * packages/executor/bench/executor.bench.ts measures the executor in-process; this one adds the
 * MySQL protocol on both sides, a real client, and a separate gateway process whose memory
 * (VmHWM in /proc) is what a user would see.
 *
 *   pnpm --filter @shardgate/gateway bench:olap          (writes the table to BENCHMARKS.md)
 *   ROWS=200000 SECONDS_PER_RUN=3 pnpm --filter @shardgate/gateway bench:olap   (quick look)
 *   JOINS_ONLY=1 ROWS=100000 [JOIN_WORKLOAD=olap] pnpm --filter @shardgate/gateway bench:olap   (the joins alone: printed, BENCHMARKS.md untouched)
 *   GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" …   (extra node flags for the gateway process)
 *   STREAM_ONLY=1 ROUNDS=5 [BASE_CLI=<other build>/apps/gateway/dist/cli.js] [RELAY=1] [STRACE=1] pnpm --filter @shardgate/gateway bench:olap
 *       (the OLAP stream alone, ROUNDS interleaved rounds of gateway [, base gateway] and the one
 *       MariaDB, with the CPU of every process per row: printed, BENCHMARKS.md untouched; STRACE=1
 *       adds one more stream of each under `strace -c -f` for the syscall counts, the client's
 *       too; RELAY=1 adds bench/tcp-relay.mjs in front of the one MariaDB as a side)
 *
 * Rows are generated on the servers themselves: the reference from MariaDB's SEQUENCE engine
 * (`seq_1_to_N`), each shard from the ids the hash vindex gives it (computed here with
 * @shardgate/vschema, sent as a JSON array and expanded by JSON_TABLE). k and c are functions of
 * id, so every server derives the same values.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2';
import type { Connection as PromiseConnection, RowDataPacket } from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { replaceBenchSection } from './bench-report.js';
import { CLI, freePort, nodeFlagsOf, processCpuMicros, waitFor } from './sysbench-harness.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'] as const;
const REFERENCE = 'reference';
const DB = 'bench';
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 8);
/** Concurrent clients in the scatter run: enough to keep both cores busy, as an app pool would. */
const CLIENTS = Number(process.env.CLIENTS ?? 4);
/** The slow client stops reading this many times, for PAUSE_MS each, spread over the stream. */
const PAUSES = 6;
const PAUSE_MS = 1500;
/** Time for the socket buffers to fill once the client stops reading (loopback: a few MB each). */
const SETTLE_MS = 300;
/** Outer rows of the joins (t.id <= JOIN_OUTER) and rows of the inner table u. */
const JOIN_OUTER = 2000;
const U_ROWS = 20_000;
const LOAD_BATCH = 50_000;
/** Only phase 3, the joins (t needs no more than JOIN_OUTER rows for them). */
const JOINS_ONLY = process.env.JOINS_ONLY === '1';
/** The joins' workload: 'oltp' (the default: the answer read whole, then written) or 'olap' (JOIN_WORKLOAD=olap: streamed). */
const JOIN_WORKLOAD = process.env.JOIN_WORKLOAD === 'olap' ? 'olap' : 'oltp';
/** Only the OLAP stream, in interleaved rounds (see streamRounds). */
const STREAM_ONLY = process.env.STREAM_ONLY === '1';
/** Interleaved pairs of the fast OLAP stream (gateway, one MariaDB) in the full run: the median pair is reported. */
const PAIRS = Number(process.env.PAIRS ?? 5);

const VSCHEMA = {
  keyspaces: {
    [DB]: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: {
        t: { column_vindexes: [{ column: 'id', name: 'hash' }] },
        u: { column_vindexes: [{ column: 'id', name: 'hash' }] },
      },
    },
  },
};
const SCHEMA = [
  'create table t (id bigint not null primary key, k int not null, c char(20) not null) engine=innodb',
  'create table u (id bigint not null primary key, k int not null, name char(16) not null, key (k)) engine=innodb',
];
/** The same derived columns on every server, so shards and reference hold identical rows. */
const T_COLUMNS = (id: string): string => `${id}, ${id} % 100000, left(md5(${id}), 20)`;
/** u.k in 1..U_ROWS/10: each t row with k <= JOIN_OUTER matches U_ROWS / (U_ROWS/10) = 10 u rows. */
const U_COLUMNS = (id: string): string => `${id}, ${id} % ${U_ROWS / 10} + 1, concat('u', ${id})`;

const SCATTER_SQL = 'select id, c from t order by c, id limit 100';
/** The same with no index to read in order: every server sorts all its rows (the shards in parallel). */
const SCATTER_SORT_SQL = 'select id, c from t order by k, c, id limit 100';
const STREAM_SQL = 'select id, k, c from t';
const JOINS = [
  {
    name: 'inner side scattered (u.k is not a vindex)',
    sql: `select t.id, t.c, u.name from t join u on u.k = t.k where t.id <= ${JOIN_OUTER}`,
  },
  {
    name: 'inner side routed to one shard (u.id is the vindex)',
    sql: `select t.id, t.c, u.name from t join u on u.id = t.k where t.id <= ${JOIN_OUTER}`,
  },
];

type Conn = mysql.Connection;

function connect(opts: mysql.ConnectionOptions): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const c = mysql.createConnection(opts);
    c.connect((err) => (err ? reject(err) : resolve(c)));
  });
}
const p = (c: Conn): PromiseConnection => c.promise();

/** Resident set (now and peak since the last reset), in KiB, from /proc (Linux). */
function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]), hwm: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) };
}
/** Resets VmHWM to the current RSS, so the next reading is the peak of one phase (Linux >= 4.0). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}
const mib = (kib: number): string => (kib / 1024).toFixed(0);
const cpuMicros = (pid: number): number => {
  const t = processCpuMicros(pid);
  return t.user + t.system;
};

interface Gateway {
  child: ChildProcess;
  port: number;
}

async function startGateway(dir: string, cluster: LocalCluster, cli = CLI): Promise<Gateway> {
  const port = await freePort();
  writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(VSCHEMA));
  const shards = SHARDS.map((s) => `      "${s}": "mysql://root:@127.0.0.1:${cluster.shard(s).port}/${DB}"`).join('\n');
  const cfg = path.join(dir, `gateway-${port}.yaml`);
  writeFileSync(
    cfg,
    `listen: { mysql: "127.0.0.1:${port}", http: null }\nusers: [ { user: app, password: app } ]\nvschema: ./vschema.json\npoolSize: ${Math.max(8, CLIENTS * 2)}\nkeyspaces:\n  ${DB}:\n    shards:\n${shards}\n`,
  );
  const child = spawn('node', [...nodeFlagsOf(cli), ...(process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean), cli, 'up', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitFor(child, /Connect with/, 'shardgate');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { child, port };
}

/** Loads all of t (ROWS rows) and u (U_ROWS rows) on the reference, from the SEQUENCE engine. */
async function loadReference(cluster: LocalCluster): Promise<void> {
  const ref = await connect(cluster.shard(REFERENCE).connectionOptions());
  try {
    const [seq] = await p(ref).query<RowDataPacket[]>('select count(*) n from seq_1_to_3');
    if (Number(seq[0].n) !== 3) throw new Error('the SEQUENCE engine (seq_1_to_N) is not available on this MariaDB');
    await p(ref).query(`insert into t select ${T_COLUMNS('seq')} from seq_1_to_${ROWS}`);
    await p(ref).query(`insert into u select ${U_COLUMNS('seq')} from seq_1_to_${U_ROWS}`);
    // The index the scatter query's ORDER BY uses, built once after the load (a sorted build).
    await p(ref).query('alter table t add key c_id (c, id)');
  } finally {
    ref.end();
  }
}

/** Loads on each shard the rows of t and u whose id the hash vindex maps to it. */
async function loadShards(cluster: LocalCluster): Promise<void> {
  const hash = loadVSchema(VSCHEMA).keyspace(DB)!.vindexes.get('hash') as FunctionalVindex;
  const map = new ShardMap([...SHARDS]);
  const idsOf = (n: number): Map<string, number[]> => {
    const by = new Map<string, number[]>(SHARDS.map((s) => [s, []]));
    for (let id = 1; id <= n; id++) by.get(map.shardFor(hash.map(BigInt(id))!))!.push(id);
    return by;
  };
  const tIds = idsOf(ROWS);
  const uIds = idsOf(U_ROWS);
  await Promise.all(
    SHARDS.map(async (s) => {
      const c = await connect(cluster.shard(s).connectionOptions());
      try {
        const insert = async (table: string, columns: (id: string) => string, ids: number[]): Promise<void> => {
          for (let i = 0; i < ids.length; i += LOAD_BATCH) {
            const json = JSON.stringify(ids.slice(i, i + LOAD_BATCH));
            await p(c).query(`insert into ${table} select ${columns('j.id')} from json_table(?, '$[*]' columns (id bigint path '$')) j`, [json]);
          }
        };
        await insert('t', T_COLUMNS, tIds.get(s)!);
        await insert('u', U_COLUMNS, uIds.get(s)!);
        await p(c).query('alter table t add key c_id (c, id)');
      } finally {
        c.end();
      }
    }),
  );
}

/** `clients` connections each run `sql` back to back for `seconds`; returns queries/s. */
async function queriesPerSecond(conns: Conn[], sql: string, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const counts = await Promise.all(
    conns.map(async (c) => {
      let n = 0;
      while (performance.now() < end) {
        await p(c).query(sql);
        n++;
      }
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
}

interface StreamResult {
  rows: number;
  seconds: number;
  /**
   * Per stop of the slow client: gateway RSS (KiB) when it began, SETTLE_MS later (the sockets
   * between client, gateway and shards have filled by then) and when it ended, and the gateway
   * CPU (µs) from SETTLE_MS to the end: near zero if it stopped reading its shards.
   */
  pauses: { before: number; settled: number; after: number; cpuSettled: number }[];
}

/**
 * Rows the stream in progress has delivered so far (read by measuredStream's sampler).
 * Concurrency rule: the bench runs one stream at a time; stream() resets it and its 'data' handler writes it.
 */
let streamedRows = 0;

/**
 * Streams `sql` with mysql2's `.stream()`, checking that every id arrived once (by count and sum).
 * With `gatewayPid`, the client stops reading PAUSES times for PAUSE_MS and records the gateway's
 * RSS around each stop: a gateway that keeps reading its shards while the client is not reading
 * would grow here.
 */
function stream(c: Conn, sql: string, gatewayPid?: number): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const pauses: StreamResult['pauses'] = [];
    const every = Math.floor(ROWS / (PAUSES + 1));
    let rows = 0;
    let idSum = 0;
    streamedRows = 0;
    const s = c.query({ sql, rowsAsArray: true }).stream({ highWaterMark: 1000 });
    s.on('data', (row: unknown[]) => {
      rows++;
      streamedRows = rows;
      idSum += Number(row[0]);
      if (gatewayPid !== undefined && rows % every === 0 && pauses.length < PAUSES) {
        s.pause();
        const before = memory(gatewayPid).rss;
        setTimeout(() => {
          const settled = memory(gatewayPid).rss;
          const cpuSettled = cpuMicros(gatewayPid);
          setTimeout(() => {
            pauses.push({ before, settled, after: memory(gatewayPid).rss, cpuSettled: cpuMicros(gatewayPid) - cpuSettled });
            s.resume();
          }, PAUSE_MS - SETTLE_MS);
        }, SETTLE_MS);
      }
    });
    s.once('error', reject);
    s.once('end', () => {
      const expectedSum = (ROWS * (ROWS + 1)) / 2;
      if (rows !== ROWS || idSum !== expectedSum) reject(new Error(`stream returned ${rows} rows (id sum ${idSum}), expected ${ROWS} (${expectedSum})`));
      else resolve({ rows, seconds: (performance.now() - started) / 1000, pauses });
    });
  });
}

/** Runs `sql` back to back for `seconds` on one connection; returns rows/s and rows per run. */
async function joinRowsPerSecond(c: Conn, sql: string, seconds: number): Promise<{ rowsPerSecond: number; rowsPerRun: number }> {
  const start = performance.now();
  let rows = 0;
  let runs = 0;
  let rowsPerRun = -1;
  while (runs === 0 || performance.now() - start < seconds * 1000) {
    const [result] = await p(c).query<RowDataPacket[]>({ sql, rowsAsArray: true });
    if (rowsPerRun >= 0 && result.length !== rowsPerRun) throw new Error(`join returned ${result.length} rows, earlier ${rowsPerRun}`);
    rowsPerRun = result.length;
    rows += result.length;
    runs++;
  }
  return { rowsPerSecond: rows / ((performance.now() - start) / 1000), rowsPerRun };
}

interface JoinResult {
  name: string;
  sql: string;
  rowsPerRun: number;
  gwRate: number;
  refRate: number;
  /** Gateway process CPU (user + system) per joined row, µs. */
  gwCpuPerRow: number;
}

/** Phase 3: each join's plan and answer checked, then its rows/s through the gateway and on the reference; and the gateway's peak RSS meanwhile. */
async function runJoins(gw: Conn, ref: Conn, pid: number): Promise<{ results: JoinResult[]; peak: number }> {
  await p(gw).query(`set workload = '${JOIN_WORKLOAD}'`);
  resetPeak(pid);
  const results: JoinResult[] = [];
  for (const j of JOINS) {
    const [plan] = await p(gw).query<RowDataPacket[]>(`vexplain plan ${j.sql}`);
    const planText = String(Object.values(plan[0])[0]);
    if (!/"(OperatorType|operator)":\s*"Join"/.test(planText)) throw new Error(`expected a Join operator for ${j.sql}, got:\n${planText}`);
    const [gwRows] = await p(gw).query<RowDataPacket[]>(`${j.sql} order by t.id, u.name`);
    const [refRows] = await p(ref).query<RowDataPacket[]>(`${j.sql} order by t.id, u.name`);
    if (JSON.stringify(gwRows) !== JSON.stringify(refRows)) throw new Error(`join disagrees with the reference: ${j.sql}`);
    await joinRowsPerSecond(gw, j.sql, 1); // warm-up
    const cpu0 = cpuMicros(pid);
    const g = await joinRowsPerSecond(gw, j.sql, SECONDS / 2);
    const gwCpuPerRow = (cpuMicros(pid) - cpu0) / (g.rowsPerSecond * (SECONDS / 2));
    const r = await joinRowsPerSecond(ref, j.sql, SECONDS / 2);
    results.push({ ...j, rowsPerRun: g.rowsPerRun, gwRate: g.rowsPerSecond, refRate: r.rowsPerSecond, gwCpuPerRow });
    console.log(`join (${j.name}): gateway ${g.rowsPerSecond.toFixed(0)} rows/s, gateway CPU ${gwCpuPerRow.toFixed(2)} µs per joined row`);
  }
  return { results, peak: memory(pid).hwm };
}

/** Context switches (voluntary, involuntary) of all of a process's threads, from /proc. */
function contextSwitches(pid: number): { voluntary: number; involuntary: number } {
  let voluntary = 0;
  let involuntary = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      voluntary += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      involuntary += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // the thread ended meanwhile
    }
  }
  return { voluntary, involuntary };
}
/** Time on a CPU and waiting for one (ns, runnable but not running), over all threads of a process, from /proc/<pid>/task/<tid>/schedstat. */
function schedTimes(pid: number): { running: number; waiting: number } {
  let running = 0;
  let waiting = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ').map(Number);
      running += run;
      waiting += wait;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { running, waiting };
}
/** The machine's busy and total CPU time (all cores, in ticks) from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/** Processes whose CPU a stream round reads: label → pid (the bench itself is `client`). */
type Watched = Record<string, number[]>;

/**
 * One stream of STREAM_SQL on `c`, with every watched process's CPU (µs, user + system) and
 * context switches over it, and the machine's busy share (all of its cores, anyone's work).
 */
async function measuredStream(
  c: Conn,
  watched: Watched,
): Promise<{ seconds: number; cpu: Record<string, number>; switches: Record<string, number>; waiting: Record<string, number>; machineBusy: number; runAhead: { quarter: number; half: number } }> {
  const read = (): { cpu: Record<string, number>; switches: Record<string, number>; waiting: Record<string, number> } => {
    const cpu: Record<string, number> = {};
    const switches: Record<string, number> = {};
    const waiting: Record<string, number> = {};
    for (const [label, pids] of Object.entries(watched)) {
      // schedstat's time on a CPU (ns, every thread): /proc/<pid>/stat counts 10 ms ticks, ±40 ms over 4 shards.
      cpu[label] = pids.reduce((sum, x) => sum + schedTimes(x).running / 1000, 0);
      cpu[`${label}Sys`] = pids.reduce((sum, x) => sum + processCpuMicros(x).system, 0);
      switches[label] = pids.reduce((sum, x) => {
        const s = contextSwitches(x);
        return sum + s.voluntary + s.involuntary;
      }, 0);
      waiting[label] = pids.reduce((sum, x) => sum + schedTimes(x).waiting, 0);
    }
    const own = process.cpuUsage();
    cpu.client = own.user + own.system;
    const ownSwitches = contextSwitches(process.pid);
    switches.client = ownSwitches.voluntary + ownSwitches.involuntary;
    switches.clientInvoluntary = ownSwitches.involuntary;
    // The client's main thread alone (its JavaScript), not libuv's pool.
    const [run, wait] = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    waiting.client = wait;
    waiting.clientRunning = run;
    return { cpu, switches, waiting };
  };
  // How far the servers (and gateway) run ahead of the client: every 50 ms, the share of the
  // rows the client has read and the producers' CPU so far. Producers that have done most of
  // their work while the client has read a quarter of the rows competed with it for the cores.
  const producerPids = Object.values(watched).flat();
  const producerCpu = (): number => producerPids.reduce((sum, x) => sum + schedTimes(x).running, 0);
  const progress: { rows: number; cpu: number }[] = [];
  const cpuStart = producerCpu();
  const sampler = setInterval(() => progress.push({ rows: streamedRows, cpu: producerCpu() - cpuStart }), 50);
  const m0 = machineTicks();
  const before = read();
  const r = await stream(c, STREAM_SQL);
  clearInterval(sampler);
  const after = read();
  const m1 = machineTicks();
  const cpuTotal = producerCpu() - cpuStart;
  const aheadAt = (share: number): number => (progress.find((x) => x.rows >= share * ROWS)?.cpu ?? cpuTotal) / cpuTotal;
  const runAhead = { quarter: aheadAt(0.25), half: aheadAt(0.5) };
  const cpu: Record<string, number> = {};
  const switches: Record<string, number> = {};
  for (const k of Object.keys(after.cpu)) cpu[k] = after.cpu[k] - before.cpu[k];
  for (const k of Object.keys(after.switches)) switches[k] = after.switches[k] - before.switches[k];
  const waiting: Record<string, number> = {};
  for (const k of Object.keys(after.waiting)) waiting[k] = after.waiting[k] - before.waiting[k];
  return { seconds: r.seconds, cpu, switches, waiting, machineBusy: (m1.busy - m0.busy) / (m1.total - m0.total), runAhead };
}

/** Runs `strace -c -f` on `pids` during one stream on `c`; returns strace's summary tables. */
async function stracedStream(c: Conn, pids: number[]): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-strace-'));
  const tracers = pids.map((pid) => {
    const out = path.join(dir, `${pid}.txt`);
    const child = spawn('strace', ['-c', '-f', '-q', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
    return { pid, out, child, exited: new Promise((r) => child.once('exit', r)) };
  });
  await new Promise((r) => setTimeout(r, 1000)); // attached to every thread
  await stream(c, STREAM_SQL);
  for (const t of tracers) t.child.kill('SIGINT');
  await Promise.all(tracers.map((t) => t.exited));
  const text = tracers.map((t) => `--- pid ${t.pid}\n${readFileSync(t.out, 'utf8')}`).join('\n');
  rmSync(dir, { recursive: true, force: true });
  return text;
}

/**
 * STREAM_ONLY: the OLAP stream alone, ROUNDS rounds, each streaming through the gateway (and the
 * BASE_CLI gateway, when given) and from the one MariaDB back to back, so that the load of the
 * shared machine hits every side alike. Per stream: rows/s and each process's CPU per row.
 */
async function streamRounds(sides: { name: string; conn: Conn; watched: Watched }[]): Promise<void> {
  const rounds = Number(process.env.ROUNDS ?? 5);
  for (const s of sides) {
    if (s.name.endsWith('gateway')) await p(s.conn).query("set workload = 'olap'");
    await stream(s.conn, STREAM_SQL); // warm-up
    const [, fields] = await p(s.conn).query(`${STREAM_SQL} limit 1`);
    console.log(`${s.name} columns: ${JSON.stringify((fields as { name: string; columnType: number; characterSet: number; flags: number; columnLength: number }[]).map((f) => [f.name, f.columnType, f.characterSet, f.flags, f.columnLength]))}`);
  }
  const rates: Record<string, number[]> = {};
  for (let round = 1; round <= rounds; round++) {
    for (const s of sides) {
      const m = await measuredStream(s.conn, s.watched);
      (rates[s.name] ??= []).push(ROWS / m.seconds);
      const perRow = Object.entries(m.cpu).map(([k, v]) => `${k} ${(v / ROWS).toFixed(3)}`).join(', ');
      const total = Object.entries(m.cpu).filter(([k]) => !k.endsWith('Sys')).reduce((a, [, b]) => a + b, 0);
      const sw = Object.entries(m.switches).map(([k, v]) => `${k} ${v}`).join(', ');
      const ms = (ns: number): string => (ns / 1e6).toFixed(0);
      const wall = m.seconds * 1e9;
      const idle = wall - m.waiting.clientRunning - m.waiting.client;
      const wt = Object.entries(m.waiting).filter(([k]) => k !== 'clientRunning').map(([k, v]) => `${k} ${ms(v)}`).join(', ');
      console.log(
        `round ${round} ${s.name}: ${(ROWS / m.seconds).toFixed(0)} rows/s (${m.seconds.toFixed(2)} s); CPU µs/row: ${perRow}; total ${(total / ROWS).toFixed(3)} µs/row = ${(total / 1e6 / m.seconds).toFixed(2)} cores; machine busy ${(m.machineBusy * 100).toFixed(0)}%; context switches: ${sw}; ms waiting for a CPU: ${wt}; client main thread: running ${ms(m.waiting.clientRunning)} ms, runnable ${ms(m.waiting.client)} ms, idle (no data) ${ms(idle)} ms; producers' CPU done when the client had read 1/4 of the rows ${(m.runAhead.quarter * 100).toFixed(0)}%, 1/2 ${(m.runAhead.half * 100).toFixed(0)}%`,
      );
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ref = rates.mariadb;
  for (const s of sides) {
    if (s.name === 'mariadb') continue;
    const ratios = rates[s.name].map((x, i) => x / ref[i]);
    console.log(`${s.name}: median ${median(rates[s.name]).toFixed(0)} rows/s; per-round ratio to mariadb ${ratios.map((x) => x.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)})`);
  }
  if (process.env.PERF_DIR) {
    // perf record over the side's processes and this client, one stream each (`perf report -i`).
    for (const s of sides) {
      const pids = [...Object.values(s.watched).flat(), process.pid].join(',');
      const out = path.join(process.env.PERF_DIR, `${s.name.replace(/ /g, '-')}.data`);
      const child = spawn('perf', ['record', '-q', '-F', process.env.PERF_FREQ ?? '999', '-g', '-o', out, '-p', pids], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < Number(process.env.PERF_STREAMS ?? 1); i++) await stream(s.conn, STREAM_SQL);
      child.kill('SIGINT');
      await exited;
      console.log(`perf data of one stream, ${s.name}: ${out}`);
    }
  }
  if (process.env.STRACE === '1') {
    for (const s of sides) {
      // The bench client too (the last table): it reads every row, whichever side sends them.
      const pids = [...Object.values(s.watched).flat(), process.pid];
      console.log(`\n=== strace -c -f, one stream, ${s.name} (the last pid is the client)\n${await stracedStream(s.conn, pids)}`);
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-bench-olap-'));
  let cluster: LocalCluster | null = null;
  let gateway: Gateway | null = null;
  let baseGateway: Gateway | null = null;
  let relay: ChildProcess | null = null;
  const conns: Conn[] = [];
  // The gateway child must not outlive us, whichever way we stop. LocalCluster cleans its own
  // servers in 'exit' and on signals; with a handler of ours installed it no longer re-raises the
  // signal, so ours exits (which runs LocalCluster's 'exit' cleanup).
  const killGateway = (): void => {
    if (gateway && gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    if (baseGateway && baseGateway.child.exitCode === null) baseGateway.child.kill('SIGKILL');
    if (relay && relay.exitCode === null) relay.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    killGateway();
    rmSync(dir, { recursive: true, force: true });
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  };
  process.on('exit', killGateway);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);

  try {
    const t0 = performance.now();
    cluster = await LocalCluster.start({
      shards: [...SHARDS, REFERENCE].map((name) => ({ name, database: DB })),
      database: DB,
      schema: SCHEMA,
    });
    // The test-kit's 16 MB buffer pool would make the 1M-row reference page from disk; give
    // every server room for its data (shrinks on stop with the server).
    await Promise.all(
      cluster.shards.map(async (s) => {
        const c = await connect(s.connectionOptions());
        await p(c).query('set global innodb_buffer_pool_size = 256 * 1024 * 1024');
        c.end();
      }),
    );
    await Promise.all([loadReference(cluster), loadShards(cluster)]);
    const loadSeconds = (performance.now() - t0) / 1000;
    console.log(`loaded ${ROWS} rows on 4 shards and the reference in ${loadSeconds.toFixed(1)} s`);

    gateway = await startGateway(dir, cluster);
    const pid = gateway.child.pid!;
    const gwOpts: mysql.ConnectionOptions = { host: '127.0.0.1', port: gateway.port, user: 'app', password: 'app', database: DB };
    const refOpts: mysql.ConnectionOptions = { ...cluster.shard(REFERENCE).connectionOptions(), multipleStatements: false };
    const gwConns = await Promise.all(Array.from({ length: CLIENTS }, () => connect(gwOpts)));
    const refConns = await Promise.all(Array.from({ length: CLIENTS }, () => connect(refOpts)));
    conns.push(...gwConns, ...refConns);
    const gw = gwConns[0];
    const ref = refConns[0];

    // Placement check: if the ids computed here did not match the gateway's routing, point
    // selects through the gateway would miss rows.
    const sample = Array.from({ length: 50 }, (_, i) => 1 + Math.floor((i * ROWS) / 50));
    const [found] = await p(gw).query<RowDataPacket[]>(`select id from t where id in (${sample.join(',')})`);
    if (found.length !== sample.length) throw new Error(`gateway found ${found.length} of ${sample.length} sampled ids: shard placement disagrees with the vindex`);

    if (STREAM_ONLY) {
      const shardPids = SHARDS.map((s) => cluster!.shard(s).pid);
      const refPid = cluster.shard(REFERENCE).pid;
      const sides: { name: string; conn: Conn; watched: Watched }[] = [{ name: 'gateway', conn: gw, watched: { gateway: [pid], shards: shardPids } }];
      if (process.env.BASE_CLI) {
        baseGateway = await startGateway(dir, cluster, path.resolve(process.env.BASE_CLI));
        const base = await connect({ ...gwOpts, port: baseGateway.port });
        conns.push(base);
        sides.push({ name: 'base gateway', conn: base, watched: { gateway: [baseGateway.child.pid!], shards: shardPids } });
      }
      if (process.env.RELAY === '1') {
        // The floor for anything in Node between client and server: bench/tcp-relay.mjs in front
        // of the one MariaDB (bytes copied both ways, no parsing).
        const relayPort = await freePort();
        relay = spawn('node', [path.join(import.meta.dirname, 'tcp-relay.mjs'), String(relayPort), String(cluster.shard(REFERENCE).port)], { stdio: ['ignore', 'pipe', 'pipe'] });
        await waitFor(relay, /relay listening/, 'tcp-relay');
        const viaRelay = await connect({ ...refOpts, port: relayPort });
        conns.push(viaRelay);
        sides.push({ name: 'relay', conn: viaRelay, watched: { relay: [relay.pid!], mariadb: [refPid] } });
      }
      await streamRounds([...sides, { name: 'mariadb', conn: ref, watched: { mariadb: [refPid] } }]);
      return;
    }
    if (JOINS_ONLY) {
      const joins = await runJoins(gw, ref, pid);
      for (const j of joins.results) console.log(`| cross-shard join, ${j.name}: ${j.rowsPerRun} rows per query | ${j.gwRate.toFixed(0)} rows/s | ${j.refRate.toFixed(0)} rows/s (local join) | ${(j.gwRate / j.refRate).toFixed(2)} (gateway CPU ${j.gwCpuPerRow.toFixed(2)} µs per row) |`);
      console.log(`gateway peak RSS during the joins: ${mib(joins.peak)} MiB`);
      return;
    }
    // 1. scatter ORDER BY LIMIT. Same answer first, then throughput.
    for (const sql of [SCATTER_SQL, SCATTER_SORT_SQL]) {
      const [gwTop] = await p(gw).query<RowDataPacket[]>(sql);
      const [refTop] = await p(ref).query<RowDataPacket[]>(sql);
      if (JSON.stringify(gwTop) !== JSON.stringify(refTop)) throw new Error(`${sql}: the gateway and the reference disagree`);
    }
    await queriesPerSecond(gwConns, SCATTER_SQL, 2); // warm-up: JIT, plan cache, shard pools
    // CPU per query (gateway, and the four shards together) says where a scatter's time goes, and
    // depends less on what else shares the cores than q/s does.
    const shardPids = SHARDS.map((s) => cluster!.shard(s).pid);
    const cpuOf = (pids: number[]): number => pids.reduce((sum, x) => sum + cpuMicros(x), 0);
    const [gwCpu0, shardsCpu0] = [cpuMicros(pid), cpuOf(shardPids)];
    const scatterGw = await queriesPerSecond(gwConns, SCATTER_SQL, SECONDS);
    const [gwCpu1, shardsCpu1] = [cpuMicros(pid), cpuOf(shardPids)];
    const refCpuStart = cpuMicros(cluster.shard(REFERENCE).pid);
    const scatterRef = await queriesPerSecond(refConns, SCATTER_SQL, SECONDS);
    const refCpu1 = cpuMicros(cluster.shard(REFERENCE).pid);
    const scatterCpu = {
      gateway: (gwCpu1 - gwCpu0) / (scatterGw * SECONDS),
      shards: (shardsCpu1 - shardsCpu0) / (scatterGw * SECONDS),
      reference: (refCpu1 - refCpuStart) / (scatterRef * SECONDS),
    };
    const sortGw = await queriesPerSecond(gwConns, SCATTER_SORT_SQL, SECONDS / 2);
    const sortRef = await queriesPerSecond(refConns, SCATTER_SORT_SQL, SECONDS / 2);
    const afterScatter = memory(pid);
    console.log(`scatter: gateway ${scatterGw.toFixed(0)} q/s, reference ${scatterRef.toFixed(0)} q/s; with a sort: ${sortGw.toFixed(1)} vs ${sortRef.toFixed(1)} q/s`);

    // 2. OLAP stream of every row: fast client, then a client that stops reading.
    await p(gw).query("set workload = 'olap'");
    const idle = memory(pid).rss;
    resetPeak(pid);
    // PAIRS interleaved pairs (gateway, then the one MariaDB), as issue #13 measures it: the load
    // of the shared machine hits both sides of a pair alike; the median pair is reported.
    const pairs: { gw: StreamResult; ref: StreamResult; cpu: number }[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const c0 = cpuMicros(pid);
      const g = await stream(gw, STREAM_SQL);
      const cpu = cpuMicros(pid) - c0;
      pairs.push({ gw: g, ref: await stream(ref, STREAM_SQL), cpu });
    }
    const ratioOf = (x: (typeof pairs)[number]): number => x.ref.seconds / x.gw.seconds;
    const byRatio = [...pairs].sort((a, b) => ratioOf(a) - ratioOf(b));
    const { gw: fast, ref: refFast } = byRatio[Math.floor(PAIRS / 2)];
    const cpuPerRows = pairs.map((x) => x.cpu / x.gw.rows).sort((a, b) => a - b);
    const cpuPerRow = cpuPerRows[Math.floor(PAIRS / 2)];
    const streamCpuPerSecond = pairs.reduce((a, x) => a + x.cpu, 0) / pairs.reduce((a, x) => a + x.gw.seconds, 0);
    const fastPeak = memory(pid).hwm;
    console.log(`olap stream, ${PAIRS} pairs: ratios ${pairs.map((x) => ratioOf(x).toFixed(2)).join(', ')}; median pair gateway ${(fast.rows / fast.seconds).toFixed(0)} rows/s (peak RSS ${mib(fastPeak)} MiB), reference ${(refFast.rows / refFast.seconds).toFixed(0)} rows/s`);
    const slowStart = memory(pid).rss;
    resetPeak(pid);
    const slow = await stream(gw, STREAM_SQL, pid);
    const slowPeak = memory(pid).hwm;
    console.log(`slow client: ${slow.seconds.toFixed(1)} s, peak RSS ${mib(slowPeak)} MiB`);

    // 3. cross-shard joins (OLTP, buffered, as most apps read).
    const { results: joins, peak: joinPeak } = await runJoins(gw, ref, pid);
    const overallPeak = Math.max(afterScatter.hwm, fastPeak, slowPeak, joinPeak);

    const fastRate = fast.rows / fast.seconds;
    const refRate = refFast.rows / refFast.seconds;
    const pauseGrowth = slow.pauses.map((x) => x.after - x.before);
    const maxPauseGrowth = Math.max(...pauseGrowth);
    const section = [
      `One gateway process (\`shardgate up\`) over a hash-sharded keyspace of 4 shards, against one MariaDB holding the same rows; all six processes and the mysql2 client share the machine's 2 cores. Table \`t (id bigint primary key, k int, c char(20), key (c, id))\`, ${ROWS.toLocaleString('en-US')} rows (about ${Math.round(ROWS / 4).toLocaleString('en-US')} per shard). Text protocol, mysql2 3 with \`rowsAsArray\`.`,
      '',
      '| measurement | shardgate (4 shards) | one MariaDB | ratio |',
      '| --- | ---: | ---: | ---: |',
      `| scatter \`${SCATTER_SQL}\` (index on (c, id)), ${CLIENTS} clients, ${SECONDS} s | ${scatterGw.toFixed(0)} q/s | ${scatterRef.toFixed(0)} q/s | ${(scatterGw / scatterRef).toFixed(2)} |`,
      `| scatter \`${SCATTER_SORT_SQL}\` (no index: each server sorts its rows), ${CLIENTS} clients, ${SECONDS / 2} s | ${sortGw.toFixed(1)} q/s | ${sortRef.toFixed(1)} q/s | ${(sortGw / sortRef).toFixed(2)} |`,
      `| OLAP stream \`${STREAM_SQL}\` (${ROWS.toLocaleString('en-US')} rows), 1 client, median of ${PAIRS} interleaved pairs (ratios ${pairs.map((x) => ratioOf(x).toFixed(2)).join(', ')}) | ${fastRate.toFixed(0)} rows/s (${fast.seconds.toFixed(2)} s) | ${refRate.toFixed(0)} rows/s (${refFast.seconds.toFixed(2)} s) | ${(fastRate / refRate).toFixed(2)} |`,
      ...joins.map((j) => `| cross-shard join, ${j.name}: ${j.rowsPerRun} rows per query | ${j.gwRate.toFixed(0)} rows/s | ${j.refRate.toFixed(0)} rows/s (local join) | ${(j.gwRate / j.refRate).toFixed(2)} (gateway CPU ${j.gwCpuPerRow.toFixed(2)} µs per row) |`),
      '',
      'Gateway memory (RSS of the gateway process, from /proc):',
      '',
      '| phase | RSS |',
      '| --- | ---: |',
      `| after the scatter runs (peak so far) | ${mib(afterScatter.rss)} MiB (${mib(afterScatter.hwm)} MiB) |`,
      `| idle, before the OLAP stream | ${mib(idle)} MiB |`,
      `| peak during the ${PAIRS} ${ROWS.toLocaleString('en-US')}-row OLAP streams, fast client | ${mib(fastPeak)} MiB (+${mib(fastPeak - idle)} MiB) |`,
      `| peak during the same stream, slow client (${PAUSES} stops of ${PAUSE_MS} ms; ${slow.seconds.toFixed(1)} s in all) | ${mib(slowPeak)} MiB (+${mib(slowPeak - slowStart)} MiB over its start) |`,
      `| largest growth during one stop of the slow client | ${maxPauseGrowth >= 0 ? '+' : ''}${(maxPauseGrowth / 1024).toFixed(1)} MiB |`,
      `| peak during the joins (OLTP: each answer buffered, ${joins[0].rowsPerRun} rows at most) | ${mib(joinPeak)} MiB |`,
      `| peak over the whole run | ${mib(overallPeak)} MiB |`,
      '',
      `CPU per scatter query (user + system): gateway ${scatterCpu.gateway.toFixed(0)} µs and the 4 shards ${scatterCpu.shards.toFixed(0)} µs together, against ${scatterCpu.reference.toFixed(0)} µs on the one MariaDB. Gateway CPU for the fast stream: ${cpuPerRow.toFixed(2)} µs per row (median of the ${PAIRS} streams; ${cpuPerRows.map((x) => x.toFixed(2)).join(', ')} sorted).`,
      '',
      `The slow client's stops, gateway RSS: ${slow.pauses.map((x) => `${mib(x.before)}→${mib(x.settled)}→${mib(x.after)}`).join(', ')} MiB (at the stop → ${SETTLE_MS} ms later, once the sockets are full → at ${PAUSE_MS} ms). Gateway CPU in the last ${PAUSE_MS - SETTLE_MS} ms of each stop: ${slow.pauses.map((x) => (x.cpuSettled / 1000).toFixed(0)).join(', ')} ms (CPU time is read in 10 ms ticks; the fast streams kept the gateway at ${(streamCpuPerSecond / 1000).toFixed(0)} ms per second).`,
      `The joins ran in the OLTP workload (buffered); the OLAP stream and the slow client in \`set workload = 'olap'\`. Peaks are VmHWM, reset per phase through /proc/<pid>/clear_refs. Loading took ${loadSeconds.toFixed(0)} s (not part of any number).`,
    ].join('\n');
    console.log('\n' + section);
    replaceBenchSection('gateway: OLAP stream, scatter ORDER BY LIMIT, cross-shard join', 'pnpm --filter @shardgate/gateway bench:olap', section);
  } finally {
    for (const c of conns) c.destroy();
    if (gateway && gateway.child.exitCode === null) {
      const exited = new Promise((r) => gateway!.child.once('exit', r));
      gateway.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      killGateway();
    }
    if (relay && relay.exitCode === null) relay.kill('SIGKILL');
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.removeListener('exit', killGateway);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
