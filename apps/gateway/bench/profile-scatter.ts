/**
 * CPU profile and gateway CPU per query of a scatter `ORDER BY … LIMIT 100` over 4 shards (25,000
 * rows each, index on (c, id)): the gateway in a child process with `--cpu-prof`, 4 mysql2 clients.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/profile-scatter.ts
 *   SECS=6 SQL='select id, c from t order by c, id limit 100' CLI=/other/build/apps/gateway/dist/cli.js pnpm --filter @shardgate/gateway exec tsx bench/profile-scatter.ts
 *
 * CLI points at another build's cli.js for an A/B run; NODE_ARGS adds node flags to the gateway;
 * PROFILE_OUT=<file> keeps the gateway's main-thread profile; PROFILE=0 runs it without --cpu-prof.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { summarize, type CpuProfile } from './cpu-profile.js';
import { CLI, freePort, nodeFlagsOf, waitFor, processCpuMicros } from './sysbench-harness.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const dir = mkdtempSync(path.join(tmpdir(), 'sg-scatprof-'));
const cluster = await LocalCluster.start({ shards: SHARDS, database: 'bench', schema: 'create table t (id bigint not null primary key, k int not null, c char(20) not null, key (c, id)) engine=innodb' });
try {
  for (const s of SHARDS) {
    const c = await mysql.createConnection(cluster.shard(s).connectionOptions());
    await c.query('insert into t select seq, seq % 100000, left(md5(seq), 20) from seq_1_to_25000');
    await c.end();
  }
  const port = await freePort();
  writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify({ keyspaces: { bench: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } }));
  const shards = SHARDS.map((s) => `      "${s}": "mysql://root:@127.0.0.1:${cluster.shard(s).port}/bench"`).join('\n');
  writeFileSync(path.join(dir, 'gw.yaml'), `listen: { mysql: "127.0.0.1:${port}", http: null }\nusers: [ { user: app, password: app } ]\nvschema: ./vschema.json\npoolSize: 8\nkeyspaces:\n  bench:\n    shards:\n${shards}\n`);
  const prof = path.join(dir, 'prof');
  const profiling = process.env.PROFILE !== '0';
  const child = spawn('node', [...(profiling ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...nodeFlagsOf(process.env.CLI ?? CLI), ...(process.env.NODE_ARGS ?? '').split(' ').filter(Boolean), process.env.CLI ?? CLI, 'up', '--config', path.join(dir, 'gw.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /Connect with/, 'shardgate');
  const clients = await Promise.all([0, 1, 2, 3].map(() => mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'app', database: 'bench', rowsAsArray: true })));
  const sql = process.env.SQL ?? 'select id, c from t order by c, id limit 100';
  const load = async (ms: number): Promise<number> => {
    let n = 0;
    const end = Date.now() + ms;
    await Promise.all(clients.map(async (c) => { while (Date.now() < end) { await c.query(sql); n++; } }));
    return n;
  };
  // Warm-up (JIT, plan cache, shard pools) outside the measurement.
  await load(1000);
  // What the gateway spends with no query running (the profiler's sampling, timers), per µs of
  // wall time: subtracted below, so that CPU per query does not grow when a loaded machine lets
  // fewer queries through.
  const idle0 = processCpuMicros(child.pid!);
  const idleT0 = performance.now();
  await new Promise((r) => setTimeout(r, 2000));
  const idle1 = processCpuMicros(child.pid!);
  const idleRate = (idle1.user + idle1.system - idle0.user - idle0.system) / ((performance.now() - idleT0) * 1000);
  const cpu0 = processCpuMicros(child.pid!);
  const t0 = performance.now();
  const n = await load(Number(process.env.SECS ?? 8) * 1000);
  const cpu1 = processCpuMicros(child.pid!);
  const wallUs = (performance.now() - t0) * 1000;
  const total = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
  // User time is the gateway's JavaScript and GC; system time is mostly its socket syscalls, which
  // grow with the machine's load (a write to loopback also runs the receiver's side).
  console.log(
    `${n} queries, gateway CPU per query ${(total / n).toFixed(0)} µs (user ${((cpu1.user - cpu0.user) / n).toFixed(0)}, system ${((cpu1.system - cpu0.system) / n).toFixed(0)}); ` +
      `net of idle ${((total - idleRate * wallUs) / n).toFixed(0)} µs (idle ${(idleRate * 1e6).toFixed(0)} µs/s); load average ${loadavg()[0].toFixed(1)}`,
  );
  await Promise.all(clients.map((c) => c.end()));
  child.kill('SIGINT');
  await new Promise((r) => child.on('exit', r));
  if (profiling) {
    const files = readdirSync(prof).filter((f) => f.endsWith('.cpuprofile'));
    // The main thread's profile (the plan workers write their own): the one with the most samples.
    const profiles = files.map((f) => ({ file: f, ...summarize(JSON.parse(readFileSync(path.join(prof, f), 'utf8')) as CpuProfile) }));
    const s = profiles.sort((a, b) => b.total - a.total)[0];
    // PROFILE_OUT keeps the main thread's .cpuprofile (for a flame graph, or inclusive times).
    if (process.env.PROFILE_OUT) copyFileSync(path.join(prof, s.file), process.env.PROFILE_OUT);
    const pct = (us: number) => `${((100 * us) / s.total).toFixed(1).padStart(5)}%`;
    for (const [k, us] of s.byPackage.slice(0, 10)) console.log(`  ${pct(us)}  ${k}`);
    for (const [k, us] of s.byFunction.slice(0, 35)) console.log(`  ${pct(us)}  ${k}`);
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
