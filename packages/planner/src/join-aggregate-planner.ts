/**
 * Aggregation, GROUP BY and SELECT DISTINCT over a join across shards: the join is planned for the
 * raw rows (one row per joined pair, with the group keys, the aggregates' arguments and the
 * collation keys of text values as columns), and the gateway groups them itself in a hash
 * Aggregate, then applies HAVING, ORDER BY and LIMIT. Every joined row reaches the gateway once,
 * so counts, minima and maxima are exact.
 *
 * count, min and max keep the argument's type (or a fixed one); sum() and avg() are added up
 * from the raw values and typed at execution from the argument's column, as MariaDB types them
 * (AggregateParam.rowValues); an argument type the gateway cannot sum exactly is refused there.
 */
import { collationKeySql } from './collation-key-sql.js';
import type { AggregateParam, EvalExpr, GroupByKey, OrderByKey, Primitive, QueryTemplate } from './plan-types.js';
import { templateFromSql } from './query-template.js';
import { columnName, isColumnRef, subqueryOf } from './ast-utils.js';
import type { PlanContext } from './plan-context.js';
import { tokenRange, type Ast } from './sql-parser.js';
import { renderTokens } from './shard-sql.js';
import { notSupported, PlanError } from './errors.js';
import { hasAggregate, type Analyzed } from './select-analyzer.js';
import { groupAliasMayNameColumn, holdsDivision, isExpressionArgument, isNumericExpr, selectListEnd, withGatewayLimit } from './select-planner.js';
import { toEvalExpr } from './gateway-expr.js';
import { avgDisplayedInExpressions, avgRoundingUncertain, hasRollup, readsGroupConcatAsValue } from './scatter-aggregate-planner.js';
import { kw } from './lexer.js';
import type { SelectAnalyzer } from './select-analyzer.js';

export function planJoinAggregate(ctx: PlanContext, analyzer: SelectAnalyzer, analyzed: Analyzed): Primitive {
  const p = ctx.parsed;
  const sel = p.ast;
  const scope = analyzed.scope;
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  if (columns.some((c) => isColumnRef(c.expr) && columnName(c.expr) === '*')) throw notSupported("'*' with aggregation or DISTINCT over a join across shards");
  if (p.intoOutfile >= 0) throw notSupported('INTO OUTFILE with a join across shards');
  if (p.tokens.some((t) => kw(t) === 'for' || kw(t) === 'lock')) throw notSupported('locking reads (FOR UPDATE / LOCK IN SHARE MODE) on a join across shards');
  /** Token range of a node; a unary operator's node has none of its own: its operand's, with the operator before it. */
  const rangeOf = (n: Ast): [number, number] | null => {
    const r = tokenRange(p, n);
    if (r || n?.type !== 'unary_expr') return r;
    const inner = rangeOf(n.expr);
    return inner && inner[0] > 0 ? [inner[0] - 1, inner[1]] : null;
  };
  /** The name MySQL gives an unaliased select expression: its text as written, literals (bind vars here) rendered per execution. */
  const nameOf = (n: Ast): { alias: string; nameTemplate?: QueryTemplate } => {
    const raw = text(n);
    const template = templateFromSql(raw);
    return template.parts.every((x) => typeof x === 'string') ? { alias: raw } : { alias: raw, nameTemplate: template };
  };
  const text = (n: Ast): string => {
    // A literal normalized into a bind var has no position of its own.
    if (n?.type === 'param' && typeof n.value === 'string') return `:${n.value}`;
    const r = rangeOf(n);
    if (!r) throw notSupported('expression in an aggregation over a join across shards');
    return renderTokens(p.tokens, r[0], r[1], []);
  };
  const numeric = (e: Ast): boolean => isNumericExpr(analyzer, e, scope);
  const aggregated = columns.some((c) => hasAggregate(c.expr)) || (sel.groupby?.columns ?? []).length > 0 || !!sel.having;
  // SELECT DISTINCT a, b is GROUP BY a, b; with aggregation, a Distinct over the groups.
  const distinctGroups = !!sel.distinct && aggregated;
  const groupCols: Ast[] = sel.distinct && !aggregated
    ? columns.map((c) => c.expr)
    : (sel.groupby?.columns ?? []).map((g: Ast) => {
        // Only an integer is a position; `GROUP BY 1.1` groups by that constant, as in MariaDB.
        if (g?.type !== 'number' || !/^\d+$/.test(String(g.value))) return g;
        const c = columns[Number(g.value) - 1];
        if (!c) throw new PlanError(1054, '42S22', `Unknown column '${String(g.value)}' in 'group statement'`);
        return c.expr;
      });
  for (const g of groupCols) if (hasAggregate(g)) throw new PlanError(1056, '42000', "Can't group on an aggregate");
  if (hasRollup(sel)) throw notSupported('GROUP BY … WITH ROLLUP over a join across shards');
  // A GROUP BY name that is another expression's alias and may be a column as well (see
  // groupAliasMayNameColumn): each side of the join is a query of its own, so no shard can say
  // which MariaDB would group by.
  for (const g of sel.groupby?.columns ?? []) {
    if (groupAliasMayNameColumn(columns, g, scope) >= 0) throw notSupported(`GROUP BY '${columnName(g)}', the alias of another expression and maybe a column of the tables too, over a join across shards (MariaDB groups by the column when there is one); group by the expression, or by the qualified column`);
  }

  // The raw select list: the visible columns first (by index), then helper columns.
  const items: string[] = [];
  const hidden: string[] = [];
  const visible = columns.length;
  const addHidden = (t: string): number => {
    hidden.push(t);
    return visible + hidden.length - 1;
  };
  const aggregates: AggregateParam[] = [];
  const groupBy: GroupByKey[] = [];
  const groupKeyTexts = groupCols.map(text);
  const aliasOf = (c: Ast): string => (c.as ? ` as \`${String(c.as).replace(/`/g, '``')}\`` : '');

  /** The raw item and aggregate of `count(*)`, `count(x)`, `count(DISTINCT x)`, `min(x)`, `max(x)`. */
  const aggregateItem = (e: Ast, column: number, alias: string): string => {
    const name = String(e.name).toLowerCase();
    const arg = e.args?.expr;
    const star = arg?.type === 'star';
    const distinct = !!e.args?.distinct || p.distinctAggregates.has(e.loc?.start?.offset ?? -1);
    if (name === 'group_concat') return groupConcatItem(e, column, alias, distinct);
    if (!arg || arg.type === 'expr_list') throw notSupported(`${name}() over several expressions over a join across shards`);
    if (name === 'count' && star) {
      aggregates.push({ opcode: 'count_star', column, alias });
      // One per joined row; an expression with a position, so the join planner can place it.
      return '1 = 1';
    }
    const argText = text(arg);
    if (name === 'count' && !distinct) {
      // 1 or 0 per row, and NULL on a NULL-extended row of a LEFT JOIN: added up at the gateway.
      aggregates.push({ opcode: 'sum_count', column, alias });
      return `(${argText}) is not null`;
    }
    if (name === 'count' || name === 'min' || name === 'max') {
      const ws = numeric(arg) ? undefined : addHidden(collationKeySql(argText));
      const opcode = name === 'count' ? 'count_distinct' : name;
      const overExpression = opcode !== 'count_distinct' && isExpressionArgument(analyzer, arg, scope);
      aggregates.push({ opcode, column, alias, ...(ws !== undefined ? { weightStringColumn: ws } : {}), ...(overExpression ? { overExpression } : {}) });
      return argText;
    }
    if (name === 'sum' || name === 'avg') {
      const divides = holdsDivision(analyzer, arg, scope) ? { divides: true } : {};
      // Summed at the gateway over the raw rows, typed as MariaDB types the sum (rowValues).
      if (distinct) {
        // Every joined row's value reaches the gateway, which keeps the distinct ones per group.
        const ws = numeric(arg) ? undefined : addHidden(collationKeySql(argText));
        aggregates.push({ opcode: name === 'sum' ? 'sum_distinct' : 'avg_distinct', column, alias, rowValues: true, ...(ws !== undefined ? { weightStringColumn: ws } : {}), ...divides });
      } else if (name === 'sum') {
        aggregates.push({ opcode: 'sum', column, alias, rowValues: true, ...divides });
      } else {
        aggregates.push({ opcode: 'avg', column, alias, rowValues: true, countColumn: addHidden(`(${argText}) is not null`), ...divides });
      }
      return argText;
    }
    throw notSupported(`${name}() over a join across shards`);
  };
  /**
   * GROUP_CONCAT over the joined rows: each row's piece is the text of its arguments (CONCAT
   * converts them as GROUP_CONCAT does, and is NULL when one is, as GROUP_CONCAT skips such a
   * row); the gateway sorts the pieces by the ORDER BY keys (helper columns, with collation keys
   * for text), drops duplicate arguments under DISTINCT and joins them with the separator.
   */
  const groupConcatItem = (e: Ast, column: number, alias: string, distinct: boolean): string => {
    const args = e.args ?? {};
    const argList: Ast[] = args.expr?.type === 'expr_list' ? args.expr.value : [args.expr];
    if (argList.some((a) => !a || a.type === 'star')) throw notSupported('GROUP_CONCAT(*) over a join across shards');
    const sep = args.separator?.value;
    let separator = ',';
    if (sep !== undefined && sep !== null) {
      if (!String(sep.type ?? '').endsWith('string') || typeof sep.value !== 'string' || /[\\'"]/.test(sep.value) || /[^\x20-\x7e]/.test(sep.value)) throw notSupported('this GROUP_CONCAT SEPARATOR over a join across shards');
      separator = sep.value;
    }
    const orderBy: OrderByKey[] = [];
    const argTexts = argList.map((a) => text(a));
    for (const o of args.orderby ?? []) {
      if (o.expr?.type === 'number' || o.expr?.type === 'param') throw notSupported('GROUP_CONCAT(… ORDER BY <position or constant>) over a join across shards');
      const ot = text(o.expr);
      // MariaDB 10.11 orders `GROUP_CONCAT(a, '-', b ORDER BY b)` by something else than b when
      // the key is one of several arguments (1-41,1-4,1-28,1-1…): not reproduced.
      if (argList.length > 1 && argTexts.includes(ot)) throw notSupported('GROUP_CONCAT of several arguments ordered by one of them, over a join across shards');
      const desc = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
      const keyColumn = addHidden(ot);
      const ws = numeric(o.expr) ? undefined : addHidden(collationKeySql(ot));
      orderBy.push({ column: keyColumn, desc, ...(ws !== undefined ? { weightStringColumn: ws } : {}) });
    }
    // Text arguments under DISTINCT are refused at execution (GroupConcatAccumulator).
    const distinctColumns = distinct ? argList.map((a) => addHidden(text(a))) : undefined;
    aggregates.push({ opcode: 'group_concat', column, alias, groupConcat: { separator, orderBy, rowPieces: true, ...(distinctColumns ? { distinctColumns } : {}) } });
    return `concat(${argList.map((a) => text(a)).join(', ')})`;
  };
  /** Visible columns that are expressions over aggregates, and hidden ones ORDER BY sorts on: computed by a Projection after the Aggregate. */
  const exprColumns = new Map<number, Ast>();

  columns.forEach((c, i) => {
    const e = c.expr;
    const t = text(e);
    if (e.type === 'aggr_func') {
      // Named by the gateway (the Aggregate names the output column): a derived table evaluated
      // at the gateway accepts computed helper columns only under these names.
      const named = c.as ? null : nameOf(e);
      items.push(`${aggregateItem(e, i, c.as ? String(c.as) : named!.alias)} as \`__sg_a${i}\``);
      if (named?.nameTemplate) aggregates[aggregates.length - 1] = { ...aggregates[aggregates.length - 1]!, nameTemplate: named.nameTemplate };
      return;
    }
    if (hasAggregate(e)) {
      // Computed at the gateway from the group's aggregates (see the Projection below); the raw
      // rows carry a placeholder in its place.
      items.push(`1 = 1 as \`__sg_a${i}\``);
      exprColumns.set(i, e);
      return;
    }
    const gi = groupKeyTexts.findIndex((g, k) => g === t || (isColumnRef(groupCols[k]) && !groupCols[k].table && c.as && String(c.as).toLowerCase() === columnName(groupCols[k]).toLowerCase()));
    if (gi < 0 && isColumnRef(e) && !(sel.distinct && !aggregated)) {
      // Neither grouped nor aggregated: any value of the group, as MariaDB without
      // ONLY_FULL_GROUP_BY shows (see scatter-aggregate-planner.ts).
      items.push(t + aliasOf(c));
      aggregates.push({ opcode: 'any_value', column: i, alias: c.as ? String(c.as) : columnName(e) });
      return;
    }
    if (gi < 0) throw notSupported(`column '${t}' that is neither grouped nor aggregated, over a join across shards`);
    items.push(t + aliasOf(c));
    if (!groupBy.some((g) => g.column === i)) groupBy.push({ column: i, ...(numeric(e) ? {} : { weightStringColumn: addHidden(collationKeySql(t)) }) });
  });
  // Group keys that are not selected.
  groupCols.forEach((g, k) => {
    const t = groupKeyTexts[k]!;
    const selected = columns.findIndex((c) => c.expr.type !== 'aggr_func' && (text(c.expr) === t || (isColumnRef(g) && !g.table && c.as && String(c.as).toLowerCase() === columnName(g).toLowerCase())));
    if (selected >= 0) return;
    const column = addHidden(t);
    groupBy.push({ column, ...(numeric(g) ? {} : { weightStringColumn: addHidden(collationKeySql(t)) }) });
  });

  /** Hidden group keys (not selected), by text. */
  const hiddenGroupKey = (t: string): GroupByKey | undefined => groupBy.find((g) => g.column >= visible && hidden[g.column - visible] === t);
  /** Aggregates only an expression, HAVING or ORDER BY uses: helper columns, by text (avg unrounded). */
  const hiddenAggregates = new Map<string, number>();
  const hiddenAggregate = (n: Ast, t: string, unrounded: boolean): number => {
    const key = `${unrounded ? 'u' : 'r'}:${t}`;
    const known = hiddenAggregates.get(key);
    if (known !== undefined) return known;
    const slot = addHidden('');
    hiddenAggregates.set(key, slot);
    hidden[slot - visible] = aggregateItem(n, slot, t);
    if (unrounded && aggregates[aggregates.length - 1]!.opcode.startsWith('avg')) aggregates[aggregates.length - 1] = { ...aggregates[aggregates.length - 1]!, unrounded: true };
    return slot;
  };
  /** Raw values of a group's rows that are neither grouped nor aggregated: any value of the group, as MariaDB shows it. */
  const passThrough = new Map<string, number>();
  const passThroughSlot = (t: string): number => {
    const known = passThrough.get(t);
    if (known !== undefined) return known;
    const slot = addHidden(t);
    passThrough.set(t, slot);
    return slot;
  };
  /**
   * The input column of a sub-expression the gateway reads: a visible column of the same text or
   * alias, a hidden group key, an aggregate (a helper column when not selected). `computed`: the
   * expression is itself computed by the Projection, which sees the aggregates but not the other
   * computed columns; HAVING and ORDER BY run after it and see those too.
   */
  const leaf = (what: string, computed: boolean) => (n: Ast): number | undefined => {
    if (n?.type === 'param' || n?.type === 'number' || n?.type === 'null' || n?.type === 'bool' || String(n?.type ?? '').endsWith('string')) return undefined;
    const r = rangeOf(n);
    const t = r ? renderTokens(p.tokens, r[0], r[1], []) : null;
    // avg inside arithmetic or a function needs its unrounded value, never the display-rounded
    // column; compared as it is (`HAVING avg(x) > 1.3333`), MariaDB compares the rounded value.
    const isAvg = n?.type === 'aggr_func' && String(n.name).toLowerCase() === 'avg' && (computed || inArithmetic.has(n)) && !avgDisplayed;
    if (isAvg && avgUncertain) throw notSupported('avg() inside an expression, grouped with an ORDER BY other than the leading GROUP BY columns or with a DISTINCT aggregate elsewhere, over a join across shards (MariaDB computes it from its rounded or unrounded value depending on its plan)');
    const byText = t === null ? -1 : columns.findIndex((c, k) => text(c.expr) === t && !(computed && exprColumns.has(k)) && !isAvg);
    if (byText >= 0) return byText;
    if (t !== null) {
      const g = hiddenGroupKey(t);
      if (g) return g.column;
    }
    if (isColumnRef(n) && !n.table) {
      const byAlias = columns.findIndex((c) => c.as && String(c.as).toLowerCase() === columnName(n).toLowerCase());
      if (byAlias >= 0) {
        if (computed && exprColumns.has(byAlias)) throw notSupported(`an alias of an expression over aggregates in ${what}`);
        return byAlias;
      }
    }
    if (n?.type === 'aggr_func' && t !== null) return hiddenAggregate(n, t, isAvg);
    if (isColumnRef(n)) {
      if (!computed) throw notSupported(`${t ?? 'a column'} in ${what} that is not in the select list`);
      if (t === null) throw notSupported(`a column in ${what}`);
      return passThroughSlot(t);
    }
    return undefined;
  };
  // GROUP_CONCAT's text read as a number or string: MariaDB converts it by rules the gateway does not follow.
  const groupConcatAliases = new Set<string>();
  for (const c of columns) if (c.as && c.expr?.type === 'aggr_func' && String(c.expr.name).toLowerCase() === 'group_concat') groupConcatAliases.add(String(c.as).toLowerCase());
  for (const e of [...exprColumns.values(), sel.having, ...(sel.orderby ?? []).map((o: Ast) => (o.expr?.type === 'aggr_func' ? null : o.expr))]) {
    if (e && readsGroupConcatAsValue(e, groupConcatAliases)) throw notSupported('GROUP_CONCAT(…) read as a number or string inside an expression or HAVING over a join across shards (IS [NOT] NULL works)');
  }
  const avgDisplayed = avgDisplayedInExpressions(p);
  const avgUncertain = avgRoundingUncertain(p);
  /** Aggregates of HAVING and ORDER BY under arithmetic or a function (see leaf). */
  const inArithmetic = new Set<Ast>();
  const markArithmetic = (e: Ast, under: boolean): void => {
    if (!e || typeof e !== 'object') return;
    if (e.type === 'aggr_func') {
      if (under) inArithmetic.add(e);
      return;
    }
    const arithmetic = under || e.type === 'function' || (e.type === 'binary_expr' && ['+', '-', '*', '/', 'DIV', '%', 'MOD'].includes(String(e.operator).toUpperCase())) || (e.type === 'unary_expr' && e.operator === '-');
    for (const key of Object.keys(e)) if (key !== 'loc') for (const x of [e[key]].flat()) if (x && typeof x === 'object') markArithmetic(x, arithmetic);
  };
  markArithmetic(sel.having, false);
  for (const o of sel.orderby ?? []) markArithmetic(o.expr, false);
  const projections = new Map<number, EvalExpr>();
  for (const [i, e] of exprColumns) projections.set(i, toEvalExpr(e, leaf('an expression over aggregates over a join across shards', true), 'an expression over aggregates over a join across shards', p.nullSafeEqual));
  const having = sel.having ? toEvalExpr(sel.having, leaf('HAVING over a join across shards', false), 'HAVING over a join across shards', p.nullSafeEqual) : null;

  const orderBy: OrderByKey[] = [];
  for (const o of sel.orderby ?? []) {
    const e = o.expr;
    if (e?.type === 'null') continue;
    const desc = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
    let idx = e?.type === 'number' ? Number(e.value) - 1 : leaf('ORDER BY over a join across shards', false)(e) ?? -1;
    if (e?.type === 'number' && (idx < 0 || idx >= visible)) throw new PlanError(1054, '42S22', `Unknown column '${String(e.value)}' in 'order clause'`);
    if (idx >= 0 && exprColumns.has(idx)) {
      // A selected expression over aggregates: a number computed before the Sort.
      orderBy.push({ column: idx, desc, noCollationKey: true });
      continue;
    }
    if (idx < 0) {
      const r = rangeOf(e);
      const t = r ? renderTokens(p.tokens, r[0], r[1], []) : null;
      if (t === null || subqueryOf(e)) throw notSupported('ORDER BY an expression that is not in the select list of an aggregation over a join across shards');
      if (hasAggregate(e)) {
        // Computed from the group's aggregates by the Projection, before the Sort (as Vitess
        // adds a hidden column): a text result has no collation key and is refused by the Sort.
        idx = addHidden('1 = 1');
        exprColumns.set(idx, e);
        projections.set(idx, toEvalExpr(e, leaf('ORDER BY over a join across shards', true), 'ORDER BY over a join across shards', p.nullSafeEqual));
        orderBy.push({ column: idx, desc, noCollationKey: true });
        continue;
      }
      // An expression of the group's rows (`u.name`, `u.id + 1`): each raw row computes it and
      // the group keeps its first row's value (any value, as MariaDB), with a collation key for text.
      idx = passThroughSlot(t);
      const ws = numeric(e) ? undefined : passThroughSlot(collationKeySql(t));
      orderBy.push({ column: idx, desc, ...(ws !== undefined ? { weightStringColumn: ws } : {}) });
      continue;
    }
    const ws = groupBy.find((g) => g.column === idx)?.weightStringColumn ?? aggregates.find((a) => a.column === idx)?.weightStringColumn;
    if (ws === undefined && !isNumericResult(idx < visible ? columns[idx].expr : e, numeric)) throw notSupported('ORDER BY a text aggregate over a join across shards');
    orderBy.push({ column: idx, desc, ...(ws !== undefined ? { weightStringColumn: ws } : {}) });
  }

  // The join of the raw rows, planned as a statement of its own.
  const listEnd = selectListEnd(ctx);
  const fromStart = kw(p.tokens[listEnd]) === 'from' ? listEnd : -1;
  if (fromStart < 0) throw notSupported('FROM clause shape in an aggregation over a join across shards');
  const tailEnd = tailStart(ctx, fromStart);
  // Helper columns are named by the gateway: their text may hold literals, which the join
  // planner would need to name an expression over both sides.
  const raw = `select ${[...items, ...hidden.map((h, i) => `${h} as \`__sg_h${i}\``)].join(', ')} ${renderTokens(p.tokens, fromStart, tailEnd, [])}`;
  let top: Primitive = { operator: 'Aggregate', variant: groupBy.length === 0 ? 'Scalar' : 'Hash', input: ctx.planText(raw).instructions, aggregates, groupBy };
  if (projections.size > 0) {
    // Expressions over the group's aggregates, computed over every column (the helpers pass
    // through for HAVING, DISTINCT and ORDER BY), typed as MariaDB types them.
    const all = Array.from({ length: visible + hidden.length }, (_, i) => i);
    top = {
      operator: 'Projection',
      input: top,
      expressions: all.map((i) => projections.get(i) ?? { kind: 'column', index: i }),
      columnNames: all.map((i) => (i < visible && projections.has(i) ? (columns[i].as ? String(columns[i].as) : nameOf(columns[i].expr).alias) : '')),
      nameTemplates: all.map((i) => (i < visible && projections.has(i) && !columns[i].as ? (nameOf(columns[i].expr).nameTemplate ?? null) : null)),
      fieldFrom: all.map(() => null),
      typeFromExpression: true,
    };
  }
  if (having) top = { operator: 'Filter', input: top, predicate: having };
  if (distinctGroups) {
    // Rows compared by their visible columns: a group key by its collation key, a count, sum or
    // avg as a number; a string MIN/MAX or any value has no key after aggregation.
    const weightStringColumns = columns.map((c, i): number | undefined => {
      const g = groupBy.find((k) => k.column === i);
      if (g) return g.weightStringColumn;
      // MariaDB itself drops rows of `SELECT DISTINCT count(*) * 2 … GROUP BY` that differ (10.11
      // answers one row where the groups give two values): its answer cannot be reproduced.
      if (exprColumns.has(i)) throw notSupported('SELECT DISTINCT over an expression over aggregates, over a join across shards');
      const a = aggregates.find((x) => x.column === i);
      const numericAggregate = a && (['count', 'count_star', 'count_distinct', 'sum_count', 'sum', 'sum_distinct', 'avg'].includes(a.opcode) || (a.weightStringColumn === undefined && numeric(c.expr.args?.expr ?? c.expr)));
      if (!numericAggregate) throw notSupported('SELECT DISTINCT over a text aggregate or ungrouped column, with aggregation over a join across shards');
      return undefined;
    });
    top = { operator: 'Distinct', input: top, weightStringColumns };
  }
  const trim = hidden.length > 0 ? { resultColumns: visible } : {};
  if (orderBy.length > 0) top = { operator: 'Sort', input: top, orderBy, ...trim };
  else if (hidden.length > 0) {
    top = {
      operator: 'Projection',
      input: top,
      expressions: columns.map((_, i) => ({ kind: 'column' as const, index: i })),
      columnNames: columns.map(() => ''),
      fieldFrom: columns.map(() => null),
    };
  }
  top = withGatewayLimit(sel.limit, top);
  return top;
}

function isNumericResult(e: Ast, numeric: (e: Ast) => boolean): boolean {
  if (e?.type !== 'aggr_func') return numeric(e);
  const name = String(e.name).toLowerCase();
  return name === 'count' || name === 'sum' || name === 'avg' || numeric(e.args?.expr);
}

/** The first top-level GROUP BY / HAVING / ORDER BY / LIMIT token after `from` (or the end). */
function tailStart(ctx: PlanContext, from: number): number {
  const toks = ctx.parsed.tokens;
  let depth = 0;
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && (((kw(t) === 'group' || kw(t) === 'order') && kw(toks[i + 1]) === 'by') || kw(t) === 'having' || kw(t) === 'limit')) return i;
  }
  return toks.length;
}
