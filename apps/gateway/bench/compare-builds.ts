/**
 * A/B of two gateway builds under sysbench oltp_point_select in one run, each judged against
 * HAProxy measured in the same round (the machine's cores are shared, so absolute QPS drift).
 * Rounds alternate HAProxy, build A, build B; the table reports every round and the medians.
 *
 *   BASE_CLI=/path/to/old/apps/gateway/dist/cli.js ROUNDS=3 SECONDS_PER_RUN=5 \
 *     pnpm --filter @shardgate/gateway exec tsx bench/compare-builds.ts
 *
 * To keep an old build: copy `apps/` and `packages/` (with their dist/) to a scratch folder and
 * symlink its `node_modules` to this checkout's; the packages' own node_modules links are relative.
 * PS_MODE=auto runs the prepared-statement protocol instead of text.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, processCpuMicros, startGateway, startHaproxy, startPreparedShard, sysbench, type GatewayProcess } from './sysbench-harness.js';

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 5);
const THREADS = Number(process.env.THREADS ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PS_MODE = (process.env.PS_MODE ?? 'disable') as 'disable' | 'auto';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const baseCli = process.env.BASE_CLI;
  const dir = mkdtempSync(path.join(process.env.OUT_DIR ?? tmpdir(), 'sg-ab-'));
  const { cluster, port } = await startPreparedShard();
  const gateways: [string, GatewayProcess][] = [];
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | null = null;
  try {
    haproxy = await startHaproxy(dir, port);
    if (baseCli) gateways.push(['A (BASE_CLI)', await startGateway({ dir, name: 'a', shardPort: port, poolSize: THREADS, cli: baseCli })]);
    gateways.push([baseCli ? 'B (this build)' : 'this build', await startGateway({ dir, name: 'b', shardPort: port, poolSize: THREADS, cli: CLI })]);
    const ratios = new Map<string, number[]>(gateways.map(([n]) => [n, []]));
    const cpuPerQuery = new Map<string, number[]>(gateways.map(([n]) => [n, []]));
    console.log(`sysbench oltp_point_select, ${THREADS} threads, ${SECONDS} s per target, ps-mode=${PS_MODE}`);
    for (let round = 1; round <= ROUNDS; round++) {
      const h = await sysbench({ port: haproxy.port, user: 'root', password: '', db: 'sbtest', threads: THREADS, seconds: SECONDS, psMode: PS_MODE });
      const parts = [`round ${round}: HAProxy ${h.qps.toFixed(0)}`];
      for (const [name, gw] of gateways) {
        const before = processCpuMicros(gw.child.pid!);
        const g = await sysbench({ port: gw.port, user: 'sb', password: 'sb', db: 'sbtest', threads: THREADS, seconds: SECONDS, psMode: PS_MODE });
        const after = processCpuMicros(gw.child.pid!);
        const user = (after.user - before.user) / g.queries;
        const sys = (after.system - before.system) / g.queries;
        ratios.get(name)!.push(g.qps / h.qps);
        cpuPerQuery.get(name)!.push(user + sys);
        parts.push(`${name} ${g.qps.toFixed(0)} (${(g.qps / h.qps).toFixed(2)}× HAProxy, CPU ${user.toFixed(0)}+${sys.toFixed(0)} µs/query user+sys, ${g.errors} errors)`);
      }
      console.log(parts.join(' | '));
    }
    for (const [name, rs] of ratios) console.log(`median ${name}: ${median(rs).toFixed(2)}× HAProxy, ${median(cpuPerQuery.get(name)!).toFixed(0)} µs gateway CPU per query`);
  } finally {
    for (const [, gw] of gateways) await gw.stop();
    haproxy?.child.kill('SIGTERM');
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
