/** Filter: keeps the rows whose predicate is true at the gateway (HAVING over merged groups). */
import type { BindVars, FilterPrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import type { RowReceiver } from '../row-flow.js';
import type { FieldInfo } from '../types.js';
import { evalExpr, truthy } from '../values/eval-expr.js';
import { runPrimitive } from '../primitive-runner.js';

export async function runFilter(ctx: QueryContext, p: FilterPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Set once by the input's single fields() call before any rows; read-only afterwards.
  let fields: readonly FieldInfo[] = [];
  await runPrimitive(ctx, p.input, bv, {
    fields: (f) => {
      fields = f;
      out.fields(f);
    },
    rows: (rows) => {
      const kept = rows.filter((row) => truthy(evalExpr(p.predicate, { row, fields, bindVars: bv, divPrecisionIncrement: ctx.settings.divPrecisionIncrement })) === true);
      return kept.length > 0 ? out.rows(kept) : undefined;
    },
  });
}
