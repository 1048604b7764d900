/**
 * Semantic analysis of a SELECT for routing: resolves tables and columns per scope, turns
 * predicates into routing conditions, and merges tables, derived tables, subqueries and UNION
 * parts into one route candidate whenever Vitess's merge rules prove that every row the query
 * needs lives on the same shard(s).
 */
import { conjuncts, operands, columnName, foldConstant, functionArgs, functionName, isColumnRef, subqueryOf, truth, unionParts, walk } from './ast-utils.js';
import { findTable, SCHEMA_NAME_COLUMNS, SYSTEM_SCHEMAS, type PlanContext } from './plan-context.js';
import type { Ast } from './sql-parser.js';
import { tokenRange } from './sql-parser.js';
import { sysSchemaBindName, type ValueExpr } from './plan-types.js';
import { canMerge, colKey, computeRouting, isSingleShard, mergeCands, uniqueValues, unionRouting, vindexJoined, ColumnClasses, type Cand, type ColKey, type Cond, type Routing, type TableRef } from './routing.js';
import { PlanError, notSupported } from './errors.js';
import { quoteIdent } from './shard-sql.js';
import { decodeHex, kw } from './lexer.js';

export interface Scope {
  readonly tables: TableRef[];
  readonly parent: Scope | null;
  /** Select-list aliases (lower) of this scope, for HAVING / ORDER BY. */
  aliases?: Map<string, Ast>;
}

export interface OutputColumn {
  /** Lower-cased output name. */
  readonly name: string;
  /** The column key when the output is a plain column. */
  readonly key: ColKey | null;
  /** The column whose values the output holds: the plain column, or the column of MIN()/MAX(). */
  readonly joinKey?: ColKey | null;
}

/** One analyzed SELECT (or UNION) statement. */
export interface Analyzed {
  /** The single route candidate, or null when the statement needs several routes. */
  readonly cand: Cand | null;
  /** Why `cand` is null. */
  readonly why?: string;
  readonly scope: Scope;
  /** Output columns; null when unknown (a `*` over a table without an authoritative column list). */
  readonly columns: readonly OutputColumn[] | null;
  /** Equalities between this statement's columns and enclosing scopes' columns (correlation). */
  readonly outerPreds: readonly { a: ColKey; b: ColKey }[];
  /** FROM pieces when not mergeable (for cross-shard join planning). */
  readonly pieces?: readonly Cand[];
  /** All conditions of the statement's own scope (FROM/ON/WHERE). */
  readonly conds?: readonly Cond[];
  /**
   * The statement's own LIMIT/aggregation/DISTINCT would give a different result per shard: it
   * cannot be nested into another route (derived table, subquery, UNION part) unless single-shard.
   */
  readonly selfOpaque?: boolean;
}

const AGGREGATES = new Set(['count', 'sum', 'min', 'max', 'avg', 'group_concat', 'bit_and', 'bit_or', 'bit_xor', 'std', 'stddev', 'stddev_pop', 'stddev_samp', 'var_pop', 'var_samp', 'variance', 'json_arrayagg', 'json_objectagg', 'any_value']);

/** True when the expression contains an aggregate call outside nested subqueries. */
export function hasAggregate(e: Ast): boolean {
  let found = false;
  walk(e, (n) => {
    if (found) return false;
    if (subqueryOf(n) || (n.type === 'select' && n !== e)) return false;
    if (n.type === 'aggr_func') {
      found = true;
      return false;
    }
    if (n.type === 'function' && AGGREGATES.has(functionName(n)) && !n.over) {
      found = true;
      return false;
    }
    return true;
  });
  return found;
}

/**
 * Whether a statement's rows may be answered by several shards and simply concatenated: one
 * SELECT without ORDER BY, LIMIT, grouping, aggregates, DISTINCT, window functions or subqueries.
 */
function rowsCombinable(ast: Ast): boolean {
  if (ast._next || ast.distinct || ast.having || (Array.isArray(ast.orderby) && ast.orderby.length > 0)) return false;
  if (ast.limit && Array.isArray(ast.limit.value) && ast.limit.value.length > 0) return false;
  if ((ast.groupby?.columns ?? (Array.isArray(ast.groupby) ? ast.groupby : [])).length > 0) return false;
  if (Array.isArray(ast.columns) && ast.columns.some((c: Ast) => hasAggregate(c.expr))) return false;
  if (hasWindowFunction(ast)) return false;
  for (const f of Array.isArray(ast.from) ? ast.from : []) if (f.expr || (f.on && containsSubquery(f.on))) return false;
  for (const e of [ast.where, ...(Array.isArray(ast.columns) ? ast.columns.map((c: Ast) => c.expr) : [])]) if (e && containsSubquery(e)) return false;
  return true;
}

/** True when a select list or ORDER BY holds a window function (`… OVER …`) outside nested subqueries. */
export function hasWindowFunction(sel: Ast): boolean {
  let found = false;
  for (const e of [sel.columns, sel.orderby]) {
    if (!e) continue;
    walk(e, (n) => {
      if (found) return false;
      if (subqueryOf(n) || n.type === 'select') return false;
      if (n.over) found = true;
      return !found;
    });
  }
  return found;
}

export class SelectAnalyzer {
  /**
   * Ids of tables on the NULL-extended side of an outer join (LEFT JOIN's right table, RIGHT
   * JOIN's left ones). Their columns are NULL on rows of every shard that found no match, so even
   * a unique vindex column of theirs does not keep a group or DISTINCT value on one shard.
   * Written while each statement's FROM is analyzed, read afterwards; one analyzer plans one
   * statement on one thread.
   */
  private readonly nullExtended = new Set<string>();

  constructor(private readonly ctx: PlanContext) {}

  /** Analyzes a statement (with its UNION chain) in the given enclosing scope. */
  analyze(sel: Ast, parent: Scope | null): Analyzed {
    if (sel._next) return this.analyzeUnion(sel, parent);
    return this.analyzeSelect(sel, parent);
  }

  private analyzeUnion(sel: Ast, parent: Scope | null): Analyzed {
    const parts = unionParts(sel);
    const analyzed = parts.map((p) => this.analyzeSelect(p, parent, true));
    const first = analyzed[0]!;
    const outerPreds = analyzed.flatMap((a) => a.outerPreds);
    if (analyzed.some((a) => a.cand === null)) return { cand: null, why: 'UNION of statements that need several routes', scope: first.scope, columns: first.columns, outerPreds };
    let routing = computeRouting(first.cand!);
    let merged: Cand = { tables: [...first.cand!.tables], conds: [...first.cand!.conds], opaque: first.cand!.opaque || first.selfOpaque === true };
    // INTERSECT and EXCEPT (ALL or not) need every shard's rows, as a DISTINCT union does.
    const setOps = parts.map((p) => String(p.set_op ?? '')).join(' ');
    const distinct = /intersect|except|minus/i.test(setOps) || parts.slice(1).some((p) => !String(p.set_op ?? sel.set_op ?? '').toLowerCase().includes('all')) || !String(sel.set_op ?? '').toLowerCase().includes('all');
    for (let i = 1; i < analyzed.length; i++) {
      const r = computeRouting(analyzed[i]!.cand!);
      const u = unionRouting(routing, r);
      if (u === null) return { cand: null, why: 'UNION across different routes', scope: first.scope, columns: first.columns, outerPreds };
      routing = u;
      merged = { tables: [...merged.tables, ...analyzed[i]!.cand!.tables], conds: [...merged.conds, ...analyzed[i]!.cand!.conds.filter((c) => c.k === 'coleq')], opaque: merged.opaque || analyzed[i]!.cand!.opaque || analyzed[i]!.selfOpaque === true };
    }
    merged.fixed = routing;
    const orderOrLimit = sel._orderby || sel._limit;
    const selfOpaque = !isSingleShard(routing) && (distinct || !!orderOrLimit);
    return { cand: merged, scope: first.scope, columns: first.columns, outerPreds, selfOpaque };
  }

  private analyzeSelect(sel: Ast, parent: Scope | null, inUnion = false): Analyzed {
    const scope: Scope = { tables: [], parent };
    const from: Ast[] = Array.isArray(sel.from) && sel.from.length > 0 ? sel.from : [{ type: 'dual' }];
    const itemCands: Cand[] = [];
    const outerPreds: { a: ColKey; b: ColKey }[] = [];
    // 1. Tables (the scope must be complete before any column is resolved).
    for (const item of from) {
      const { ref, cand } = this.tableRef(item);
      scope.tables.push(ref);
      itemCands.push(cand);
    }
    this.validateReferences(sel, scope);
    const gatewayOnly = scope.tables.find((t) => t.gatewayOnly !== undefined);
    if (gatewayOnly) return { cand: null, why: `derived table '${gatewayOnly.alias}' that needs several routes (${gatewayOnly.gatewayOnly})`, scope, columns: null, outerPreds };
    if (scope.tables.some((t) => t.kind === 'dba')) this.schemaNameBinds(sel, scope);
    // 2. Conditions: ON clauses and WHERE.
    const scopeConds: Cond[] = [];
    const onConds: Cond[][] = from.map(() => []);
    from.forEach((item, idx) => {
      const join = String(item.join ?? '').toUpperCase();
      const outerJoin = join.includes('LEFT') || join.includes('RIGHT');
      const extended = join.includes('LEFT') ? [scope.tables[idx]!] : join.includes('RIGHT') ? scope.tables.slice(0, idx) : [];
      for (const t of extended) {
        this.nullExtended.add(String(t.id));
        for (const inner of t.derivedInnerIds ?? []) this.nullExtended.add(inner);
      }
      if (item.on) {
        if (containsSubquery(item.on)) throw notSupported('subquery in a JOIN ON condition');
        for (const c of conjuncts(item.on)) onConds[idx]!.push(...this.conds(c, scope, !outerJoin));
      }
      if (Array.isArray(item.using) && idx > 0) {
        for (const u of item.using) {
          const name = String(u.value ?? u.column ?? u).toLowerCase();
          const left = scope.tables.slice(0, idx).reverse().find((t) => t.knownColumns.has(name) || !t.authoritative)!;
          onConds[idx]!.push({ k: 'coleq', a: colKey(left, name), b: colKey(scope.tables[idx]!, name) });
        }
      }
    });
    const subqueryConjuncts: { node: Ast; filtering: boolean }[] = [];
    for (const c of conjuncts(sel.where)) {
      if (containsSubquery(c)) subqueryConjuncts.push({ node: c, filtering: true });
      else scopeConds.push(...this.conds(c, scope, true));
    }
    // Column equalities with enclosing scopes are correlation predicates, reported to the caller.
    const ownIds = new Set(scope.tables.map((t) => String(t.id)));
    const isOwn = (k: ColKey): boolean => ownIds.has(k.slice(0, k.indexOf(':'))) || this.isDerivedInner(scope, k);
    const localConds: Cond[] = [];
    for (const c of [...scopeConds, ...onConds.flat()]) {
      if (c.k === 'coleq' && (!isOwn(c.a) || !isOwn(c.b))) outerPreds.push({ a: c.a, b: c.b });
      else localConds.push(c);
    }
    // 3. Merge the FROM pieces.
    const condsFor = (cand: Cand): Cand => withConds(cand, localConds);
    let pieces: Cand[] = [];
    for (let idx = 0; idx < from.length; idx++) {
      const item = from[idx]!;
      const join = String(item.join ?? '').toUpperCase();
      let cand = itemCands[idx]!;
      if (join.includes('LEFT') || join.includes('RIGHT')) {
        pieces = mergeAll(pieces, localConds);
        if (pieces.length !== 1) return { cand: null, why: 'outer join across shards', scope, columns: null, outerPreds, pieces: [...pieces, cand], conds: localConds };
        const lhs = pieces[0]!;
        const preds = joinPreds(lhs, cand, localConds);
        const innerSide = join.includes('LEFT') ? cand : lhs;
        const outerSide = join.includes('LEFT') ? lhs : cand;
        if (!canMerge(condsFor(outerSide), condsFor(innerSide), preds) || !outerJoinSafe(condsFor(outerSide), condsFor(innerSide), preds)) {
          return { cand: null, why: 'outer join across shards', scope, columns: null, outerPreds, pieces: [lhs, cand], conds: localConds };
        }
        // ON conditions of an outer join do not filter the preserved side: they were collected as
        // non-routable, so merging the conditions keeps the routing of the preserved side.
        pieces = [mergeCands(outerSide, innerSide, false)];
        cand = pieces[0]!;
        continue;
      }
      pieces.push(cand);
    }
    pieces = mergeAll(pieces, localConds);
    if (pieces.length !== 1) {
      return { cand: null, why: 'join across shards', scope, columns: this.outputColumns(sel, scope), outerPreds, pieces, conds: localConds };
    }
    let cand = withConds(pieces[0]!, localConds);

    // 4. Subqueries: WHERE conjuncts first (they may filter), then everything else.
    const others: Ast[] = [];
    for (const col of Array.isArray(sel.columns) ? sel.columns : []) others.push(col.expr);
    if (sel.having) others.push(sel.having);
    for (const o of sel.orderby ?? []) others.push(o.expr);
    const groupCols = sel.groupby?.columns ?? (Array.isArray(sel.groupby) ? sel.groupby : []);
    for (const g of groupCols) others.push(g);
    const subqueryUses: { sub: Ast; filtering: boolean; inLeft?: Ast; inLeftRoutes?: boolean }[] = [];
    for (const sc of subqueryConjuncts) {
      const node = sc.node;
      const op = String(node.operator ?? '').toUpperCase();
      const fname = functionName(node);
      const direct = (node.type === 'binary_expr' && (op === 'IN' || op === '=' || op === '<' || op === '>' || op === '<=' || op === '>=')) || fname === 'exists';
      // `x IN (subquery)` where only AND/OR lead to it: a row the IN lets through equals a row of
      // the subquery on x (so a shared unique vindex keeps both on one shard, and NULL and FALSE
      // filter alike there). Under NOT, IS or a comparison, or in the select list, a row passes
      // without any match (seed 11 #17606: `order_id = 11 AND NOT order_id IN (SELECT
      // customer_id …)` was merged and sent to customer 11's shard alone). Only when the IN is the
      // conjunct itself may the equality also narrow the route.
      const inLefts = positiveInSubqueryLefts(node);
      const topIn = node.type === 'binary_expr' && op === 'IN';
      for (const sub of directSubqueries(node)) subqueryUses.push({ sub, filtering: direct, inLeft: inLefts.get(sub), inLeftRoutes: topIn && inLefts.get(sub) === node.left });
      // The non-subquery parts of a filtering conjunct still constrain columns, but are not routing values.
    }
    for (const o of others) {
      for (const sub of directSubqueries(o)) subqueryUses.push({ sub, filtering: false });
    }

    for (const use of subqueryUses) {
      const inner = this.analyze(use.sub, scope);
      if (inner.cand === null) return { cand: null, why: inner.why ?? 'subquery that needs several routes', scope, columns: null, outerPreds, pieces: [cand], conds: localConds };
      const preds: { a: ColKey; b: ColKey }[] = [];
      for (const p of inner.outerPreds) {
        const aOwn = isOwn(p.a);
        const bOwn = isOwn(p.b);
        if (aOwn || bOwn) preds.push(p);
        else {
          outerPreds.push(p);
          // Both correlated to the same enclosing column: equal to each other.
          for (const q of outerPreds) {
            if (q === p) continue;
            const shared = q.a === p.a || q.a === p.b || q.b === p.a || q.b === p.b;
            if (!shared) continue;
            const ownQ = isOwn(q.a) ? q.a : isOwn(q.b) ? q.b : null;
            const innerP = p.a === q.a || p.a === q.b ? p.b : p.a;
            if (ownQ) preds.push({ a: ownQ, b: innerP });
          }
        }
      }
      // Correlation inside the subquery (it restricts the subquery's own rows) is kept apart from
      // the `x IN (subquery)` equality, which applies after the subquery's LIMIT/aggregation.
      const correlation = preds.slice();
      const routing = preds.slice();
      if (use.inLeft && isColumnRef(use.inLeft) && inner.columns && inner.columns.length === 1 && inner.columns[0]!.key) {
        const left = this.resolve(use.inLeft, scope);
        if (left) {
          preds.push({ a: left, b: inner.columns[0]!.key });
          if (use.inLeftRoutes === true) routing.push({ a: left, b: inner.columns[0]!.key });
        }
      }
      const innerCand: Cand = { ...inner.cand, opaque: inner.cand.opaque || inner.selfOpaque === true, conds: [...inner.cand.conds, ...routing.map((p) => ({ k: 'coleq' as const, a: p.a, b: p.b }))] };
      const merged = mergeSubquery(cand, innerCand, preds, use.filtering, correlation, answersOverNoRows(use.sub));
      if (merged === null) return { cand: null, why: 'subquery that cannot be merged into the outer route', scope, columns: null, outerPreds, pieces: [cand], conds: localConds };
      cand = merged;
    }
    // The statement's own LIMIT/aggregation makes it unsafe only where it is nested (derived
    // table, subquery, UNION part); at the top the statement planner finishes it at the gateway.
    const multi = !isSingleShard(computeRouting(cand));
    const selfOpaque = multi && ((inUnion && !!sel.limit) || this.isOpaque(sel, cand, scope));
    return { cand, scope, columns: this.outputColumns(sel, scope), outerPreds, conds: localConds, selfOpaque };
  }

  /**
   * System tables: each value a schema column is compared with (`table_schema = 'main'`,
   * `schema_name in ('a', 'b')`, `table_schema = database()`) becomes a schema-name bind in the
   * shard SQL (see SysSchemaBind), so that the executor sends the query to the keyspaces named and
   * each shard sees its own database name. Only AND-ed conditions of WHERE and of inner joins
   * count: there each value restricts every row. Anything else goes to the session's keyspace.
   */
  private schemaNameBinds(sel: Ast, scope: Scope): void {
    const p = this.ctx.parsed;
    const combinable = rowsCombinable(p.ast);
    const preds: Ast[] = [...conjuncts(sel.where)];
    for (const item of Array.isArray(sel.from) ? sel.from : []) {
      const join = String(item.join ?? '').toUpperCase();
      if (item.on && !join.includes('LEFT') && !join.includes('RIGHT')) preds.push(...conjuncts(item.on));
    }
    const onlySystemTables = scope.tables.every((t) => t.kind === 'dba' || t.kind === 'dual');
    const isSchemaColumn = (n: Ast): boolean => {
      if (!isColumnRef(n) || !SCHEMA_NAME_COLUMNS.has(columnName(n).toLowerCase())) return false;
      if (!n.table) return onlySystemTables;
      const q = String(n.table).toLowerCase();
      return scope.tables.some((t) => t.kind === 'dba' && t.alias.toLowerCase() === q);
    };
    const toks = p.tokens;
    /**
     * The value at token `i` when it is a bind (`:v1`, `::v1`) or `database()`: its source bind
     * and the tokens it spans. Bind nodes carry no location, so values are read from the tokens.
     */
    const valueAt = (i: number): { source: string; list: boolean; from: number; to: number } | null => {
      const t = toks[i];
      if (!t) return null;
      if (t.kind === 'bind') return { source: t.text.slice(1), list: false, from: i, to: i + 1 };
      if (t.kind === 'listBind') return { source: t.text.slice(2), list: true, from: i, to: i + 1 };
      const f = kw(t);
      if ((f === 'database' || f === 'schema') && toks[i + 1]?.text === '(' && toks[i + 2]?.text === ')') return { source: '__vtdbname', list: false, from: i, to: i + 3 };
      return null;
    };
    for (const e of preds) {
      if (e?.type !== 'binary_expr') continue;
      const op = String(e.operator).toUpperCase();
      const leftCol = isSchemaColumn(e.left);
      if (!leftCol && !(op === '=' && isSchemaColumn(e.right))) continue;
      const colRange = tokenRange(p, leftCol ? e.left : e.right);
      if (!colRange) continue;
      const [cs, ce] = colRange;
      const values: ({ source: string; list: boolean; from: number; to: number } | null)[] = [];
      if (op === '=' && leftCol && toks[ce]?.text === '=') values.push(valueAt(ce + 1));
      else if (op === '=' && !leftCol && toks[cs - 1]?.text === '=') values.push(cs >= 2 && toks[cs - 2]!.kind === 'bind' ? valueAt(cs - 2) : cs >= 4 && toks[cs - 2]!.text === ')' ? valueAt(cs - 4) : null);
      else if (op === 'IN' && kw(toks[ce]) === 'in' && toks[ce + 1]?.kind === 'listBind') values.push(valueAt(ce + 1));
      else if (op === 'IN' && kw(toks[ce]) === 'in' && toks[ce + 1]?.text === '(') {
        let i = ce + 2;
        for (;;) {
          const v = valueAt(i);
          values.push(v);
          if (!v) break;
          i = v.to;
          if (toks[i]?.text === ')') break;
          if (toks[i]?.text !== ',') {
            values.push(null);
            break;
          }
          i++;
        }
      } else continue;
      // A value that is no bind (an expression, a column) leaves the comparison to the shard as written.
      if (values.length === 0 || values.some((v) => v === null)) continue;
      for (const v of values) {
        const name = sysSchemaBindName({ source: v!.source, comparison: cs, combinable });
        this.ctx.edits.push({ from: v!.from, to: v!.to, text: (v!.list ? '::' : ':') + name });
      }
    }
  }

  /**
   * Qualified references must name a table of the scope (or an enclosing one), and GROUP BY may
   * not name an aggregate: MySQL (and Vitess) refuse these at plan time.
   */
  private validateReferences(sel: Ast, scope: Scope): void {
    const exprs: Ast[] = [];
    for (const c of Array.isArray(sel.columns) ? sel.columns : []) exprs.push(c.expr);
    exprs.push(sel.where, sel.having);
    for (const o of sel.orderby ?? []) exprs.push(o.expr);
    const groupCols: Ast[] = sel.groupby?.columns ?? [];
    exprs.push(...groupCols);
    for (const f of Array.isArray(sel.from) ? sel.from : []) if (f.on) exprs.push(f.on);
    const known = (q: string): boolean => {
      for (let s2: Scope | null = scope; s2; s2 = s2.parent) if (s2.tables.some((t) => t.alias === q || t.alias.toLowerCase() === q.toLowerCase())) return true;
      return false;
    };
    for (const e of exprs) {
      walk(e, (n) => {
        if (subqueryOf(n)) return false;
        if (isColumnRef(n) && n.table) {
          const q = String(n.table);
          if (!known(q)) {
            const col = columnName(n);
            if (col === '*') throw new PlanError(1051, '42S02', `Unknown table '${q}'`);
            throw new PlanError(1054, '42S22', `column '${q}.${col}' not found`);
          }
        }
        return true;
      });
    }
    const aliases = new Map<string, Ast>();
    for (const c of Array.isArray(sel.columns) ? sel.columns : []) if (c.as) aliases.set(String(c.as).toLowerCase(), c.expr);
    for (const g of groupCols) {
      if (isColumnRef(g) && !g.table) {
        const aliased = aliases.get(columnName(g).toLowerCase());
        if (aliased && hasAggregate(aliased)) throw new PlanError(1056, '42000', `Can't group on '${columnName(g)}'`);
      }
    }
  }

  /** True when a nested select gives different results if evaluated per shard. */
  private isOpaque(sel: Ast, cand: Cand, scope: Scope): boolean {
    if (sel.limit && Array.isArray(sel.limit.value) && sel.limit.value.length > 0) return true;
    // A window function sees only the rows of its shard.
    if (hasWindowFunction(sel)) return true;
    const groupCols: Ast[] = sel.groupby?.columns ?? [];
    const aggregated = groupCols.length > 0 || (Array.isArray(sel.columns) && sel.columns.some((c: Ast) => hasAggregate(c.expr))) || (!!sel.having && hasAggregate(sel.having));
    const distinct = !!sel.distinct;
    if (!aggregated && !distinct) return false;
    // Grouping (or DISTINCT) on a unique vindex column keeps every group on one shard.
    const keys = distinct && groupCols.length === 0 ? (Array.isArray(sel.columns) ? sel.columns.map((c: Ast) => c.expr) : []) : groupCols;
    return !keys.some((g: Ast) => isColumnRef(g) && this.isUniqueVindexColumn(cand, this.resolve(g, scope)));
  }

  /** Whether a column key is (equal to) a unique single-column vindex column of a sharded table. */
  isUniqueVindexColumn(cand: Cand, key: ColKey | null): boolean {
    if (!key) return false;
    const [id, col] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    if (this.nullExtended.has(id)) return false;
    for (const t of cand.tables) {
      if (String(t.id) !== id || !t.table || t.table.type !== 'sharded') continue;
      for (const cv of t.table.columnVindexes) {
        if (cv.columns.length === 1 && cv.columns[0]!.toLowerCase() === col && cv.unique) return true;
      }
    }
    return false;
  }

  private isDerivedInner(scope: Scope, k: ColKey): boolean {
    // Keys of tables inside derived tables of this scope are local too.
    const id = k.slice(0, k.indexOf(':'));
    return scope.tables.some((t) => t.kind === 'derived' && t.derivedInnerIds?.has(id));
  }

  /** Builds the TableRef and base candidate of one FROM item. */
  private tableRef(item: Ast): { ref: TableRef; cand: Cand } {
    const ctx = this.ctx;
    const id = ctx.nextId++;
    if (item.type === 'dual') {
      const ref: TableRef = { id, alias: 'dual', kind: 'dual', knownColumns: new Set(), authoritative: true };
      return { ref, cand: { tables: [ref], conds: [], opaque: false } };
    }
    if (item.expr && subqueryOf(item.expr)) {
      if (!item.as) throw new PlanError(1248, '42000', 'Every derived table must have its own alias');
      const inner = this.analyze(subqueryOf(item.expr), null);
      if (inner.cand === null) {
        // Evaluated at the gateway if anywhere (derived-table-planner.ts): no route holds it, so
        // the statement is never one route; its columns are the inner statement's, when known.
        const names = (inner.columns ?? []).map((c) => c.name);
        const dup = names.find((n, i) => names.indexOf(n) !== i);
        if (dup !== undefined) throw new PlanError(1060, '42S21', `Duplicate column name '${dup}'`);
        const ref: TableRef = { id, alias: String(item.as), kind: 'derived', knownColumns: new Set(names), authoritative: inner.columns !== null, derivedNames: names, gatewayOnly: inner.why ?? 'cross-shard', derivedExpressions: mergedExpressionColumns(subqueryOf(item.expr), names), derivedDivisions: mergedDivisionColumns(subqueryOf(item.expr), names) };
        return { ref, cand: { tables: [ref], conds: [], opaque: true } };
      }
      const derivedColumns = new Map<string, string | null>();
      const derivedJoinColumns = new Map<string, string>();
      const names: string[] = [];
      const innerCand = inner.cand;
      const opaque = innerCand.opaque || inner.selfOpaque === true;
      for (const c of inner.columns ?? []) {
        names.push(c.name);
        if (c.joinKey) derivedJoinColumns.set(c.name, c.joinKey);
        if (!derivedColumns.has(c.name)) derivedColumns.set(c.name, opaque ? null : c.key);
        else throw new PlanError(1060, '42S21', `Duplicate column name '${c.name}'`);
      }
      const ref: TableRef & { derivedInnerIds: Set<string> } = {
        id,
        alias: String(item.as),
        kind: 'derived',
        knownColumns: new Set(names),
        authoritative: inner.columns !== null,
        derivedColumns,
        derivedJoinColumns,
        derivedNames: names,
        derivedInnerIds: new Set(innerCand.tables.map((t) => String(t.id))),
        derivedNumeric: numericDerivedColumns(subqueryOf(item.expr), names),
        derivedExpressions: mergedExpressionColumns(subqueryOf(item.expr), names),
        derivedDivisions: mergedDivisionColumns(subqueryOf(item.expr), names),
      };
      return { ref, cand: { tables: [ref, ...innerCand.tables], conds: [...innerCand.conds], fixed: innerCand.fixed, opaque } };
    }
    if (item.expr) throw notSupported('table function or unsupported FROM item');
    const name = String(item.table);
    const db: string | null = item.db ? String(item.db) : null;
    const alias = item.as ? String(item.as) : name;
    if (db !== null && SYSTEM_SCHEMAS.has(db.toLowerCase())) {
      // A shard's PROCESSLIST lists the gateway's pooled shard connections, not the clients' (and
      // their ids are not the CONNECTION_ID()s that KILL takes): a wrong answer, so refused.
      if (db.toLowerCase() === 'information_schema' && name.toLowerCase() === 'processlist') {
        throw notSupported("information_schema.PROCESSLIST (a shard's would list the gateway's own shard connections); SHOW [FULL] PROCESSLIST lists the gateway's client connections");
      }
      const ref: TableRef = { id, alias, kind: 'dba', knownColumns: new Set(), authoritative: false };
      return { ref, cand: { tables: [ref], conds: [], opaque: false } };
    }
    if (db === null && name.toLowerCase() === 'dual') {
      const ref: TableRef = { id, alias: 'dual', kind: 'dual', knownColumns: new Set(), authoritative: true };
      return { ref, cand: { tables: [ref], conds: [], opaque: false } };
    }
    if (db !== null && name.toLowerCase() === 'dual') throw new PlanError(1146, '42S02', `table dual not found`);
    const table = findTable(ctx, name, db);
    ctx.tablesUsed.add(`${table.keyspace.name}.${table.name}`);
    const known = new Set<string>();
    for (const c of table.columns ?? []) known.add(c.name.toLowerCase());
    for (const cv of table.columnVindexes) for (const c of cv.columns) known.add(c.toLowerCase());
    const ref: TableRef = { id, alias, kind: 'table', table, knownColumns: known, authoritative: table.columnListAuthoritative === true };
    this.tableEdit(item, table.name, name, db);
    return { ref, cand: { tables: [ref], conds: [], opaque: false } };
  }

  /** Records the shard-SQL edit for a table reference: drop `ks.`, rename a routed table. */
  private tableEdit(item: Ast, realName: string, writtenName: string, db: string | null): void {
    const p = this.ctx.parsed;
    const range = tokenRange(p, item);
    if (!range) return;
    const [s] = range;
    const toks = p.tokens;
    const renamed = realName !== writtenName;
    const nameTokens = db !== null ? 3 : 1;
    if (db !== null && !(toks[s + 1]?.text === '.')) return;
    if (!renamed && db === null) return;
    let text = renamed ? quoteIdent(realName, true) : toks[s + nameTokens - 1]!.text;
    if (renamed && !item.as) text += ' as ' + quoteIdent(writtenName, true);
    this.ctx.edits.push({ from: s, to: s + nameTokens, text });
  }

  /** Resolves a column reference to its key; null when it cannot be resolved unambiguously. */
  resolve(node: Ast, scope: Scope): ColKey | null {
    const name = columnName(node).toLowerCase();
    if (name === '*') return null;
    const qualifier: string | null = node.table ? String(node.table) : null;
    for (let s: Scope | null = scope; s; s = s.parent) {
      if (qualifier !== null) {
        const t = s.tables.find((x) => x.alias === qualifier) ?? s.tables.find((x) => x.alias.toLowerCase() === qualifier.toLowerCase());
        if (!t) continue;
        return keyIn(t, name);
      }
      const known = s.tables.filter((t) => t.knownColumns.has(name));
      if (known.length === 1) return keyIn(known[0]!, name);
      if (known.length > 1) return null;
      if (s.tables.length === 1 && !s.tables[0]!.authoritative) return keyIn(s.tables[0]!, name);
      if (s.tables.some((t) => !t.authoritative)) {
        // An unqualified column of an unknown table: it could be in any of them.
        const open = s.tables.filter((t) => !t.authoritative && t.kind !== 'dual');
        if (open.length === 1 && s.tables.every((t) => t.kind === 'dual' || t === open[0] || t.authoritative)) return keyIn(open[0]!, name);
        return null;
      }
      if (s.aliases?.has(name)) return null;
    }
    if (qualifier !== null) throw new PlanError(1054, '42S22', `column '${qualifier}.${name}' not found`);
    return null;
  }

  /** Value of an expression for routing: a bind var, a folded constant, NULL (`'null'`), or undefined. */
  valueOf(n: Ast): ValueExpr | 'null' | undefined {
    if (!n || typeof n !== 'object') return undefined;
    if (n.type === 'param') {
      const name = String(n.value);
      return this.ctx.listBinds.has(name) ? { kind: 'bindList', name } : { kind: 'bind', name };
    }
    // `0x04` stays in the shard SQL as written (MariaDB reads it as a number there, see the
    // normalizer); for routing it is its bytes, the value a bound hex literal has, so that the
    // vindex decides what they mean (as Vitess routes `id = 0x04`: EqualUnique).
    if (n.type === 'full_hex_string' && typeof n.value === 'string') return { kind: 'literal', value: decodeHex('0x' + n.value) };
    const v = foldConstant(n);
    if (v === undefined) return undefined;
    if (v === null) return 'null';
    return { kind: 'literal', value: v };
  }

  /** Routing conditions implied by one predicate. */
  conds(e: Ast, scope: Scope, routable: boolean): Cond[] {
    const folded = foldConstant(e);
    if (folded !== undefined) {
      const t = truth(folded);
      return t === true ? [] : [{ k: 'false', routable }];
    }
    if (e.type === 'param' || isColumnRef(e)) return [];
    if (e.type !== 'binary_expr') return [];
    const op = String(e.operator).toUpperCase();
    if (op === 'AND' || op === '&&') return [...this.conds(e.left, scope, routable), ...this.conds(e.right, scope, routable)];
    if (op === 'OR' || op === '||') return this.orConds(e, scope, routable);
    if (op === '=') {
      const l = e.left;
      const r = e.right;
      if (l?.type === 'expr_list' && r?.type === 'expr_list' && l.value.length === r.value.length) {
        const out: Cond[] = [];
        l.value.forEach((x: Ast, i: number) => out.push(...this.conds({ type: 'binary_expr', operator: '=', left: x, right: r.value[i] }, scope, routable)));
        return out;
      }
      const cl = isColumnRef(l) ? this.resolve(l, scope) : null;
      const cr = isColumnRef(r) ? this.resolve(r, scope) : null;
      if (cl && cr) return [{ k: 'coleq', a: cl, b: cr }];
      if (cl) return this.eqValue(cl, r, routable);
      if (cr) return this.eqValue(cr, l, routable);
      return [];
    }
    if (op === 'IN' || op === 'NOT IN') {
      const items: Ast[] | null = e.right?.type === 'expr_list' ? e.right.value : null;
      if (!items) return [];
      if (items.length === 1 && subqueryOf(items[0])) return [];
      const values = items.map((x) => this.valueOf(x));
      if (op === 'NOT IN') return values.some((v) => v === 'null') ? [{ k: 'false', routable }] : [];
      const left = e.left;
      if (left?.type === 'expr_list') {
        // (a, b) IN ((1, 2), (3, 4)); nested tuples are flattened.
        const leftShape = tupleShape(left);
        if (!items.every((it) => tupleShape(it) === leftShape)) return [];
        const leftFlat = flattenTuple(left);
        const cols = leftFlat.map((c) => (isColumnRef(c) ? this.resolve(c, scope) : null));
        const rows: (ValueExpr | undefined)[][] = [];
        for (const it of items) {
          if (it?.type !== 'expr_list') return [];
          const flat = flattenTuple(it);
          if (flat.length !== cols.length) return [];
          const row = flat.map((x) => this.valueOf(x));
          if (row.some((v) => v === 'null')) return [];
          rows.push(row as (ValueExpr | undefined)[]);
        }
        // Keep the columns that are columns with a value in every row.
        const keep = cols.map((c, i) => c !== null && rows.every((r) => r[i] !== undefined));
        const kc = cols.filter((_, i) => keep[i]) as ColKey[];
        if (kc.length === 0) return [];
        return [{ k: 'tupleIn', cols: kc, rows: rows.map((r) => r.filter((_, i) => keep[i]) as ValueExpr[]), routable }];
      }
      const col = isColumnRef(left) ? this.resolve(left, scope) : null;
      if (!col) return [];
      if (values.every((v) => v === 'null')) return [{ k: 'false', routable }];
      const kept = values.filter((v) => v !== 'null');
      if (kept.some((v) => v === undefined)) return [];
      const list = kept as ValueExpr[];
      if (list.length === 1 && list[0]!.kind === 'bindList') return [{ k: 'in', col, values: list[0]!, routable }];
      if (list.length === 1) return [{ k: 'eq', col, value: list[0]!, routable }];
      return [{ k: 'in', col, values: { kind: 'list', items: list }, routable }];
    }
    if (op === 'LIKE') {
      const col = isColumnRef(e.left) ? this.resolve(e.left, scope) : null;
      const v = this.valueOf(e.right);
      if (col && v && v !== 'null') return [{ k: 'like', col, value: v, routable }];
      return [];
    }
    return [];
  }

  private eqValue(col: ColKey, valueNode: Ast, routable: boolean): Cond[] {
    const v = this.valueOf(valueNode);
    if (v === undefined) return [];
    if (v === 'null') return [{ k: 'false', routable }];
    if (v.kind === 'bindList') return [];
    return [{ k: 'eq', col, value: v, routable }];
  }

  /** `a = 1 or a = 2` → `a in (1, 2)`, as Vitess's ExtractINFromOR. */
  private orConds(e: Ast, scope: Scope, routable: boolean): Cond[] {
    const branches = disjuncts(e);
    const live: Cond[][] = [];
    for (const b of branches) {
      const f = foldConstant(b);
      if (f !== undefined) {
        if (truth(f) === true) return [];
        continue; // a false/NULL branch adds nothing
      }
      const cs = this.conds(b, scope, true);
      if (cs.some((c) => c.k === 'false')) continue;
      live.push(cs);
    }
    if (live.length === 0) return [{ k: 'false', routable }];
    if (live.length === 1) return live[0]!.map((c) => withRoutable(c, routable));
    const out: Cond[] = [];
    const first = live[0]!;
    const cols = new Set(first.filter((c) => c.k === 'eq' || c.k === 'in').map((c) => (c as { col: ColKey }).col));
    for (const col of cols) {
      const items: ValueExpr[] = [];
      let ok = true;
      for (const br of live) {
        const hit = br.find((c) => (c.k === 'eq' || c.k === 'in') && c.col === col);
        if (!hit) {
          ok = false;
          break;
        }
        if (hit.k === 'eq') items.push(hit.value);
        else if (hit.k === 'in') {
          if (hit.values.kind === 'list') items.push(...hit.values.items);
          else items.push(hit.values);
        }
      }
      if (!ok) continue;
      const uniq = uniqueValues(items);
      if (uniq.length === 1 && uniq[0]!.kind !== 'bindList') out.push({ k: 'eq', col, value: uniq[0]!, routable });
      else out.push({ k: 'in', col, values: { kind: 'list', items: uniq }, routable });
    }
    return out;
  }

  /** The select list's output names and column keys. */
  outputColumns(sel: Ast, scope: Scope): OutputColumn[] | null {
    if (!Array.isArray(sel.columns)) return null;
    const out: OutputColumn[] = [];
    const aliases = new Map<string, Ast>();
    for (const c of sel.columns) {
      const e = c.expr;
      if (isColumnRef(e) && columnName(e) === '*') {
        const tables = e.table ? scope.tables.filter((t) => t.alias === e.table) : scope.tables.filter((t) => t.kind !== 'dual');
        for (const t of tables) {
          if (!t.authoritative) return null;
          const names = t.derivedNames ?? t.table?.columns?.map((x) => x.name.toLowerCase()) ?? [];
          for (const n of names) out.push({ name: n, key: keyIn(t, n) });
        }
        continue;
      }
      const name = String(c.as ?? (isColumnRef(e) ? columnName(e) : exprName(e))).toLowerCase();
      if (c.as) aliases.set(String(c.as).toLowerCase(), e);
      let key: ColKey | null = null;
      let joinKey: ColKey | null = null;
      if (isColumnRef(e)) {
        try {
          key = this.resolve(e, scope);
        } catch {
          key = null;
        }
        joinKey = key;
      } else if (e?.type === 'aggr_func' && ['MIN', 'MAX'].includes(String(e.name).toUpperCase()) && isColumnRef(e.args?.expr)) {
        try {
          joinKey = this.resolve(e.args.expr, scope);
        } catch {
          joinKey = null;
        }
      }
      out.push({ name, key, joinKey });
    }
    scope.aliases = aliases;
    return out;
  }
}

/** The names of a derived table's columns that are count(), sum() or avg() (not over a UNION: its parts may differ). */
function numericDerivedColumns(inner: Ast, names: readonly string[]): ReadonlySet<string> {
  const out = new Set<string>();
  const cols: Ast[] = !inner?._next && Array.isArray(inner?.columns) ? inner.columns : [];
  if (cols.length !== names.length) return out;
  cols.forEach((c, i) => {
    if (c.expr?.type === 'aggr_func' && ['count', 'sum', 'avg'].includes(String(c.expr.name).toLowerCase())) out.add(names[i]!.toLowerCase());
  });
  return out;
}

/**
 * Whether MariaDB merges a derived table's SELECT into the outer statement (its columns stay the
 * expressions that define them) rather than materializing it in a temporary table (its columns
 * become fields of that table): one SELECT without DISTINCT, GROUP BY, HAVING, LIMIT, window
 * functions or aggregates.
 */
export function isMergedByMariaDb(inner: Ast): boolean {
  const cols: Ast[] = Array.isArray(inner?.columns) ? inner.columns : [];
  return (
    !!inner &&
    !inner._next &&
    !inner.distinct &&
    (inner.groupby?.columns ?? []).length === 0 &&
    !inner.having &&
    !inner.limit?.value?.length &&
    !inner.window &&
    !hasWindowFunction(inner) &&
    !cols.some((c) => hasAggregate(c.expr))
  );
}

/**
 * The items of a derived table MariaDB merges into the outer statement (one SELECT without
 * aggregates, DISTINCT, GROUP BY, HAVING, LIMIT or window functions), by column name (lower): as
 * the analyzer names them or, where it could not (a statement only the gateway evaluates), by
 * their alias. None for a derived table MariaDB materializes.
 */
function mergedItems(inner: Ast, names: readonly string[]): [string, Ast][] {
  const cols: Ast[] = !inner?._next && Array.isArray(inner?.columns) ? inner.columns : [];
  if (names.length !== 0 && cols.length !== names.length) return [];
  if (!isMergedByMariaDb(inner)) return [];
  const out: [string, Ast][] = [];
  cols.forEach((c, i) => {
    // Names unknown to the analysis (a gateway-only derived table): an alias, or a column's own name.
    const name = names.length !== 0 ? names[i] : c.as ? String(c.as) : isColumnRef(c.expr) && columnName(c.expr) !== '*' ? columnName(c.expr) : undefined;
    if (name !== undefined) out.push([name.toLowerCase(), c.expr]);
  });
  return out;
}

/**
 * RouteTable.derivedExpressions: a merged derived table's columns whose item is an expression to
 * MariaDB: not a column, or a column of a derived table it merges too whose item is one (`select
 * a.c from (select year(d) as c …) a`: MIN(c) over it is MIN(YEAR(d)), a BIGINT).
 */
function mergedExpressionColumns(inner: Ast, names: readonly string[]): ReadonlySet<string> {
  return new Set(mergedItems(inner, names).filter(([, e]) => isMergedExpressionItem(inner, e)).map(([n]) => n));
}

/** Whether select item `e` of merged statement `sel` is an expression once MariaDB merges the derived tables under it. */
function isMergedExpressionItem(sel: Ast, e: Ast, depth = 0): boolean {
  if (!isColumnRef(e)) return true;
  if (depth > 32) return false;
  const table = e.table ? String(e.table).toLowerCase() : null;
  const name = columnName(e).toLowerCase();
  for (const f of Array.isArray(sel.from) ? sel.from : []) {
    const sub = f?.expr ? subqueryOf(f.expr) : null;
    if (!sub || (table !== null && String(f.as ?? '').toLowerCase() !== table) || !isMergedByMariaDb(sub)) continue;
    const item = (Array.isArray(sub.columns) ? sub.columns : []).find((c: Ast) => (c.as ? String(c.as) : isColumnRef(c.expr) ? columnName(c.expr) : '').toLowerCase() === name);
    if (item && isMergedExpressionItem(sub, item.expr, depth + 1)) return true;
  }
  return false;
}

/** RouteTable.derivedDivisions: a merged derived table's columns whose item divides (`/`). */
function mergedDivisionColumns(inner: Ast, names: readonly string[]): ReadonlySet<string> {
  const divides = (e: Ast): boolean => {
    let found = false;
    walk(e, (n) => {
      if (n?.type === 'binary_expr' && n.operator === '/') found = true;
      return !found;
    });
    return found;
  };
  return new Set(mergedItems(inner, names).filter(([, e]) => divides(e)).map(([n]) => n));
}

function exprName(e: Ast): string {
  if (!e) return '';
  if (e.type === 'param') return ':' + String(e.value);
  if (e.type === 'number') return String(e.value);
  if (e.type === 'function') return functionName(e) + '(...)';
  if (e.type === 'aggr_func') return String(e.name).toLowerCase() + '(...)';
  return e.type ?? '';
}

function keyIn(t: TableRef, name: string): ColKey {
  if (t.kind === 'derived') {
    const mapped = t.derivedColumns?.get(name);
    if (mapped) return mapped;
  }
  return colKey(t, name);
}

function withRoutable(c: Cond, routable: boolean): Cond {
  if (c.k === 'coleq' || c.routable === routable) return c;
  return { ...c, routable } as Cond;
}

function tupleShape(e: Ast): string {
  if (e?.type === 'expr_list') return '(' + (e.value as Ast[]).map(tupleShape).join(',') + ')';
  return '*';
}

function flattenTuple(e: Ast): Ast[] {
  if (e?.type === 'expr_list') return (e.value as Ast[]).flatMap(flattenTuple);
  return [e];
}

function disjuncts(e: Ast): Ast[] {
  return operands(e, (n) => n?.type === 'binary_expr' && (String(n.operator).toUpperCase() === 'OR' || n.operator === '||'));
}

/** True when the expression contains a subquery. */
export function containsSubquery(e: Ast): boolean {
  let found = false;
  walk(e, (n) => {
    if (found) return false;
    if (subqueryOf(n)) {
      found = true;
      return false;
    }
    return true;
  });
  return found;
}

/**
 * `x IN (subquery)` reached from `e` through AND/OR only: subquery → x. A row a WHERE conjunct
 * lets through, if the IN decided it, equals a row of the subquery on x.
 */
function positiveInSubqueryLefts(e: Ast, out = new Map<Ast, Ast>(), depth = 0): Map<Ast, Ast> {
  if (e?.type !== 'binary_expr' || depth > 200) return out;
  const op = String(e.operator).toUpperCase();
  if (op === 'AND' || op === 'OR' || op === '&&' || op === '||') {
    positiveInSubqueryLefts(e.left, out, depth + 1);
    positiveInSubqueryLefts(e.right, out, depth + 1);
  } else if (op === 'IN' && e.right?.type === 'expr_list' && e.right.value?.length === 1) {
    const sub = subqueryOf(e.right.value[0]);
    if (sub) out.set(sub, e.left);
  }
  return out;
}

/** Subqueries directly inside an expression (not those nested in other subqueries). */
export function directSubqueries(e: Ast): Ast[] {
  const out: Ast[] = [];
  walk(e, (n) => {
    const s = subqueryOf(n);
    if (s) {
      out.push(s);
      return false;
    }
    return true;
  });
  return out;
}

/** Conditions of `conds` whose columns all belong to the candidate's tables, added to it. */
function withConds(cand: Cand, conds: readonly Cond[]): Cand {
  const ids = new Set(cand.tables.map((t) => String(t.id)));
  const has = (k: ColKey): boolean => ids.has(k.slice(0, k.indexOf(':')));
  const extra = conds.filter((c) => {
    switch (c.k) {
      case 'coleq':
        return has(c.a) && has(c.b);
      case 'eq':
      case 'in':
      case 'like':
        return has(c.col);
      case 'tupleIn':
        return c.cols.every(has);
      case 'false':
        return true;
    }
  });
  const seen = new Set(cand.conds);
  return { ...cand, conds: [...cand.conds, ...extra.filter((c) => !seen.has(c))] };
}

/** Column pairs equating a column of `a` with one of `b`, directly or through other equalities. */
function joinPreds(a: Cand, b: Cand, conds: readonly Cond[]): { a: ColKey; b: ColKey }[] {
  const ia = new Set(a.tables.map((t) => String(t.id)));
  const ib = new Set(b.tables.map((t) => String(t.id)));
  const id = (k: ColKey): string => k.slice(0, k.indexOf(':'));
  const all = [...conds, ...a.conds, ...b.conds].filter((c) => c.k === 'coleq');
  const classes = new ColumnClasses(all);
  const members = new Map<ColKey, ColKey[]>();
  for (const c of all) {
    for (const k of [(c as { a: ColKey }).a, (c as { b: ColKey }).b]) {
      const root = classes.find(k);
      const list = members.get(root) ?? [];
      if (!list.includes(k)) list.push(k);
      members.set(root, list);
    }
  }
  const out: { a: ColKey; b: ColKey }[] = [];
  for (const list of members.values()) {
    for (const x of list) {
      if (!ia.has(id(x))) continue;
      for (const y of list) if (ib.has(id(y))) out.push({ a: x, b: y });
    }
  }
  return out;
}

/** Greedily merges pieces that can share a route. */
function mergeAll(pieces: Cand[], conds: readonly Cond[]): Cand[] {
  let list = pieces.slice();
  let changed = true;
  while (changed && list.length > 1) {
    changed = false;
    outer: for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = withConds(list[i]!, conds);
        const b = withConds(list[j]!, conds);
        if (canMerge(a, b, joinPreds(a, b, conds)) && innerJoinSafe(a, b)) {
          const merged = mergeCands(list[i]!, list[j]!, false);
          list = [...list.slice(0, i), merged, ...list.slice(i + 1, j), ...list.slice(j + 1)];
          changed = true;
          break outer;
        }
      }
    }
  }
  return list;
}

/** Opaque pieces (nested LIMIT/aggregation) can only join others on a single shard. */
function innerJoinSafe(a: Cand, b: Cand): boolean {
  if (!a.opaque && !b.opaque) return true;
  return isSingleShard(computeRouting(mergeCands(a, b, false)));
}

/** An outer join keeps the preserved side's rows: the other side must not widen or narrow its shards. */
function outerJoinSafe(outerSide: Cand, innerSide: Cand, preds: readonly { a: ColKey; b: ColKey }[]): boolean {
  const ro = computeRouting(outerSide);
  const ri = computeRouting(innerSide);
  if (outerSide.opaque || innerSide.opaque) return isSingleShard(ro) && isSingleShard(ri);
  if (ri.base === 'dual' || ri.base === 'anyShard') return true;
  if (ro.base === 'dual' || ro.base === 'anyShard') return isSingleShard(ri) && ro.base !== 'dual';
  void preds;
  return true;
}

/**
 * Whether a subquery returns a row even when its WHERE matches none: an aggregate without GROUP
 * BY (`select count(*) … where …` is 0 over no rows), in any UNION part.
 */
function answersOverNoRows(sub: Ast): boolean {
  return unionParts(sub).some((part) => {
    const grouped = (part.groupby?.columns ?? (Array.isArray(part.groupby) ? part.groupby : [])).length > 0;
    return !grouped && Array.isArray(part.columns) && part.columns.some((c: Ast) => hasAggregate(c.expr));
  });
}

/**
 * Merges a subquery into the outer candidate when every row the subquery needs is on the shard
 * of the outer row that uses it. `filtering`: the subquery restricts the outer rows (`x IN (…)`,
 * `EXISTS (…)`, `x = (…)` as a WHERE conjunct), so its conditions may narrow the route — unless
 * it `answersOverNoRows`: `x >= (select count(*) … where … not in (null))` is `x >= 0`, so a None
 * among its conditions must not send the whole statement to one shard.
 */
function mergeSubquery(
  outer: Cand,
  inner: Cand,
  preds: readonly { a: ColKey; b: ColKey }[],
  filtering: boolean,
  correlation: readonly { a: ColKey; b: ColKey }[],
  answersOverNoRows: boolean,
): Cand | null {
  const ro = computeRouting(outer);
  const ri = computeRouting(inner);
  // A subquery with LIMIT/aggregation over several shards is exact per shard only when it is
  // correlated to the outer row on a unique vindex (all its rows then live on that row's shard).
  if (inner.opaque && !isSingleShard(ri) && !vindexJoined(outer, inner, correlation)) return null;
  // Merged by correlation on a unique vindex or on one shard: the subquery is exact per shard.
  if (inner.opaque) inner = { ...inner, opaque: false };
  if (ri.base === 'dual') return mergeCands(outer, inner, !filtering);
  if (ro.base === 'dual' || ro.base === 'anyShard') {
    // The outer rows exist on every shard: the subquery decides the shard, so it must be one.
    if (ri.base === 'anyShard' && ro.keyspace !== null && ri.keyspace !== null && ro.keyspace.name !== ri.keyspace.name) return null;
    if (ri.base === 'anyShard' || isSingleShard(ri)) {
      if (!canMerge(outer, inner, preds)) return null;
      // A subquery that matches no rows but still answers (COUNT(*) is 0) must not make the outer
      // rows match nothing, nor send them to every shard: it is answered on its own, first.
      if (answersOverNoRows && ri.variant === 'None') return null;
      return mergeCands(outer, inner, false);
    }
    return null;
  }
  if (!canMerge(outer, inner, preds)) return null;
  // An aggregate subquery answers even over no rows: its filter (`price NOT IN (1, NULL)` matches
  // nothing) says nothing about the outer rows (random differential, seed 31 #10184).
  if (ri.base === 'anyShard' || ri.base === 'dba') return mergeCands(outer, inner, !filtering || answersOverNoRows);
  if (!filtering) {
    // A non-filtering subquery (scalar in the select list, NOT EXISTS…) must be answerable on the
    // outer row's shard: same single shard, or correlated on a unique vindex.
    const sameSingle = ro.variant === 'EqualUnique' && ri.variant === 'EqualUnique';
    if (!sameSingle && ri.variant !== 'None' && ro.variant !== 'None' && preds.length === 0) return null;
    // A subquery that matches no row anywhere is answered on every shard alike: its correlation
    // (`t2.customer_id = t1.warehouse_id`, no vindex join) must not narrow the outer rows' route
    // (fuzz seed 64 #18672: NOT EXISTS (… t2.price = NULL) with t1.warehouse_id = 3 went to one shard).
    if (ri.variant === 'None') return mergeCands(outer, { ...inner, conds: [] }, true);
    return mergeCands(outer, inner, true);
  }
  return mergeCands(outer, inner, answersOverNoRows);
}

/** Exposed for the statement planner: the routing of a merged candidate. */
export function routingOf(cand: Cand): Routing {
  return computeRouting(cand);
}
