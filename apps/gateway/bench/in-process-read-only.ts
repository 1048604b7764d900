/**
 * The gateway's CPU and JavaScript heap allocations per sysbench `oltp_read_only` transaction
 * over 2 shards, with `--db-ps-mode=auto`'s shape: every statement a prepared statement
 * (mysql2's `execute`: COM_STMT_PREPARE once per connection, then COM_STMT_EXECUTE with binary
 * rows), in the order sysbench sends them: BEGIN, 10 point selects `SELECT c FROM sbtest1 WHERE
 * id=?`, the four `id BETWEEN ? AND ?` ranges of 100 ids (plain, SUM(k), ORDER BY c, DISTINCT c
 * ORDER BY c), COMMIT. sbtest1 (sysbench's table, 10,000 rows) is sharded by `hash(id)`, so a
 * point select reaches one shard and a range both.
 *
 * One process holds a gateway (MySQL listener, client session, planner, executor, shard client)
 * and drives it over loopback with CLIENTS connections, a fixed number of transactions (so a
 * loaded machine cannot leave the JIT colder in one build than in the other). The CPU per
 * transaction (process.cpuUsage) includes the driver's share (mysql2, the same for every build),
 * so builds compare by difference; the bytes allocated per transaction do not depend on load.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/in-process-read-only.ts
 *   BASE_DIST=<other checkout>/apps/gateway/dist RUNS=3 TXS=1500 pnpm --filter @shardgate/gateway exec tsx bench/in-process-read-only.ts
 *
 * Builds alternate, each run in a fresh process with the node flags of its `shardgate` bin. The
 * allocation run uses a 64 MiB young generation and fails if a GC ran during it; it also counts
 * the socket writes per transaction (to the shards, to the clients, by the driver; the window
 * ends after the gateway stopped, so the pools' COM_QUITs are in it).
 * ALLOC_PROFILE=<path prefix> also writes a sampled allocation profile per build and prints its
 * largest allocation sites. CPU_PROFILE=<path prefix> writes a CPU profile of each CPU run's measured
 * transactions (not the start or the warm-up); CHILD_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR'
 * profiles the whole of each CPU run.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import mysql2 from 'mysql2';
import { LocalCluster } from '@shardgate/test-kit';
import { vhash } from '@shardgate/vschema';
import { nodeFlagsOf, TABLE_SIZE } from './sysbench-harness.js';
import { buildsInRound } from './build-order.js';
import { startGatewayFromDist } from './in-process-gateway.js';
import { inspectorPost, printAllocationSites, type HeapProfileNodeRoot } from './allocation-profile.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS ?? 3);
const TXS = Number(process.env.TXS ?? 1500);
const WARMUP = Number(process.env.WARMUP ?? 1000);
const CLIENTS = Number(process.env.CLIENTS ?? 8);
/** Transactions of an allocation run: few enough that the 64 MiB young generation never fills. */
const ALLOC_TXS = Number(process.env.ALLOC_TXS ?? 40);
const CHILD_NODE_ARGS = (process.env.CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const SHARDS = ['-80', '80-'];
const RANGE = 100;
const SCHEMA = "create table sbtest1 (id int not null, k int not null default 0, c char(120) not null default '', pad char(60) not null default '', primary key (id), key k_1 (k)) engine=innodb";

const POINT = 'SELECT c FROM sbtest1 WHERE id=?';
const RANGES = [
  'SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?',
  'SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?',
  'SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c',
  'SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c',
];
/** The statements of MIX, by name: sysbench's transaction, or a part of it to cost on its own. */
const KINDS: Record<string, string> = { begin: 'BEGIN', commit: 'COMMIT', point: POINT, range: RANGES[0], sum: RANGES[1], order: RANGES[2], distinct: RANGES[3] };
const SYSBENCH_MIX = 'begin point*10 range sum order distinct commit';
/**
 * The transaction each connection runs, as kinds with counts (`begin point*10 commit`): sysbench's
 * by default. Costing a kind by difference (`begin sum*14 commit` against `begin commit`) splits
 * the transaction's CPU and bytes by statement kind. MIXES=`mix;mix;…` measures several in one run.
 */
const MIXES = (process.env.MIXES ?? process.env.MIX ?? SYSBENCH_MIX).split(';').map((m) => m.trim());
function statementsOf(mix: string): string[] {
  return mix.split(/\s+/).flatMap((part) => {
    const [kind, times] = part.split('*');
    if (!(kind in KINDS)) throw new Error(`unknown statement kind ${kind} in MIX (${Object.keys(KINDS).join(', ')})`);
    return Array.from({ length: Number(times ?? 1) }, () => KINDS[kind]);
  });
}

/** One driver connection: runs one transaction and reports whether a statement failed. */
interface TransactionDriver {
  transaction(seed: () => number, done: (failed: boolean) => void): void;
  close(): void;
}

async function preparedDriver(port: number, statements: readonly string[]): Promise<TransactionDriver> {
  const c = mysql2.createConnection({ host: '127.0.0.1', port, user: 'sb', password: 'sb', database: 'sbtest' });
  await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
  // Prepared up front, as sysbench does: a COM_STMT_PREPARE inside the transaction would wait for
  // a pooled connection while the session holds each shard's only one (poolSize = CLIENTS).
  for (const sql of ['BEGIN', POINT, ...RANGES, 'COMMIT']) await new Promise<void>((resolve, reject) => c.prepare(sql, (err) => (err ? reject(err) : resolve())));
  return {
    transaction(seed, done) {
      const steps: [string, number[]][] = statements.map((sql) => {
        if (sql === POINT) return [sql, [1 + (seed() % TABLE_SIZE)]];
        if (!RANGES.includes(sql)) return [sql, []];
        const from = 1 + (seed() % (TABLE_SIZE - RANGE));
        return [sql, [from, from + RANGE - 1]];
      });
      let i = 0;
      const next = (err: unknown): void => {
        if (err) return done(true);
        if (i === steps.length) return done(false);
        const [sql, params] = steps[i++];
        c.execute(sql, params, next);
      };
      next(null);
    },
    close: () => c.destroy(),
  };
}

/** Child: one gateway from `dist`, driven in this process; prints `cpu …` or `alloc …`. */
async function child(dist: string, ports: number[], dir: string, mix: string): Promise<void> {
  const gw = await startGatewayFromDist(dist, dir, {
    vschema: { keyspaces: { sbtest: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { sbtest1: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } },
    keyspace: 'sbtest',
    shards: Object.fromEntries(SHARDS.map((s, i) => [s, `mysql://root:@127.0.0.1:${ports[i]}/sbtest`])),
    user: 'sb',
    settings: [`poolSize: ${CLIENTS}`],
  });
  const listen = { port: gw.port };
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => preparedDriver(listen.port, statementsOf(mix))));
  let failures = 0;
  let state = 1;
  const seed = (): number => (state = (state * 48271) % 2147483647);
  const runAll = (n: number): Promise<void> =>
    new Promise((resolve) => {
      let started = 0;
      let finished = 0;
      const next = (c: TransactionDriver): void => {
        if (started >= n) return;
        started++;
        c.transaction(seed, (failed) => {
          if (failed) failures++;
          if (++finished === n) resolve();
          else next(c);
        });
      };
      for (const c of clients) next(c);
    });
  await runAll(WARMUP); // JIT, plan cache, pools, prepared statements
  if (process.env.ALLOC_CHILD === '1') {
    const writes = countSocketWrites(ports, listen.port);
    let gcs = 0;
    const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
    obs.observe({ entryTypes: ['gc'] });
    (globalThis as { gc?: () => void }).gc!();
    await new Promise((r) => setTimeout(r, 50));
    gcs = 0;
    const profileTo = process.env.ALLOC_PROFILE;
    const inspector = profileTo ? new Session() : null;
    if (inspector !== null) {
      inspector.connect();
      await inspectorPost(inspector, 'HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    }
    const h0 = process.memoryUsage().heapUsed;
    await runAll(ALLOC_TXS);
    const h1 = process.memoryUsage().heapUsed;
    if (inspector !== null) {
      const { profile } = (await inspectorPost(inspector, 'HeapProfiler.stopSampling', {})) as { profile: HeapProfileNodeRoot };
      writeFileSync(`${profileTo}.${path.basename(path.dirname(path.dirname(dist)))}.heapprofile`, JSON.stringify(profile));
      inspector.disconnect();
      printAllocationSites(profile.head, ALLOC_TXS, 'transaction');
    }
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    for (const c of clients) c.close();
    await gw.stop();
    if (failures > 0) throw new Error(`${failures} transactions failed`);
    if (gcs > 0 && inspector === null) throw new Error(`${gcs} GCs during the allocation run: lower ALLOC_TXS`);
    console.error(`socket writes per transaction: ${writes.toShards / ALLOC_TXS} to the shards, ${writes.toClients / ALLOC_TXS} to the clients, ${writes.byDriver / ALLOC_TXS} by the driver`);
    console.log(`alloc ${((h1 - h0) / ALLOC_TXS).toFixed(0)}`);
    return;
  }
  const cpuProfileTo = process.env.CPU_PROFILE;
  const profiler = cpuProfileTo ? new Session() : null;
  if (profiler !== null) {
    profiler.connect();
    await inspectorPost(profiler, 'Profiler.enable', {});
    await inspectorPost(profiler, 'Profiler.setSamplingInterval', { interval: 100 });
    await inspectorPost(profiler, 'Profiler.start', {});
  }
  const before = process.cpuUsage();
  const t0 = performance.now();
  await runAll(TXS);
  const wall = performance.now() - t0;
  const used = process.cpuUsage(before);
  if (profiler !== null) {
    const { profile } = (await inspectorPost(profiler, 'Profiler.stop', {})) as { profile: unknown };
    writeFileSync(`${cpuProfileTo}.${path.basename(path.dirname(path.dirname(dist)))}.${process.pid}.cpuprofile`, JSON.stringify(profile));
    profiler.disconnect();
  }
  for (const c of clients) c.close();
  await gw.stop();
  if (failures > 0) throw new Error(`${failures} transactions failed`);
  console.log(`cpu ${((used.user + used.system) / TXS).toFixed(0)} ${((TXS / wall) * 1000).toFixed(0)} ${(used.user / TXS).toFixed(0)} ${(used.system / TXS).toFixed(0)}`);
}

/**
 * Counts the writes handed to the kernel (one per libuv write request: a corked batch is one), by
 * where the socket goes: each one wakes a peer (a shard, or the driver) on the same cores, so the
 * count says whether a change added or removed hops, which CPU figures on a loaded machine cannot.
 */
function countSocketWrites(shardPorts: number[], gatewayPort: number): { toShards: number; toClients: number; byDriver: number } {
  const counts = { toShards: 0, toClients: 0, byDriver: 0 };
  const proto = net.Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const original = proto._writeGeneric;
  proto._writeGeneric = function (this: net.Socket, ...args: unknown[]) {
    if (shardPorts.includes(this.remotePort ?? -1)) counts.toShards++;
    else if (this.localPort === gatewayPort) counts.toClients++;
    else counts.byDriver++;
    return original.apply(this, args);
  };
  return counts;
}

/** Node flags of an allocation run: a 64 MiB young generation (no GC in the run) and gc(). */
const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

function runChild(dist: string, ports: number[], alloc: boolean, mix: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-inproc-ro-'));
  const flags = alloc ? ALLOC_FLAGS : [...nodeFlagsOf(path.join(dist, 'cli.js')), ...CHILD_NODE_ARGS];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), 'child', dist, ports.join(','), dir, mix], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ALLOC_CHILD: alloc ? '1' : '0' },
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const line = /^(cpu|alloc) .*$/m.exec(out)?.[0];
      if (code !== 0 || line === undefined) reject(new Error(`child for ${dist} exited with ${code}: ${out}`));
      else resolve(line);
    });
  });
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

/** sysbench's rows, each on the shard its hash(id) names (written directly, as the gateway would). */
async function loadRows(cluster: LocalCluster): Promise<void> {
  const rows: string[][] = [[], []];
  for (let id = 1; id <= TABLE_SIZE; id++) {
    const k = 1 + ((id * 7919) % TABLE_SIZE);
    const c = Array.from({ length: 10 }, (_, i) => String((id * 2654435761 + i * 97) % 100000000000).padStart(11, '0')).join('-');
    const pad = Array.from({ length: 5 }, (_, i) => String((id * 40503 + i * 31) % 100000000000).padStart(11, '0')).join('-');
    rows[vhash(BigInt(id))[0] < 0x80 ? 0 : 1].push(`(${id},${k},'${c}','${pad}')`);
  }
  for (let s = 0; s < SHARDS.length; s++) {
    const c = await mysql.createConnection(cluster.shard(SHARDS[s]).connectionOptions());
    for (let i = 0; i < rows[s].length; i += 1000) await c.query(`insert into sbtest1 (id, k, c, pad) values ${rows[s].slice(i, i + 1000).join(',')}`);
    await c.end();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3], process.argv[4].split(',').map(Number), process.argv[5], process.argv[6]);
  const builds: [string, string][] = [['this build', path.resolve(here, '../dist')]];
  if (process.env.BASE_DIST) builds.unshift(['BASE_DIST', path.resolve(process.env.BASE_DIST)]);
  const cluster = await LocalCluster.start({ shards: SHARDS, database: 'sbtest', schema: SCHEMA });
  try {
    await loadRows(cluster);
    const ports = SHARDS.map((s) => cluster.shard(s).port);
    console.log(`oltp_read_only as prepared statements, 2 shards: ${TXS} transactions per run after ${WARMUP} to warm up, ${CLIENTS} connections, gateway and driver in one process`);
    for (const mix of MIXES) {
      if (MIXES.length > 1 || mix !== SYSBENCH_MIX) console.log(`transaction: ${mix}`);
      for (const [name, dist] of builds) {
        const m = /^alloc (\S+)$/.exec(await runChild(dist, ports, true, mix))!;
        console.log(`${name}: ${m[1]} bytes of JavaScript heap allocated per transaction (gateway + driver, ${ALLOC_TXS} transactions, no GC)`);
      }
    }
    for (let r = 1; r <= RUNS; r++) {
      for (const mix of MIXES) {
        const parts: string[] = [];
        for (const [name, dist] of buildsInRound(builds, r)) {
          const [, us, tps, user, sys] = (await runChild(dist, ports, false, mix)).split(' ');
          parts.push(`${name} ${us} µs/tx (${user}+${sys}), ${tps} tx/s`);
        }
        console.log(`run ${r}${MIXES.length > 1 ? ` [${mix}]` : ''} (load ${loadAverage()}): ${parts.join(' | ')}`);
      }
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
