/**
 * Issue 11's probe: while one client sends each pathological statement (test/support/stall-probe.ts),
 * another does a point select every 5 ms through the same gateway process; per class, the probe's
 * worst and p99 round trip, and how long the statement itself took, through the gateway and on one
 * plain MariaDB holding the same rows.
 *
 *   pnpm --filter @shardgate/gateway bench:stall           (writes the table to BENCHMARKS.md)
 *   NO_REPORT=1 pnpm --filter @shardgate/gateway bench:stall   (prints it only)
 *
 * Each class runs ROUNDS times (default 3) and the table keeps the worst round, so one quiet round
 * on a shared machine cannot hide a stall.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { answer, CLEAR_ROWS_SQL, pathologicalStatements, percentile, PROBE_ROW_SQL, StallProbe, STALL_SCHEMA, STALL_VSCHEMA, type Answer } from '../test/support/stall-probe.js';
import { replaceBenchSection } from './bench-report.js';
import { freePort, startGatewayProcessFromConfig } from './sysbench-harness.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** ONLY=regex runs the matching classes only (a quick look; does not write BENCHMARKS.md). */
const ONLY = process.env.ONLY ? new RegExp(process.env.ONLY, 'i') : undefined;

const describeAnswer = (a: Answer): string =>
  a.kind === 'error' ? `error ${a.errno}` : Array.isArray(a.rows) ? `${a.rows.length} rows` : `${(a.rows as { affectedRows: number }).affectedRows} affected`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-stall-bench-'));
  const cluster = await LocalCluster.start({ shards: ['-80', '80-', 'reference'], database: 'commerce', schema: STALL_SCHEMA });
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
  const opts = { host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' };
  const client = await mysql.createConnection(opts);
  const reference = await mysql.createConnection(cluster.shard('reference').connectionOptions());
  await client.query(PROBE_ROW_SQL);
  await reference.query(PROBE_ROW_SQL);
  const probe = await StallProbe.start(opts);
  const rows: string[] = [];
  try {
    // The noise floor: the probe alone for 2 s, no statement from the other client. On a shared
    // machine its worst case is scheduling, not the gateway; read the classes against it.
    if (!ONLY) {
      await probe.take();
      await new Promise((r) => setTimeout(r, 2000));
      const alone = await probe.take();
      const line = `| (none: the probe alone for 2 s) | ${Math.max(...alone.latencies).toFixed(1)} | ${percentile(alone.latencies, 99).toFixed(1)} | ${alone.latencies.length} | | | |`;
      console.log(line);
      rows.push(line);
    }
    for (const stmt of pathologicalStatements()) {
      if (ONLY && !ONLY.test(stmt.name)) continue;
      let worst = 0;
      let p99 = 0;
      let probes = 0;
      let gwAnswer: Answer | undefined;
      let refAnswer: Answer | undefined;
      for (let round = 0; round < ROUNDS; round++) {
        if (stmt.name.includes('INSERT')) {
          await client.query(CLEAR_ROWS_SQL);
          await reference.query(CLEAR_ROWS_SQL);
        }
        await probe.take();
        gwAnswer = await answer(client, stmt.sql);
        // One more probe interval, so that a stall at the very end is seen too.
        await new Promise((r) => setTimeout(r, 20));
        const window = await probe.take();
        if (window.failures.length > 0) throw new Error(`probe failed during ${stmt.name}: ${window.failures[0]}`);
        worst = Math.max(worst, ...window.latencies);
        p99 = Math.max(p99, percentile(window.latencies, 99));
        probes += window.latencies.length;
        if (round === 0 || stmt.name.includes('INSERT')) refAnswer = await answer(reference, stmt.sql);
      }
      const same = gwAnswer!.kind === 'result' && refAnswer!.kind === 'result' ? JSON.stringify(gwAnswer!.rows) === JSON.stringify(refAnswer!.rows) : gwAnswer!.kind === refAnswer!.kind;
      const line = `| ${stmt.name} | ${worst.toFixed(1)} | ${p99.toFixed(1)} | ${probes} | ${describeAnswer(gwAnswer!)} in ${gwAnswer!.ms.toFixed(0)} ms | ${describeAnswer(refAnswer!)} in ${refAnswer!.ms.toFixed(0)} ms | ${same ? 'yes' : 'NO'} |`;
      console.log(line, gwAnswer!.kind === 'error' ? gwAnswer!.message.slice(0, 120) : '');
      rows.push(line);
    }
  } finally {
    const step = (what: string): void => void (process.env.DEBUG && console.log(`${new Date().toISOString()} ${what}`));
    step('stopping probe');
    await probe.stop();
    step('closing clients');
    await client.end();
    await reference.end();
    step('stopping gateway');
    await gw.stop();
    step('stopping MariaDB');
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const body =
    `A probe client does \`select id, name from customer where id = 1000000003\` every 5 ms (checking its row) on its own thread while another client sends each statement to a gateway process (2 shards, planWorkers 2, defaults otherwise); ${ROUNDS} rounds per class, the worst round kept. Probe latency is the probe's round trip through the gateway (ms). "MariaDB" is the same statement on one plain MariaDB with the same rows; "same" compares rows (sorted) or, for errors, that both refused.\n\n` +
    `| class | probe worst (ms) | probe p99 (ms) | probes | gateway | MariaDB | same |\n| --- | ---: | ---: | ---: | --- | --- | --- |\n` +
    rows.join('\n');
  console.log(body);
  if (!process.env.NO_REPORT && !ONLY) replaceBenchSection('gateway: pathological statements vs a point-select probe', 'pnpm --filter @shardgate/gateway bench:stall', body);
}

await main();
