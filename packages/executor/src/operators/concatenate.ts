/**
 * Concatenate (UNION ALL): runs its inputs one after another into one stream. The first input's
 * columns name the result, as on one server.
 */
import type { BindVars, ConcatenatePrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import { FieldsOnce, type RowReceiver } from '../row-flow.js';
import { runPrimitive } from '../primitive-runner.js';

export async function runConcatenate(ctx: QueryContext, p: ConcatenatePrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  const fieldsOnce = new FieldsOnce((f) => out.fields(f));
  for (const input of p.inputs) {
    await runPrimitive(ctx, input, bv, { fields: (f) => fieldsOnce.fields(f), rows: (rows) => out.rows(rows) });
  }
}
