/** Evaluates a plan's ValueExpr (vindex inputs, limits, sequence counts) against bind vars. */
import { ExactNumber, type BindVars, type SqlValue, type ValueExpr } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from '../errors.js';
import { TypedTemporal, unwrapBind } from './typed-temporal.js';

export function evalValue(expr: ValueExpr, bindVars: BindVars): SqlValue | readonly SqlValue[] {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'bind':
    case 'bindList': {
      const v = bindVars[expr.name];
      if (v === undefined) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `missing bind var ${expr.name}`);
      if (!Array.isArray(v)) return unwrapBind(v as SqlValue);
      // A pulled-out list comes from one column: its first value tells whether any is typed.
      const first = (v as readonly SqlValue[]).find((x) => x !== null);
      return first instanceof TypedTemporal ? (v as readonly SqlValue[]).map(unwrapBind) : (v as readonly SqlValue[]);
    }
    case 'list': {
      // A plain loop: flatMap made an array per item (the 50,000 terms of an OR chain).
      const out: SqlValue[] = [];
      for (const item of expr.items) {
        const v = evalValue(item, bindVars);
        if (Array.isArray(v)) for (const x of v as readonly SqlValue[]) out.push(x);
        else out.push(v as SqlValue);
      }
      return out;
    }
  }
}

export function evalScalar(expr: ValueExpr, bindVars: BindVars): SqlValue {
  const v = evalValue(expr, bindVars);
  if (Array.isArray(v)) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', 'expected a single value, got a list');
  return v as SqlValue;
}

export function evalList(expr: ValueExpr, bindVars: BindVars): readonly SqlValue[] {
  const v = evalValue(expr, bindVars);
  return Array.isArray(v) ? (v as SqlValue[]) : [v as SqlValue];
}

/** LIMIT/OFFSET and sequence counts: a non-negative integer. */
export function evalCount(expr: ValueExpr, bindVars: BindVars, what: string): number {
  const v = evalScalar(expr, bindVars);
  let n: number;
  if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'number') n = v;
  else if (v instanceof ExactNumber || typeof v === 'string') n = Number(v.toString());
  else n = NaN;
  if (!Number.isInteger(n) || n < 0) {
    throw new ExecutorError(1210, 'HY000', `Incorrect arguments to ${what}: ${String(v)}`);
  }
  return n;
}
