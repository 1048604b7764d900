/**
 * A correlated `[NOT] EXISTS (subquery)` in WHERE that cannot merge into the outer route becomes
 * a SemiJoin (Anti for NOT EXISTS): the outer query runs without that condition and with the outer
 * columns the subquery names added to its select list; for each outer row the subquery runs with
 * those columns bound (`user.id` → `:__sj1_0`) and the row is kept when it returns a row (none,
 * for NOT EXISTS). EXISTS is never NULL, so dropping the condition from the outer query and
 * applying it row by row gives exactly the rows MariaDB gives.
 *
 * Only where filtering after the outer route changes nothing else: the outer statement has no
 * aggregation, DISTINCT, HAVING or LIMIT (ORDER BY is kept: rows are filtered in order). With a
 * `*` in its select list the helper columns are its last ones, found by counting from the end
 * (SemiJoinPrimitive.helperColumns). The subquery may not nest further subqueries. A statement
 * that aggregates over such rows has them planned so, and aggregates them at the gateway.
 */
import type { Primitive } from './plan-types.js';
import type { PlanContext } from './plan-context.js';
import { columnName, conjuncts, functionArgs, functionName, isColumnRef, subqueryOf, walk } from './ast-utils.js';
import { tokenRange, type Ast, type ParsedStatement } from './sql-parser.js';
import { renderTokens, type TokenEdit } from './shard-sql.js';
import { hasAggregate } from './select-analyzer.js';
import { selectListEnd, statementHasWindow } from './select-planner.js';
import { kw } from './lexer.js';

interface CorrelatedExists {
  readonly sub: Ast;
  readonly negated: boolean;
  /** Tokens of the whole `[NOT] EXISTS (…)` condition. */
  readonly range: [number, number];
  /** `x IN (subquery)`: the outer expression x, compared with the subquery's one column. */
  readonly inLeft?: Ast;
}

/** The SemiJoin plan, or null when the statement has no correlated EXISTS this can take. */
export function planCorrelatedExists(ctx: PlanContext): Primitive | null {
  const p = ctx.parsed;
  const sel = p.ast;
  if (sel._next || p.intoOutfile >= 0 || sel.distinct || sel.having || (sel.groupby?.columns ?? []).length > 0) return null;
  if (sel.limit && Array.isArray(sel.limit.value) && sel.limit.value.length > 0) return null;
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  if (columns.length === 0 || columns.some((c) => hasAggregate(c.expr))) return null;
  const star = columns.some((c) => isColumnRef(c.expr) && columnName(c.expr) === '*');
  if (statementHasWindow(ctx) || p.tokens.some((t) => kw(t) === 'for' || kw(t) === 'lock')) return null;
  const outerAliases = aliasesOf(sel.from);
  for (const conj of conjuncts(sel.where)) {
    const ex = existsCondition(p, conj) ?? inCondition(p, conj);
    if (!ex || containsNestedSelect(ex.sub)) continue;
    const refs = outerReferences(ex.sub, outerAliases);
    if (refs.length === 0) continue;
    const subRange = tokenRange(p, ex.sub);
    if (!subRange) return null;
    // One bind var per distinct outer column, read from a helper column of the outer query.
    const n = ++ctx.subqueryCounter.n;
    const texts: string[] = [];
    const innerEdits: TokenEdit[] = [];
    for (const r of refs) {
      const range = tokenRange(p, r);
      if (!range) return null;
      const t = renderTokens(p.tokens, range[0], range[1], []);
      let k = texts.findIndex((x) => x.toLowerCase() === t.toLowerCase());
      if (k < 0) k = texts.push(t) - 1;
      innerEdits.push({ from: range[0], to: range[1], text: `:__sj${n}_${k}` });
    }
    if (ex.inLeft) {
      // In WHERE, `x IN (select e from t where w)` keeps the rows `EXISTS (select … where w and
      // e = x)` keeps: both are false or NULL (row dropped) exactly when no row of t has e = x.
      const sub = ex.sub;
      const cols: Ast[] = Array.isArray(sub.columns) ? sub.columns : [];
      if (cols.length !== 1 || (isColumnRef(cols[0].expr) && columnName(cols[0].expr) === '*') || hasAggregate(cols[0].expr)) return null;
      if ((sub.groupby?.columns ?? []).length > 0 || sub.having || sub.orderby || (sub.limit?.value ?? []).length > 0) return null;
      const leftRange = tokenRange(p, ex.inLeft);
      const eRange = tokenRange(p, cols[0].expr);
      if (!leftRange || !eRange) return null;
      const k = texts.push(renderTokens(p.tokens, leftRange[0], leftRange[1], [])) - 1;
      const eText = renderTokens(p.tokens, eRange[0], eRange[1], innerEdits);
      const cond = `(${eText}) = :__sj${n}_${k}`;
      if (sub.where) {
        const w = tokenRange(p, sub.where);
        if (!w || w[1] !== subRange[1]) return null;
        innerEdits.push({ from: w[0], to: w[0], text: '(' }, { from: w[1], to: w[1], text: `) and ${cond}` });
      } else {
        innerEdits.push({ from: subRange[1], to: subRange[1], text: ` where ${cond}` });
      }
    }
    const inner = ctx.planText(renderTokens(p.tokens, subRange[0], subRange[1], innerEdits)).instructions;
    const listEnd = selectListEnd(ctx);
    const outerEdits: TokenEdit[] = [
      { from: ex.range[0], to: ex.range[1], text: '1 = 1' },
      // Named apart, so that no ORDER BY name of the statement becomes ambiguous.
      { from: listEnd, to: listEnd, text: texts.map((t, k) => `, ${t} as \`__sj${n}_${k}\``).join('') },
    ];
    const outer = ctx.planText(renderTokens(p.tokens, 0, p.tokens.length, outerEdits)).instructions;
    const visible = star ? 0 : columns.length;
    return {
      operator: 'SemiJoin',
      variant: ex.negated ? 'Anti' : 'Semi',
      outer,
      inner,
      joinVars: Object.fromEntries(texts.map((_, k) => [`__sj${n}_${k}`, visible + k])),
      cols: star ? [] : columns.map((_, i) => i),
      ...(star ? { helperColumns: texts.length } : {}),
    };
  }
  return null;
}

/**
 * Whether the statement aggregates (GROUP BY, aggregates, HAVING, DISTINCT) over a WHERE with a
 * correlated `[NOT] EXISTS` or `IN (subquery)` that does not merge into its route: its raw rows,
 * planned as a statement of their own, are a SemiJoin, and the gateway aggregates them as it
 * does the rows of a join across shards (join-aggregate-planner.ts).
 */
export function aggregatesOverCorrelatedExists(ctx: PlanContext): boolean {
  const p = ctx.parsed;
  const sel = p.ast;
  if (sel._next || p.intoOutfile >= 0) return false;
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  const aggregated = !!sel.distinct || !!sel.having || (sel.groupby?.columns ?? []).length > 0 || columns.some((c) => hasAggregate(c.expr));
  if (!aggregated || columns.length === 0 || columns.some((c) => isColumnRef(c.expr) && columnName(c.expr) === '*')) return false;
  if (statementHasWindow(ctx) || p.tokens.some((t) => kw(t) === 'for' || kw(t) === 'lock')) return false;
  const outerAliases = aliasesOf(sel.from);
  return conjuncts(sel.where).some((conj) => {
    const ex = existsCondition(p, conj) ?? inCondition(p, conj);
    return !!ex && !containsNestedSelect(ex.sub) && outerReferences(ex.sub, outerAliases).length > 0;
  });
}

/**
 * Qualified references to a table of the outer query (an unqualified name resolves to the
 * subquery's own tables first; if it has none, the subquery fails on its own, never wrongly).
 */
function outerReferences(sub: Ast, outerAliases: ReadonlySet<string>): Ast[] {
  const innerAliases = aliasesOf(sub.from);
  const refs: Ast[] = [];
  walk(sub, (n) => {
    if (isColumnRef(n) && n.table && !innerAliases.has(String(n.table).toLowerCase()) && outerAliases.has(String(n.table).toLowerCase())) refs.push(n);
    return true;
  });
  return refs;
}

function aliasesOf(from: Ast): Set<string> {
  const out = new Set<string>();
  for (const f of Array.isArray(from) ? from : []) {
    if (f.as) out.add(String(f.as).toLowerCase());
    else if (f.table) out.add(String(f.table).toLowerCase());
  }
  return out;
}

function containsNestedSelect(sub: Ast): boolean {
  let nested = false;
  walk(sub, (n) => {
    if (n !== sub && (subqueryOf(n) || n?.type === 'select')) nested = true;
    return !nested;
  });
  return nested || !!sub._next;
}

/** `x IN (s)` as a WHERE term (NOT IN differs on NULLs and is left to other plans). */
function inCondition(p: ParsedStatement, n: Ast): CorrelatedExists | null {
  if (n?.type !== 'binary_expr' || String(n.operator).toUpperCase() !== 'IN') return null;
  if (n.right?.type !== 'expr_list' || n.right.value?.length !== 1) return null;
  const sub = subqueryOf(n.right.value[0]);
  const range = tokenRange(p, n);
  if (!sub || !range || n.left?.type === 'expr_list' || subqueryOf(n.left)) return null;
  let nested = false;
  walk(n.left, (x) => {
    if (subqueryOf(x) || x?.type === 'select') nested = true;
    return !nested;
  });
  return nested ? null : { sub, negated: false, range, inLeft: n.left };
}

/** `EXISTS (s)`, `NOT EXISTS (s)` or `NOT (EXISTS (s))` as a WHERE term, with its tokens. */
function existsCondition(p: ParsedStatement, n: Ast): CorrelatedExists | null {
  if (functionName(n) === 'exists') {
    const args = functionArgs(n);
    const sub = args.length === 1 ? subqueryOf(args[0]) : null;
    const range = tokenRange(p, n);
    return sub && range ? { sub, negated: false, range } : null;
  }
  if (functionName(n) === 'not' && functionArgs(n).length === 1 && functionName(functionArgs(n)[0]) === 'exists') {
    const inner = existsCondition(p, functionArgs(n)[0]);
    const range = tokenRange(p, n);
    return inner && range ? { ...inner, negated: true, range } : null;
  }
  const op = String(n?.operator ?? '').toUpperCase();
  if (n?.type === 'unary_expr' && (op === 'NOT EXISTS' || op === 'EXISTS') && subqueryOf(n.expr)) {
    // No location of its own: the keywords before the subquery's parenthesis.
    const sub = subqueryOf(n.expr);
    const r = tokenRange(p, sub);
    const kws = op === 'NOT EXISTS' ? ['not', 'exists'] : ['exists'];
    const start = r ? r[0] - 1 - kws.length : -1;
    if (!r || start < 0 || p.tokens[r[0] - 1]?.text !== '(' || p.tokens[r[1]]?.text !== ')' || kws.some((k, i) => p.tokens[start + i]?.text.toLowerCase() !== k)) return null;
    return { sub, negated: op === 'NOT EXISTS', range: [start, r[1] + 1] };
  }
  return null;
}
