/**
 * SemiJoin: `x IN (correlated subquery)` / `EXISTS` (Semi) and their negations (Anti). Each outer
 * row runs the inner side with its own bind vars and is kept when the inner side has rows.
 *
 * This is the operator Vitess 21.0.1 got wrong in streaming mode: the outer route's shard streams
 * call the row callback concurrently, and one bind-var object was shared by those callbacks. Here
 * the callback owns every piece of state it writes (see joinBindVars). Lookups overlap and are
 * shared for identical values as in Join (inner-lookups.ts).
 */
import type { BindVars, SemiJoinPrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import type { RowReceiver } from '../row-flow.js';
import type { FieldInfo, Row } from '../types.js';
import { runPrimitive } from '../primitive-runner.js';
import { InnerLookups, lookupInOrder } from './inner-lookups.js';
import { collect, joinBindVars, joinValues } from './join.js';

export async function runSemiJoin(ctx: QueryContext, p: SemiJoinPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Set once by the outer's single fields() call, before any rows; read-only afterwards.
  let outerFields: readonly FieldInfo[] = [];
  let cols = p.cols;
  let joinVars = p.joinVars;
  const lookups = new InnerLookups(ctx, p.inner, (rowBv) => collect(ctx, p.inner, rowBv));
  await runPrimitive(ctx, p.outer, bv, {
    fields: (f) => {
      outerFields = f;
      if (p.helperColumns !== undefined) {
        // A `*` outer: the helper columns are the last ones (see SemiJoinPrimitive.helperColumns).
        const base = f.length - p.helperColumns;
        cols = Array.from({ length: base }, (_, i) => i);
        joinVars = Object.fromEntries(Object.entries(p.joinVars).map(([name, k]) => [name, base + k]));
      }
      out.fields(cols.map((c) => f[c]));
    },
    rows: async (rows) => {
      const kept: Row[] = [];
      await lookupInOrder(
        ctx,
        rows,
        lookups,
        (row) => {
          const rowBv = joinBindVars(bv, joinVars, row, outerFields);
          return { bindVars: rowBv, values: joinValues(rowBv, joinVars) };
        },
        (row, inner) => {
          if ((inner.rows.length > 0) === (p.variant === 'Semi')) kept.push(cols.map((c) => row[c] ?? null));
        },
      );
      if (kept.length > 0) await out.rows(kept);
    },
  });
}
