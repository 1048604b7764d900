/** Sort at the gateway (ORDER BY over a join or an aggregate): buffers its input, then sorts. */
import type { BindVars, SortPrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import { CollectingReceiver, trimFields, trimRow, type RowReceiver } from '../row-flow.js';
import { runPrimitive } from '../primitive-runner.js';
import { orderComparator } from './merge-sort.js';
import { CollationTagCheck } from '../values/collation-tag-check.js';
import { handOnInSlices, VALUES_PER_SLICE, yieldThen } from '../event-loop-yield.js';
import { sortInSlices } from '../sort-in-slices.js';

const OUTPUT_CHUNK_ROWS = 256;

export async function runSort(ctx: QueryContext, p: SortPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Per-query buffer; CollectingReceiver appends synchronously, so concurrent chunks are safe.
  const input = new CollectingReceiver((n) => ctx.holdRows(n));
  await runPrimitive(ctx, p.input, bv, input);
  const { fields, rows } = input.result();
  // Up to maxMemoryRows rows are checked, sorted and handed on here, none of it waiting for I/O:
  // each step gives the event loop its turns (every other client's statements) and stops at the
  // first one after this statement was aborted.
  const turn = (): Promise<void> => yieldThen(() => ctx.throwIfAborted());
  if (p.collationTagColumn !== undefined) {
    const check = new CollationTagCheck(fields, p.collationTagColumn, p.orderBy.map((k) => (k.column === undefined ? undefined : k.weightStringColumn)));
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % VALUES_PER_SLICE === 0) await turn();
      check.check(rows[i]);
    }
  }
  // Stable: equal keys keep their arrival order.
  const sorted = await sortInSlices(rows, orderComparator(p.orderBy, fields), turn);
  out.fields(trimFields(fields, p.resultColumns));
  await handOnInSlices(sorted, OUTPUT_CHUNK_ROWS, (chunk) => out.rows(chunk.map((r) => trimRow(r, p.resultColumns))), () => ctx.throwIfAborted());
}
