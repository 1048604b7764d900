/**
 * The gateway's CPU and JavaScript heap allocations per scatter `select id, c from t order by c,
 * id limit 100` over 4 shards (25,000 rows each, index on (c, id)), with its caches warm: one
 * process holds a gateway (MySQL listener, client session, planner, executor, shard client) and
 * drives it over loopback with CLIENTS connections of the shard client, a fixed number of queries
 * (so a loaded machine cannot leave the JIT colder in one build than in the other). The CPU per
 * query (process.cpuUsage) includes the driver's share, the same for every build, so builds
 * compare by difference; the bytes allocated per query do not depend on load at all.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/in-process-scatter.ts
 *   BASE_DIST=<other checkout>/apps/gateway/dist RUNS=3 QUERIES=3000 pnpm --filter @shardgate/gateway exec tsx bench/in-process-scatter.ts
 *
 * Builds alternate, each run in a fresh process with the node flags of its `shardgate` bin. The
 * allocation run uses a 64 MiB young generation and fails if a GC ran during it (heapUsed then
 * only grows); SQL= measures another statement. ALLOC_PROFILE=<path prefix> also writes a sampled
 * allocation profile per build (`<prefix>.<build>.heapprofile`, DevTools opens it) and prints its
 * largest allocation sites (self bytes per function, and per function with its caller).
 *
 * A CPU run prints µs per query (user+system), the minor page faults per query of the whole
 * process (process.resourceUsage: memory first touched, e.g. buffers malloc takes fresh pages for)
 * and queries per second.
 *
 * PS=1 sends it as a prepared statement instead (mysql2's `execute`: COM_STMT_PREPARE once per
 * connection, then COM_STMT_EXECUTE with binary rows), with PARAMS= a JSON array of its `?`
 * values, as sysbench's `--db-ps-mode=auto` does:
 *
 *   PS=1 SQL='select c from t where id between ? and ?' PARAMS='[1000,1099]' ALLOC=… \
 *     pnpm --filter @shardgate/gateway exec tsx bench/in-process-scatter.ts
 *
 * mysql2 costs the driver more than the shard client does, the same for every build. WORKLOAD=olap
 * runs it streamed (the gateway's `workload` setting; oltp by default).
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
import { nodeFlagsOf } from './sysbench-harness.js';
import { buildsInRound } from './build-order.js';
import { startGatewayFromDist } from './in-process-gateway.js';
import { SCATTER_VSCHEMA, scatterShardUrls, startScatterCluster } from './scatter-cluster.js';
import { inspectorPost, printAllocationSites, type HeapProfileNodeRoot } from './allocation-profile.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS ?? 3);
const QUERIES = Number(process.env.QUERIES ?? 3000);
const WARMUP = Number(process.env.WARMUP ?? 2000);
const CLIENTS = Number(process.env.CLIENTS ?? 4);
/** Queries of an allocation run: few enough that the 64 MiB young generation never fills. */
const ALLOC_QUERIES = Number(process.env.ALLOC_QUERIES ?? 100);
const SQL = process.env.SQL ?? 'select id, c from t order by c, id limit 100';
/** Prepared statements (COM_STMT_EXECUTE through mysql2) instead of COM_QUERY text. */
const PREPARED = process.env.PS === '1';
/** The gateway's default workload: oltp (results read whole first) or olap (streamed). */
const WORKLOAD = process.env.WORKLOAD ?? 'oltp';
const PARAMS = JSON.parse(process.env.PARAMS ?? '[]') as (number | string | null)[];

/** One driver connection: runs SQL and reports the rows it read, or null when it failed. */
interface StatementDriver {
  run(done: (rows: number | null) => void): void;
  close(): void;
}

async function textDriver(port: number): Promise<StatementDriver> {
  const c = new ShardClient({ host: '127.0.0.1', port, user: 'app', password: 'app', database: 'bench' });
  await c.connect();
  return {
    run(done) {
      let rows = 0;
      const receiver: QueryReceiver = {
        columns: () => {},
        row: () => void rows++,
        end: () => done(rows),
        ok: () => done(rows),
        error: () => done(null),
      };
      c.query(SQL, receiver);
    },
    close: () => c.quit(),
  };
}

async function preparedDriver(port: number): Promise<StatementDriver> {
  const c = mysql2.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'app', database: 'bench' });
  await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
  return {
    run(done) {
      c.execute(SQL, PARAMS, (err, rows) => done(err !== null ? null : Array.isArray(rows) ? rows.length : 0));
    },
    close: () => c.destroy(),
  };
}

/** Child: one gateway from `dist`, driven in this process; prints `cpu …` or `alloc …`. */
async function child(dist: string, ports: number[], dir: string): Promise<void> {
  const gw = await startGatewayFromDist(dist, dir, {
    vschema: SCATTER_VSCHEMA,
    keyspace: 'bench',
    shards: scatterShardUrls(ports),
    user: 'app',
    settings: ['poolSize: 8', `workload: ${WORKLOAD}`],
  });
  const listen = { port: gw.port };
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => (PREPARED ? preparedDriver(listen.port) : textDriver(listen.port))));
  let failures = 0;
  let rows = 0;
  const runAll = (n: number): Promise<void> =>
    new Promise((resolve) => {
      let started = 0;
      let finished = 0;
      const next = (c: StatementDriver): void => {
        if (started >= n) return;
        started++;
        c.run((got) => {
          if (got === null) failures++;
          else rows += got;
          if (++finished === n) resolve();
          else next(c);
        });
      };
      for (const c of clients) next(c);
    });
  await runAll(WARMUP); // JIT, plan cache, pools
  if (process.env.ALLOC_CHILD === '1') {
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
    await runAll(ALLOC_QUERIES);
    const h1 = process.memoryUsage().heapUsed;
    if (inspector !== null) {
      const { profile } = (await inspectorPost(inspector, 'HeapProfiler.stopSampling', {})) as { profile: HeapProfileNodeRoot };
      writeFileSync(`${profileTo}.${path.basename(path.dirname(path.dirname(dist)))}.heapprofile`, JSON.stringify(profile));
      inspector.disconnect();
      printAllocationSites(profile.head, ALLOC_QUERIES, 'query');
    }
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    for (const c of clients) c.close();
    await gw.stop();
    // The sampling profiler allocates too (and may start a GC): its run's figure is approximate.
    if (gcs > 0 && inspector === null) throw new Error(`${gcs} GCs during the allocation run: lower ALLOC_QUERIES`);
    console.log(`alloc ${((h1 - h0) / ALLOC_QUERIES).toFixed(0)}`);
    return;
  }
  rows = 0;
  const faults0 = process.resourceUsage().minorPageFault;
  const before = process.cpuUsage();
  const t0 = performance.now();
  await runAll(QUERIES);
  const wall = performance.now() - t0;
  const used = process.cpuUsage(before);
  const faults = process.resourceUsage().minorPageFault - faults0;
  for (const c of clients) c.close();
  await gw.stop();
  if (failures > 0) throw new Error(`${failures} queries failed`);
  if (rows !== QUERIES * 100 && process.env.SQL === undefined) throw new Error(`${rows} rows for ${QUERIES} queries`);
  console.log(`cpu ${((used.user + used.system) / QUERIES).toFixed(1)} ${((QUERIES / wall) * 1000).toFixed(0)} ${(used.user / QUERIES).toFixed(1)} ${(used.system / QUERIES).toFixed(1)} ${(faults / QUERIES).toFixed(2)}`);
}

/** Node flags of an allocation run: a 64 MiB young generation (no GC in the run) and gc(). */
const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

function runChild(dist: string, ports: number[], alloc: boolean): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-inproc-scatter-'));
  const flags = alloc ? ALLOC_FLAGS : nodeFlagsOf(path.join(dist, 'cli.js'));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...flags, ...process.execArgv, fileURLToPath(import.meta.url), 'child', dist, ports.join(','), dir], {
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

async function main(): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3], process.argv[4].split(',').map(Number), process.argv[5]);
  const builds: [string, string][] = [['this build', path.resolve(here, '../dist')]];
  if (process.env.BASE_DIST) builds.unshift(['BASE_DIST', path.resolve(process.env.BASE_DIST)]);
  const { cluster, ports } = await startScatterCluster();
  try {
    console.log(`${SQL}${PREPARED ? ` (prepared, params ${JSON.stringify(PARAMS)})` : ''}, ${WORKLOAD}: ${QUERIES} queries per run after ${WARMUP} to warm up, ${CLIENTS} connections, gateway and driver in one process`);
    for (const [name, dist] of builds) {
      const m = /^alloc (\S+)$/.exec(await runChild(dist, ports, true))!;
      console.log(`${name}: ${m[1]} bytes of JavaScript heap allocated per query (gateway + driver, ${ALLOC_QUERIES} queries, no GC)`);
    }
    for (let r = 1; r <= RUNS; r++) {
      const parts: string[] = [];
      for (const [name, dist] of buildsInRound(builds, r)) {
        const [, us, qps, user, sys, faults] = (await runChild(dist, ports, false)).split(' ');
        parts.push(`${name} ${us} µs/q (${user}+${sys}), ${faults} minor faults/q, ${qps} q/s`);
      }
      console.log(`run ${r} (load ${loadAverage()}): ${parts.join(' | ')}`);
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
