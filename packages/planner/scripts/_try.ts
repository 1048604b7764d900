import { readFileSync } from 'node:fs';
import { loadVSchema } from '@shardgate/vschema';
import { Planner } from '/work/wt/derived/packages/planner/src/planner.js';
const vschema = loadVSchema(JSON.parse(readFileSync('/work/shared/conformance/vitess-planbuilder/schema.json', 'utf8')));
const planner = new Planner({ vschema, freezePlans: false });
for (const q of process.argv.slice(2)) {
  try { const r = await planner.plan(q, {}); console.log(q, '\n', JSON.stringify(r.plan.instructions, (k, v) => typeof v === 'bigint' ? String(v) : v).slice(0, 1500)); }
  catch (e) { console.log(q, '\n  ERR', (e as Error).message, (e as Error).stack?.split('\n').slice(1,6).join('\n')); }
}
process.exit(0);
