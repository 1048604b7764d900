/**
 * Gateway memory under many connections (issue 11): RSS of a gateway process (2 shards) when idle,
 * with IDLE idle client connections open, and while LARGE of them each send a ~1 MB statement at
 * once (a 1 MB comment in a point select: it is read, normalized in a plan worker and answered).
 * RSS is read from /proc every 20 ms; the peak is reported.
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/connection-memory.ts
 *   IDLE=1000 LARGE=100 pnpm --filter @shardgate/gateway exec tsx bench/connection-memory.ts
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { STALL_SCHEMA, STALL_VSCHEMA } from '../test/support/stall-probe.js';
import { freePort, startGatewayProcessFromConfig } from './sysbench-harness.js';

const IDLE = Number(process.env.IDLE ?? 1000);
const LARGE = Number(process.env.LARGE ?? 100);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Samples a process's RSS until stopped; returns the peak. */
function samplePeak(pid: number): { stop: () => number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-conn-mem-'));
  const cluster = await LocalCluster.start({ shards: ['-80', '80-'], database: 'commerce', schema: STALL_SCHEMA });
  const conns: mysql.Connection[] = [];
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
    const gw = await startGatewayProcessFromConfig(cfg);
    const pid = gw.child.pid!;
    try {
      const opts = { host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' };
      const first = await mysql.createConnection(opts);
      await first.query('select id from customer where id = 1');
      conns.push(first);
      await new Promise((r) => setTimeout(r, 500));
      const idleRss = rssMiB(pid);
      for (let i = conns.length; i < IDLE; i += 50) {
        conns.push(...(await Promise.all(Array.from({ length: Math.min(50, IDLE - i) }, () => mysql.createConnection(opts)))));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const withIdle = rssMiB(pid);
      const sql = `select id, name from customer where id = 11 /* ${'c'.repeat(1024 * 1024)} */`;
      const sampler = samplePeak(pid);
      const started = performance.now();
      const results = await Promise.allSettled(conns.slice(0, LARGE).map((c) => c.query(sql)));
      const ms = performance.now() - started;
      const peak = sampler.stop();
      const failed = results.filter((r) => r.status === 'rejected');
      await new Promise((r) => setTimeout(r, 2000));
      const after = rssMiB(pid);
      const rows = [
        `| gateway idle, 1 connection | ${idleRss.toFixed(0)} MiB |`,
        `| ${IDLE} idle connections | ${withIdle.toFixed(0)} MiB (+${(((withIdle - idleRss) * 1024) / (IDLE - 1)).toFixed(0)} KiB per connection) |`,
        `| peak while ${LARGE} of them each send a 1 MB statement at once (${ms.toFixed(0)} ms for all; ${failed.length} failed) | ${peak.toFixed(0)} MiB |`,
        `| 2 s after | ${after.toFixed(0)} MiB |`,
      ];
      console.log(`| phase | gateway RSS |\n| --- | ---: |\n${rows.join('\n')}`);
      if (failed.length > 0) console.log((failed[0] as PromiseRejectedResult).reason);
    } finally {
      await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
      await gw.stop();
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
