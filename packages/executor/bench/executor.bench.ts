/**
 * Executor benchmarks (run: pnpm --filter @shardgate/executor bench). Starts its own MariaDB
 * servers: four shards and one "single" server holding the same rows, and compares
 *   1. scatter ORDER BY … LIMIT (MergeSort + Limit) — queries/s, executor vs one server;
 *   2. an OLAP stream of 1M rows from 4 shards — rows/s vs one server, and peak RSS;
 *   3. a cross-shard nested-loop join — joined rows/s.
 * The executor is driven directly (no MySQL protocol in between); the single server through
 * mysql2. Results are appended to BENCHMARKS.md.
 */
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { loadVSchema } from '@shardgate/vschema';
import type { PlannedQuery, Primitive } from '@shardgate/planner';
import { Executor, type FieldInfo, type ResultSink } from '../src/index.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const ROWS_PER_SHARD = 25_000;
const STREAM_ROWS = 1_000_000;
const K = { name: 'ks', sharded: true };
const route = (query: string, extra: object = {}): Primitive => ({ operator: 'Route', variant: 'Scatter', keyspace: K, query: { parts: [query] }, ...extra }) as Primitive;

class CountingSink implements ResultSink {
  rows = 0;
  readonly signal = new AbortController().signal;
  columns(_d: readonly FieldInfo[]): void {}
  row(): boolean {
    this.rows++;
    return true;
  }
  async drain(): Promise<void> {}
  end(): void {}
  ok(): void {}
}

let peakRss = 0;
const rssTimer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

async function timed(seconds: number, fn: () => Promise<number>): Promise<{ ops: number; units: number; secs: number }> {
  const start = performance.now();
  let ops = 0;
  let units = 0;
  while (performance.now() - start < seconds * 1000) {
    units += await fn();
    ops++;
  }
  return { ops, units, secs: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const schema = ['create table t (id bigint primary key, k int, name varchar(32), amount decimal(12,2), key (k)) engine=innodb'];
  const cluster = await LocalCluster.start({ shards: [...SHARDS, 'single'], schema });
  try {
    const conns = await Promise.all(cluster.shards.map((s) => mysql.createConnection(s.connectionOptions())));
    // shard i holds ids i*N+1 .. (i+1)*N; the single server holds them all
    await Promise.all(
      SHARDS.map((_, i) => conns[i].query(`insert into t select seq, seq % 1000, concat('name ', seq), seq / 7 from seq_${i * ROWS_PER_SHARD + 1}_to_${(i + 1) * ROWS_PER_SHARD}`)),
    );
    await conns[4].query(`insert into t select seq, seq % 1000, concat('name ', seq), seq / 7 from seq_1_to_${SHARDS.length * ROWS_PER_SHARD}`);
    const single = conns[4];

    const plans: Record<string, Primitive> = {
      top: {
        operator: 'Limit',
        count: { kind: 'literal', value: 20n },
        input: route('select id, name, amount from t order by amount desc, id limit 20', { orderBy: [{ column: 2, desc: true }, { column: 0, desc: false }] }),
      } as Primitive,
      stream: route(`select seq, concat('row ', seq) from seq_1_to_${STREAM_ROWS / SHARDS.length}`),
      join: {
        operator: 'Join',
        variant: 'Join',
        left: route('select id, k from t where id % 500 = 0'),
        right: route('select id from t where k = ', {}),
        cols: [-1, 1],
        joinVars: { k: 1 },
      } as Primitive,
    };
    // right side of the join: every shard, bound to the outer row's k
    (plans.join as { right: Primitive }).right = { operator: 'Route', variant: 'Scatter', keyspace: K, query: { parts: ['select id from t where k = ', { bind: 'k' }, ' limit 5'] } } as Primitive;
    const planner = {
      plan(sql: string): PlannedQuery {
        if (sql.startsWith('set workload')) {
          return { plan: { queryType: 'SET', tablesUsed: [], instructions: { operator: 'Session', statement: { kind: 'set', assignments: [{ scope: 'session', name: 'workload', value: { kind: 'literal', value: 'olap' } }] } } }, bindVars: {} };
        }
        return { plan: { queryType: 'SELECT', tablesUsed: [], instructions: plans[sql] }, bindVars: {} };
      },
    };
    const executor = new Executor({
      vschema: loadVSchema({ keyspaces: { ks: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: {} } } }),
      planner,
      topology: { ks: Object.fromEntries(SHARDS.map((s, i) => [s, { ...cluster.shards[i].connectionOptions(), poolSize: 8 }])) },
    });
    await executor.start();
    const oltp = executor.openSession({ user: 'bench', database: 'ks' });
    const olap = executor.openSession({ user: 'bench', database: 'ks' });
    await olap.execute("set workload = 'olap'", new CountingSink());

    const lines: string[] = [];
    const log = (s: string) => {
      console.log(s);
      lines.push(s);
    };

    // 1. scatter ORDER BY LIMIT
    const topSingle = await timed(3, async () => {
      await single.query('select id, name, amount from t order by amount desc, id limit 20');
      return 20;
    });
    const topExec = await timed(3, async () => {
      const s = new CountingSink();
      await oltp.execute('top', s);
      return s.rows;
    });
    const qpsSingle = topSingle.ops / topSingle.secs;
    const qpsExec = topExec.ops / topExec.secs;
    log(`| scatter ORDER BY LIMIT 20 (4×${ROWS_PER_SHARD} rows) | ${qpsExec.toFixed(0)} q/s | ${qpsSingle.toFixed(0)} q/s | ${(qpsExec / qpsSingle).toFixed(2)} |`);

    // 2. OLAP stream of 1M rows
    peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    const streamExec = await timed(0.001, async () => {
      const s = new CountingSink();
      await olap.execute('stream', s);
      return s.rows;
    });
    const rssStream = peakRss;
    const streamSingle = await timed(0.001, async () => {
      let n = 0;
      const raw = (single as unknown as { connection: mysql.Connection }).connection ?? single;
      await new Promise<void>((resolve, reject) => {
        const q = (raw as unknown as { query(s: string): { stream(): NodeJS.ReadableStream } }).query(`select seq, concat('row ', seq) from seq_1_to_${STREAM_ROWS}`).stream();
        q.on('data', () => n++);
        q.on('end', () => resolve());
        q.on('error', reject);
      });
      return n;
    });
    const rpsExec = streamExec.units / streamExec.secs;
    const rpsSingle = streamSingle.units / streamSingle.secs;
    log(`| OLAP stream ${STREAM_ROWS} rows from 4 shards | ${(rpsExec / 1000).toFixed(0)}k rows/s | ${(rpsSingle / 1000).toFixed(0)}k rows/s | ${(rpsExec / rpsSingle).toFixed(2)} |`);
    log(`| peak RSS during the 1M-row stream | ${(rssStream / 2 ** 20).toFixed(0)} MiB (before: ${(rssBefore / 2 ** 20).toFixed(0)} MiB) | | |`);

    // 3. cross-shard join
    const joinExec = await timed(3, async () => {
      const s = new CountingSink();
      await oltp.execute('join', s);
      return s.rows;
    });
    log(`| cross-shard nested-loop join (200 outer rows × 4-shard inner) | ${(joinExec.units / joinExec.secs).toFixed(0)} joined rows/s | | |`);

    await oltp.close();
    await olap.close();
    await executor.close();
    await Promise.all(conns.map((c) => c.end()));

    const here = dirname(fileURLToPath(import.meta.url));
    appendFileSync(
      join(here, '..', 'BENCHMARKS.md'),
      `\n## ${new Date().toISOString()} — \`pnpm --filter @shardgate/executor bench\` (node ${process.version}, ${process.platform}/${process.arch})\n\n| benchmark | executor | one MariaDB | ratio |\n|---|---|---|---|\n${lines.join('\n')}\n`,
    );
  } finally {
    clearInterval(rssTimer);
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
