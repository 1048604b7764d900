/**
 * A derived table that cannot be merged into the outer route (it has a LIMIT, aggregation or
 * DISTINCT and reaches several shards) is evaluated at the gateway, as Vitess does: the derived
 * table is planned as a statement of its own, and the outer query over its rows becomes gateway
 * operators: WHERE a Filter, the select list a Projection of its columns, ORDER BY a Sort, LIMIT a
 * Limit.
 *
 * Only an outer query the gateway answers exactly: one derived table and nothing else in FROM,
 * select items that are its columns (or `*`), no aggregation, GROUP BY, HAVING, DISTINCT or
 * subqueries, ORDER BY on numeric columns.
 */
import type { EvalExpr, OrderByKey, Primitive } from './plan-types.js';
import type { PlanContext } from './plan-context.js';
import { columnName, isColumnRef, walk } from './ast-utils.js';
import { tokenRange, type Ast } from './sql-parser.js';
import { renderTokens } from './shard-sql.js';
import { notSupported } from './errors.js';
import { containsSubquery, hasAggregate } from './select-analyzer.js';
import { limitValue } from './select-planner.js';
import { toEvalExpr } from './gateway-expr.js';
import { kw } from './lexer.js';

/** The gateway plan, or null when the statement is not one derived table under a simple outer query. */
export function planDerivedAtGateway(ctx: PlanContext): Primitive | null {
  const p = ctx.parsed;
  const sel = p.ast;
  const from: Ast[] = Array.isArray(sel.from) ? sel.from : [];
  if (sel._next || p.intoOutfile >= 0 || from.length !== 1 || !from[0].expr?.ast || from[0].expr.ast._next) return null;
  if (sel.distinct || sel.having || (sel.groupby?.columns ?? []).length > 0) return null;
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  const counting = columns.length > 0 && columns.every((c) => isCount(c.expr));
  if ((!counting && columns.some((c) => hasAggregate(c.expr))) || [sel.columns, sel.where, sel.orderby].some((x) => x && containsSubquery(x))) return null;
  if (counting && (sel.orderby || sel.limit?.value?.length)) return null;
  if (p.tokens.some((t) => kw(t) === 'for' || kw(t) === 'lock' || kw(t) === 'over')) return null;
  const alias = String(from[0].as ?? '').toLowerCase();
  const inner: Ast = from[0].expr.ast;
  const innerCols: Ast[] = Array.isArray(inner.columns) ? inner.columns : [];
  if (innerCols.some((c) => isColumnRef(c.expr) && columnName(c.expr) === '*')) return null;
  // The derived table's column names, as MySQL names them: the alias, a column's name, else its text.
  const names = innerCols.map((c) => {
    if (c.as) return String(c.as);
    if (isColumnRef(c.expr)) return columnName(c.expr);
    const r = tokenRange(p, c.expr);
    return r ? renderTokens(p.tokens, r[0], r[1], []) : '';
  });
  const innerRange = tokenRange(p, inner);
  if (!innerRange || names.some((n) => n === '')) return null;

  /** The derived-table column a reference names (`t.n` or `n`). */
  const columnOf = (n: Ast): number => {
    if (!isColumnRef(n)) return -1;
    if (n.table && String(n.table).toLowerCase() !== alias) throw notSupported(`column '${String(n.table)}.${columnName(n)}' over a derived table evaluated at the gateway`);
    const name = columnName(n).toLowerCase();
    const matches = names.map((x, i) => (x.toLowerCase() === name ? i : -1)).filter((i) => i >= 0);
    if (matches.length !== 1) throw notSupported(`column '${columnName(n)}' over a derived table evaluated at the gateway`);
    return matches[0]!;
  };
  const leaf = (n: Ast): number | undefined => (isColumnRef(n) ? columnOf(n) : undefined);

  // Output columns.
  const expressions: EvalExpr[] = [];
  const columnNames: string[] = [];
  for (const c of counting ? [] : columns) {
    if (isColumnRef(c.expr) && columnName(c.expr) === '*') {
      if (c.expr.table && String(c.expr.table).toLowerCase() !== alias) return null;
      names.forEach((_, i) => {
        expressions.push({ kind: 'column', index: i });
        columnNames.push('');
      });
      continue;
    }
    const idx = columnOf(c.expr);
    if (idx < 0) throw notSupported('expression over a derived table evaluated at the gateway');
    expressions.push({ kind: 'column', index: idx });
    columnNames.push(c.as ? String(c.as) : '');
  }

  let top: Primitive = ctx.planText(renderTokens(p.tokens, innerRange[0], innerRange[1], [])).instructions;
  if (sel.where) {
    // The gateway compares numbers exactly; text would need each column's collation.
    walk(sel.where, (n) => {
      if (isColumnRef(n) && !numericColumn(innerCols[columnOf(n)]!.expr)) throw notSupported('WHERE on a non-numeric column of a derived table evaluated at the gateway');
      if (n?.type === 'string' || n?.type === 'single_quote_string' || n?.type === 'double_quote_string') throw notSupported('WHERE with text over a derived table evaluated at the gateway');
      return true;
    });
    top = { operator: 'Filter', input: top, predicate: toEvalExpr(sel.where, leaf, 'WHERE over a derived table evaluated at the gateway', ctx.parsed.nullSafeEqual) };
  }
  if (counting) return countRows(p, columns, top, columnOf);
  const orderBy: OrderByKey[] = [];
  for (const o of sel.orderby ?? []) {
    const e = o.expr;
    if (e?.type === 'null') continue;
    let idx: number;
    if (e?.type === 'number') {
      const out = expressions[Number(e.value) - 1];
      if (!out || out.kind !== 'column') throw notSupported('ORDER BY position over a derived table evaluated at the gateway');
      idx = out.index;
    } else {
      const byAlias = isColumnRef(e) && !e.table ? columns.findIndex((c) => c.as && String(c.as).toLowerCase() === columnName(e).toLowerCase()) : -1;
      idx = byAlias >= 0 ? (expressions[byAlias] as { index: number }).index : columnOf(e);
    }
    // Text would need its collation's keys, which the derived table's plan does not carry.
    if (idx < 0 || !numericColumn(innerCols[idx]!.expr)) throw notSupported('ORDER BY other than a numeric column of a derived table evaluated at the gateway');
    orderBy.push({ column: idx, desc: String(o.type ?? 'ASC').toUpperCase() === 'DESC' });
  }
  if (orderBy.length > 0) top = { operator: 'Sort', input: top, orderBy };
  if (sel.limit && Array.isArray(sel.limit.value) && sel.limit.value.length > 0) {
    const vals: Ast[] = sel.limit.value;
    const sep = String(sel.limit.seperator ?? '').toLowerCase();
    const count = limitValue(vals.length === 1 ? vals[0] : sep === 'offset' ? vals[0] : vals[1]);
    const offsetNode = vals.length === 1 ? undefined : sep === 'offset' ? vals[1] : vals[0];
    top = offsetNode === undefined ? { operator: 'Limit', input: top, count } : { operator: 'Limit', input: top, count, offset: limitValue(offsetNode) };
  }
  const identity = expressions.length === names.length && expressions.every((e, i) => e.kind === 'column' && e.index === i) && columnNames.every((n) => n === '');
  return identity ? top : { operator: 'Projection', input: top, expressions, columnNames, fieldFrom: expressions.map(() => null) };
}

/** `count(*)` or `count(col)`: the aggregates the gateway computes exactly over the derived table's rows. */
function isCount(e: Ast): boolean {
  if (e?.type !== 'aggr_func' || String(e.name).toLowerCase() !== 'count' || e.args?.distinct) return false;
  const arg = e.args?.expr;
  return arg?.type === 'star' || (isColumnRef(arg) && columnName(arg) !== '*');
}

/**
 * `select count(*), count(col) from (…) t [where …]` over a derived table evaluated at the gateway:
 * each row becomes 1 (count(*)) or `col IS NOT NULL` (count(col)), and a scalar Aggregate adds
 * them up, giving 0 over no rows, as MariaDB does. Counts are exact whatever the column types.
 */
function countRows(p: PlanContext['parsed'], columns: readonly Ast[], input: Primitive, columnOf: (n: Ast) => number): Primitive {
  const expressions: EvalExpr[] = columns.map((c) => {
    const arg = c.expr.args.expr;
    return arg?.type === 'star' ? { kind: 'literal', value: 1n } : { kind: 'call', fn: 'isnotnull', args: [{ kind: 'column', index: columnOf(arg) }] };
  });
  const names = columns.map((c) => {
    if (c.as) return String(c.as);
    const r = tokenRange(p, c.expr);
    return r ? renderTokens(p.tokens, r[0], r[1], []) : 'count(*)';
  });
  const ones: Primitive = { operator: 'Projection', input, expressions, columnNames: names, fieldFrom: expressions.map(() => null) };
  return { operator: 'Aggregate', variant: 'Scalar', input: ones, groupBy: [], aggregates: names.map((alias, column) => ({ opcode: 'sum_count', column, alias })) };
}

/** count(), sum() and avg() give numbers (the derived table's other columns have no known type here). */
function numericColumn(e: Ast): boolean {
  return e?.type === 'aggr_func' && ['count', 'sum', 'avg'].includes(String(e.name).toLowerCase());
}
