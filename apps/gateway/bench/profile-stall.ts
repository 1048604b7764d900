/**
 * Where the gateway's main thread spends a pathological statement of issue 11 (the classes of
 * test/support/stall-probe.ts): a gateway process under `--cpu-prof` gets the statements, then
 * SIGINT makes Node write one profile per thread. For the main thread this prints the longest runs
 * of busy samples with the functions that filled them, and the self time of the whole run; worker
 * profiles are summarized too. A busy run is an upper bound on how long the event loop could not
 * answer another client: work that yields (setImmediate) with no other client waiting never
 * idles between slices, so it shows as one run. The gateway's start-up is in the profile too.
 *
 * So each class also gets its longest synchronous stretches, measured in the gateway by
 * bench/stall-meter.mjs (a 1 ms timer standing in for a waiting client, which also makes sliced
 * work yield to it as it would to a real one), with the functions the profile sampled in each.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/profile-stall.ts
 *   ONLY='unclosed IN' TOP=25 OUT_DIR=/work/scratch/me pnpm --filter @shardgate/gateway exec tsx bench/profile-stall.ts
 *   STRETCHES=3 (how many of each class's longest stretches to break down by function; default 2)
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { answer, pathologicalStatements, STALL_SCHEMA, STALL_VSCHEMA } from '../test/support/stall-probe.js';
import { functionsBetween, longestBusySlices, summarize, type CpuProfile } from './cpu-profile.js';
import { freePort, startGatewayProcessFromConfig } from './sysbench-harness.js';

const ONLY = process.env.ONLY ? new RegExp(process.env.ONLY, 'i') : undefined;
const TOP = Number(process.env.TOP ?? 20);
/** How many of each class's longest stretches to break down by function. */
const STRETCHES = Number(process.env.STRETCHES ?? 2);

async function main(): Promise<void> {
  const outDir = process.env.OUT_DIR ?? mkdtempSync(path.join(tmpdir(), 'sg-stall-prof-'));
  mkdirSync(outDir, { recursive: true });
  const dir = mkdtempSync(path.join(outDir, 'run-'));
  const profDir = path.join(dir, 'prof');
  const cluster = await LocalCluster.start({ shards: ['-80', '80-'], database: 'commerce', schema: STALL_SCHEMA });
  try {
    const port = await freePort();
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(STALL_VSCHEMA));
    const shardUrl = (s: string): string => `mysql://root:@127.0.0.1:${cluster.shard(s).port}/commerce`;
    const cfg = path.join(dir, 'shardgate.yaml');
    writeFileSync(
      cfg,
      `listen: { mysql: "127.0.0.1:${port}", http: null }\nusers: [ { user: app, password: secret } ]\nvschema: ./vschema.json\n` +
        `keyspaces:\n  commerce:\n    shards: { "-80": "${shardUrl('-80')}", "80-": "${shardUrl('80-')}" }\n`,
    );
    const meterOut = path.join(dir, 'stretches.json');
    process.env.STALL_METER_OUT = meterOut;
    const meter = new URL('./stall-meter.mjs', import.meta.url).pathname;
    const gw = await startGatewayProcessFromConfig(cfg, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--import', meter] });
    const windows: { name: string; fromUs: number; toUs: number }[] = [];
    const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
    try {
      const client = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
      try {
        for (const stmt of pathologicalStatements()) {
          if (ONLY && !ONLY.test(stmt.name)) continue;
          const fromUs = nowUs();
          const a = await answer(client, stmt.sql);
          await new Promise((r) => setTimeout(r, 20)); // a stretch right after the answer counts too
          windows.push({ name: stmt.name, fromUs, toUs: nowUs() });
          console.log(`${stmt.name}: ${a.kind === 'error' ? `error ${a.errno}` : 'result'} in ${a.ms.toFixed(0)} ms`);
        }
      } finally {
        await client.end();
      }
    } finally {
      await gw.stop();
    }
    // Node names profiles CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is main.
    const stretches = JSON.parse(readFileSync(meterOut, 'utf8')) as [number, number][];
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    for (const file of files.sort()) {
      const thread = Number(file.split('.')[4]);
      const profile = JSON.parse(readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile;
      const s = summarize(profile);
      if (s.total < 50_000) continue; // idle workers
      console.log(`\n== ${thread === 0 ? 'main thread' : `worker thread ${thread}`}: ${(s.total / 1000).toFixed(0)} ms sampled (${file})`);
      if (thread === 0) {
        for (const w of windows) {
          const mine = stretches.filter(([from, to]) => to > w.fromUs && from < w.toUs).sort((a, b) => b[1] - b[0] - (a[1] - a[0]));
          console.log(`\n${w.name}: longest synchronous stretches (ms) ${mine.slice(0, 8).map(([f, t]) => ((t - f) / 1000).toFixed(1)).join(', ') || 'none over 3'}`);
          for (const [from, to] of mine.slice(0, STRETCHES)) {
            console.log(`  ${((to - from) / 1000).toFixed(1)} ms stretch; its top functions:`);
            for (const [k, us] of functionsBetween(profile, from, to).slice(0, TOP)) console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
          }
        }
        console.log('');
        for (const slice of longestBusySlices(profile, 3)) {
          console.log(`longest busy slice: ${(slice.us / 1000).toFixed(1)} ms; its top functions:`);
          for (const [k, us] of slice.byFunction.slice(0, TOP)) console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
        }
      }
      console.log('top functions by self time:');
      for (const [k, us] of s.byFunction.slice(0, TOP)) console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
    }
    if (process.env.OUT_DIR) console.log(`\nprofiles kept in ${profDir}`);
  } finally {
    await cluster.stop();
    if (!process.env.OUT_DIR) rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
