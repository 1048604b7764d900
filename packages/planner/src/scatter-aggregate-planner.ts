/**
 * Aggregation across shards. The shards aggregate what they can (count → sum of per-shard counts,
 * avg → sum and count, count(DISTINCT x) → group by x as well), sorted by the group keys, so the
 * gateway's ordered Aggregate can finish each group as its key changes. HAVING becomes a Filter,
 * ORDER BY on an aggregate a Sort, and expressions over aggregates (`count(*) * 2`) a Projection,
 * all evaluated at the gateway over the merged groups: a shard never applies anything that
 * would need every shard's rows.
 */
import { collationKeySql, collationSortKeySql } from './collation-key-sql.js';
import type { AggregateParam, EvalExpr, GroupByKey, OrderByKey, Primitive, QueryTemplate } from './plan-types.js';
import { columnName, isColumnRef, subqueryOf, walk } from './ast-utils.js';
import type { PlanContext } from './plan-context.js';
import { tokenRange, type Ast, type ParsedStatement } from './sql-parser.js';
import type { TokenEdit } from './shard-sql.js';
import { renderTokens, templateFromTokens } from './shard-sql.js';
import { templateFromSql } from './query-template.js';
import { hasAggregate, type Analyzed, type SelectAnalyzer } from './select-analyzer.js';
import type { Cand } from './routing.js';
import { kw } from './lexer.js';
import { notSupported, PlanError } from './errors.js';
import { toEvalExpr } from './gateway-expr.js';
import { findSelectColumn, findStatementTailEnd, groupAliasMayNameColumn, groupNameAsShardResolves, holdsDivision, isNumericExpr, nodeText, routeFor, safeResolve, selectListEnd, withAlias, withGatewayLimit } from './select-planner.js';

export function planScatterAggregate(ctx: PlanContext, analyzer: SelectAnalyzer, analyzed: Analyzed, cand: Cand): Primitive {
  const p = ctx.parsed;
  const sel = p.ast;
  const scope = analyzed.scope;
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  if (columns.some((c) => isColumnRef(c.expr) && columnName(c.expr) === '*')) throw notSupported("aggregation with '*' across shards");
  if (hasRollup(sel)) throw notSupported('GROUP BY … WITH ROLLUP across shards');
  const text = (n: Ast, what: string): string => {
    // A literal normalized into a bind var has no position of its own in the parser's AST; nor has
    // a number the normalizer kept (`GROUP BY 1.1`), whose text is its value.
    const t = n?.type === 'param' && typeof n.value === 'string' ? `:${n.value}` : n?.type === 'number' && typeof n.value === 'string' && !n.loc ? n.value : nodeText(ctx, n);
    if (t === null) throw notSupported(what);
    return t;
  };
  /**
   * The name MySQL gives an unaliased select expression: its text as written (without the
   * shard-SQL edits). Literals in it are bind vars here, so such a name is a template the
   * executor renders with each execution's values.
   */
  const nameOf = (n: Ast): { alias: string; nameTemplate?: QueryTemplate } | null => {
    const r = tokenRange(p, n);
    if (!r) return null;
    const raw = renderTokens(p.tokens, r[0], r[1], []);
    const template = templateFromSql(raw);
    return template.parts.every((x) => typeof x === 'string') ? { alias: raw } : { alias: raw, nameTemplate: template };
  };
  // GROUP BY 2 names the second select expression.
  const groupCols: Ast[] = (sel.groupby?.columns ?? []).map((g: Ast) => {
    // Only an integer is a position; `GROUP BY 1.1` groups by that constant (one group), as in MariaDB.
    if (g?.type !== 'number' || !/^\d+$/.test(String(g.value))) return g;
    const c = columns[Number(g.value) - 1];
    if (!c) throw new PlanError(1054, '42S22', `Unknown column '${String(g.value)}' in 'group statement'`);
    return c.expr;
  });
  // GROUP BY names that are an alias of another expression and maybe a column too: grouped by
  // `(select name)`, a helper the shards resolve as MariaDB resolves the GROUP BY
  // (groupAliasMayNameColumn); the aliased expression is then any value of its group, which is
  // the group's own value when the alias is the key after all.
  const nameKeys = new Map<Ast, string>();
  const anyValueOfNameKey = new Set<number>();
  /** Select columns that are any value of an expression over the group's rows (see the select loop). */
  const anyValueExpressions = new Set<number>();
  for (const g of groupCols) {
    const i = groupAliasMayNameColumn(columns, g, scope);
    if (i < 0) continue;
    nameKeys.set(g, groupNameAsShardResolves(g));
    anyValueOfNameKey.add(i);
  }
  /**
   * Whether `e` reads no column but group keys (each the same column, by resolution, as a GROUP BY
   * key), and no subquery: then it has one value per group.
   */
  const readsOnlyGroupKeys = (e: Ast): boolean => {
    let only = true;
    let reads = false;
    walk(e, (n) => {
      if (!only) return false;
      if (subqueryOf(n) || n?.type === 'select' || n?.type === 'aggr_func') {
        only = false;
        return false;
      }
      if (isColumnRef(n)) {
        reads = true;
        const key = safeResolve(analyzer, n, scope);
        if (key === null || !groupCols.some((g) => !nameKeys.has(g) && isColumnRef(g) && safeResolve(analyzer, g, scope) === key)) only = false;
        return false;
      }
      return true;
    });
    return only && reads;
  };
  const visible = columns.length;
  // Shard select list: the visible columns (by index), then helper columns.
  const shardCols: string[] = [];
  const hiddenAfter: string[] = [];
  const hiddenIndex = (): number => visible + hiddenAfter.length;
  const aggregates: AggregateParam[] = [];
  const groupBy: { column: number; weightStringColumn?: number }[] = [];
  /** Visible columns that are expressions over aggregates: computed by a Projection at the end. */
  const exprColumns = new Map<number, Ast>();
  /**
   * The expressions under DISTINCT aggregates (by text): the shards also group by each, so every
   * distinct value reaches the gateway, whose accumulators keep a set of the values seen per
   * group. Several expressions work alike: grouping by more columns only splits the shards'
   * partial counts and sums, which the gateway adds up.
   */
  const distinctOn = new Map<string, { ws?: number }>();

  const aggregateShardText = (e: Ast, column: number, alias: string): string => {
    const name = String(e.name).toLowerCase();
    const distinct = !!e.args?.distinct || p.distinctAggregates.has(e.loc?.start?.offset ?? -1);
    const star = e.args?.expr?.type === 'star';
    if (name === 'group_concat') return groupConcatShardText(e, column, alias, distinct);
    const divides = (name === 'sum' || name === 'avg') && !!e.args?.expr && holdsDivision(analyzer, e.args.expr, scope);
    const pushAggregate = (a: AggregateParam): void => {
      aggregates.push(divides ? { ...a, divides } : a);
    };
    // min(DISTINCT x) and max(DISTINCT x) are min(x) and max(x).
    if (distinct && name !== 'min' && name !== 'max') {
      const arg = e.args?.expr;
      // count(DISTINCT a, b): the shards group by each of them too; the gateway counts the
      // distinct tuples without a NULL (AggregateParam.moreColumns).
      const list: Ast[] | null = arg?.type === 'expr_list' && Array.isArray(arg.value) ? arg.value : null;
      if ((name !== 'count' && name !== 'sum' && name !== 'avg') || !arg || (list !== null && (name !== 'count' || list.length < 2)) || star) throw notSupported(`${name}(DISTINCT …) across shards`);
      const keyOf = (x: Ast): { text: string; ws?: number } => {
        const argText = text(x, `${name}(DISTINCT …) argument across shards`);
        let on = distinctOn.get(argText);
        if (!on) {
          on = {};
          distinctOn.set(argText, on);
          if (!isNumericExpr(analyzer, x, scope)) {
            on.ws = hiddenIndex();
            hiddenAfter.push(collationKeySql(argText));
          }
        }
        return on.ws !== undefined ? { text: argText, ws: on.ws } : { text: argText };
      };
      const [head, ...rest] = list ?? [arg];
      const first = keyOf(head);
      const moreColumns = rest.map((x) => {
        const k = keyOf(x);
        const valueColumn = hiddenIndex();
        hiddenAfter.push(k.text);
        return k.ws !== undefined ? { column: valueColumn, weightStringColumn: k.ws } : { column: valueColumn };
      });
      const opcode = name === 'count' ? 'count_distinct' : name === 'sum' ? 'sum_distinct' : 'avg_distinct';
      pushAggregate({ opcode, column, alias, ...(first.ws !== undefined ? { weightStringColumn: first.ws } : {}), ...(moreColumns.length > 0 ? { moreColumns } : {}) });
      return first.text;
    }
    const t = text(e, 'aggregate across shards');
    if (name === 'count') {
      aggregates.push({ opcode: star ? 'count_star' : 'sum_count', column, alias });
      return t;
    }
    if (name === 'min' || name === 'max') {
      // Strings: the shards' minima are compared at the gateway by their collation keys.
      const arg = e.args?.expr;
      if (arg && !star && !isNumericExpr(analyzer, arg, scope)) {
        const ws = hiddenIndex();
        hiddenAfter.push(collationKeySql(t));
        aggregates.push({ opcode: name, column, alias, weightStringColumn: ws });
        return t;
      }
    }
    if (name === 'sum' || name === 'min' || name === 'max') {
      pushAggregate({ opcode: name, column, alias });
      return t;
    }
    if (name === 'avg') {
      const argText = text(e.args?.expr, 'avg() argument across shards');
      const countColumn = hiddenIndex();
      hiddenAfter.push(`count(${argText})`);
      pushAggregate({ opcode: 'avg', column, countColumn, alias });
      return `sum(${argText})`;
    }
    if (name === 'bit_and' || name === 'bit_or' || name === 'bit_xor') {
      // Each shard's result over its rows, combined by the same operation (each is associative,
      // and a shard without rows gives the operation's identity, as MariaDB does for no rows).
      aggregates.push({ opcode: name, column, alias });
      return t;
    }
    throw notSupported(`${name}() across shards`);
  };

  /**
   * GROUP_CONCAT: each shard sends its own GROUP_CONCAT (as written: same DISTINCT, ORDER BY and
   * SEPARATOR, converting values to text as MariaDB does) of the rows that share the group's
   * ORDER BY keys and, under DISTINCT, its arguments, since the shards also group by those. The
   * gateway sorts the pieces by those keys, drops duplicate arguments and joins the pieces with
   * the separator. Ties under the ORDER BY keys (or no ORDER BY) come in an order MariaDB does
   * not define either.
   */
  const groupConcatShardText = (e: Ast, column: number, alias: string, distinct: boolean): string => {
    const args = e.args ?? {};
    const argList: Ast[] = args.expr?.type === 'expr_list' ? args.expr.value : [args.expr];
    const sep = args.separator?.value;
    let separator = ',';
    if (sep !== undefined && sep !== null) {
      if (!String(sep.type ?? '').endsWith('string') || typeof sep.value !== 'string' || /[\\'"]/.test(sep.value) || /[^\x20-\x7e]/.test(sep.value)) throw notSupported('this GROUP_CONCAT SEPARATOR across shards');
      separator = sep.value;
    }
    const orderBy: OrderByKey[] = [];
    for (const o of args.orderby ?? []) {
      if (o.expr?.type === 'number' || o.expr?.type === 'param') throw notSupported('GROUP_CONCAT(… ORDER BY <position or constant>) across shards');
      const ot = text(o.expr, 'GROUP_CONCAT ORDER BY expression across shards');
      const desc = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
      const keyColumn = hiddenIndex();
      hiddenAfter.push(ot);
      pieceGroup.add(ot);
      if (isNumericExpr(analyzer, o.expr, scope)) orderBy.push({ column: keyColumn, desc });
      else {
        const ws = hiddenIndex();
        hiddenAfter.push(collationKeySql(ot));
        orderBy.push({ column: keyColumn, weightStringColumn: ws, desc });
      }
    }
    let distinctColumns: number[] | undefined;
    if (distinct) {
      distinctColumns = [];
      for (const a of argList) {
        // Text arguments are refused at execution (GroupConcatAccumulator): which of several
        // collation-equal strings MariaDB keeps is not known at the gateway.
        const at = text(a, 'GROUP_CONCAT argument across shards');
        distinctColumns.push(hiddenIndex());
        hiddenAfter.push(at);
        pieceGroup.add(at);
      }
    }
    const maxLenColumn = hiddenIndex();
    hiddenAfter.push('@@group_concat_max_len');
    aggregates.push({ opcode: 'group_concat', column, alias, groupConcat: { separator, orderBy, maxLenColumn, ...(distinctColumns ? { distinctColumns } : {}) } });
    return text(e, 'GROUP_CONCAT across shards');
  };
  /** Expressions the shards also group by so that each GROUP_CONCAT piece has one ORDER BY key (see above). */
  const pieceGroup = new Set<string>();

  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    const e = c.expr;
    const t = text(e, 'expression in an aggregation across shards');
    const alias = c.as ? String(c.as) : t;
    if (e.type === 'aggr_func') {
      const named = c.as ? null : nameOf(e);
      shardCols.push(withAlias(aggregateShardText(e, i, named?.alias ?? alias), c.as));
      if (named?.nameTemplate) aggregates[aggregates.length - 1] = { ...aggregates[aggregates.length - 1]!, nameTemplate: named.nameTemplate };
      continue;
    }
    if (hasAggregate(e)) {
      // The shards compute it per shard only so that the column keeps MySQL's name and type.
      shardCols.push(withAlias(t, c.as));
      exprColumns.set(i, e);
      continue;
    }
    const gi = groupCols.findIndex(
      (g) =>
        nodeText(ctx, g) === t ||
        (isColumnRef(g) && isColumnRef(e) && safeResolve(analyzer, g, scope) !== null && safeResolve(analyzer, g, scope) === safeResolve(analyzer, e, scope)) ||
        (isColumnRef(g) && !g.table && c.as && String(c.as).toLowerCase() === columnName(g).toLowerCase() && !nameKeys.has(g)),
    );
    if (gi < 0 && isConstant(e)) {
      // A constant (`9`, `'total'`): the gateway gives its value, also for the one row of an
      // aggregation over no rows at all; the shards compute it only for its name and type.
      shardCols.push(withAlias(t, c.as));
      exprColumns.set(i, e);
      continue;
    }
    const columnRef = isColumnRef(e) && columnName(e) !== '*';
    if (gi < 0 && (columnRef || anyValueOfNameKey.has(i) || readsOnlyGroupKeys(e))) {
      // Any value of the group, which MariaDB (without ONLY_FULL_GROUP_BY, which makes the shards
      // refuse it too) shows, and so does the gateway (any_value, as Vitess plans it; over no rows
      // NULL, as in MariaDB): a column neither grouped nor aggregated, the aliased expression of a
      // GROUP BY name, or an expression of the group keys alone (`n + 1`, or the collation key a
      // derived table's outer ORDER BY asks of `group by n`), whose one value per group the shards
      // compute.
      shardCols.push(withAlias(t, c.as));
      aggregates.push({ opcode: 'any_value', column: i, alias });
      if (!columnRef) anyValueExpressions.add(i);
      continue;
    }
    if (gi < 0) throw notSupported(`column '${t}' that is neither grouped nor aggregated, across shards`);
    shardCols.push(withAlias(t, c.as));
    if (!groupBy.some((g) => g.column === i)) groupBy.push({ column: i });
  }
  // Group keys not in the select list become helper columns.
  for (const g of groupCols) {
    const t = nameKeys.get(g) ?? text(g, 'GROUP BY expression across shards');
    const idx = columns.findIndex((c, k) => !exprColumns.has(k) && (nodeText(ctx, c.expr) === t || (c.as && isColumnRef(g) && !g.table && String(c.as).toLowerCase() === columnName(g).toLowerCase() && !nameKeys.has(g))));
    if (idx >= 0 && groupBy.some((x) => x.column === idx)) continue;
    if (groupBy.some((x) => x.column >= visible && hiddenAfter[x.column - visible] === t)) continue;
    const col = hiddenIndex();
    hiddenAfter.push(t);
    groupBy.push({ column: col });
  }

  const avgDisplayed = avgDisplayedInExpressions(p);
  const avgUncertain = avgRoundingUncertain(p);
  /** Gateway inputs of an expression: aggregates (pushed as helper columns when not selected) and group keys. */
  const aggSlots = new Map<string, number>();
  const leaf =
    (what: string) =>
    (n: Ast): number | undefined => {
      if (n?.type === 'aggr_func') {
        const t = text(n, `aggregate in ${what}`);
        // avg inside an expression needs its unrounded value: a slot of its own, never the
        // visible (display-rounded) column.
        const isAvg = String(n.name).toLowerCase() === 'avg' && !avgDisplayed;
        if (isAvg && avgUncertain) throw notSupported('avg() inside an expression, grouped with an ORDER BY other than the leading GROUP BY columns or with a DISTINCT aggregate elsewhere (MariaDB computes it from its rounded or unrounded value depending on its plan)');
        const vis = isAvg ? -1 : columns.findIndex((c) => c.expr?.type === 'aggr_func' && nodeText(ctx, c.expr) === t);
        if (vis >= 0) return vis;
        const known = aggSlots.get(t);
        if (known !== undefined) return known;
        const slot = hiddenIndex();
        hiddenAfter.push('');
        aggSlots.set(t, slot);
        hiddenAfter[slot - visible] = aggregateShardText(n, slot, t);
        if (isAvg) aggregates[aggregates.length - 1] = { ...aggregates[aggregates.length - 1]!, unrounded: true };
        return slot;
      }
      if (n?.type === 'param' || n?.type === 'number' || n?.type === 'null' || String(n?.type ?? '').endsWith('string')) return undefined;
      const t = nodeText(ctx, n);
      if (t !== null) {
        const vi = columns.findIndex((c, k) => !exprColumns.has(k) && c.expr?.type !== 'aggr_func' && nodeText(ctx, c.expr) === t);
        if (vi >= 0) return vi;
        const hk = groupBy.find((g) => g.column >= visible && hiddenAfter[g.column - visible] === t);
        if (hk) return hk.column;
      }
      if (isColumnRef(n)) {
        if (!n.table) {
          // The GROUP BY's name: MariaDB's HAVING reads it as the GROUP BY did (warning 1052).
          const nk = [...nameKeys].find(([g]) => columnName(g).toLowerCase() === columnName(n).toLowerCase());
          const hk = nk && groupBy.find((x) => x.column >= visible && hiddenAfter[x.column - visible] === nk[1]);
          if (hk) return hk.column;
          const ai = columns.findIndex((c) => c.as && String(c.as).toLowerCase() === columnName(n).toLowerCase());
          if (ai >= 0) {
            if (exprColumns.has(ai)) throw notSupported(`an alias of an expression over aggregates in ${what}`);
            return ai;
          }
        }
        const fi = findSelectColumn(ctx, analyzer, columns, n, scope);
        if (fi >= 0 && !exprColumns.has(fi)) return fi;
        // Neither grouped nor selected: MariaDB knows no such column in HAVING.
        if (what === 'HAVING across shards') throw new PlanError(1054, '42S22', `Unknown column '${t ?? columnName(n)}' in 'HAVING'`);
        throw notSupported(`column '${t ?? columnName(n)}' in ${what} that is neither grouped nor selected`);
      }
      return undefined;
    };
  /** Helper columns that carry any value of the group (see leaf), by shard text. */
  const anyValueSlots = new Map<string, number>();
  const anyValueSlot = (t: string): number => {
    const known = anyValueSlots.get(t);
    if (known !== undefined) return known;
    const slot = hiddenIndex();
    hiddenAfter.push(t);
    aggregates.push({ opcode: 'any_value', column: slot, alias: t });
    anyValueSlots.set(t, slot);
    return slot;
  };
  /** Collation-key columns of ORDER BY expressions evaluated per group, by their column. */
  const sortKeyWeights = new Map<number, number>();
  const projections = new Map<number, EvalExpr>();
  // GROUP_CONCAT's text read as a number: MariaDB converts it by rules the gateway does not follow
  // (a long '1.67|6.75|…' compared equal to 2; random differential, seed 31 #20269).
  const groupConcatAliases = new Set<string>();
  for (const c of columns) if (c.as && c.expr?.type === 'aggr_func' && String(c.expr.name).toLowerCase() === 'group_concat') groupConcatAliases.add(String(c.as).toLowerCase());
  for (const e of [...exprColumns.values(), sel.having]) {
    if (e && readsGroupConcatAsValue(e, groupConcatAliases)) throw notSupported('GROUP_CONCAT(…) read as a number or string inside an expression or HAVING across shards (IS [NOT] NULL works)');
  }
  for (const [i, e] of exprColumns) projections.set(i, toEvalExpr(e, leaf('an expression over aggregates across shards'), 'an expression over aggregates across shards', ctx.parsed.nullSafeEqual));
  const having = sel.having ? toEvalExpr(sel.having, leaf('HAVING across shards'), 'HAVING across shards', ctx.parsed.nullSafeEqual) : null;

  // ORDER BY: keys that are group keys sort the shard streams (equal groups stay adjacent in
  // either direction); any other key (an aggregate) needs a Sort after the aggregation.
  const wantedOrder: { column: number; desc: boolean }[] = [];
  for (const o of sel.orderby ?? []) {
    const e = o.expr;
    // ORDER BY NULL asks for no order (MySQL's way to skip sorting the groups).
    if (e?.type === 'null') continue;
    refuseAmbiguousOrderBy(ctx, columns, e);
    const desc = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
    let idx = e?.type === 'number' ? Number(e.value) - 1 : findSelectColumn(ctx, analyzer, columns, e, scope);
    // The joined text would be compared without its collation's keys.
    if ((idx >= 0 && idx < visible ? columns[idx].expr : e)?.type === 'aggr_func' && String((idx >= 0 && idx < visible ? columns[idx].expr : e).name).toLowerCase() === 'group_concat') throw notSupported('ORDER BY GROUP_CONCAT(…) across shards');
    if (idx < 0 || idx >= visible) {
      if (e?.type === 'number') throw new PlanError(1054, '42S22', `Unknown column '${String(e.value)}' in 'order clause'`);
      const t = nodeText(ctx, e);
      const gk = groupBy.find((g) => g.column >= visible && hiddenAfter[g.column - visible] === t);
      if (gk) idx = gk.column;
      else if (e?.type === 'aggr_func') idx = leaf('ORDER BY across shards')(e)!;
      else if (!hasAggregate(e) && t !== null && !subqueryOf(e)) {
        // An expression of the group's rows (`col + 1` of a group key): the shards compute it
        // per row and the gateway keeps any value of the group, with its collation key for text.
        idx = anyValueSlot(t);
        if (!isNumericExpr(analyzer, e, scope)) sortKeyWeights.set(idx, anyValueSlot(collationKeySql(t)));
      } else if (hasAggregate(e) && t !== null && !subqueryOf(e)) {
        // A number computed from the group's aggregates (`order by max(x) + 1`): a helper column
        // the shards compute per shard only for its type, and the gateway recomputes from the
        // merged aggregates (as a selected expression over aggregates) before sorting on it.
        idx = hiddenIndex();
        hiddenAfter.push(t);
        projections.set(idx, toEvalExpr(e, leaf('ORDER BY across shards'), 'ORDER BY across shards', ctx.parsed.nullSafeEqual));
      } else throw notSupported('ORDER BY an expression that is not in the select list of an aggregation across shards');
    }
    // An expression kept as any value of its group (the aliased expression of a GROUP BY name,
    // which ORDER BY reads first, or one of the group keys): its text needs its collation key to
    // be sorted after the aggregation.
    if (anyValueExpressions.has(idx) && !sortKeyWeights.has(idx) && !isNumericExpr(analyzer, columns[idx].expr, scope)) sortKeyWeights.set(idx, anyValueSlot(collationKeySql(nodeText(ctx, columns[idx].expr)!)));
    wantedOrder.push({ column: idx, desc });
  }
  const sortAfter = wantedOrder.some((w) => !groupBy.some((g) => g.column === w.column));
  const groupOrder: { column: number; desc: boolean }[] = sortAfter ? [] : wantedOrder.slice();
  for (const g of groupBy) if (!groupOrder.some((w) => w.column === g.column)) groupOrder.push({ column: g.column, desc: false });
  groupBy.sort((a, b) => groupOrder.findIndex((w) => w.column === a.column) - groupOrder.findIndex((w) => w.column === b.column));
  const keyText = (column: number): string => (column < visible ? nodeText(ctx, columns[column].expr)! : hiddenAfter[column - visible]!);
  // Every shard stream must arrive in the order the gateway compares keys in: by weight string
  // for text (an ENUM too: the gateway sees its text, so its member order cannot be used), by
  // value otherwise. WEIGHT_STRING of a number or a date is NULL in MariaDB, so the shards sort
  // by `<sort key of x>, x`: the first orders text (trailing spaces ignored under PAD SPACE, see
  // collationSortKeySql), the second orders everything else.
  const orderKeys: OrderByKey[] = [];
  for (const gk of groupBy) {
    const dir = groupOrder.find((w) => w.column === gk.column)?.desc ?? false;
    const grouping = sortAfter || !wantedOrder.some((w) => w.column === gk.column) ? { grouping: true } : {};
    const srcExpr = gk.column < visible ? columns[gk.column].expr : null;
    if (srcExpr && isNumericExpr(analyzer, srcExpr, scope)) {
      orderKeys.push({ column: gk.column, desc: dir, ...grouping });
      continue;
    }
    const ws = hiddenIndex();
    hiddenAfter.push(collationKeySql(keyText(gk.column)));
    gk.weightStringColumn = ws;
    orderKeys.push({ column: gk.column, weightStringColumn: ws, desc: dir, ...grouping });
  }
  const shardOrder = orderKeys.map((k) => {
    const dir = k.desc ? 'desc' : 'asc';
    return k.weightStringColumn !== undefined ? `${collationSortKeySql(keyText(k.column))} ${dir}, ${keyText(k.column)} ${dir}` : `${keyText(k.column)} ${dir}`;
  });
  const shardGroup = groupBy.map((g) => keyText(g.column));
  for (const text of [...distinctOn.keys(), ...[...pieceGroup].filter((t) => !distinctOn.has(t))]) {
    shardGroup.push(text);
    shardOrder.push(`${text} asc`);
  }

  // Shard SQL: the rebuilt select list, FROM/WHERE as written, then our GROUP BY / ORDER BY in
  // place of the statement's GROUP BY, HAVING, ORDER BY and LIMIT (the gateway applies those).
  const listEnd = selectListEnd(ctx);
  const selectKw = p.tokens.findIndex((t) => kw(t) === 'select');
  let headEnd = selectKw + 1;
  while (headEnd < listEnd && ['distinct', 'sql_calc_found_rows', 'straight_join', 'all', 'high_priority', 'sql_no_cache', 'sql_cache'].includes(kw(p.tokens[headEnd]))) headEnd++;
  if (p.tokens[headEnd]?.kind === 'verbatim') headEnd++;
  const edits: TokenEdit[] = [...ctx.edits, { from: headEnd, to: listEnd, text: [...shardCols, ...hiddenAfter].join(', ') }];
  const tailStart = topLevelTail(ctx, listEnd);
  const tail = (shardGroup.length > 0 ? ' group by ' + shardGroup.join(', ') : '') + (shardOrder.length > 0 ? ' order by ' + shardOrder.join(', ') : '');
  if (tailStart >= 0) edits.push({ from: tailStart, to: findStatementTailEnd(ctx, tailStart), text: tail.trimStart() });
  else if (tail) {
    const end = findStatementTailEnd(ctx, listEnd);
    edits.push({ from: end, to: end, text: tail.trimStart() });
  }
  const query = templateFromTokens(p.tokens, 0, p.tokens.length, edits);
  const route = routeFor(ctx, cand, query, orderKeys.length > 0 ? { orderBy: orderKeys } : {});

  const needProjection = exprColumns.size > 0 || (hiddenAfter.length > 0 && having !== null && !sortAfter);
  const trim = hiddenAfter.length > 0 && !needProjection ? { resultColumns: visible } : {};
  let top: Primitive = {
    operator: 'Aggregate',
    variant: groupBy.length === 0 ? 'Scalar' : 'Ordered',
    input: route,
    aggregates,
    groupBy: groupBy as GroupByKey[],
    ...(sortAfter || having ? {} : trim),
    ...(columns.some((c) => c.as) ? { columnNames: columns.map((c) => (c.as ? String(c.as) : null)) } : {}),
  };
  if (having) top = { operator: 'Filter', input: top, predicate: having };
  // Sorting on an expression over aggregates: it is computed before the Sort, over every column
  // (helper columns pass through for the other keys), and the Sort drops the helpers.
  const sortsOnExpression = sortAfter && wantedOrder.some((w) => projections.has(w.column));
  if (sortsOnExpression) {
    const width = visible + hiddenAfter.length;
    const all = Array.from({ length: width }, (_, i) => i);
    top = {
      operator: 'Projection',
      input: top,
      expressions: all.map((i) => projections.get(i) ?? { kind: 'column', index: i }),
      columnNames: all.map(() => ''),
      fieldFrom: all.map((i) => (projections.has(i) ? i : null)),
    };
  }
  if (sortAfter) {
    const keys: OrderByKey[] = wantedOrder.map((w) => {
      // A group key's or a string MIN/MAX's collation key (the Aggregate carries the winner's key):
      // without it a string would be sorted as utf8mb4_general_ci whatever its collation.
      const g = groupBy.find((x) => x.column === w.column) ?? aggregates.find((a) => a.column === w.column && (a.opcode === 'min' || a.opcode === 'max')) ?? (sortKeyWeights.has(w.column) ? { weightStringColumn: sortKeyWeights.get(w.column) } : undefined);
      // An expression over aggregates has no collation key: the Sort refuses it if it is text.
      if (projections.has(w.column)) return { column: w.column, desc: w.desc, noCollationKey: true };
      return g?.weightStringColumn !== undefined ? { column: w.column, weightStringColumn: g.weightStringColumn, desc: w.desc } : { column: w.column, desc: w.desc };
    });
    top = { operator: 'Sort', input: top, orderBy: keys, ...(sortsOnExpression ? { resultColumns: visible } : trim) };
  }
  // A Projection is per row: it may run before the LIMIT, so that DISTINCT sees the final values.
  if (needProjection && !sortsOnExpression) {
    top = {
      operator: 'Projection',
      input: top,
      expressions: columns.map((_, i) => projections.get(i) ?? { kind: 'column', index: i }),
      columnNames: columns.map(() => ''),
      fieldFrom: columns.map((_, i) => (exprColumns.has(i) ? i : null)),
    };
  }
  // SELECT DISTINCT changes nothing when there is one group (no GROUP BY) or when every group key
  // is selected (each row then has its own key values). Otherwise the gateway removes duplicate
  // rows after the ORDER BY and before the LIMIT, as MySQL does; only numbers are compared, as
  // strings would need their collation's keys.
  const distinctRows = !!sel.distinct && groupBy.length > 0 && groupBy.some((g) => g.column >= visible);
  if (distinctRows) {
    const numeric = columns.every((c) => {
      const e = c.expr;
      if (e?.type === 'aggr_func') {
        const name = String(e.name).toLowerCase();
        return name === 'count' || name === 'sum' || name === 'avg' || ((name === 'min' || name === 'max') && e.args?.expr?.type !== 'star' && isNumericExpr(analyzer, e.args?.expr, scope));
      }
      return isNumericExpr(analyzer, e, scope);
    });
    if (!numeric) throw notSupported('SELECT DISTINCT with aggregation across shards over other than numbers, with group keys not selected');
    top = { operator: 'Distinct', input: top };
  }
  top = withGatewayLimit(sel.limit, top);
  return top;
}

/** First top-level GROUP BY / HAVING / ORDER BY / LIMIT token after the select list; -1 if none. */
function topLevelTail(ctx: PlanContext, from: number): number {
  const toks = ctx.parsed.tokens;
  let depth = 0;
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0) {
      const k = kw(t);
      if (((k === 'group' || k === 'order') && kw(toks[i + 1]) === 'by') || k === 'having' || k === 'limit') return i;
      if (k === 'for' || k === 'lock' || k === 'into' || k === 'union') return -1;
    }
  }
  return -1;
}

/** A literal or bind var, or an operator/function over those only, which the gateway can evaluate (see gateway-expr.ts). */
function isConstant(e: Ast): boolean {
  let constant = true;
  walk(e, (n) => {
    if (!constant) return false;
    if (isColumnRef(n) || n?.type === 'aggr_func' || subqueryOf(n) || n?.type === 'select') constant = false;
    return constant;
  });
  if (!constant) return false;
  try {
    toEvalExpr(e, () => undefined, 'a constant', true);
    return true;
  } catch {
    return false;
  }
}

/**
 * `ORDER BY id` when two select expressions are named `id` (`select id, b as id …`) and are not
 * the same expression: MySQL refuses it as ambiguous (1052), and so must the gateway, which
 * would otherwise pick one.
 */
function refuseAmbiguousOrderBy(ctx: PlanContext, columns: readonly Ast[], e: Ast): void {
  if (!isColumnRef(e) || e.table) return;
  const name = columnName(e).toLowerCase();
  const named = columns.filter((c) => (c.as ? String(c.as) : isColumnRef(c.expr) ? columnName(c.expr) : '').toLowerCase() === name);
  if (new Set(named.map((c) => nodeText(ctx, c.expr) ?? '?')).size > 1) throw new PlanError(1052, '23000', `Column '${columnName(e)}' in order clause is ambiguous`);
}

/**
 * MariaDB 10.11, grouping with an ORDER BY that holds a DISTINCT aggregate (`order by
 * count(distinct x)`, also through its alias or position), sorts the groups in a temporary table
 * and computes expressions over avg from avg's displayed value (`avg(x) * 3000000` is 3999900.0000
 * for 1.33333…, 3999999.9990 otherwise): the gateway then does the same.
 */
export function avgDisplayedInExpressions(p: ParsedStatement): boolean {
  const sel = p.ast;
  if ((sel.groupby?.columns ?? []).length === 0) return false;
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  const hasDistinctAggregate = (e: Ast): boolean => {
    let found = false;
    walk(e, (n) => {
      if (n?.type === 'aggr_func' && (!!n.args?.distinct || p.distinctAggregates.has(n.loc?.start?.offset ?? -1))) found = true;
      return !found;
    });
    return found;
  };
  return (sel.orderby ?? []).some((o: Ast) => {
    const e = o.expr;
    if (e?.type === 'number') return !!columns[Number(e.value) - 1] && hasDistinctAggregate(columns[Number(e.value) - 1].expr);
    if (isColumnRef(e) && !e.table) {
      const aliased = columns.find((c) => c.as && String(c.as).toLowerCase() === columnName(e).toLowerCase());
      if (aliased && hasDistinctAggregate(aliased.expr)) return true;
    }
    return hasDistinctAggregate(e);
  });
}

/**
 * Whether MariaDB 10.11 may compute an expression over avg from avg's displayed (rounded) value or
 * from its exact one depending on its plan, which the gateway cannot see; such an expression is
 * refused rather than guessed. Two shapes, both grouped and ordered:
 * - an ORDER BY that is not the GROUP BY's leading columns in one direction (`order by sum(id)`,
 *   `order by p + 0`, `order by p, max(q)`): grouping along an index and then sorting the groups
 *   gives `avg(v) * count(*)` = 2917.0002 for avg 486.1667 of 6 rows, grouping in a temporary
 *   table gives 2917.0000 (random differential seed 55 #3564: the same statement, one plan per
 *   table with and without an index on the grouped column);
 * - a DISTINCT aggregate elsewhere in the statement, but not in the ORDER BY
 *   (avgDisplayedInExpressions): `sum(distinct id), avg(b) * count(*) … group by c order by
 *   coalesce(sum(id), 0)` gave -993.257144 where the exact avg gives -993.257143 (seed 54 #7800).
 * An ORDER BY holding a DISTINCT aggregate always uses the displayed value (avgDisplayedInExpressions).
 */
export function avgRoundingUncertain(p: ParsedStatement): boolean {
  const sel = p.ast;
  if ((sel.groupby?.columns ?? []).length === 0 || (sel.orderby ?? []).length === 0 || avgDisplayedInExpressions(p)) return false;
  if (!orderFollowsGroups(sel.groupby.columns, sel.orderby)) return true;
  let found = false;
  walk([sel.columns, sel.having, sel.orderby], (n) => {
    if (n?.type === 'aggr_func' && (!!n.args?.distinct || p.distinctAggregates.has(n.loc?.start?.offset ?? -1))) found = true;
    return !found && !(n?.type === 'select' && n !== sel);
  });
  return found;
}

/** Whether an avg() sits inside a larger expression of the select list, HAVING or ORDER BY (not a column of its own). */
export function avgInsideExpression(sel: Ast): boolean {
  let found = false;
  const isAvg = (n: Ast): boolean => n?.type === 'aggr_func' && String(n.name).toLowerCase() === 'avg';
  const inside = (e: Ast): void => {
    if (found || e === null || e === undefined || isAvg(e)) return;
    walk(e, (n) => {
      if (isAvg(n)) found = true;
      return !found && !(n?.type === 'select' && n !== sel);
    });
  };
  for (const c of Array.isArray(sel.columns) ? sel.columns : []) inside(c.expr);
  inside(sel.having);
  for (const o of sel.orderby ?? []) inside(o.expr);
  return found;
}

/**
 * Whether an ORDER BY is the GROUP BY's first columns, in their order and one direction: the
 * groups then come out of the grouping already in order and MariaDB sorts nothing after it.
 * Only plain column references count; anything else may need that sort.
 */
function orderFollowsGroups(groups: readonly Ast[], orders: readonly Ast[]): boolean {
  if (orders.length > groups.length) return false;
  const direction = (o: Ast): string => String(o.type ?? 'ASC').toUpperCase();
  const sameColumn = (a: Ast, b: Ast): boolean =>
    isColumnRef(a) && isColumnRef(b) && columnName(a).toLowerCase() === columnName(b).toLowerCase() && String(a.table ?? '').toLowerCase() === String(b.table ?? '').toLowerCase();
  return orders.every((o, i) => direction(o) === direction(orders[0]!) && sameColumn(o.expr, groups[i]!));
}

/**
 * Whether an expression reads a GROUP_CONCAT's text (the call, or its select-list alias) other than
 * by IS [NOT] NULL; a subquery of its own is not looked into.
 */
export function readsGroupConcatAsValue(e: Ast, aliases: ReadonlySet<string>): boolean {
  const isGroupConcat = (n: Ast | undefined): boolean =>
    n !== undefined && n !== null && ((n.type === 'aggr_func' && String(n.name).toLowerCase() === 'group_concat') || (isColumnRef(n) && !n.table && aliases.has(columnName(n).toLowerCase())));
  let found = false;
  const visit = (n: unknown): void => {
    if (found || n === null || typeof n !== 'object') return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const node = n as Ast;
    if (node.type === 'binary_expr' && (node.operator === 'IS' || node.operator === 'IS NOT') && isGroupConcat(node.left)) return;
    if (isGroupConcat(node)) {
      found = true;
      return;
    }
    if (node.ast !== undefined) return;
    for (const key of Object.keys(node)) if (key !== 'loc') visit(node[key]);
  };
  visit(e);
  return found;
}

/**
 * GROUP BY … WITH ROLLUP: the super-aggregate rows are not planned across shards, and the parser
 * keeps the modifier beside the keys, where a plan that reads only the keys would drop it.
 */
export function hasRollup(sel: Ast): boolean {
  const modifiers: unknown = sel?.groupby?.modifiers;
  return Array.isArray(modifiers) && modifiers.some((m: Ast) => /rollup/i.test(String(m?.value ?? '')));
}
