/**
 * Growth of the event-loop part of planning (normalize: lexer, text scanners, normalizer) with
 * statement size: `pnpm --filter @shardgate/planner exec tsx bench/normalize-growth.bench.ts`.
 * Each pathological class is normalized at n and 10n; a linear pass shows a ratio near 10, a
 * quadratic one near 100. Errors (an unclosed list, an unterminated string) count as results:
 * what matters is how long the loop is held before the answer.
 */
import { normalize } from '../src/normalizer.js';

const classes: [string, (n: number) => string][] = [
  ['IN list, closed', (n) => `select id from customer where id in (${'1,'.repeat(n)}1)`],
  ['IN list, unclosed', (n) => `select id from customer where id in (${'1,'.repeat(n)}1`],
  ['OR chain', (n) => `select id from customer where ${'id = 1 or '.repeat(n)}id = 2`],
  ['UNION ALL parts', (n) => `${'select id from customer where id = 1 union all '.repeat(n)}select 1`],
  ['deep nesting', (n) => `select ${'('.repeat(n)}1${')'.repeat(n)} from customer`],
  ['huge comment', (n) => `select /* ${'x'.repeat(n * 10)} */ id from customer where id = 1`],
  ['unterminated string', (n) => `select id from customer where name = '${'x'.repeat(n * 10)}`],
  ['huge string literal', (n) => `select id from customer where name = '${'x'.repeat(n * 10)}'`],
  ['multi-row INSERT', (n) => `insert into customer (id, name) values ${'(1, \'a\'),'.repeat(n)}(2, 'b')`],
];

function msFor(sql: string): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    try {
      normalize(sql);
    } catch {
      // an error is an answer too
    }
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

const n = Number(process.argv[2] ?? 10_000);
console.log(`| class | n=${n} (ms) | n=${n * 10} (ms) | ratio |`);
console.log('| --- | --- | --- | --- |');
for (const [name, make] of classes) {
  msFor(make(n / 10)); // warm-up
  const small = msFor(make(n));
  const large = msFor(make(n * 10));
  console.log(`| ${name} | ${small.toFixed(2)} | ${large.toFixed(2)} | ${(large / small).toFixed(1)} |`);
}
