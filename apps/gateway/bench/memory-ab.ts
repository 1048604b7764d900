/**
 * Gateway memory (RSS from /proc) of two builds side by side, phase by phase, on the same 4-shard
 * cluster: at start, after a scatter load, at the peak of an OLAP stream (fast client, then a
 * client that stops reading), and at rest once the plan workers' idle timeout has passed.
 *
 *   BASE_CLI=/old/build/apps/gateway/dist/cli.js pnpm --filter @shardgate/gateway exec tsx bench/memory-ab.ts
 *
 * Without BASE_CLI only this build runs. Each gateway starts with its bin's node flags
 * (nodeFlagsOf); NODE_ARGS adds node flags to both (e.g. `--max-semi-space-size=4`). Rows: ROWS
 * (default 400,000) over the 4 shards. Gateway CPU (user + system, /proc) is reported per scatter
 * query and per streamed row; the fast stream runs FAST_STREAMS times per build, interleaved.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2';
import mysqlp from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { CLI, freePort, nodeFlagsOf, processCpuMicros, waitFor } from './sysbench-harness.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const ROWS = Number(process.env.ROWS ?? 400_000);
const SCATTER_SECONDS = Number(process.env.SCATTER_SECONDS ?? 4);
/** planWorkerIdleMs's default, plus room for the timer. */
const REST_WAIT_MS = Number(process.env.REST_WAIT_MS ?? 32_000);
const PAUSES = 4;
const FAST_STREAMS = Number(process.env.FAST_STREAMS ?? 3);
const cpuOf = (pid: number): number => {
  const c = processCpuMicros(pid);
  return c.user + c.system;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const PAUSE_MS = 1000;

const status = (pid: number, key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const rss = (pid: number): number => status(pid, 'VmRSS');
const hwm = (pid: number): number => status(pid, 'VmHWM');
const resetPeak = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, '5');

interface Build {
  name: string;
  child: ChildProcess;
  port: number;
  figures: Record<string, string>;
}

function stream(port: number, slowPid?: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const c = mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'app', database: 'bench' });
    c.query("set workload = 'olap'", (err) => {
      if (err) return reject(err);
      const growth: number[] = [];
      let rows = 0;
      const every = Math.floor(ROWS / (PAUSES + 1));
      const s = c.query({ sql: 'select id, k, c from t', rowsAsArray: true }).stream({ highWaterMark: 1000 });
      s.on('data', () => {
        rows++;
        if (slowPid !== undefined && rows % every === 0 && growth.length < PAUSES) {
          s.pause();
          const before = rss(slowPid);
          setTimeout(() => {
            growth.push(rss(slowPid) - before);
            s.resume();
          }, PAUSE_MS);
        }
      });
      s.once('error', reject);
      s.once('end', () => {
        c.end();
        if (rows !== ROWS) reject(new Error(`stream returned ${rows} rows, expected ${ROWS}`));
        else resolve(growth);
      });
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'sg-mem-ab-'));
const cluster = await LocalCluster.start({ shards: SHARDS, database: 'bench', schema: 'create table t (id bigint not null primary key, k int not null, c char(20) not null, key (c, id)) engine=innodb' });
const builds: Build[] = [];
try {
  // Each shard holds ids ≡ i (mod 4): placement does not matter to memory, only to answers, and
  // every query here reads all shards.
  await Promise.all(
    SHARDS.map(async (s, i) => {
      const c = await mysqlp.createConnection(cluster.shard(s).connectionOptions());
      await c.query(`insert into t select seq, seq % 100000, left(md5(seq), 20) from seq_1_to_${ROWS} where seq % 4 = ${i}`);
      await c.end();
    }),
  );
  writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify({ keyspaces: { bench: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } }));
  const shards = SHARDS.map((s) => `      "${s}": "mysql://root:@127.0.0.1:${cluster.shard(s).port}/bench"`).join('\n');
  const targets: [string, string][] = [];
  if (process.env.BASE_CLI) targets.push(['before (BASE_CLI)', process.env.BASE_CLI]);
  targets.push(['this build', CLI]);
  for (const [name, cli] of targets) {
    const port = await freePort();
    const cfg = path.join(dir, `gw-${builds.length}.yaml`);
    writeFileSync(cfg, `listen: { mysql: "127.0.0.1:${port}", http: null }\nusers: [ { user: app, password: app } ]\nvschema: ./vschema.json\npoolSize: 8\nkeyspaces:\n  bench:\n    shards:\n${shards}\n`);
    const child = spawn('node', [...nodeFlagsOf(cli), ...(process.env.NODE_ARGS ?? '').split(' ').filter(Boolean), cli, 'up', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor(child, /Connect with/, name);
    builds.push({ name, child, port, figures: {} });
  }
  await new Promise((r) => setTimeout(r, 1000));
  for (const b of builds) b.figures.started = rss(b.child.pid!).toFixed(0);

  for (const b of builds) {
    const pid = b.child.pid!;
    resetPeak(pid);
    const clients = await Promise.all([0, 1, 2, 3].map(() => mysqlp.createConnection({ host: '127.0.0.1', port: b.port, user: 'app', password: 'app', database: 'bench', rowsAsArray: true })));
    const end = Date.now() + SCATTER_SECONDS * 1000;
    let n = 0;
    const cpu0 = cpuOf(pid);
    await Promise.all(clients.map(async (c) => { while (Date.now() < end) { await c.query('select id, c from t order by c, id limit 100'); n++; } }));
    const cpu = (cpuOf(pid) - cpu0) / n;
    await Promise.all(clients.map((c) => c.end()));
    b.figures.scatter = `${rss(pid).toFixed(0)} (peak ${hwm(pid).toFixed(0)}; ${n} queries)`;
    b.figures.scatterCpu = `${cpu.toFixed(0)} µs`;
  }
  const streamCpu = new Map<Build, number[]>(builds.map((b) => [b, []]));
  const streamSecs = new Map<Build, number[]>(builds.map((b) => [b, []]));
  const streamPeak = new Map<Build, number>(builds.map((b) => [b, 0]));
  for (let round = 0; round < FAST_STREAMS; round++) {
    for (const b of builds) {
      const pid = b.child.pid!;
      resetPeak(pid);
      const cpu0 = cpuOf(pid);
      const t0 = performance.now();
      await stream(b.port);
      streamSecs.get(b)!.push((performance.now() - t0) / 1000);
      streamCpu.get(b)!.push((cpuOf(pid) - cpu0) / ROWS);
      streamPeak.set(b, Math.max(streamPeak.get(b)!, hwm(pid)));
    }
  }
  for (const b of builds) {
    b.figures.stream = streamPeak.get(b)!.toFixed(0);
    b.figures.streamCpu = `${streamCpu.get(b)!.map((x) => x.toFixed(2)).join(', ')} (median ${median(streamCpu.get(b)!).toFixed(2)})`;
    b.figures.streamSecs = streamSecs.get(b)!.map((x) => x.toFixed(2)).join(', ');
  }
  for (const b of builds) {
    const pid = b.child.pid!;
    resetPeak(pid);
    const start = rss(pid);
    const growth = await stream(b.port, pid);
    b.figures.slow = `${hwm(pid).toFixed(0)} (+${(hwm(pid) - start).toFixed(1)} over its start; per stop ${growth.map((g) => (g >= 0 ? '+' : '') + g.toFixed(1)).join(', ')})`;
  }
  await new Promise((r) => setTimeout(r, REST_WAIT_MS));
  for (const b of builds) b.figures.rest = rss(b.child.pid!).toFixed(0);

  const rows = [
    ['started (1 s after it accepts connections)', 'started'],
    [`after ${SCATTER_SECONDS} s of scatter ORDER BY … LIMIT 100, 4 clients`, 'scatter'],
    [`peak during a ${ROWS.toLocaleString('en-US')}-row OLAP stream, fast client (${FAST_STREAMS} runs)`, 'stream'],
    [`peak during the same stream, client stops reading ${PAUSES}× ${PAUSE_MS} ms (growth during each stop)`, 'slow'],
    [`at rest, ${REST_WAIT_MS / 1000} s later`, 'rest'],
  ];
  console.log(`\n| gateway CPU | ${builds.map((b) => b.name).join(' | ')} |\n| --- |${builds.map(() => ' ---: |').join('')}`);
  console.log(`| per scatter query | ${builds.map((b) => b.figures.scatterCpu).join(' | ')} |`);
  console.log(`| per streamed row, µs, each fast stream | ${builds.map((b) => b.figures.streamCpu).join(' | ')} |`);
  console.log(`| fast stream, seconds each | ${builds.map((b) => b.figures.streamSecs).join(' | ')} |`);
  console.log(`\n| phase (RSS, MiB) | ${builds.map((b) => b.name).join(' | ')} |\n| --- |${builds.map(() => ' ---: |').join('')}`);
  for (const [label, key] of rows) console.log(`| ${label} | ${builds.map((b) => b.figures[key]).join(' | ')} |`);
} finally {
  for (const b of builds) {
    const exited = new Promise((r) => b.child.once('exit', r));
    b.child.kill('SIGINT');
    await exited;
  }
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
