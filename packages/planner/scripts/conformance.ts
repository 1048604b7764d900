/**
 * `pnpm conformance`: scores the planner against Vitess's planbuilder cases and writes
 * docs/conformance.md at the repository root. Pass --verbose to list every case that is not
 * matched.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conformanceAvailable, conformanceDir, formatTable, runConformance, summarize } from './conformance-runner.js';

const dir = conformanceDir();
if (!conformanceAvailable(dir)) {
  console.log(`conformance: skipped, the Vitess case files are not at ${dir} (see the planner README)`);
  process.exit(0);
}
const verbose = process.argv.includes('--verbose');
const results = await runConformance(dir);
const summary = summarize(results);
const table = formatTable(summary);
console.log(table);
const notable = results.filter((r) => r.outcome === 'wrong' || (verbose && r.outcome !== 'matched' && r.outcome !== 'shape-matched' && r.outcome !== 'error-matched'));
for (const r of notable) console.log(`\n[${r.outcome}] ${r.file}: ${r.comment}\n  ${r.query.slice(0, 300)}\n  ${r.detail.slice(0, 400)}`);

const total = summary[summary.length - 1]!;
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const unsupported = results.filter((r) => r.outcome === 'unsupported' && r.expectedTop === 'Route');
const md = [
  '# Planner conformance against Vitess',
  '',
  `Date: ${new Date().toISOString().slice(0, 10)}. Command: \`pnpm conformance\` (runs \`packages/planner/scripts/conformance.ts\`).`,
  '',
  "Cases: Vitess's own planner tests `select_cases.json`, `aggr_cases.json` and `filter_cases.json` with their",
  '`schema.json` vschema (Apache-2.0, The Vitess Authors), read at run time from',
  '`../shared/conformance/vitess-planbuilder/`; they are not part of this repository.',
  '',
  'Every query goes through the real `Planner.plan()` path (lexer normalization, plan cache, node-sql-parser on the miss).',
  '',
  table,
  '',
  '- **Route matched**: Vitess expects a single top-level `Route`; shardgate plans a single `Route` with the same Variant and Keyspace.',
  '- **shape matched**: Vitess expects another top operator; shardgate produces the same operator tree shape (operators, variants, route keyspaces).',
  '- **error matched**: Vitess expects a planning error and shardgate refuses the query too.',
  '- **unsupported**: shardgate refuses with a clear error (1235 `ER_NOT_SUPPORTED_YET` naming the construct, or 1064 for SQL its parser does not accept).',
  '- **shape differs**: shardgate plans a multi-operator query with a different (still multi-route) tree than Vitess.',
  '- **answered beyond Vitess**: Vitess expects an error that is its own restriction (MariaDB accepts the statement), and shardgate answers it as one MariaDB does, checked by a differential test (`BEYOND_VITESS` in `packages/planner/scripts/conformance-runner.ts`).',
  '- **wrong**: a different route for a single-Route case, a single route where Vitess needs several, or success where Vitess expects any other error.',
  '',
  `Single-Route cases matched: ${total.routeMatched} of ${total.routeCases} (${((100 * total.routeMatched) / Math.max(1, total.routeCases)).toFixed(1)}%). Wrong: ${total.wrong}.`,
  '',
  '## Single-Route cases shardgate refuses',
  '',
  ...unsupported.map((r) => `- ${r.file}: \`${r.query.replace(/\s+/g, ' ').slice(0, 160)}\` — ${r.detail.slice(0, 200)}`),
  '',
].join('\n');
mkdirSync(resolve(repoRoot, 'docs'), { recursive: true });
writeFileSync(resolve(repoRoot, 'docs/conformance.md'), md);
console.log(`\nwrote ${resolve(repoRoot, 'docs/conformance.md')}`);
