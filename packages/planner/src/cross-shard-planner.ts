/**
 * Plans for statements that need several routes:
 * - subqueries that cannot run inside the outer route are pulled out (UncorrelatedSubquery): the
 *   subquery runs once, its result is bound (`::__sq1`, `:__sq_has_values1`) into the rewritten
 *   outer query, which is then planned on its own (and may route on the bound list);
 * - a join of two routes becomes a nested-loop Join: the left route runs once, the right route
 *   runs per left row with the join columns bound (`:u_id`).
 * Anything else fails with 1235. Correlated subqueries that cannot merge are refused, never
 * pulled out (their result depends on the outer row).
 */
import type { EvalExpr, JoinPrimitive, KeyedLookup, OrderByKey, Plan, Primitive, UncorrelatedSubqueryPrimitive } from './plan-types.js';
import { collationKeySql, joinKeySql } from './collation-key-sql.js';
import type { PlanContext } from './plan-context.js';
import { containsSubquery, hasAggregate, type Analyzed, type SelectAnalyzer } from './select-analyzer.js';
import { columnName, conjuncts, functionArgs, functionName, isColumnRef, subqueryOf, walk } from './ast-utils.js';
import { tokenRange, type Ast, type ParsedStatement } from './sql-parser.js';
import { quoteIdent, renderTokens, templateFromTokens, type TokenEdit } from './shard-sql.js';
import { notSupported, PlanError } from './errors.js';
import { colKey, splitKey, type Cand, type ColKey, type Cond, type TableRef } from './routing.js';
import { isNumericExpr, refuseWindowAcrossShards, routeFor, withGatewayLimit } from './select-planner.js';
import { toEvalExpr } from './gateway-expr.js';
import { planUnionParts } from './union-planner.js';
import { planJoinAggregate } from './join-aggregate-planner.js';
import { avgInsideExpression, avgRoundingUncertain } from './scatter-aggregate-planner.js';
import { aggregatesOverCorrelatedExists, planCorrelatedExists } from './semi-join-planner.js';
import { derivedRange, planDerivedAtGateway, unwrapStarDerived } from './derived-table-planner.js';

/** Comparisons whose two column operands compare by the columns' own types and collations. */
const COLUMN_COMPARISONS = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '<=>']);

export function planCrossShard(ctx: PlanContext, analyzer: SelectAnalyzer, analyzed: Analyzed): Primitive {
  if (ctx.parsed.ast._next) return planUnionParts(ctx);
  const semi = planCorrelatedExists(ctx);
  if (semi) return semi;
  if (aggregatesOverCorrelatedExists(ctx)) return planJoinAggregate(ctx, analyzer, analyzed);
  const derived = planDerivedAtGateway(ctx, analyzer, analyzed);
  if (derived) return derived;
  const pulled = pullOutSubqueries(ctx);
  if (pulled) return pulled;
  if (analyzed.pieces && analyzed.pieces.length >= 2 && !containsAnySubquery(ctx.parsed.ast)) {
    // Each side's route would compute the window over its own rows, before the join.
    refuseWindowAcrossShards(ctx);
    const sel = ctx.parsed.ast;
    const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
    if ((sel.groupby?.columns ?? []).length > 0 || columns.some((c) => hasAggregate(c.expr)) || sel.having || sel.distinct) return planJoinAggregate(ctx, analyzer, analyzed);
    return planJoin(ctx, analyzer, analyzed);
  }
  throw notSupported(analyzed.why ?? 'query that needs several routes');
}

/** A join of routes without subqueries or UNION: planJoin / planJoinAggregate take it. */
export function isPlainCrossShardJoin(ctx: PlanContext, analyzed: Analyzed): boolean {
  return !ctx.parsed.ast._next && !!analyzed.pieces && analyzed.pieces.length >= 2 && !containsAnySubquery(ctx.parsed.ast);
}

/**
 * Whether a node is a `<=>`: its operator (sql-parser.ts restores it), or, when the statement has
 * a `<=>` the parser adapter could not place (`nullSafeEqual`), a `>=` that may have been one.
 */
export function isNullSafeEqual(p: ParsedStatement, n: Ast): boolean {
  if (n?.type !== 'binary_expr') return false;
  if (String(n.operator) === '<=>') return true;
  if (!p.nullSafeEqual || String(n.operator) !== '>=') return false;
  const r = tokenRange(p, n.left);
  if (!r) return true;
  let i = r[1];
  while (p.tokens[i]?.text === ')') i++;
  return p.tokens[i]?.text !== '>=';
}

/** Whether an expression holds a `<=>` (see isNullSafeEqual). */
export function containsNullSafeEqual(p: ParsedStatement, e: Ast): boolean {
  let found = false;
  walk(e, (n) => {
    if (isNullSafeEqual(p, n)) found = true;
    return !found;
  });
  return found;
}

/** A subquery outside the FROM's derived tables (which the join planner plans as pieces of their own). */
function containsAnySubquery(sel: Ast): boolean {
  const on = (Array.isArray(sel.from) ? sel.from : []).map((f: Ast) => f.on ?? null);
  return [sel.columns, sel.where, sel.having, sel.orderby, on].some((x) => x && containsSubquery(x));
}

type Pulled = { variant: UncorrelatedSubqueryPrimitive['variant']; plan: Plan; resultBind: string; hasValuesBind: string; nullRefused?: boolean };

/** Pulls uncorrelated subqueries out of WHERE conjuncts and the select list; null if none apply. */
function pullOutSubqueries(ctx: PlanContext): Primitive | null {
  const p = ctx.parsed;
  const sel = p.ast;
  if (sel._next || p.intoOutfile >= 0) return null;
  const edits: TokenEdit[] = [];
  const pulled: Pulled[] = [];
  const text = (n: Ast): string => {
    const r = tokenRange(p, n);
    if (!r) throw notSupported('subquery in an expression shardgate cannot rewrite');
    return renderTokens(p.tokens, r[0], r[1], []);
  };
  const names = (): { res: string; has: string } => {
    const n = ++ctx.subqueryCounter.n;
    return { res: `__sq${n}`, has: `__sq_has_values${n}` };
  };
  const planSub = (written: Ast, oneColumn: boolean): Plan => {
    // `(select * from (select * from (… limit 10) a) b)`: the columns are the innermost statement's.
    const sub = unwrapStarDerived(written);
    if (sub._next) throw notSupported('UNION inside a subquery that cannot be merged into the outer route');
    if (oneColumn && (!Array.isArray(sub.columns) || sub.columns.length !== 1 || (isColumnRef(sub.columns[0].expr) && columnName(sub.columns[0].expr) === '*'))) {
      throw notSupported('subquery that returns other than one column');
    }
    const r = tokenRange(p, sub);
    if (!r) throw notSupported('subquery shape');
    try {
      return ctx.planText(renderTokens(p.tokens, r[0], r[1], []));
    } catch (e) {
      const err = e as { errno?: number };
      if (err.errno === 1054 || err.errno === 1051) throw notSupported('correlated subquery that cannot be merged into the outer route');
      throw e;
    }
  };
  /** whereEdits' sink: plans the subquery, pulls it out, and replaces its tokens with the bind. */
  const pullInto =
    (nullRefused: boolean): WhereEditSink =>
    (sub, variant, range, replacement) => {
      const plan = planSub(sub, variant !== 'PulloutExists');
      const n = names();
      pulled.push({ variant, plan, resultBind: n.res, hasValuesBind: n.has, ...(nullRefused && variant === 'PulloutValue' ? { nullRefused: true } : {}) });
      edits.push({ from: range[0], to: range[1], text: replacement(n.res, n.has) });
    };
  // WHERE: every subquery, wherever it sits in a conjunct, becomes a bind whose value equals it
  // (see whereEdit); a subquery in a place whose meaning the rewrite cannot keep leaves the
  // statement unplanned here.
  for (const conj of conjuncts(sel.where)) {
    if (!containsSubquery(conj)) continue;
    // A top-level `x IN (subquery)` keeps its unparenthesized form, so the outer query may route
    // on the bound list.
    const topIn = inSubquery(conj);
    if (topIn && !topIn.not && tokenRange(p, conj.left)) {
      const range = tokenRange(p, conj);
      if (!range) return null;
      const plan = planSub(topIn.sub, true);
      const n = names();
      pulled.push({ variant: 'PulloutIn', plan, resultBind: n.res, hasValuesBind: n.has });
      edits.push({ from: range[0], to: range[1], text: `:${n.has} = 1 and ${text(conj.left)} in ::${n.res}` });
      continue;
    }
    if (!whereEdits(p, conj, pullInto(false))) return null;
  }
  for (const c of Array.isArray(sel.columns) ? sel.columns : []) {
    const sub = subqueryOf(c.expr);
    if (!sub) {
      if (!containsSubquery(c.expr)) continue;
      // EXISTS / IN (subquery) inside an expression (`exists (select …)`, `if(x in (select …), …)`):
      // each becomes its bind as in WHERE, a boolean whatever the subquery returns; the column keeps the name MariaDB gives it, its text as written
      // (refused when that text holds a literal the normalizer made a bind var: its value is
      // only known at execution).
      const range = tokenRange(p, c.expr);
      if (!range) return null;
      const written = renderTokens(p.tokens, range[0], range[1], []);
      if (!c.as && (p.tokens.slice(range[0], range[1]).some((t) => t.kind === 'bind' || t.kind === 'listBind' || t.kind === 'placeholder') || written.includes('`'))) return null;
      const before = edits.length;
      // A scalar value is bound as a literal of its type; a NULL one is refused at execution
      // (see UncorrelatedSubqueryPrimitive.nullRefused).
      if (!whereEdits(p, c.expr, pullInto(true))) return null;
      if (!c.as && edits.length > before) edits.push({ from: range[1], to: range[1], text: ` as \`${written}\`` });
      continue;
    }
    const r = tokenRange(p, sub);
    if (!r || p.tokens[r[0] - 1]?.text !== '(' || p.tokens[r[1]]?.text !== ')') return null;
    const plan = planSub(sub, true);
    const n = names();
    pulled.push({ variant: 'PulloutValue', plan, resultBind: n.res, hasValuesBind: n.has });
    edits.push({ from: r[0] - 1, to: r[1] + 1, text: `:${n.res}` + (c.as ? '' : ` as \`${c.as ?? 'subquery'}\``) });
  }
  // HAVING: as WHERE (its conditions keep their truth values with the subquery bound).
  for (const conj of conjuncts(sel.having)) {
    if (!containsSubquery(conj)) continue;
    if (!whereEdits(p, conj, pullInto(false))) return null;
  }
  if (pulled.length === 0) return null;
  if ([sel.orderby, sel.from].some((x) => x && containsSubquery(x))) return null;
  // The outer statement reaches MariaDB with its subqueries as values, which changes its plan:
  // an avg() inside an expression, in the shapes where MariaDB computes it from its rounded or
  // its exact value by plan, would then differ from the statement as written (random
  // differential seed 116 #2020: `avg(q) * count(*) … where x in (select …) group by k order by
  // coalesce(sum(y), 0)` was 6.9999 on the shard, 7.0000 on one MariaDB).
  if (avgInsideExpression(sel) && avgRoundingUncertain(p)) throw notSupported('avg() inside an expression, grouped with an ORDER BY other than the leading GROUP BY columns or with a DISTINCT aggregate elsewhere, over a subquery the gateway runs first (MariaDB computes it from its rounded or unrounded value depending on its plan)');
  const outer = ctx.planText(renderTokens(p.tokens, 0, p.tokens.length, edits));
  let top: Primitive = outer.instructions;
  for (let i = pulled.length - 1; i >= 0; i--) {
    const x = pulled[i]!;
    top = { operator: 'UncorrelatedSubquery', variant: x.variant, subquery: x.plan.instructions, outer: top, resultBind: x.resultBind, hasValuesBind: x.hasValuesBind, ...(x.nullRefused === true ? { nullRefused: true } : {}) };
  }
  return top;
}

/** `x IN (subquery)` / `x NOT IN (subquery)` with a one-value left side. */
function inSubquery(n: Ast): { sub: Ast; not: boolean } | null {
  const op = String(n?.operator ?? '').toUpperCase();
  if (n?.type !== 'binary_expr' || (op !== 'IN' && op !== 'NOT IN')) return null;
  if (n.right?.type !== 'expr_list' || n.right.value?.length !== 1) return null;
  const sub = subqueryOf(n.right.value[0]);
  if (!sub || containsSubquery(n.left) || n.left?.type === 'expr_list') return null;
  return { sub, not: op === 'NOT IN' };
}

/** `NOT (x [NOT] IN (subquery))`, as a unary NOT or the function form the parser gives `not (…)`. */
function negatedInSubquery(n: Ast): { node: Ast; sub: { sub: Ast; not: boolean } } | null {
  let inner: Ast = null;
  if (n?.type === 'unary_expr' && String(n.operator).toUpperCase() === 'NOT') inner = n.expr;
  else if (functionName(n) === 'not' && functionArgs(n).length === 1) inner = functionArgs(n)[0];
  const sub = inner ? inSubquery(inner) : null;
  return sub ? { node: inner, sub } : null;
}

/** The text of an `x [NOT] IN (subquery)`'s left side: the tokens before `[not] in (` (a literal has no location of its own). */
function inLeftText(p: ParsedStatement, inNode: Ast, sub: Ast): string | null {
  const range = tokenRange(p, inNode);
  const r = tokenRange(p, sub);
  const kws = String(inNode.operator).toUpperCase() === 'NOT IN' ? ['not', 'in'] : ['in'];
  const leftEnd = r ? r[0] - 1 - kws.length : -1;
  if (!range || !r || leftEnd <= range[0] || p.tokens[r[0] - 1]?.text !== '(' || kws.some((k, i) => p.tokens[leftEnd + i]?.text.toLowerCase() !== k)) return null;
  return renderTokens(p.tokens, range[0], leftEnd, []);
}

/** Functions whose subquery argument is not a scalar value (`x = ANY (subquery)`). */
const SUBQUERY_PREDICATES: ReadonlySet<string> = new Set(['any', 'all', 'some', 'exists']);

type WhereEditSink = (sub: Ast, variant: UncorrelatedSubqueryPrimitive['variant'], range: [number, number], replacement: (res: string, has: string) => string) => void;

/**
 * Finds the subqueries of a WHERE conjunct and hands each on with the tokens to replace and the
 * text that replaces them, an expression equal to what it replaces under three-valued logic:
 * - `x IN (s)` → `(:has = 1 and x in ::res)`: false for an empty result, even for a NULL x;
 * - `x NOT IN (s)` → `(:has = 0 or x not in ::res)`;
 * - `EXISTS (s)` → `(:has)`, `NOT EXISTS (s)` → `(not :has)`;
 * - any other `(s)` is a scalar value → `:res` (NULL for no row; more than one row is error 1242
 *   at execution, as in MariaDB).
 * Returns false when a subquery sits where this cannot be done (`= ANY (s)`, a row subquery, a
 * node without a source location).
 */
function whereEdits(p: ParsedStatement, e: Ast, sink: WhereEditSink): boolean {
  let ok = true;
  const visit = (n: Ast, parentFn: string): void => {
    if (!ok || n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x, parentFn);
      return;
    }
    // `NOT (x IN (s))` is `x NOT IN (s)` under three-valued logic too (Vitess plans it so).
    const negatedIn = negatedInSubquery(n);
    if (negatedIn) {
      // A unary NOT carries no location: it is the token before its operand.
      const innerRange = tokenRange(p, negatedIn.node);
      const range = tokenRange(p, n) ?? (innerRange && p.tokens[innerRange[0] - 1]?.text.toLowerCase() === 'not' ? ([innerRange[0] - 1, innerRange[1]] as [number, number]) : null);
      const left = range ? inLeftText(p, negatedIn.node, negatedIn.sub.sub) : null;
      if (!range || left === null) {
        ok = false;
        return;
      }
      sink(negatedIn.sub.sub, negatedIn.sub.not ? 'PulloutIn' : 'PulloutNotIn', range, (res, has) => (negatedIn.sub.not ? `(:${has} = 1 and ${left} in ::${res})` : `(:${has} = 0 or ${left} not in ::${res})`));
      return;
    }
    const inSub = inSubquery(n);
    if (inSub) {
      const range = tokenRange(p, n);
      const left = range ? inLeftText(p, n, inSub.sub) : null;
      if (!range || left === null) {
        ok = false;
        return;
      }
      sink(inSub.sub, inSub.not ? 'PulloutNotIn' : 'PulloutIn', range, (res, has) => (inSub.not ? `(:${has} = 0 or ${left} not in ::${res})` : `(:${has} = 1 and ${left} in ::${res})`));
      return;
    }
    const existsSub = existsSubquery(n);
    if (existsSub) {
      const range = tokenRange(p, n);
      if (!range) {
        ok = false;
        return;
      }
      sink(existsSub, 'PulloutExists', range, (_res, has) => `(:${has})`);
      return;
    }
    const op = String(n.operator ?? '').toUpperCase();
    if (n.type === 'unary_expr' && (op === 'NOT EXISTS' || op === 'EXISTS') && subqueryOf(n.expr)) {
      // `NOT EXISTS (s)` carries no location of its own: find its keywords before the parenthesis.
      const r = tokenRange(p, subqueryOf(n.expr));
      const kws = op === 'NOT EXISTS' ? ['not', 'exists'] : ['exists'];
      const start = r ? r[0] - 1 - kws.length : -1;
      if (!r || start < 0 || p.tokens[r[0] - 1]?.text !== '(' || p.tokens[r[1]]?.text !== ')' || kws.some((k, i) => p.tokens[start + i]?.text.toLowerCase() !== k)) {
        ok = false;
        return;
      }
      sink(subqueryOf(n.expr), 'PulloutExists', [start, r[1] + 1], (_res, has) => (op === 'NOT EXISTS' ? `(not :${has})` : `(:${has})`));
      return;
    }
    const sub = subqueryOf(n);
    if (sub) {
      const r = tokenRange(p, sub);
      if (SUBQUERY_PREDICATES.has(parentFn) || !r || p.tokens[r[0] - 1]?.text !== '(' || p.tokens[r[1]]?.text !== ')') {
        ok = false;
        return;
      }
      sink(sub, 'PulloutValue', [r[0] - 1, r[1] + 1], (res) => `:${res}`);
      return;
    }
    const fn = n.type === 'function' ? functionName(n) : n.type === 'expr_list' ? parentFn : '';
    for (const k of Object.keys(n)) {
      if (k === 'loc' || k === 'tableList' || k === 'columnList') continue;
      const v = n[k];
      if (v !== null && typeof v === 'object') visit(v, fn);
    }
  };
  visit(e, '');
  return ok;
}

function existsSubquery(n: Ast): Ast | null {
  if (n?.type !== 'function' || functionName(n) !== 'exists') return null;
  const args = functionArgs(n);
  return args.length === 1 ? subqueryOf(args[0]) : null;
}

/** A nested-loop join of two routes. */
function planJoin(ctx: PlanContext, analyzer: SelectAnalyzer, analyzed: Analyzed): Primitive {
  const p = ctx.parsed;
  const sel = p.ast;
  if (sel._next) throw notSupported('UNION of joins across shards');
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  const groupCols: Ast[] = sel.groupby?.columns ?? [];
  if (groupCols.length > 0 || columns.some((c) => hasAggregate(c.expr)) || sel.having || sel.distinct) {
    throw notSupported('aggregation, DISTINCT or HAVING over a join across shards');
  }
  if (p.intoOutfile >= 0) throw notSupported('INTO OUTFILE with a join across shards');
  const scope = analyzed.scope;
  // Several pieces: the one holding the last table of the FROM is the right side, the others are
  // the left side, planned as a statement of their own (a join again), as Vitess nests ApplyJoins.
  const pieces = analyzed.pieces as Cand[];
  const lastTable = scope.tables[scope.tables.length - 1]!;
  let rightCand = pieces.length === 2 ? pieces[1]! : pieces.find((c) => c.tables.includes(lastTable)) ?? pieces[pieces.length - 1]!;
  const from: Ast[] = sel.from;
  const hasOuterJoin = from.some((item) => /LEFT|RIGHT/i.test(String(item.join ?? '')));
  // `a RIGHT JOIN b ON …` of two tables is `b LEFT JOIN a ON …`: the first table is the side
  // NULL-extended, so it goes to the right (inner) route. The output's columns stay in the
  // select list's order ('*' is refused across shards).
  const rightJoin = from.length === 2 && pieces.length === 2 && /RIGHT/i.test(String(from[1]?.join ?? ''));
  if (rightJoin) rightCand = pieces.find((c) => c.tables.includes(scope.tables[0]!)) ?? rightCand;
  if (rightCand.opaque) {
    // A derived table with LIMIT or aggregation over several shards cannot run once per left row:
    // it goes to the left side, evaluated once (at the gateway if need be), as Vitess puts it on
    // the LHS. An inner join's sides may swap; an outer join's may not.
    const other = hasOuterJoin ? undefined : [...pieces].reverse().find((c) => !c.opaque);
    if (!other) throw notSupported('derived table with LIMIT, aggregation or DISTINCT over several shards on the inner side of a join across shards');
    rightCand = other;
  }
  const leftPieces = pieces.filter((c) => c !== rightCand);
  const leftCand: Cand = leftPieces.length === 1 ? leftPieces[0]! : { tables: leftPieces.flatMap((c) => c.tables), conds: [], opaque: leftPieces.some((c) => c.opaque) };
  const pieceOf = (t: TableRef): 0 | 1 | -1 => (leftCand.tables.includes(t) ? 0 : rightCand.tables.includes(t) ? 1 : -1);
  for (const t of scope.tables) if (t.kind !== 'table' && t.kind !== 'derived') throw notSupported('dual or information_schema in a join across shards');
  // Derived tables on the left side are planned with it as a statement of its own.
  const leftHasDerived = leftCand.tables.some((t) => t.kind === 'derived');
  // Join variant: LEFT JOIN only as the join between the two pieces.
  let leftJoin = false;
  from.forEach((item, i) => {
    const join = String(item.join ?? '').toUpperCase();
    if (join.includes('RIGHT')) {
      if (!rightJoin) throw notSupported('RIGHT JOIN across shards other than of two tables');
      leftJoin = true;
      return;
    }
    if (join.includes('LEFT')) {
      const t = scope.tables[i]!;
      const firstOfRight = rightCand.tables[0] === t && from.slice(0, i).every((_, k) => pieceOf(scope.tables[k]!) === 0);
      if (!firstOfRight || rightCand.tables.length !== 1) throw notSupported('LEFT JOIN across shards other than one table joined to the rest');
      leftJoin = true;
    }
  });
  const idOf = (k: ColKey): string => splitKey(k)[0];
  // Tables inside derived tables too: a derived table's plain column resolves to its inner column.
  const tableById = new Map(pieces.flatMap((c) => c.tables).map((t) => [String(t.id), t]));
  const sideOfKey = (k: ColKey): 0 | 1 | -1 => {
    const t = tableById.get(idOf(k));
    return t ? pieceOf(t) : -1;
  };
  /** Sides referenced by an expression's columns (outer-scope references are refused). */
  const sidesOf = (e: Ast): Set<0 | 1> => {
    const sides = new Set<0 | 1>();
    walk(e, (n) => {
      if (isColumnRef(n)) {
        if (columnName(n) === '*') throw notSupported("'*' in a join across shards");
        const k = analyzer.resolve(n, scope);
        const side = k ? sideOfKey(k) : -1;
        if (side === -1) throw notSupported(`column '${columnName(n)}' that cannot be placed on one side of a join across shards`);
        sides.add(side);
      }
      return true;
    });
    return sides;
  };

  // A WHERE term that is NULL whenever a right column it compares is NULL drops every
  // NULL-extended row: the LEFT JOIN is then an inner join (as MariaDB's optimizer rewrites it).
  if (leftJoin && conjuncts(sel.where).some((c) => !containsNullSafeEqual(p, c) && rejectsNullOf(c, (n) => sidesOf(n).has(1) && !sidesOf(n).has(0)))) leftJoin = false;

  // Predicates: WHERE and ON conjuncts, each to the side that can evaluate it.
  const leftWhere: Ast[] = [];
  const rightWhere: Ast[] = [];
  const rightIds = new Set(rightCand.tables.map((t) => String(t.id)));
  // Under a LEFT JOIN a WHERE term on the right side applies to the joined rows, NULL-extended
  // ones included: the gateway filters them after the join (see gatewayFilterable).
  const afterJoin: Ast[] = [];
  // Under a LEFT JOIN, a WHERE term over the right side that the gateway cannot evaluate exactly
  // is evaluated by the right shard, as a right-side column `(term) is true` (left columns bound
  // as join vars): on a NULL-extended row its value comes from the nullRow (the term over NULLs,
  // by MariaDB itself; per left row when the term names left columns).
  const shardPredicates: Ast[] = [];
  for (const c of conjuncts(sel.where)) {
    const sides = sidesOf(c);
    if (sides.has(1) && leftJoin) {
      if (!containsNullSafeEqual(p, c) && gatewayFilterable(c, (n) => isNumericExpr(analyzer, n, scope))) afterJoin.push(c);
      else if (callsOnlyBuiltins(c)) shardPredicates.push(c);
      else throw notSupported('WHERE on the right side of a LEFT JOIN across shards calling other than deterministic built-in functions');
      continue;
    }
    (sides.has(1) ? rightWhere : leftWhere).push(c);
  }
  from.forEach((item) => {
    if (!item.on) return;
    // The outer join's ON decides which right rows match a left row, never which left rows are
    // kept: a term over the left side only (or over no column) goes to the right route too, its
    // left columns bound, where a left row it rejects finds no match and is NULL-extended. In
    // the left route it dropped such rows (`… left join o on o.c_id = c.id and c.code = 1`
    // returned only the customers of code 1).
    const outer = leftJoin && /LEFT|RIGHT/i.test(String(item.join ?? ''));
    for (const c of conjuncts(item.on)) {
      const sides = sidesOf(c);
      (sides.has(1) || outer ? rightWhere : leftWhere).push(c);
    }
  });

  // Select lists, join vars and output columns.
  const edits: TokenEdit[] = [...ctx.edits];
  const leftItems: string[] = [];
  const rightItems: string[] = [];
  const cols: number[] = [];
  const exprText = (e: Ast, extra: TokenEdit[] = []): string => {
    // A literal normalized into a bind var has no position of its own in the parser's AST; the
    // shard names the column after the rendered value, as MySQL names a literal column. (Binds
    // the planner made itself, `:__sq1` of a pulled-out subquery, stay refused here.)
    if (e?.type === 'param' && typeof e.value === 'string' && !e.value.startsWith('__')) return `:${e.value}`;
    const r = tokenRange(p, e);
    if (!r) throw notSupported('expression shardgate cannot split across a join');
    return renderTokens(p.tokens, r[0], r[1], [...edits, ...extra]);
  };
  const joinVars: Record<string, number> = {};
  const joinVarOf = new Map<ColKey, string>();
  /** Replaces each left column of `e` by a join var (`:u_id`), adding the edits to `into`. */
  const bindLeftColumns = (e: Ast, into: TokenEdit[]): void => {
    walk(e, (n) => {
      if (!isColumnRef(n)) return true;
      const k = analyzer.resolve(n, scope)!;
      if (sideOfKey(k) !== 0) return true;
      let name = joinVarOf.get(k);
      if (!name) {
        const t = tableById.get(idOf(k))!;
        name = uniqueName(`${t.alias}_${splitKey(k)[1]}`.replace(/[^A-Za-z0-9_]/g, '_'), joinVars);
        joinVarOf.set(k, name);
        leftItems.push(exprText(n));
        joinVars[name] = leftItems.length - 1;
      }
      const r = tokenRange(p, n)!;
      into.push({ from: r[0], to: r[1], text: ':' + name });
      return true;
    });
  };
  // Join vars bound into a right-side expression (not only compared in its WHERE): the executor
  // checks that their values keep their meaning as literals (see JoinPrimitive.valueJoinVars).
  const valueJoinVars = new Set<string>();
  // Whether the nullRow (see below) names join vars, and so is asked for per unmatched left row.
  let nullRowPerRow = false;
  /**
   * An expression over both sides goes to the right route with the left columns bound, as Vitess
   * does: the shard computes it over the right row and the left row's values. Under a LEFT JOIN a
   * left row without a match gets it from the nullRow, asked for with that row's values bound:
   * `coalesce(o.note, c.name)` is c.name there, not NULL.
   */
  const bothSidesItem = (e: Ast, alias: string | null, what: string): string => {
    if (leftJoin) nullRowPerRow = true;
    const local: TokenEdit[] = [];
    const before = new Set(joinVarOf.values());
    bindLeftColumns(e, local);
    for (const v of joinVarOf.values()) if (!before.has(v) || local.some((x) => x.text === ':' + v)) valueJoinVars.add(v);
    const name = alias ?? sourceName(e);
    if (name === null) throw notSupported(`${what} over both sides of a join across shards with a literal and no alias`);
    return `${exprText(e, local)} as \`${name.replace(/`/g, '``')}\``;
  };
  /** The name MariaDB gives an unaliased select expression: its text as written. */
  const sourceName = (e: Ast): string | null => {
    const r = tokenRange(p, e);
    if (!r) return null;
    for (let i = r[0]; i < r[1]; i++) if (!NAME_TOKEN_KINDS.has(p.tokens[i]!.kind)) return null;
    return p.text.slice(p.tokens[r[0]]!.start, p.tokens[r[1] - 1]!.end);
  };
  let orderByExprOnRight = false;
  /**
   * The Sort keys: a select-list column (by position, alias, name or text), else a helper column
   * holding the expression, on the side that can compute it. A text key is compared by its
   * collation key (collation-key-sql.ts), a helper column too.
   */
  const joinOrderBy = (): OrderByKey[] =>
    (sel.orderby ?? []).flatMap((o: Ast): OrderByKey[] => {
      const e = o.expr;
      if (e?.type === 'null') return [];
      const desc = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
      let idx = -1;
      if (e?.type === 'number') {
        idx = Number(e.value) - 1;
        if (idx < 0 || idx >= visible) throw new PlanError(1054, '42S22', `Unknown column '${String(e.value)}' in 'order clause'`);
      } else if (isColumnRef(e) && !e.table) {
        const name = columnName(e).toLowerCase();
        const named = columns.map((c, i) => ({ c, i })).filter(({ c }) => (c.as ? String(c.as).toLowerCase() === name : isColumnRef(c.expr) && columnName(c.expr).toLowerCase() === name));
        if (named.length === 1) idx = named[0]!.i;
        else if (named.length > 1 && !named.every(({ c }) => analyzer.resolve(c.expr, scope) !== null && analyzer.resolve(c.expr, scope) === analyzer.resolve(named[0]!.c.expr, scope))) {
          throw new PlanError(1052, '23000', `Column '${columnName(e)}' in order clause is ambiguous`);
        } else if (named.length > 1) idx = named[0]!.i;
      }
      if (idx < 0) {
        const t = exprText(e);
        idx = columns.findIndex((c) => exprText(c.expr) === t);
      }
      const keyExpr = idx >= 0 ? columns[idx].expr : e;
      if (hasAggregate(keyExpr) || containsSubquery(keyExpr)) throw notSupported('ORDER BY an aggregate or subquery over a join across shards');
      const sides = sidesOf(keyExpr);
      const numeric = isNumericExpr(analyzer, keyExpr, scope);
      const hidden = (sql: string): number => {
        if (sides.size > 1) {
          rightItems.push(sql);
          cols.push(rightItems.length);
        } else if (sides.has(1)) {
          rightItems.push(sql);
          cols.push(rightItems.length);
          // Over a NULL-extended row an expression is not necessarily NULL: see nullRow.
          orderByExprOnRight = true;
        } else {
          leftItems.push(sql);
          cols.push(-leftItems.length);
        }
        return cols.length - 1;
      };
      const itemFor = (sqlOf: (x: string) => string): string => {
        if (sides.size <= 1) return sqlOf(exprText(keyExpr));
        if (leftJoin) {
          // As bothSidesItem's: the nullRow, per unmatched left row, holds its value there.
          nullRowPerRow = true;
          orderByExprOnRight = true;
        }
        const local: TokenEdit[] = [];
        bindLeftColumns(keyExpr, local);
        for (const x of local) valueJoinVars.add(x.text.slice(1));
        return sqlOf(exprText(keyExpr, local));
      };
      if (idx < 0) idx = hidden(itemFor((x) => x));
      if (numeric) return [{ column: idx, desc }];
      return [{ column: idx, desc, weightStringColumn: hidden(itemFor(collationKeySql)) }];
    });
  for (const c of columns) {
    const sides = sidesOf(c.expr);
    if (sides.size > 1) {
      rightItems.push(bothSidesItem(c.expr, c.as ? String(c.as) : null, 'select expression'));
      cols.push(rightItems.length);
      continue;
    }
    const t = exprText(c.expr) + (c.as ? ` as \`${String(c.as).replace(/`/g, '``')}\`` : '');
    if (sides.has(1)) {
      rightItems.push(t);
      cols.push(rightItems.length);
    } else {
      leftItems.push(t);
      cols.push(-leftItems.length);
    }
  }
  const visible = columns.length;
  // Helper columns for the terms filtered after the join: one per column they name.
  const filterColumn = new Map<ColKey, number>();
  for (const c of afterJoin) {
    walk(c, (n) => {
      if (!isColumnRef(n)) return true;
      const k = analyzer.resolve(n, scope)!;
      if (filterColumn.has(k)) return true;
      if (sideOfKey(k) === 1) {
        rightItems.push(exprText(n));
        cols.push(rightItems.length);
      } else {
        leftItems.push(exprText(n));
        cols.push(-leftItems.length);
      }
      filterColumn.set(k, cols.length - 1);
      return true;
    });
  }
  /**
   * A left value bound into a right-side WHERE term keeps its meaning only where it is compared
   * with a right column (`t2.c = :t1_c`: the column's type and collation decide the comparison, as
   * they would for the two columns). Anywhere else (`:t1_label = 'uber'`, `:t1_code in ('a', 'b')`,
   * a function argument) a string or temporal literal would compare in the connection's collation
   * or as text: such join vars are checked at execution like those of expressions (valueJoinVars).
   */
  const markLiteralUses = (term: Ast): void => {
    const compared = new Set<Ast>();
    walk(term, (n) => {
      if (n?.type === 'binary_expr' && COLUMN_COMPARISONS.has(String(n.operator).toUpperCase()) && isColumnRef(n.left) && isColumnRef(n.right)) {
        const l = analyzer.resolve(n.left, scope);
        const r = analyzer.resolve(n.right, scope);
        if (l && r && sideOfKey(l) === 0 && sideOfKey(r) === 1) compared.add(n.left);
        if (l && r && sideOfKey(r) === 0 && sideOfKey(l) === 1) compared.add(n.right);
      }
      return true;
    });
    walk(term, (n) => {
      if (!isColumnRef(n) || compared.has(n)) return true;
      const k = analyzer.resolve(n, scope);
      const name = k && sideOfKey(k) === 0 ? joinVarOf.get(k) : undefined;
      if (name) valueJoinVars.add(name);
      return true;
    });
  };
  // Terms filtered by the shard under a LEFT JOIN: one right-side 0/1 column each.
  const predicateColumns: number[] = [];
  for (const c of shardPredicates) {
    const local: TokenEdit[] = [];
    bindLeftColumns(c, local);
    markLiteralUses(c);
    if (local.length > 0) nullRowPerRow = true;
    rightItems.push(`(${exprText(c, local)}) is true`);
    cols.push(rightItems.length);
    predicateColumns.push(cols.length - 1);
  }
  const orderBy = joinOrderBy();
  const rightConds: Cond[] = [];
  const rightEdits: TokenEdit[] = [];
  for (const c of rightWhere) {
    bindLeftColumns(c, rightEdits);
    markLiteralUses(c);
  }
  // Routing of the right side: its own conditions plus `col = :joinvar` for the join equalities.
  for (const cond of analyzed.conds ?? []) {
    if (cond.k !== 'coleq') continue;
    const [l, r] = sideOfKey(cond.a) === 0 && sideOfKey(cond.b) === 1 ? [cond.a, cond.b] : sideOfKey(cond.b) === 0 && sideOfKey(cond.a) === 1 ? [cond.b, cond.a] : [null, null];
    if (l === null || r === null) continue;
    const name = joinVarOf.get(l);
    if (name) rightConds.push({ k: 'eq', col: r, value: { kind: 'bind', name }, routable: true });
  }
  /**
   * The join's one dependence on the outer row when it is a single `inner.col = outer.col`
   * conjunct (not `<=>`: NULL never matches) over plain tables: every other right-side term, item
   * and ORDER BY key is the outer row's alone, so one IN-list query can stand for many outer rows'
   * (see KeyedLookup). null otherwise.
   */
  function keyedEquality(): { conjunct: Ast; rightColumn: Ast; leftColumn: Ast; rightKey: ColKey; joinVar: string } | null {
    const names = Object.keys(joinVars);
    if (names.length !== 1 || rightCand.tables.some((t) => t.kind !== 'table')) return null;
    const dependent = rightWhere.filter((c) => sidesOf(c).has(0));
    const c = dependent.length === 1 ? dependent[0]! : null;
    if (c?.type !== 'binary_expr' || String(c.operator) !== '=' || isNullSafeEqual(p, c) || !isColumnRef(c.left) || !isColumnRef(c.right)) return null;
    const l = analyzer.resolve(c.left, scope);
    const r = analyzer.resolve(c.right, scope);
    if (!l || !r) return null;
    const [leftKey, rightKey, leftColumn, rightColumn] = sideOfKey(l) === 0 && sideOfKey(r) === 1 ? [l, r, c.left, c.right] : sideOfKey(l) === 1 && sideOfKey(r) === 0 ? [r, l, c.right, c.left] : [null, null, null, null];
    if (leftKey === null || joinVarOf.get(leftKey) !== names[0]) return null;
    return { conjunct: c, rightColumn, leftColumn, rightKey, joinVar: names[0]! };
  }
  // FOR UPDATE / LOCK IN SHARE MODE: each side's shard query takes it, so the rows each shard
  // reads for the join are locked there, as one MariaDB locks the rows its join reads.
  const lockClause = lockingClause(ctx);
  // Not over a derived table on the left: it is planned as a statement of its own, evaluated at
  // the gateway, where the key's extra column (a literal collation name) is refused.
  const keyed = lockClause === '' && valueJoinVars.size === 0 && !nullRowPerRow && !leftHasDerived ? keyedEquality() : null;
  // The left route selects the outer column's equality key too (see KeyedLookup).
  if (keyed) leftItems.push(joinKeySql(exprText(keyed.leftColumn)));
  const leftKeyColumn = leftItems.length - 1;
  const pieceSql = (cand: Cand, items: string[], where: Ast[], extra: TokenEdit[], forPlanner = false, replaced?: ReadonlyMap<Ast, string>): string => {
    const tables = scope.tables
      .map((t, i) => ({ t, item: from[i] }))
      .filter(({ t }) => cand.tables.includes(t))
      .map(({ item }) => {
        if (item.expr?.ast) {
          // A derived table: its statement inside the parentheses, and its alias.
          const r = derivedRange(p, item.expr.ast);
          if (!r || !item.as) throw notSupported('derived table shardgate cannot split across a join');
          return `(${renderTokens(p.tokens, r[0], r[1], forPlanner ? [] : edits)}) as ${quoteIdent(String(item.as), true)}`;
        }
        if (!forPlanner) return exprText(item);
        // Planned again as a statement: the tables keep their keyspace qualifiers, which the
        // shard SQL's edits remove.
        const r = tokenRange(p, item);
        if (!r) throw notSupported('table shardgate cannot split across a join');
        return renderTokens(p.tokens, r[0], r[1], []);
      });
    const conds = where.map((w) => `(${replaced?.get(w) ?? exprText(w, extra)})`);
    return `select ${items.length > 0 ? items.join(', ') : '1'} from ${tables.join(', ')}${conds.length > 0 ? ' where ' + conds.join(' and ') : ''}${lockClause}`;
  };
  const ids = (cand: Cand): Set<string> => new Set(cand.tables.map((t) => String(t.id)));
  const condsWithin = (cand: Cand): Cond[] => {
    const s = ids(cand);
    return (analyzed.conds ?? []).filter((c) => {
      switch (c.k) {
        case 'coleq':
          return s.has(idOf(c.a)) && s.has(idOf(c.b));
        case 'eq':
        case 'in':
        case 'like':
          return s.has(idOf(c.col));
        case 'tupleIn':
          return c.cols.every((k) => s.has(idOf(k)));
        case 'false':
          return true;
      }
    });
  };
  void rightIds;
  void colKey;
  const leftRoute =
    leftPieces.length === 1 && !leftHasDerived ? routeFor(ctx, { ...leftCand, conds: condsWithin(leftCand) }, templateFromSqlText(pieceSql(leftCand, leftItems, leftWhere, []))) : ctx.planText(pieceSql(leftCand, leftItems, leftWhere, [], true)).instructions;
  const rightRoute = routeFor(ctx, { ...rightCand, conds: [...condsWithin(rightCand), ...rightConds] }, templateFromSqlText(pieceSql(rightCand, rightItems, rightWhere, rightEdits)));
  let keyedLookup: KeyedLookup | undefined;
  if (keyed) {
    const col = exprText(keyed.rightColumn);
    const keysBind = '__sg_join_keys';
    const items = [col, joinKeySql(col), ...(rightItems.length > 0 ? rightItems : ['1'])];
    const sql = pieceSql(rightCand, items, rightWhere, [], false, new Map([[keyed.conjunct, `${col} in ::${keysBind}`]]));
    const route = routeFor(ctx, { ...rightCand, conds: [...condsWithin(rightCand), { k: 'in', col: keyed.rightKey, values: { kind: 'bindList', name: keysBind }, routable: true }] }, templateFromSqlText(sql));
    keyedLookup = { route, keysBind, joinVar: keyed.joinVar, leftKeyColumn };
  }
  let top: Primitive = {
    operator: 'Join',
    variant: leftJoin ? 'LeftJoin' : 'Join',
    left: leftRoute,
    right: rightRoute,
    cols,
    joinVars,
    ...(valueJoinVars.size > 0 ? { valueJoinVars: [...valueJoinVars] } : {}),
    ...(keyedLookup ? { keyedLookup } : {}),
  } satisfies JoinPrimitive;
  if (leftJoin && (shardPredicates.length > 0 || orderByExprOnRight || columns.some((c) => sidesOf(c.expr).has(1) && !isColumnRef(c.expr)))) {
    // An expression over the right side is not NULL just because the right row is missing
    // (`r.x is null` is 1, `coalesce(r.email, 'none')` is 'none'): one shard evaluates the right
    // select list over a NULL-extended row, so the value and its type are MariaDB's own. Any one
    // shard will do (the row depends on no table data), hence the Reference variant.
    const rightTables = scope.tables
      .map((t, i) => ({ t, item: from[i] }))
      .filter(({ t }) => rightCand.tables.includes(t))
      .map(({ item }) => exprText(item));
    const nullSql = `select ${rightItems.join(', ')} from (select 1) as \`__sg_outer\` left join ${rightTables.join(', ')} on 0`;
    const nullRow = routeFor(ctx, { ...rightCand, conds: [] }, templateFromSqlText(nullSql), { variant: 'Reference' });
    top = { ...(top as JoinPrimitive), nullRow, ...(nullRowPerRow ? { nullRowPerRow: true } : {}) };
  }

  if (afterJoin.length > 0 || predicateColumns.length > 0) {
    const leaf = (n: Ast): number | undefined => (isColumnRef(n) ? filterColumn.get(analyzer.resolve(n, scope)!) : undefined);
    const predicate = [
      ...afterJoin.map((c) => toEvalExpr(c, leaf, 'WHERE on the right side of a LEFT JOIN across shards', ctx.parsed.nullSafeEqual)),
      ...predicateColumns.map((index): EvalExpr => ({ kind: 'column', index })),
    ];
    top = { operator: 'Filter', input: top, predicate: predicate.reduce((a, b) => ({ kind: 'call', fn: 'and', args: [a, b] })) };
  }

  // ORDER BY / LIMIT on top of the join.
  if (orderBy.length > 0) top = { operator: 'Sort', input: top, orderBy };
  top = withGatewayLimit(sel.limit, top);
  if (cols.length > visible) {
    top = { operator: 'Projection', input: top, expressions: columns.map((_, i) => ({ kind: 'column' as const, index: i })), columnNames: columns.map(() => ''), fieldFrom: columns.map(() => null) };
  }
  return top;
}

/** ` for update …` / ` lock in share mode` as written at the statement's end ('' when none); refuses any other `for`/`lock`. */
function lockingClause(ctx: PlanContext): string {
  const toks = ctx.parsed.tokens;
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && ((t.lower === 'for' && (toks[i + 1]?.lower === 'update' || toks[i + 1]?.lower === 'share')) || (t.lower === 'lock' && toks[i + 1]?.lower === 'in'))) {
      let end = toks.length;
      while (end > i && toks[end - 1]!.text === ';') end--;
      return ' ' + renderTokens(toks, i, end, []);
    }
  }
  if (toks.some((t) => t.lower === 'for' || t.lower === 'lock')) throw new PlanError(1235, '42000', 'This query is not supported by shardgate; not supported: locking reads (FOR UPDATE / LOCK IN SHARE MODE) inside a subquery of a join across shards');
  return '';
}

/**
 * Whether the gateway evaluates a WHERE term exactly: each column it names is either the operand
 * of IS [NOT] NULL (true or false whatever the type) or a number, and it holds no text literal
 * (text comparison would need each column's collation).
 */
function gatewayFilterable(e: Ast, numeric: (n: Ast) => boolean): boolean {
  let ok = true;
  const nullTested = new Set<Ast>();
  walk(e, (n) => {
    if (!ok) return false;
    const op = String(n?.operator ?? '').toUpperCase();
    if (n?.type === 'binary_expr' && (op === 'IS' || op === 'IS NOT') && n.right?.type === 'null' && isColumnRef(n.left)) nullTested.add(n.left);
    if (isColumnRef(n) && !nullTested.has(n) && !numeric(n)) ok = false;
    if (String(n?.type ?? '').endsWith('string') || subqueryOf(n)) ok = false;
    return ok;
  });
  return ok;
}

/**
 * Whether a WHERE term is NULL (so drops the row) whenever a right-side column it compares is
 * NULL: a comparison, LIKE or IN with such a column as an operand, or an AND holding one.
 */
function rejectsNullOf(e: Ast, onRightOnly: (n: Ast) => boolean): boolean {
  if (e?.type !== 'binary_expr') return false;
  const op = String(e.operator).toUpperCase();
  if (op === 'AND' || op === '&&') return rejectsNullOf(e.left, onRightOnly) || rejectsNullOf(e.right, onRightOnly);
  if (!['=', '<', '>', '<=', '>=', '<>', '!=', 'LIKE', 'NOT LIKE', 'IN', 'NOT IN', 'BETWEEN', 'NOT BETWEEN'].includes(op)) return false;
  const operand = (n: Ast): boolean => isColumnRef(n) && onRightOnly(n);
  return operand(e.left) || (op !== 'IN' && op !== 'NOT IN' && op !== 'BETWEEN' && op !== 'NOT BETWEEN' && operand(e.right));
}

/**
 * Deterministic MariaDB built-ins a term evaluated over a NULL-extended row may call: such a row
 * is evaluated once per query (nullRow), so a function whose value varies (rand(), now()) or that
 * MariaDB may not know (a stored function) keeps the term refused.
 */
const SHARD_PREDICATE_FUNCTIONS: ReadonlySet<string> = new Set([
  'ifnull', 'coalesce', 'if', 'nullif', 'isnull', 'concat', 'concat_ws', 'lower', 'lcase', 'upper', 'ucase', 'length', 'char_length', 'character_length',
  'substring', 'substr', 'left', 'right', 'trim', 'ltrim', 'rtrim', 'replace', 'locate', 'instr', 'lpad', 'rpad', 'reverse', 'abs', 'round', 'floor',
  'ceil', 'ceiling', 'truncate', 'mod', 'sign', 'greatest', 'least', 'year', 'month', 'day', 'dayofmonth', 'date', 'hour', 'minute', 'second',
  'date_format', 'datediff', 'not',
]);

function callsOnlyBuiltins(e: Ast): boolean {
  let ok = true;
  walk(e, (n) => {
    if (n?.type === 'function' && !SHARD_PREDICATE_FUNCTIONS.has(functionName(n))) ok = false;
    if (n?.type === 'aggr_func' || subqueryOf(n)) ok = false;
    return ok;
  });
  return ok;
}

/** Tokens whose text is the same in the statement as the client wrote it (no literal, no bind). */
const NAME_TOKEN_KINDS: ReadonlySet<string> = new Set(['ident', 'qident', 'punct']);

function uniqueName(base: string, taken: Record<string, number>): string {
  let name = base;
  for (let i = 1; name in taken; i++) name = `${base}${i}`;
  return name;
}

import { templateFromSql as templateFromSqlText } from './query-template.js';
void templateFromTokens;
