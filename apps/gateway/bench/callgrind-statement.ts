/**
 * Instructions per query of any SQL statement against the 4-shard cluster of the scatter benches
 * (bench/scatter-cluster.ts: 25,000 rows of sbtest1's shape per shard, ids 1-25,000 on each),
 * counted under valgrind's callgrind, which load does not change (bench/callgrind-harness.ts: a
 * gateway build runs under callgrind, is warmed up, then QUERIES statements are counted with the
 * idle process's timers taken out). For the scatter `… ORDER BY c, id LIMIT 100` and the range
 * statements of sysbench oltp_read_only (a range of ids reads its rows from every shard):
 *
 *   SQL='select id, c from t order by c, id limit 100' \
 *     pnpm --filter @shardgate/gateway exec tsx bench/callgrind-statement.ts
 *   BASE_DIST=<other checkout>/apps/gateway/dist QUERIES=500 WARMUP=3000 SQL='select c from t where id between 5000 and 5099' \
 *     pnpm --filter @shardgate/gateway exec tsx bench/callgrind-statement.ts
 *   PS=1 PARAMS='[5000,5099]' SQL='select c from t where id between ? and ?' …
 *
 * PS=1 sends it as a prepared statement (mysql2's `execute`, PARAMS its `?` values); the text
 * protocol goes through the shard client (which does not decode rows). WORKLOAD=olap streams it.
 * ROUNDS=n alternates the builds n times, each in a fresh callgrind process (two runs of one build
 * differ by which scavenges fall in the counted queries). KEEP=<dir> [PERF_MAP=1] keep the dumps
 * and the perf map for bench/callgrind-breakdown.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql2 from 'mysql2';
import { freePort } from './sysbench-harness.js';
import { formatCount, gatewayTarget, textQueryDriver, ignoreStraySigint, instructionsPerQuery, type QueryDriver } from './callgrind-harness.js';
import { SCATTER_VSCHEMA, scatterShardUrls, startScatterCluster } from './scatter-cluster.js';
import { buildsInRound } from './build-order.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SQL = process.env.SQL ?? 'select id, c from t order by c, id limit 100';
const PARAMS = JSON.parse(process.env.PARAMS ?? '[]') as (number | string | null)[];
const QUERIES = Number(process.env.QUERIES ?? 500);
const WARMUP = Number(process.env.WARMUP ?? 3000);
const CLIENTS = Number(process.env.CLIENTS ?? 1);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const PREPARED = process.env.PS === '1';
const WORKLOAD = process.env.WORKLOAD ?? 'oltp';
const KEEP = process.env.KEEP;
const IDLE_MS = Number(process.env.IDLE_MS ?? 5000);
const PERF_MAP = process.env.PERF_MAP === '1';

function textDriver(port: number, user: string, password: string): Promise<QueryDriver> {
  return textQueryDriver(port, user, password, 'bench', () => SQL);
}

async function preparedDriver(port: number, user: string, password: string): Promise<QueryDriver> {
  const c = mysql2.createConnection({ host: '127.0.0.1', port, user, password, database: 'bench', connectTimeout: 300_000 });
  await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
  return {
    next: () => new Promise((resolve, reject) => c.execute(SQL, PARAMS, (err) => (err ? reject(err) : resolve()))),
    close: () => c.destroy(),
  };
}

async function main(): Promise<void> {
  const builds: [string, string][] = [['this build', path.resolve(here, '../dist')]];
  if (process.env.BASE_DIST) builds.unshift(['BASE_DIST', path.resolve(process.env.BASE_DIST)]);
  ignoreStraySigint();
  const { cluster, ports } = await startScatterCluster({ stopOnSignals: false });
  try {
    console.log(`${SQL}${PREPARED ? ` (prepared, params ${JSON.stringify(PARAMS)})` : ''}, ${WORKLOAD}: ${QUERIES} queries after ${WARMUP}, ${CLIENTS} connection(s), 4 shards, the gateway under callgrind`);
    for (let r = 1; r <= ROUNDS; r++) {
      for (const [name, dist] of buildsInRound(builds, r)) {
        const target = gatewayTarget(
          name,
          dist,
          await freePort(),
          { vschema: SCATTER_VSCHEMA, keyspaces: { bench: scatterShardUrls(ports) }, user: 'app', settings: [`poolSize: ${CLIENTS}`, `workload: ${WORKLOAD}`] },
          PERF_MAP,
        );
        const count = await instructionsPerQuery(target, {
          connect: PREPARED ? preparedDriver : textDriver,
          clients: CLIENTS,
          warmup: WARMUP,
          queries: QUERIES,
          label: `${PREPARED ? 'ps' : 'text'}.r${r}`,
          keep: KEEP,
          perfMap: PERF_MAP,
          idleMs: IDLE_MS,
        });
        console.log(`round ${r}: ${formatCount(name, count)}`);
      }
    }
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
