/**
 * The gateway's CPU per point select with its caches warm: one process holds a gateway (the whole
 * stack: MySQL listener, client session, metrics, planner, executor, shard client) and drives it
 * over loopback with CLIENTS connections of the shard client in a closed loop, against one real
 * MariaDB. The process's CPU per query (user+sys, from process.cpuUsage) includes the driver's
 * share, which is the same for every build, so two builds compare by difference.
 *
 * Builds alternate, each run in a fresh process (with the node flags of its `shardgate` bin), so a
 * busy machine hits both alike:
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/in-process-point-select.ts
 *   BASE_DIST=<other checkout>/apps/gateway/dist RUNS=5 QUERIES=40000 CLIENTS=8 \
 *     pnpm --filter @shardgate/gateway exec tsx bench/in-process-point-select.ts
 *
 * PS=1 drives the gateway with prepared statements instead (mysql2's `execute`: COM_STMT_PREPARE
 * once per connection, then a COM_STMT_EXECUTE with a binary row per query); mysql2 costs the
 * driver more CPU than the shard client does, the same for both builds.
 *
 * ALLOC=1 adds, per build, the bytes of JavaScript heap allocated per query, which load does not
 * change (RUNS=0 for that alone); ALLOC_PROFILE=<path prefix> also writes a sampled allocation
 * profile of that run per build (<prefix>.<build dir>.heapprofile, garbage included).
 *
 * It is steadier than sysbench through a gateway process (relay-vs-gateway.ts) on a shared
 * machine, but it is not that measurement: no other process runs between a query and its reply,
 * so the caches stay warm and the figures are smaller than the gateway's under sysbench.
 */
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql2 from 'mysql2';
import { ShardClient, type QueryReceiver } from '@shardgate/mysql-protocol';
import { nodeFlagsOf, startPreparedShard, TABLE_SIZE } from './sysbench-harness.js';
import { buildsInRound } from './build-order.js';
import { startGatewayFromDist } from './in-process-gateway.js';
import { inspectorPost } from './allocation-profile.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS ?? 3);
const QUERIES = Number(process.env.QUERIES ?? 40_000);
const CLIENTS = Number(process.env.CLIENTS ?? 8);
/** Extra node flags for the measured processes, e.g. `--cpu-prof --cpu-prof-dir=DIR` for a profile. */
/** Queries of an allocation run (ALLOC=1): few enough that the young generation never fills. */
const ALLOC_QUERIES = Number(process.env.ALLOC_QUERIES ?? 5000);
const CHILD_NODE_ARGS = (process.env.CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
/** Prepared statements (COM_STMT_EXECUTE through mysql2) instead of COM_QUERY text. */
const PREPARED = process.env.PS === '1';

/** One driver connection: runs a point select for `id` and calls `done(failed)`. */
interface PointSelectDriver {
  select(id: number, done: (failed: boolean) => void): void;
  close(): void;
}

async function textDriver(port: number): Promise<PointSelectDriver> {
  const c = new ShardClient({ host: '127.0.0.1', port, user: 'sb', password: 'sb', database: 'sbtest' });
  await c.connect();
  return {
    select(id, done) {
      const receiver: QueryReceiver = {
        columns: () => {},
        row: () => {},
        end: () => done(false),
        ok: () => done(false),
        error: () => done(true),
      };
      c.query(`SELECT c FROM sbtest1 WHERE id=${id}`, receiver);
    },
    close: () => c.quit(),
  };
}

async function preparedDriver(port: number): Promise<PointSelectDriver> {
  const c = mysql2.createConnection({ host: '127.0.0.1', port, user: 'sb', password: 'sb', database: 'sbtest' });
  await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
  return {
    select(id, done) {
      c.execute('SELECT c FROM sbtest1 WHERE id=?', [id], (err) => done(err !== null));
    },
    close: () => c.destroy(),
  };
}

/** Child: one gateway from `dist`, driven in this process; prints `cpu <µs per query> <qps>`. */
async function child(dist: string, shardPort: number, dir: string): Promise<void> {
  const gw = await startGatewayFromDist(dist, dir, {
    vschema: { keyspaces: { sbtest: { sharded: false, tables: { sbtest1: {} } } } },
    keyspace: 'sbtest',
    shards: { '0': `mysql://root:@127.0.0.1:${shardPort}/sbtest` },
    user: 'sb',
    settings: [`poolSize: ${CLIENTS}`],
  });
  const mysql = { port: gw.port };
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => (PREPARED ? preparedDriver(mysql.port) : textDriver(mysql.port))));
  let failures = 0;
  /** `n` point selects spread over the clients, each client one query at a time (as sysbench). */
  const runAll = (n: number): Promise<void> =>
    new Promise((resolve) => {
      let started = 0;
      let finished = 0;
      let seed = 1;
      const next = (c: PointSelectDriver): void => {
        if (started >= n) return;
        started++;
        seed = (seed * 48271) % 2147483647;
        c.select(1 + (seed % TABLE_SIZE), (failed) => {
          if (failed) failures++;
          if (++finished === n) resolve();
          else next(c);
        });
      };
      for (const c of clients) next(c);
    });
  await runAll(Math.min(20_000, QUERIES)); // warm-up: JIT, plan cache, pools
  if (process.env.ALLOC_CHILD === '1') {
    // Bytes allocated on the JavaScript heap per query, which load does not change: with a young
    // generation larger than what the run allocates, no GC runs, so heapUsed only grows.
    let gcs = 0;
    const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
    obs.observe({ entryTypes: ['gc'] });
    (globalThis as { gc?: () => void }).gc!();
    await new Promise((r) => setTimeout(r, 50));
    gcs = 0;
    const profileTo = process.env.ALLOC_PROFILE;
    const inspector = profileTo ? new Session() : null;
    if (inspector !== null) {
      // Sampled allocations, garbage included: where the bytes per query come from (DevTools opens the file).
      inspector.connect();
      await inspectorPost(inspector, 'HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    }
    const h0 = process.memoryUsage().heapUsed;
    await runAll(ALLOC_QUERIES);
    const h1 = process.memoryUsage().heapUsed;
    if (inspector !== null) {
      const { profile } = (await inspectorPost(inspector, 'HeapProfiler.stopSampling', {})) as { profile: unknown };
      writeFileSync(`${profileTo}.${path.basename(path.dirname(path.dirname(dist)))}.heapprofile`, JSON.stringify(profile));
      inspector.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    for (const c of clients) c.close();
    await gw.stop();
    if (gcs > 0) throw new Error(`${gcs} GCs during the allocation run: lower ALLOC_QUERIES`);
    console.log(`alloc ${((h1 - h0) / ALLOC_QUERIES).toFixed(0)}`);
    return;
  }
  const before = process.cpuUsage();
  const t0 = performance.now();
  await runAll(QUERIES);
  const wall = performance.now() - t0;
  const used = process.cpuUsage(before);
  for (const c of clients) c.close();
  await gw.stop();
  if (failures > 0) throw new Error(`${failures} queries failed`);
  console.log(`cpu ${((used.user + used.system) / QUERIES).toFixed(2)} ${((QUERIES / wall) * 1000).toFixed(0)} ${(used.user / QUERIES).toFixed(2)} ${(used.system / QUERIES).toFixed(2)}`);
}

/** Node flags of an allocation run: a 64 MiB young generation (no GC in the run) and gc(). */
const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

function spawnChild(dist: string, shardPort: number, dir: string, alloc: boolean) {
  const flags = alloc ? ALLOC_FLAGS : [...nodeFlagsOf(path.join(dist, 'cli.js')), ...CHILD_NODE_ARGS];
  return spawn(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), 'child', dist, String(shardPort), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ALLOC_CHILD: alloc ? '1' : '0' },
  });
}

/** Bytes allocated on the JavaScript heap per query (see ALLOC_CHILD in child()). */
function allocPerQuery(dist: string, shardPort: number): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-inproc-'));
  return new Promise((resolve, reject) => {
    const p = spawnChild(dist, shardPort, dir, true);
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const m = /^alloc (\S+)$/m.exec(out);
      if (code !== 0 || !m) reject(new Error(`allocation child for ${dist} exited with ${code}: ${out}`));
      else resolve(Number(m[1]));
    });
  });
}

function runChild(dist: string, shardPort: number): Promise<{ us: number; qps: number; user: number; sys: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-inproc-'));
  return new Promise((resolve, reject) => {
    const p = spawnChild(dist, shardPort, dir, false);
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const m = /^cpu (\S+) (\S+) (\S+) (\S+)$/m.exec(out);
      if (code !== 0 || !m) reject(new Error(`child for ${dist} exited with ${code}: ${out}`));
      else resolve({ us: Number(m[1]), qps: Number(m[2]), user: Number(m[3]), sys: Number(m[4]) });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3], Number(process.argv[4]), process.argv[5]);
  const builds: [string, string][] = [['this build', path.resolve(here, '../dist')]];
  if (process.env.BASE_DIST) builds.unshift(['BASE_DIST', path.resolve(process.env.BASE_DIST)]);
  const { cluster, port } = await startPreparedShard();
  try {
    console.log(`${QUERIES} point selects per run (${PREPARED ? 'prepared statements' : 'text protocol'}), ${CLIENTS} connections, gateway and driver in one process; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    const results = new Map<string, number[]>(builds.map(([name]) => [name, []]));
    for (let r = 1; r <= RUNS; r++) {
      const parts: string[] = [];
      for (const [name, dist] of buildsInRound(builds, r)) {
        const res = await runChild(dist, port);
        results.get(name)!.push(res.us);
        parts.push(`${name} ${res.us.toFixed(1)} µs/q (${res.user.toFixed(1)}+${res.sys.toFixed(1)}), ${res.qps} q/s`);
      }
      console.log(`run ${r} (load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}): ${parts.join(' | ')}`);
    }
    for (const [name, us] of results) console.log(`median ${name}: ${median(us).toFixed(1)} µs CPU per query (gateway + driver)`);
    if (process.env.ALLOC === '1') {
      for (const [name, dist] of builds) console.log(`${name}: ${await allocPerQuery(dist, port)} bytes of JavaScript heap allocated per query (gateway + driver, ${ALLOC_QUERIES} queries, no GC)`);
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
