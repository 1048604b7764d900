/**
 * Planner benchmarks: `pnpm --filter @shardgate/planner bench` (add `--quick` for a short run).
 * - hot path: normalize + plan-cache hit + bind (render shard SQL) + shard resolution (vindex map
 *   and key-range lookup), for a point select, a 10-value IN and a 5-row insert; median per op,
 *   and the ratio to a full node-sql-parser parse of the same text;
 * - miss path: plans built per second for each shape;
 * - memory: the plan cache's byte accounting against measured heap growth after N distinct plans.
 * Results are appended to BENCHMARKS.md.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { Planner } from '../src/planner.js';
import { renderQuery, renderRow } from '../src/query-template.js';
import type { InsertPrimitive, PlannedQuery, RoutePrimitive, SqlValue } from '../src/plan-types.js';

const quick = process.argv.includes('--quick');
const require = createRequire(import.meta.url);
const { Parser } = require('node-sql-parser') as { Parser: new () => { astify(sql: string, o: object): unknown } };
const parser = new Parser();

const vschema = loadVSchema({
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } },
    },
  },
});
const hash = vschema.keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
const shards = new ShardMap(['-40', '40-80', '80-c0', 'c0-']);

/** What the executor does per query after planning: shard per vindex value, then render. */
function bindAndResolve(pq: PlannedQuery): number {
  const ins = pq.plan.instructions;
  let n = 0;
  if (ins.operator === 'Route') {
    const r = ins as RoutePrimitive;
    const v = r.values![0]!;
    const vals: SqlValue[] = v.kind === 'bind' ? [pq.bindVars[v.name] as SqlValue] : v.kind === 'bindList' ? (pq.bindVars[v.name] as SqlValue[]) : [];
    for (const x of vals) n += shards.shardFor(hash.map(x as bigint)!).length;
    n += renderQuery(r.query, pq.bindVars).length;
  } else if (ins.operator === 'Insert') {
    const i = ins as InsertPrimitive;
    const rows = pq.bindVars[i.rowsBind] as SqlValue[][];
    for (const row of rows) {
      n += shards.shardFor(hash.map(row[i.primaryVindex![0]!.valueIndex] as bigint)!).length;
      n += renderRow(i.rowTemplate, row, pq.bindVars).length;
    }
  }
  return n;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median µs per op over `batches` batches of `batch` ops. */
function measure(fn: (i: number) => void, batches: number, batch: number): number {
  for (let i = 0; i < Math.max(batch * 5, 20_000); i++) fn(i); // warm up (JIT)
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn(b * batch + i);
    per.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  return median(per);
}

const shapes = {
  'point select': (i: number) => `select id, name, email from customer where id = ${i}`,
  '10-value IN': (i: number) => `select id, name from customer where id in (${Array.from({ length: 10 }, (_, k) => i * 10 + k).join(', ')})`,
  '5-row insert': (i: number) => `insert into customer(id, name, email) values ${Array.from({ length: 5 }, (_, k) => `(${i * 5 + k}, 'name ${k}', 'u${i}@example.com')`).join(', ')}`,
};

const planner = new Planner({ vschema, freezePlans: false, cache: { variant: 'sharded' } });
const lines: string[] = [];
const batches = quick ? 30 : 200;
const batch = quick ? 200 : 1000;
lines.push(
  '| shape | hot path median (µs/op) | of which normalize + cache hit (µs/op) | node-sql-parser parse median (µs/op) | parse / hot path | miss path (plans/s) |',
  '|---|---|---|---|---|---|',
);
let sink = 0;
for (const [name, make] of Object.entries(shapes)) {
  // Warm the cache with this shape.
  await planner.plan(make(0), {});
  const texts = Array.from({ length: 1024 }, (_, i) => make(i + 1));
  const hot = measure((i) => {
    const pq = planner.plan(texts[i & 1023]!, {});
    if (pq instanceof Promise) throw new Error('unexpected cache miss on the hot path');
    sink += bindAndResolve(pq);
  }, batches, batch);
  const plannerOnly = measure((i) => {
    const pq = planner.plan(texts[i & 1023]!, {});
    if (pq instanceof Promise) throw new Error('unexpected cache miss on the hot path');
    sink += pq.plan.tablesUsed.length;
  }, batches, batch);
  const parse = measure((i) => {
    sink += (parser.astify(texts[i & 1023]!, { database: 'MySQL' }) as object) ? 1 : 0;
  }, quick ? 10 : 40, quick ? 20 : 100);
  // Miss path: distinct shapes (a different column alias per query), built without the cache.
  const missN = quick ? 300 : 2000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < missN; i++) sink += planner.planUncached(make(i).replace(/^(select|insert into customer)/, `$1 /* ${i} */`), {}).plan.tablesUsed.length;
  const missPerSec = missN / (Number(process.hrtime.bigint() - t0) / 1e9);
  lines.push(`| ${name} | ${hot.toFixed(2)} | ${plannerOnly.toFixed(2)} | ${parse.toFixed(1)} | ${(parse / hot).toFixed(0)}× | ${Math.round(missPerSec)} |`);
}
planner.dispose();

// Memory: N distinct plans in the cache; byte accounting vs heap growth.
const gc = (globalThis as { gc?: () => void }).gc;
const N = quick ? 10_000 : 100_000;
const mem = new Planner({ vschema, freezePlans: false, cache: { variant: 'sharded', maxEntries: N * 2 } });
gc?.();
const heap0 = process.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) await mem.plan(`select c${i}, name from customer where id = 1`, {});
gc?.();
const heap1 = process.memoryUsage().heapUsed;
const stats = mem.cacheStats();
const grow = heap1 - heap0;
lines.push(
  '',
  `Memory after ${N.toLocaleString('en')} distinct queries: ${stats.entries.toLocaleString('en')} cached plans; cache accounting ${(stats.cost / 1e6).toFixed(1)} MB (${Math.round(stats.cost / stats.entries)} B/plan); measured heap growth ${(grow / 1e6).toFixed(1)} MB (${Math.round(grow / stats.entries)} B/plan)${gc ? '' : ' (no --expose-gc: heap numbers include garbage)'}; accounting / measured = ${(stats.cost / grow).toFixed(2)}.`,
);
mem.dispose();

const header = `\n## ${new Date().toISOString().slice(0, 10)} — \`pnpm --filter @shardgate/planner bench${quick ? ' -- --quick' : ''}\` (Node ${process.version}, ${process.platform}/${process.arch})\n\n`;
const out = header + lines.join('\n') + '\n';
console.log(out);
const file = resolve(dirname(fileURLToPath(import.meta.url)), '../BENCHMARKS.md');
if (!existsSync(file)) {
  writeFileSync(
    file,
    '# @shardgate/planner benchmarks\n\nHot path = normalize (lexer) + plan-cache hit + rendering the shard SQL with the bind values + mapping each vindex value to its shard (hash + key-range lookup). The lead re-runs these on a quiet machine; numbers from a shared 2-core box are indicative.\n',
  );
}
appendFileSync(file, out);
if (sink === -1) console.log(sink);
