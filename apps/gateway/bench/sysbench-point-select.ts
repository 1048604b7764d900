/**
 * sysbench oltp_point_select, in one run: straight to MariaDB, through HAProxy (TCP mode), and
 * through shardgate (unsharded keyspace on the same MariaDB, and a 4-shard keyspace). The
 * gateway is judged against HAProxy measured in the same run, because both share the machine's
 * two cores with MariaDB and sysbench.
 *
 *   pnpm --filter @shardgate/gateway bench            (writes the table to BENCHMARKS.md)
 *   SECONDS_PER_RUN=10 THREADS=8 pnpm --filter @shardgate/gateway bench
 *
 * It also runs the prepared-statement protocol (`--db-ps-mode=auto`) against HAProxy and the
 * gateway and fails if the gateway returns any error. For where the CPU goes, see
 * profile-point-select.ts (CPU profile), hot-path.ts (in-process cost per query) and
 * compare-builds.ts (A/B of two builds against HAProxy).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { LocalCluster } from '@shardgate/test-kit';
import { replaceBenchSection } from './bench-report.js';
import { startGateway, startHaproxy, startPreparedShard, sysbench, TABLE_SIZE } from './sysbench-harness.js';

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 10);
const THREADS = Number(process.env.THREADS ?? 8);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-bench-'));
  const children: ChildProcess[] = [];
  let cluster: LocalCluster | null = null;
  try {
    const shard = await startPreparedShard();
    cluster = shard.cluster;
    // HAProxy in TCP mode in front of the same server.
    const haproxy = await startHaproxy(dir, shard.port);
    children.push(haproxy.child);
    // shardgate with one unsharded keyspace pointing at the same server.
    const gw = await startGateway({ dir, name: 'bench', shardPort: shard.port, poolSize: THREADS });
    children.push(gw.child);

    const run = (port: number, user: string, password: string, psMode: 'disable' | 'auto') => sysbench({ port, user, password, db: 'sbtest', threads: THREADS, seconds: SECONDS, psMode });
    // Warm-up (not counted): the gateway's JIT and plan cache, which HAProxy and MariaDB do not need.
    await sysbench({ port: gw.port, user: 'sb', password: 'sb', db: 'sbtest', threads: THREADS, seconds: 2, psMode: 'disable' });
    const text: [string, number][] = [
      ['MariaDB direct', (await run(shard.port, 'root', '', 'disable')).qps],
      ['HAProxy (TCP mode)', (await run(haproxy.port, 'root', '', 'disable')).qps],
      ['shardgate, unsharded keyspace', (await run(gw.port, 'sb', 'sb', 'disable')).qps],
    ];
    // Prepared statements (COM_STMT_PREPARE / COM_STMT_EXECUTE through the gateway).
    const psHaproxy = await run(haproxy.port, 'root', '', 'auto');
    const psGateway = await run(gw.port, 'sb', 'sb', 'auto');
    if (psGateway.errors > 0) throw new Error(`prepared-statement run through shardgate had ${psGateway.errors} errors`);

    const haproxyQps = text[1][1];
    const rows = text.map(([name, qps]) => `| ${name} | ${qps.toFixed(0)} | ${(qps / text[0][1]).toFixed(2)} | ${(qps / haproxyQps).toFixed(2)} |`);
    const rss = readFileSync(`/proc/${gw.child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)?.[1];
    const section = [
      `sysbench oltp_point_select, ${THREADS} threads, ${SECONDS} s per target, 1 table of ${TABLE_SIZE} rows, text protocol (\`--db-ps-mode=disable\`). All targets share the machine's 2 cores.`,
      '',
      '| target | QPS | × direct | × HAProxy |',
      '| --- | ---: | ---: | ---: |',
      ...rows,
      '',
      `Prepared statements (\`--db-ps-mode=auto\`): HAProxy ${psHaproxy.qps.toFixed(0)} QPS, shardgate ${psGateway.qps.toFixed(0)} QPS (${(psGateway.qps / psHaproxy.qps).toFixed(2)}× HAProxy, ${psGateway.errors} errors).`,
      '',
      `shardgate peak RSS during the run: ${rss ? Math.round(Number(rss) / 1024) : '?'} MiB.`,
    ].join('\n');
    console.log(section);
    replaceBenchSection('gateway: sysbench oltp_point_select', 'pnpm --filter @shardgate/gateway bench', section);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
