/** UncorrelatedSubquery: runs the subquery once, binds its result, then runs the outer query. */
import type { BindVars, SqlValue, UncorrelatedSubqueryPrimitive } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET, ER_SUBQUERY_NO_1_ROW } from '../errors.js';
import type { Cell, FieldInfo } from '../types.js';
import { extendBindVars, type QueryContext } from '../query-context.js';
import type { OkOutcome, RowReceiver } from '../row-flow.js';
import { cellToSqlValue, ColumnNumber } from '../values/cell-codec.js';
import { ColumnFlag, ColumnType, valueClassOf } from '../values/column-types.js';
import { runPrimitive } from '../primitive-runner.js';
import { typedBindValue } from '../values/typed-temporal.js';
import { collect } from './join.js';

export async function runUncorrelatedSubquery(ctx: QueryContext, p: UncorrelatedSubqueryPrimitive, bv: BindVars, out: RowReceiver): Promise<OkOutcome | void> {
  const sub = await collect(ctx, p.subquery, bv);
  // The values stay bound (and rendered into the outer query) for the whole statement.
  ctx.holdRows(sub.rows.length);
  const bound: BindVars = extendBindVars(bv, { [p.hasValuesBind]: sub.rows.length > 0 ? 1n : 0n });
  switch (p.variant) {
    case 'PulloutIn':
    case 'PulloutNotIn': {
      const values: SqlValue[] = sub.rows.map((r) => typedBindValue(cellToSqlValue(r[0] ?? null, sub.fields[0]), sub.fields[0]));
      bound[p.resultBind] = values;
      break;
    }
    case 'PulloutValue': {
      if (sub.rows.length > 1) throw new ExecutorError(ER_SUBQUERY_NO_1_ROW, '21000', 'Subquery returns more than 1 row');
      const value = sub.rows.length === 0 ? null : pulledValue(sub.rows[0][0] ?? null, sub.fields[0]);
      if (value === null && p.nullRefused === true) {
        throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: a scalar subquery across shards that is NULL inside a select-list expression (a bare NULL would not keep the subquery\'s type)');
      }
      bound[p.resultBind] = value;
      break;
    }
    case 'PulloutExists':
      break;
  }
  return runPrimitive(ctx, p.outer, bound, out);
}

/**
 * A scalar subquery's value, to stand for the subquery in the outer query's SQL. The outer query
 * must see it with the subquery's type, as MariaDB does: a BIGINT (COUNT, SUM's integer part)
 * stays BIGINT and a DECIMAL stays DECIMAL (see ColumnNumber's keepType) instead of becoming an
 * INT literal. A character string is refused: its literal would compare in the connection's
 * collation, where MariaDB compares the subquery's column in its own (`(select max(code) …) = 'AB'`
 * is false for a utf8mb4_bin 'ab'), and which collation that is the result does not say.
 */
function pulledValue(cell: Cell, field: FieldInfo | undefined): SqlValue {
  const cls = field ? valueClassOf(field.columnType, field.characterSet) : 'binary';
  if (cls === 'text') {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: a scalar subquery across shards whose value is a character string (the outer query would compare it without its collation)');
  }
  const value = cellToSqlValue(cell, field);
  if (value === null || field === undefined) return value;
  if (cls === 'integer' && field.columnType === ColumnType.LONGLONG && (field.flags & ColumnFlag.UNSIGNED) === 0) return new ColumnNumber(value.toString(), 'bigint', true);
  if (cls === 'decimal') return new ColumnNumber(value.toString(), 'decimal', true);
  return typedBindValue(value, field);
}
