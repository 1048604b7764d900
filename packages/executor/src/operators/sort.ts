/** Sort at the gateway (ORDER BY over a join or an aggregate): buffers its input, then sorts. */
import type { BindVars, SortPrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import { CollectingReceiver, trimFields, trimRow, type RowReceiver } from '../row-flow.js';
import { runPrimitive } from '../primitive-runner.js';
import { orderComparator } from './merge-sort.js';
import { CollationTagCheck } from '../values/collation-tag-check.js';

const OUTPUT_CHUNK_ROWS = 256;

export async function runSort(ctx: QueryContext, p: SortPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Per-query buffer; CollectingReceiver appends synchronously, so concurrent chunks are safe.
  const input = new CollectingReceiver((n) => ctx.holdRows(n));
  await runPrimitive(ctx, p.input, bv, input);
  const { fields, rows } = input.result();
  if (p.collationTagColumn !== undefined) {
    const check = new CollationTagCheck(fields, p.collationTagColumn, p.orderBy.map((k) => (k.column === undefined ? undefined : k.weightStringColumn)));
    for (const r of rows) check.check(r);
  }
  const cmp = orderComparator(p.orderBy, fields);
  // Array.prototype.sort is stable: equal keys keep their arrival order.
  rows.sort(cmp);
  out.fields(trimFields(fields, p.resultColumns));
  for (let i = 0; i < rows.length; i += OUTPUT_CHUNK_ROWS) {
    ctx.throwIfAborted();
    await out.rows(rows.slice(i, i + OUTPUT_CHUNK_ROWS).map((r) => trimRow(r, p.resultColumns)));
  }
}
