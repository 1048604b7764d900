/**
 * Interprets one plan primitive: the dispatch from plan data to the operator that runs it.
 * Plans are shared and immutable; every operator takes its per-execution state from its
 * arguments and its own locals, never from the plan objects.
 */
import type { BindVars, Primitive } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from './errors.js';
import type { QueryContext } from './query-context.js';
import type { OkOutcome, RowReceiver } from './row-flow.js';
import { runAggregate } from './operators/aggregate.js';
import { runCalcFoundRows } from './operators/calc-found-rows.js';
import { runConcatenate } from './operators/concatenate.js';
import { runDistinct } from './operators/distinct.js';
import { runFilter } from './operators/filter.js';
import { runInsert } from './operators/insert.js';
import { runJoin } from './operators/join.js';
import { runLimit } from './operators/limit.js';
import { runProjection } from './operators/projection.js';
import { runRoute } from './operators/route.js';
import { runSemiJoin } from './operators/semi-join.js';
import { runSend } from './operators/send.js';
import { runNext } from './operators/sequence.js';
import { runSort } from './operators/sort.js';
import { runUncorrelatedSubquery } from './operators/uncorrelated-subquery.js';
import { runUpdateDelete } from './operators/update-delete.js';

export function runPrimitive(ctx: QueryContext, p: Primitive, bv: BindVars, out: RowReceiver): Promise<OkOutcome | void> {
  // Not async itself: it only dispatches, and an async wrapper would add a promise and a
  // microtask hop to every primitive of every statement. Errors still come back as rejections.
  try {
    return dispatch(ctx, p, bv, out);
  } catch (err) {
    return Promise.reject(err);
  }
}

function dispatch(ctx: QueryContext, p: Primitive, bv: BindVars, out: RowReceiver): Promise<OkOutcome | void> {
  ctx.throwIfAborted();
  switch (p.operator) {
    case 'Route':
      return runRoute(ctx, p, bv, out);
    case 'Insert':
      return runInsert(ctx, p, bv);
    case 'Update':
    case 'Delete':
      return runUpdateDelete(ctx, p, bv);
    case 'Join':
      return runJoin(ctx, p, bv, out);
    case 'SemiJoin':
      return runSemiJoin(ctx, p, bv, out);
    case 'UncorrelatedSubquery':
      return runUncorrelatedSubquery(ctx, p, bv, out);
    case 'SQLCalcFoundRows':
      return runCalcFoundRows(ctx, p, bv, out);
    case 'Aggregate':
      return runAggregate(ctx, p, bv, out);
    case 'Sort':
      return runSort(ctx, p, bv, out);
    case 'Limit':
      return runLimit(ctx, p, bv, out);
    case 'Distinct':
      return runDistinct(ctx, p, bv, out);
    case 'Concatenate':
      return runConcatenate(ctx, p, bv, out);
    case 'Projection':
      return runProjection(ctx, p, bv, out);
    case 'Filter':
      return runFilter(ctx, p, bv, out);
    case 'Send':
      return runSend(ctx, p, bv, out);
    case 'Next':
      return runNext(ctx, p, bv, out);
    case 'Session':
      throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', 'session statements cannot be nested in a plan');
  }
}
