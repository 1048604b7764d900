/**
 * sysbench oltp_point_select through HAProxy (TCP mode), a plain Node TCP relay (tcp-relay.mjs)
 * and the gateway, side by side in each round, with each Node process's CPU per query and,
 * optionally, its system calls per query (strace -c, in a round of its own: strace slows the
 * traced process, so the traced round's QPS is not reported).
 *
 *   PS_MODE=disable|auto ROUNDS=3 SECONDS_PER_RUN=5 STRACE=1 PAIRS=1 \
 *     pnpm --filter @shardgate/gateway exec tsx bench/relay-vs-gateway.ts
 *
 * BASE_CLI=<other checkout>/apps/gateway/dist/cli.js adds an older build as a fourth target (A/B).
 *
 * The relay is the ceiling for a Node process in the gateway's place on this machine: the
 * gateway's gap to it is the cost of parsing, planning and re-encoding, not of Node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, freePort, machineCpuMicros, mainThreadSchedNs, processCpuMicros, processFaultsAndSwitches, startGateway, startHaproxy, startPreparedShard, sysbench, waitFor, type GatewayProcess } from './sysbench-harness.js';

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 5);
const THREADS = Number(process.env.THREADS ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PS_MODE = (process.env.PS_MODE ?? 'disable') as 'disable' | 'auto';
const STRACE = process.env.STRACE === '1';
// PAIRS=1: also two relays and two gateways side by side, the clients split between them (THREADS/2
// each): what a gateway would give with its sessions spread over two single-threaded processes,
// as HAProxy spreads its connections over one thread per core.
const PAIRS = process.env.PAIRS === '1';
const here = path.dirname(fileURLToPath(import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function startRelay(targetPort: number): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn('node', [path.join(here, 'tcp-relay.mjs'), String(port), String(targetPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /relay listening/, 'tcp relay');
  return { child, port };
}

/** strace -c over one sysbench run: calls per query of each system call the process made. */
async function syscallsPerQuery(pid: number, port: number, user: string, password: string): Promise<string> {
  const out = path.join(tmpdir(), `strace-${pid}-${Date.now()}.txt`);
  const tracer = spawn('strace', ['-c', '-f', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const r = await sysbench({ port, user, password, db: 'sbtest', threads: THREADS, seconds: SECONDS, psMode: PS_MODE });
  tracer.kill('SIGINT');
  await new Promise((res) => tracer.once('exit', res));
  const text = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  const calls: [string, number][] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m && m[2] !== 'total') calls.push([m[2], Number(m[1])]);
  }
  calls.sort((a, b) => b[1] - a[1]);
  const total = calls.reduce((s, [, n]) => s + n, 0);
  return `${(total / r.queries).toFixed(2)} per query: ${calls.slice(0, 8).map(([n, c]) => `${n} ${(c / r.queries).toFixed(2)}`).join(', ')}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-relay-'));
  const { cluster, port } = await startPreparedShard();
  let haproxy: ChildProcess | null = null;
  let relay: ChildProcess | null = null;
  let gw: GatewayProcess | null = null;
  let base: GatewayProcess | null = null;
  let relay2: ChildProcess | null = null;
  let gw2: GatewayProcess | null = null;
  // Second process of a target, by the first one's name (PAIRS).
  const pairs = new Map<string, number>();
  try {
    const h = await startHaproxy(dir, port);
    haproxy = h.child;
    const r = await startRelay(port);
    relay = r.child;
    gw = await startGateway({ dir, name: 'gw', shardPort: port, poolSize: THREADS, cli: process.env.GATEWAY_CLI ?? CLI });
    const targets: [string, number, string, string, ChildProcess | null][] = [
      ['HAProxy', h.port, 'root', '', null],
      ['relay', r.port, 'root', '', relay],
    ];
    if (process.env.BASE_CLI) {
      base = await startGateway({ dir, name: 'base', shardPort: port, poolSize: THREADS, cli: process.env.BASE_CLI });
      targets.push(['shardgate (BASE_CLI)', base.port, 'sb', 'sb', base.child]);
      await sysbench({ port: base.port, user: 'sb', password: 'sb', db: 'sbtest', threads: THREADS, seconds: 2, psMode: PS_MODE });
    }
    targets.push(['shardgate', gw.port, 'sb', 'sb', gw.child]);
    if (PAIRS) {
      // A second relay and a second gateway: each pair shares the clients half and half (see PAIRS).
      const r2 = await startRelay(port);
      relay2 = r2.child;
      gw2 = await startGateway({ dir, name: 'gw2', shardPort: port, poolSize: THREADS, cli: process.env.GATEWAY_CLI ?? CLI });
      await sysbench({ port: gw2.port, user: 'sb', password: 'sb', db: 'sbtest', threads: THREADS, seconds: 2, psMode: PS_MODE });
      pairs.set('relay', r2.port);
      pairs.set('shardgate', gw2.port);
      targets.push(['relay ×2', r.port, 'root', '', null], ['shardgate ×2', gw.port, 'sb', 'sb', null]);
    }
    // Warm-up (not counted): the gateway's JIT and plan cache.
    await sysbench({ port: gw.port, user: 'sb', password: 'sb', db: 'sbtest', threads: THREADS, seconds: 2, psMode: PS_MODE });
    console.log(`sysbench oltp_point_select, ${THREADS} threads, ${SECONDS} s per target, ps-mode=${PS_MODE}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    const ratios = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      let anchor = 0;
      const parts: string[] = [];
      for (const [name, p, user, password, child] of targets) {
        const before = child ? processCpuMicros(child.pid!) : null;
        const kernelBefore = child ? processFaultsAndSwitches(child.pid!) : null;
        const schedBefore = child ? mainThreadSchedNs(child.pid!) : null;
        const machineBefore = machineCpuMicros();
        const second = name.endsWith(' ×2') ? pairs.get(name.slice(0, -3)) : undefined;
        const res =
          second === undefined
            ? await sysbench({ port: p, user, password, db: 'sbtest', threads: THREADS, seconds: SECONDS, psMode: PS_MODE })
            : await Promise.all([p, second].map((q) => sysbench({ port: q, user, password, db: 'sbtest', threads: THREADS / 2, seconds: SECONDS, psMode: PS_MODE }))).then(([a, b]) => ({ ...a, qps: a!.qps + b!.qps, queries: a!.queries + b!.queries, errors: a!.errors + b!.errors }));
        if (name === 'HAProxy') anchor = res.qps;
        let line = `${name} ${res.qps.toFixed(0)}`;
        if (name !== 'HAProxy') {
          (ratios.get(name) ?? ratios.set(name, []).get(name)!).push(res.qps / anchor);
          line += ` (${(res.qps / anchor).toFixed(2)}×`;
        }
        if (child && before) {
          const after = processCpuMicros(child.pid!);
          const us = (after.user - before.user + after.system - before.system) / res.queries;
          (cpu.get(name) ?? cpu.set(name, []).get(name)!).push(us);
          line += `, ${((after.user - before.user) / res.queries).toFixed(0)}+${((after.system - before.system) / res.queries).toFixed(0)} µs/q user+sys`;
          const kernelAfter = processFaultsAndSwitches(child.pid!);
          line += `, ${((kernelAfter.minorFaults - kernelBefore!.minorFaults) / res.queries).toFixed(3)} faults/q, ${((kernelAfter.switches - kernelBefore!.switches) / res.queries).toFixed(2)} switches/q`;
        }
        if (child && schedBefore) {
          // The main thread waiting for a CPU while runnable: the share of each query's latency
          // that is the machine's cores being busy with everyone else, not the thread's own work.
          const schedAfter = mainThreadSchedNs(child.pid!);
          line += `, main thread ${((schedAfter.run - schedBefore.run) / 1000 / res.queries).toFixed(0)} µs/q on a CPU and ${((schedAfter.wait - schedBefore.wait) / 1000 / res.queries).toFixed(0)} waiting for one`;
        }
        const machineAfter = machineCpuMicros();
        const busy = machineAfter.busy - machineBefore.busy;
        line += `${name === 'HAProxy' ? ' (' : ', '}machine ${(busy / res.queries).toFixed(0)} µs/q busy, ${((100 * busy) / (busy + machineAfter.idle - machineBefore.idle)).toFixed(0)}% busy${name === 'HAProxy' ? ')' : ''}`;
        if (name !== 'HAProxy') line += `, ${res.errors} errors)`;
        parts.push(line);
      }
      console.log(`round ${round} (load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}): ${parts.join(' | ')}`);
    }
    for (const [name, rs] of ratios) console.log(`median ${name}: ${median(rs).toFixed(2)}× HAProxy${cpu.has(name) ? `, ${median(cpu.get(name)!).toFixed(0)} µs CPU per query` : ''}`);
    if (STRACE) {
      for (const [name, p, user, password, child] of targets) {
        if (child) console.log(`syscalls ${name}: ${await syscallsPerQuery(child.pid!, p, user, password)}`);
      }
    }
  } finally {
    await gw?.stop();
    await gw2?.stop();
    await base?.stop();
    relay?.kill('SIGTERM');
    relay2?.kill('SIGTERM');
    haproxy?.kill('SIGTERM');
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
