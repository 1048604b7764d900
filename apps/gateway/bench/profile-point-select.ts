/**
 * CPU profile of the gateway under sysbench oltp_point_select: one MariaDB shard, the gateway in a
 * child process with `--cpu-prof`, sysbench against it, then SIGINT (the gateway stops cleanly and
 * Node writes the profile). Prints the top self-time functions and self time per package.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/profile-point-select.ts
 *   SECONDS_PER_RUN=10 THREADS=8 PS_MODE=auto TOP=40 OUT_DIR=/work/scratch/me pnpm --filter @shardgate/gateway exec tsx bench/profile-point-select.ts
 *
 * The .cpuprofile file is kept in OUT_DIR (default: a temp dir) for Chrome DevTools.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarize, type CpuProfile } from './cpu-profile.js';
import { startGateway, startPreparedShard, sysbench } from './sysbench-harness.js';

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 10);
const THREADS = Number(process.env.THREADS ?? 8);
const TOP = Number(process.env.TOP ?? 30);
const PS_MODE = (process.env.PS_MODE ?? 'disable') as 'disable' | 'auto';

async function main(): Promise<void> {
  const outDir = process.env.OUT_DIR ?? mkdtempSync(path.join(tmpdir(), 'sg-prof-'));
  mkdirSync(outDir, { recursive: true });
  const workDir = mkdtempSync(path.join(outDir, 'run-'));
  const profDir = path.join(workDir, 'prof');
  const { cluster, port } = await startPreparedShard();
  try {
    const gw = await startGateway({ dir: workDir, name: 'prof', shardPort: port, poolSize: THREADS, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
    let result;
    try {
      result = await sysbench({ port: gw.port, user: 'sb', password: 'sb', db: 'sbtest', threads: THREADS, seconds: SECONDS, psMode: PS_MODE });
    } finally {
      await gw.stop();
    }
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile written in ${profDir}`);
    const profile = JSON.parse(readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile;
    const s = summarize(profile);
    const pct = (us: number) => `${((100 * us) / s.total).toFixed(1).padStart(5)}%`;
    console.log(`sysbench oltp_point_select, ${THREADS} threads, ${SECONDS} s, ps-mode=${PS_MODE}: ${result.qps.toFixed(0)} QPS, ${result.errors} errors`);
    const kept = process.env.OUT_DIR ? '' : ', deleted at exit: set OUT_DIR to keep it';
    console.log(`profile: ${path.join(profDir, file)} (${(s.total / 1e6).toFixed(1)} s sampled${kept})\n`);
    console.log('self time by package:');
    for (const [k, us] of s.byPackage.slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);
    console.log(`\ntop ${TOP} functions by self time:`);
    for (const [k, us] of s.byFunction.slice(0, TOP)) console.log(`  ${pct(us)}  ${k}`);
  } finally {
    await cluster.stop();
    if (!process.env.OUT_DIR) rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
