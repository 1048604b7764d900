/** UncorrelatedSubquery: runs the subquery once, binds its result, then runs the outer query. */
import type { BindVars, SqlValue, UncorrelatedSubqueryPrimitive } from '@shardgate/planner';
import { ExecutorError, ER_SUBQUERY_NO_1_ROW } from '../errors.js';
import { extendBindVars, type QueryContext } from '../query-context.js';
import type { OkOutcome, RowReceiver } from '../row-flow.js';
import { cellToSqlValue } from '../values/cell-codec.js';
import { runPrimitive } from '../primitive-runner.js';
import { collect } from './join.js';

export async function runUncorrelatedSubquery(ctx: QueryContext, p: UncorrelatedSubqueryPrimitive, bv: BindVars, out: RowReceiver): Promise<OkOutcome | void> {
  const sub = await collect(ctx, p.subquery, bv);
  // The values stay bound (and rendered into the outer query) for the whole statement.
  ctx.holdRows(sub.rows.length);
  const bound: BindVars = extendBindVars(bv, { [p.hasValuesBind]: sub.rows.length > 0 ? 1n : 0n });
  switch (p.variant) {
    case 'PulloutIn':
    case 'PulloutNotIn': {
      const values: SqlValue[] = sub.rows.map((r) => cellToSqlValue(r[0] ?? null, sub.fields[0]));
      bound[p.resultBind] = values;
      break;
    }
    case 'PulloutValue': {
      if (sub.rows.length > 1) throw new ExecutorError(ER_SUBQUERY_NO_1_ROW, '21000', 'Subquery returns more than 1 row');
      bound[p.resultBind] = sub.rows.length === 0 ? null : cellToSqlValue(sub.rows[0][0] ?? null, sub.fields[0]);
      break;
    }
    case 'PulloutExists':
      break;
  }
  return runPrimitive(ctx, p.outer, bound, out);
}
