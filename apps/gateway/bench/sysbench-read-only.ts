/**
 * sysbench oltp_read_only through a 2-shard keyspace against one MariaDB holding the same rows,
 * in one run, rounds interleaved (the machine's cores are shared). sbtest1 is sharded by `id`
 * (hash vindex): the transaction's 10 point selects go to one shard each, its four range queries
 * (`id BETWEEN`: plain, SUM, ORDER BY, DISTINCT ORDER BY) reach both shards and are merged.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/sysbench-read-only.ts        (writes BENCHMARKS.md)
 *   ROUNDS=2 SECONDS_PER_RUN=10 THREADS=8 PS_MODE=auto PROFILE=1 pnpm --filter @shardgate/gateway exec tsx bench/sysbench-read-only.ts
 *
 * PROFILE=1 runs the gateway under --cpu-prof and prints where its main thread's time went
 * (PROFILE_OUT=<file> keeps that profile).
 * CLI= another build's cli.js measures that build instead (A/B).
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalCluster } from '@shardgate/test-kit';
import { replaceBenchSection } from './bench-report.js';
import { summarize, type CpuProfile } from './cpu-profile.js';
import { CLI, freePort, processCpuMicros, run, startGatewayProcessFromConfig, sysbench, TABLE_SIZE, type GatewayProcess } from './sysbench-harness.js';

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 10);
const THREADS = Number(process.env.THREADS ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const PS_MODE = (process.env.PS_MODE ?? 'auto') as 'disable' | 'auto';
const PROFILE = process.env.PROFILE === '1';
const SHARDS = ['-80', '80-'];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-bench-ro-'));
  const cluster = await LocalCluster.start({ shards: ['direct', ...SHARDS].map((name) => ({ name, database: 'sbtest' })) });
  let gw: Omit<GatewayProcess, 'port'> | null = null;
  try {
    const port = await freePort();
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify({ keyspaces: { sbtest: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { sbtest1: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } }));
    const shards = SHARDS.map((s) => `      "${s}": "mysql://root:@127.0.0.1:${cluster.shard(s).port}/sbtest"`).join('\n');
    const cfg = path.join(dir, 'gw.yaml');
    writeFileSync(cfg, `listen: { mysql: "127.0.0.1:${port}", http: null }\nusers: [ { user: sb, password: sb } ]\nvschema: ./vschema.json\npoolSize: ${THREADS}\nkeyspaces:\n  sbtest:\n    shards:\n${shards}\n`);
    const prof = path.join(dir, 'prof');
    const started = await startGatewayProcessFromConfig(cfg, { name: 'read-only', cli: process.env.CLI ?? CLI, nodeArgs: PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [] });
    gw = started;

    // The same rows on both sides: sysbench prepares the one MariaDB directly and the 2-shard
    // keyspace through the gateway (explicit ids: --auto-inc=off, so no sequence is needed).
    const prepare = (p: number, user: string, password: string) =>
      run('sysbench', ['oltp_read_only', '--mysql-host=127.0.0.1', `--mysql-port=${p}`, `--mysql-user=${user}`, `--mysql-password=${password}`, '--mysql-db=sbtest', '--tables=1', `--table-size=${TABLE_SIZE}`, '--auto-inc=off', 'prepare']);
    await prepare(cluster.shard('direct').port, 'root', '');
    await prepare(port, 'sb', 'sb');

    const runOn = (p: number, user: string, password: string, seconds = SECONDS) => sysbench({ test: 'oltp_read_only', port: p, user, password, db: 'sbtest', threads: THREADS, seconds, psMode: PS_MODE });
    await runOn(port, 'sb', 'sb', 2); // warm-up: JIT, plan cache, pools
    const direct: number[] = [];
    const gateway: number[] = [];
    const cpuPerTx: number[] = [];
    const lines: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const d = await runOn(cluster.shard('direct').port, 'root', '');
      const before = processCpuMicros(started.child.pid!);
      const g = await runOn(port, 'sb', 'sb');
      const after = processCpuMicros(started.child.pid!);
      if (g.errors > 0) throw new Error(`oltp_read_only through shardgate had ${g.errors} errors`);
      direct.push(d.tps);
      gateway.push(g.tps);
      cpuPerTx.push((after.user + after.system - before.user - before.system) / g.transactions);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      lines.push(`| ${round} | ${d.tps.toFixed(0)} (${d.qps.toFixed(0)} q/s) | ${g.tps.toFixed(0)} (${g.qps.toFixed(0)} q/s) | ${(g.tps / d.tps).toFixed(2)} | ${cpuPerTx.at(-1)!.toFixed(0)} µs | ${load} |`);
      console.log(lines.at(-1));
    }
    const hwm = readFileSync(`/proc/${started.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)?.[1];
    const ratio = median(gateway) / median(direct);
    const section = [
      `sysbench oltp_read_only (10 point selects, 4 \`id BETWEEN\` ranges per transaction), ${THREADS} threads, ${SECONDS} s per target and round, 1 table of ${TABLE_SIZE} rows, \`--db-ps-mode=${PS_MODE}\`. shardgate runs a keyspace of 2 shards sharded by id (hash), so every range reaches both shards; "direct" is one MariaDB with all the rows. All servers, the gateway and sysbench share the machine's 2 cores.`,
      '',
      '| round | direct: tx/s | shardgate, 2 shards: tx/s | × direct | gateway CPU per transaction | load average |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...lines,
      '',
      `Median: ${ratio.toFixed(2)}× direct (target ≥ 0.5×); gateway CPU ${median(cpuPerTx).toFixed(0)} µs per transaction (14 statements plus BEGIN/COMMIT); gateway peak RSS ${hwm ? Math.round(Number(hwm) / 1024) : '?'} MiB.`,
    ].join('\n');
    console.log('\n' + section);
    await started.stop();
    if (PROFILE) {
      const profiles = readdirSync(prof).filter((f) => f.endsWith('.cpuprofile')).map((f) => ({ file: f, ...summarize(JSON.parse(readFileSync(path.join(prof, f), 'utf8')) as CpuProfile) }));
      const s = profiles.sort((a, b) => b.total - a.total)[0];
      // PROFILE_OUT=<file> keeps the main thread's .cpuprofile (for a flame graph, or inclusive times).
      if (process.env.PROFILE_OUT) copyFileSync(path.join(prof, s.file), process.env.PROFILE_OUT);
      const pct = (us: number) => `${((100 * us) / s.total).toFixed(1).padStart(5)}%`;
      for (const [k, us] of s.byPackage.slice(0, 10)) console.log(`  ${pct(us)}  ${k}`);
      for (const [k, us] of s.byFunction.slice(0, 30)) console.log(`  ${pct(us)}  ${k}`);
    } else if (process.env.CLI === undefined) {
      replaceBenchSection('gateway: sysbench oltp_read_only, 2 shards', 'pnpm --filter @shardgate/gateway exec tsx bench/sysbench-read-only.ts', section);
    }
  } finally {
    await gw?.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
