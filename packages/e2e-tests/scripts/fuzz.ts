/**
 * `pnpm fuzz --writes --seed N[,N…] --count N`: the random write differential instead (seeded DML
 * through the gateway and on one MariaDB, answers and tables compared after each statement; one
 * cluster for all the seeds), see random-write-differential.ts in @shardgate/test-kit.
 *
 * `pnpm fuzz --seed N --count N [--start I] [--concurrency C] [--no-shrink] [--data-seed D]`: the
 * random differential of @shardgate/test-kit through a 4-shard gateway (plus an unsharded
 * keyspace) against one plain MariaDB, in OLTP and OLAP. `--data-seed` picks other rows for the
 * commerce fixture (1 by default, as the CI test). Prints each shrunk failure with its seed and index
 * as soon as it is found, then the counts; exits 1 when an answer was wrong.
 */
import { parseArgs } from 'node:util';
import { formatRandomFailure, formatWriteFailure, runRandomDifferential, runRandomWriteDifferential } from '@shardgate/test-kit';
import { startRandomDifferentialCluster } from '../test/support/random-differential-cluster.js';
import { startRandomWriteCluster } from '../test/support/random-write-cluster.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '1000' },
    start: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '2' },
    'no-shrink': { type: 'boolean', default: false },
    writes: { type: 'boolean', default: false },
    'data-seed': { type: 'string', default: '1' },
  },
});

if (values.writes) {
  const writeCluster = await startRandomWriteCluster();
  let wrong = 0;
  try {
    for (const seed of values.seed.split(',').map(Number)) {
      const startedAt = Date.now();
      const report = await runRandomWriteDifferential({ subject: writeCluster.subject, reference: writeCluster.reference, shards: writeCluster.shards, fixture: writeCluster.fixture, seed, count: Number(values.count) });
      for (const f of report.failures) console.log(`WRONG ${formatWriteFailure(f)}\n`);
      for (const f of report.otherErrors) console.log(`other error ${formatWriteFailure(f)}\n`);
      console.log(report.summary().split('\n')[0] + ` (${Math.round((Date.now() - startedAt) / 1000)} s)`);
      for (const [message, n] of [...report.refusals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  refused ${n}× ${message}`);
      wrong += report.wrong;
    }
  } finally {
    await writeCluster.stop();
  }
  process.exit(wrong > 0 ? 1 : 0);
}

const seed = Number(values.seed);
const count = Number(values.count);
const startedAt = Date.now();

// The first SIGINT/SIGTERM ends the run early: no new query starts, the ones in flight finish,
// the counts so far are printed and the cluster is stopped. A second one (or one during startup)
// stops the gateway (which stops its MariaDB shards) and the reference server at once, then
// exits. LocalCluster kills its servers on a signal only when their owner does not handle signals
// itself, and the gateway's shards leave that to the gateway: without this handler a killed run
// left the shard servers running. Process exit still kills whatever is left, synchronously.
let cluster: Awaited<ReturnType<typeof startRandomDifferentialCluster>> | undefined;
const stopEarly = new AbortController();
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (cluster !== undefined && !stopEarly.signal.aborted) {
      console.error(`${signal}: finishing the queries in flight (again to stop at once)`);
      stopEarly.abort();
      return;
    }
    if (stopping) process.exit(code);
    stopping = true;
    console.error(`${signal}: stopping the cluster`);
    const forced = setTimeout(() => process.exit(code), 15_000);
    void (cluster?.stop() ?? Promise.resolve()).finally(() => {
      clearTimeout(forced);
      process.exit(code);
    });
  });
}

cluster = await startRandomDifferentialCluster(Number(values['data-seed']));
let exitCode = 0;
try {
  let lastPrint = 0;
  const report = await runRandomDifferential({
    subject: cluster.subject,
    reference: cluster.reference,
    schema: cluster.fixture.schema,
    seed,
    count,
    start: Number(values.start),
    concurrency: Number(values.concurrency),
    shrink: !values['no-shrink'],
    signal: stopEarly.signal,
    onFailure: (f) => console.log(`WRONG ${formatRandomFailure(f)}\n`),
    onProgress: (done, total) => {
      if (Date.now() - lastPrint > 10_000 || done === total) {
        lastPrint = Date.now();
        console.error(`${done}/${total} queries (${Math.round((Date.now() - startedAt) / 1000)} s)`);
      }
    },
  });
  if (report.queries < count) console.log(`stopped early: queries ${Number(values.start)} to ${Number(values.start) + report.queries - 1} were run`);
  const s = report.summary().split('\n');
  console.log(s[0]);
  for (const line of s.slice(1).filter((l) => l.startsWith('invalid')).slice(0, 20)) console.log(line);
  const refusals = [...report.refusals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  console.log('top refusals:');
  for (const [message, n] of refusals) console.log(`  ${n}× ${message}`);
  console.log(`${Math.round((Date.now() - startedAt) / 1000)} s`);
  if (report.wrong > 0) exitCode = 1;
} finally {
  await cluster.stop();
}
process.exit(exitCode);
