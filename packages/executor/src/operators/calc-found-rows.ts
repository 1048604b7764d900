/**
 * SQLCalcFoundRows: counts the statement's rows without its LIMIT (countQuery), then runs the
 * statement (limitQuery) to the client; the session takes the count for FOUND_ROWS() once the
 * statement succeeds. The count runs first, so that a failure reaches the client before any row.
 */
import type { BindVars, CalcFoundRowsPrimitive } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from '../errors.js';
import type { QueryContext } from '../query-context.js';
import type { OkOutcome, RowReceiver } from '../row-flow.js';
import type { FieldInfo, Row } from '../types.js';
import { cellText } from '../values/cell-compare.js';
import { runPrimitive } from '../primitive-runner.js';
import { collect } from './join.js';

export async function runCalcFoundRows(ctx: QueryContext, p: CalcFoundRowsPrimitive, bv: BindVars, out: RowReceiver): Promise<OkOutcome | void> {
  if (ctx.settings.fieldsOnly === true) return runPrimitive(ctx, p.limitQuery, bv, out);
  ctx.foundRows = p.countIsScalar ? await scalarCount(ctx, p, bv) : await countRows(ctx, p, bv);
  return runPrimitive(ctx, p.limitQuery, bv, out);
}

/** countQuery is a `count(*)`: one row, one column. */
async function scalarCount(ctx: QueryContext, p: CalcFoundRowsPrimitive, bv: BindVars): Promise<bigint> {
  const r = await collect(ctx, p.countQuery, bv);
  const cell = r.rows.length === 1 ? r.rows[0]![0] : undefined;
  if (cell === undefined || cell === null) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `SQL_CALC_FOUND_ROWS: the count query returned ${r.rows.length} rows`);
  return BigInt(cellText(cell));
}

/**
 * The rows countQuery returns, counted as they pass (none held here). Concurrency rule: sibling
 * shard streams call rows() concurrently; each call adds its chunk's length synchronously.
 */
async function countRows(ctx: QueryContext, p: CalcFoundRowsPrimitive, bv: BindVars): Promise<bigint> {
  let n = 0;
  const counter: RowReceiver = {
    fields(_fields: readonly FieldInfo[]): void {},
    rows(rows: Row[]): void {
      n += rows.length;
    },
  };
  await runPrimitive(ctx, p.countQuery, bv, counter);
  return BigInt(n);
}
