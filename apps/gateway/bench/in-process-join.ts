/**
 * The gateway's CPU and JavaScript heap allocations per joined row of bench:olap's two cross-shard
 * joins (`select t.id, t.c, u.name from t join u on u.k = t.k where t.id <= 2000`: 2,000 outer
 * rows, the inner side scattered, 20,000 joined rows; `… on u.id = t.k …`: the inner side routed,
 * 2,000 joined rows), over 4 shards. One process holds a gateway (MySQL listener, client session,
 * planner, executor, shard client) and drives it over loopback with one connection of the shard
 * client, a fixed number of queries (so a loaded machine cannot leave the JIT colder in one build
 * than in the other). The CPU per row (process.cpuUsage) includes the driver's share, the same for
 * every build, so builds compare by difference; the bytes allocated per row do not depend on load.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/in-process-join.ts
 *   BASE_DIST=<other checkout>/apps/gateway/dist RUNS=3 pnpm --filter @shardgate/gateway exec tsx bench/in-process-join.ts
 *
 * Builds alternate, each run in a fresh process with the node flags of its `shardgate` bin. The
 * allocation run uses a 256 MiB young generation and fails if a GC ran during it (heapUsed then
 * only grows). JOIN=scattered|routed picks one join (both by default); WORKLOAD=olap streams them
 * (the gateway's `workload` setting; oltp, bench:olap's default, otherwise). ALLOC_PROFILE=<path
 * prefix> also writes a sampled allocation profile per build and join (`<prefix>.<checkout>.<join>
 * .heapprofile`, garbage included; the sampler's own allocations make that run's figure approximate). CPU_PROF=<dir> runs
 * the CPU runs under the inspector's profiler and writes one .cpuprofile per build and join there.
 */
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { ShardClient, type QueryReceiver } from '@shardgate/mysql-protocol';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { nodeFlagsOf } from './sysbench-harness.js';
import { buildsInRound } from './build-order.js';
import { startGatewayFromDist } from './in-process-gateway.js';
import { inspectorPost } from './allocation-profile.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.RUNS ?? 3);
const WORKLOAD = process.env.WORKLOAD ?? 'oltp';
const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const JOIN_OUTER = 2000;
const U_ROWS = 20_000;
const JOINS = [
  { name: 'scattered', sql: `select t.id, t.c, u.name from t join u on u.k = t.k where t.id <= ${JOIN_OUTER}`, rows: 20_000, queries: 150, alloc: 3 },
  { name: 'routed', sql: `select t.id, t.c, u.name from t join u on u.id = t.k where t.id <= ${JOIN_OUTER}`, rows: 2_000, queries: 600, alloc: 30 },
].filter((j) => process.env.JOIN === undefined || process.env.JOIN === j.name);
const VSCHEMA = {
  keyspaces: {
    bench: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] }, u: { column_vindexes: [{ column: 'id', name: 'hash' }] } },
    },
  },
};
/** bench:olap's tables and derived columns (olap-and-scatter.ts): each outer row matches 10 u rows on k. */
const SCHEMA = [
  'create table t (id bigint not null primary key, k int not null, c char(20) not null) engine=innodb',
  'create table u (id bigint not null primary key, k int not null, name char(16) not null, key (k)) engine=innodb',
];
const T_COLUMNS = (id: string): string => `${id}, ${id} % 100000, left(md5(${id}), 20)`;
const U_COLUMNS = (id: string): string => `${id}, ${id} % ${U_ROWS / 10} + 1, concat('u', ${id})`;

/** Runs `sql` once on `c`; resolves with the rows read. */
function runOnce(c: ShardClient, sql: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    const receiver: QueryReceiver = {
      columns: () => {},
      row: () => void rows++,
      end: () => resolve(rows),
      ok: () => resolve(rows),
      error: (e) => reject(new Error(`${sql}: ${JSON.stringify(e)}`)),
    };
    c.query(sql, receiver);
  });
}

/** Child: one gateway from `dist`, driven in this process; prints one `result <join> …` line per join. */
async function child(dist: string, ports: number[], dir: string): Promise<void> {
  const gw = await startGatewayFromDist(dist, dir, {
    vschema: VSCHEMA,
    keyspace: 'bench',
    shards: Object.fromEntries(SHARDS.map((s, i) => [s, `mysql://root:@127.0.0.1:${ports[i]}/bench`])),
    user: 'app',
    settings: ['poolSize: 8', `workload: ${WORKLOAD}`],
  });
  const listen = { port: gw.port };
  const c = new ShardClient({ host: '127.0.0.1', port: listen.port, user: 'app', password: 'app', database: 'bench' });
  await c.connect();
  const alloc = process.env.ALLOC_CHILD === '1';
  const runAll = async (sql: string, n: number, expect: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const got = await runOnce(c, sql);
      if (got !== expect) throw new Error(`${sql}: ${got} rows, expected ${expect}`);
    }
  };
  for (const j of JOINS) {
    await runAll(j.sql, Math.ceil(j.queries / 3), j.rows); // JIT, plan cache, pools
    if (alloc) {
      let gcs = 0;
      const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
      obs.observe({ entryTypes: ['gc'] });
      (globalThis as { gc?: () => void }).gc!();
      await new Promise((r) => setTimeout(r, 50));
      gcs = 0;
      const sampler = process.env.ALLOC_PROFILE ? new Session() : null;
      if (sampler !== null) {
        sampler.connect();
        await inspectorPost(sampler, 'HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
      }
      const h0 = process.memoryUsage().heapUsed;
      await runAll(j.sql, j.alloc, j.rows);
      const h1 = process.memoryUsage().heapUsed;
      if (sampler !== null) {
        const { profile } = (await inspectorPost(sampler, 'HeapProfiler.stopSampling', {})) as { profile: unknown };
        writeFileSync(`${process.env.ALLOC_PROFILE}.${path.basename(path.resolve(dist, '../../..'))}.${j.name}.heapprofile`, JSON.stringify(profile));
        sampler.disconnect();
      }
      await new Promise((r) => setTimeout(r, 50));
      obs.disconnect();
      if (gcs > 0 && sampler === null) throw new Error(`${gcs} GCs during the allocation run of ${j.name}: lower its alloc count`);
      console.log(`result ${j.name} alloc ${((h1 - h0) / (j.alloc * j.rows)).toFixed(0)}`);
      continue;
    }
    const profiler = process.env.CPU_PROF ? new Session() : null;
    if (profiler !== null) {
      profiler.connect();
      await inspectorPost(profiler, 'Profiler.enable', {});
      await inspectorPost(profiler, 'Profiler.setSamplingInterval', { interval: 200 });
      await inspectorPost(profiler, 'Profiler.start', {});
    }
    const before = process.cpuUsage();
    const t0 = performance.now();
    await runAll(j.sql, j.queries, j.rows);
    const wall = performance.now() - t0;
    const used = process.cpuUsage(before);
    if (profiler !== null) {
      const { profile } = (await inspectorPost(profiler, 'Profiler.stop', {})) as { profile: unknown };
      writeFileSync(path.join(process.env.CPU_PROF!, `${path.basename(path.resolve(dist, '../../..'))}.${j.name}.cpuprofile`), JSON.stringify(profile));
      profiler.disconnect();
    }
    const rows = j.queries * j.rows;
    console.log(`result ${j.name} cpu ${((used.user + used.system) / rows).toFixed(3)} ${((rows / wall) * 1000).toFixed(0)}`);
  }
  c.quit();
  await gw.stop();
}

/** Node flags of an allocation run: a 256 MiB young generation (no GC in the run) and gc(). */
const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=256', '--max-semi-space-size=256'];

function runChild(dist: string, ports: number[], alloc: boolean): Promise<string[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-inproc-join-'));
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
      const lines = out.split('\n').filter((l) => l.startsWith('result '));
      if (code !== 0 || lines.length !== JOINS.length) reject(new Error(`child for ${dist} exited with ${code}: ${out}`));
      else resolve(lines);
    });
  });
}

/** Loads on each shard the rows of t (ids 1..JOIN_OUTER) and u whose id the hash vindex maps to it. */
async function load(cluster: LocalCluster): Promise<void> {
  const hash = loadVSchema(VSCHEMA).keyspace('bench')!.vindexes.get('hash') as FunctionalVindex;
  const map = new ShardMap([...SHARDS]);
  const idsOf = (n: number): Map<string, number[]> => {
    const by = new Map<string, number[]>(SHARDS.map((s) => [s, []]));
    for (let id = 1; id <= n; id++) by.get(map.shardFor(hash.map(BigInt(id))!))!.push(id);
    return by;
  };
  const tIds = idsOf(JOIN_OUTER);
  const uIds = idsOf(U_ROWS);
  for (const s of SHARDS) {
    const c = await mysql.createConnection(cluster.shard(s).connectionOptions());
    const insert = (table: string, columns: (id: string) => string, ids: number[]) =>
      c.query(`insert into ${table} select ${columns('j.id')} from json_table(?, '$[*]' columns (id bigint path '$')) j`, [JSON.stringify(ids)]);
    await insert('t', T_COLUMNS, tIds.get(s)!);
    await insert('u', U_COLUMNS, uIds.get(s)!);
    await c.end();
  }
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

async function main(): Promise<void> {
  if (process.argv[2] === 'child') return child(process.argv[3], process.argv[4].split(',').map(Number), process.argv[5]);
  const builds: [string, string][] = [['this build', path.resolve(here, '../dist')]];
  if (process.env.BASE_DIST) builds.unshift(['BASE_DIST', path.resolve(process.env.BASE_DIST)]);
  const cluster = await LocalCluster.start({ shards: SHARDS, database: 'bench', schema: SCHEMA });
  try {
    await load(cluster);
    const ports = SHARDS.map((s) => cluster.shard(s).port);
    console.log(`joins (${WORKLOAD}), one connection, gateway and driver in one process: ${JOINS.map((j) => `${j.name} ${j.queries} queries of ${j.rows} rows`).join(', ')}`);
    if (process.env.ALLOC !== '0') {
      for (const [name, dist] of builds) {
        const lines = await runChild(dist, ports, true);
        console.log(`${name}: bytes of JavaScript heap allocated per joined row (gateway + driver, no GC): ${lines.map((l) => l.split(' ').filter((_, i) => i === 1 || i === 3).join(' ')).join(', ')}`);
      }
    }
    for (let r = 1; r <= RUNS; r++) {
      const parts: string[] = [];
      for (const [name, dist] of buildsInRound(builds, r)) {
        const lines = await runChild(dist, ports, false);
        parts.push(`${name} ${lines.map((l) => { const [, j, , us, rps] = l.split(' '); return `${j} ${us} µs/row ${rps} rows/s`; }).join(', ')}`);
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
