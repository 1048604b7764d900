/**
 * A derived table that cannot be merged into the outer route (it has a LIMIT, aggregation or
 * DISTINCT and reaches several shards, or its statement needs several routes: a join across
 * shards, a UNION of different routes) is evaluated at the gateway, as Vitess does: the derived
 * table is planned as a statement of its own, and the outer query over its rows becomes gateway
 * operators (WHERE a Filter, ORDER BY a Sort, LIMIT a Limit, the select list a Projection).
 *
 * What the gateway cannot compute exactly itself, the shards compute: an outer expression over
 * the derived table's columns is added to the derived table's own select list with each column
 * replaced by the expression that defines it (`select a + 1 from (select x as a … limit 5) t` runs
 * `select x, (x) + 1 … limit 5`), so its value, type and collation are MariaDB's. A WHERE becomes
 * a 0/1 column `(term) is true` the gateway filters on, an ORDER BY key a value plus its
 * collation key (collation-key-sql.ts). Adding columns changes neither which rows a LIMIT picks
 * nor how a GROUP BY groups; under DISTINCT only collation keys of selected columns are added
 * (equal for every pair of values DISTINCT calls equal), anything else is refused.
 *
 * Aggregation, GROUP BY, HAVING and DISTINCT over the derived table are planned as over a join
 * (join-aggregate-planner.ts): raw rows of the derived table, grouped at the gateway.
 *
 * A UNION as the derived table takes no extra columns (they would change which rows a DISTINCT
 * union keeps, and its parts may differ in collation): only its columns, numeric comparisons and
 * the aggregate helpers the gateway evaluates exactly are accepted over it.
 */
import type { EvalExpr, OrderByKey, Primitive } from './plan-types.js';
import type { PlanContext } from './plan-context.js';
import { columnName, functionArgs, functionName, isColumnRef, walk } from './ast-utils.js';
import { tokenRange, type Ast } from './sql-parser.js';
import { quoteIdent, renderTokens, type TokenEdit } from './shard-sql.js';
import { notSupported } from './errors.js';
import { containsSubquery, hasAggregate, isMergedByMariaDb, type Analyzed, type SelectAnalyzer } from './select-analyzer.js';
import { withGatewayLimit } from './select-planner.js';
import { toEvalExpr } from './gateway-expr.js';
import { kw } from './lexer.js';
import { collationKeySql, distinctCollationKeySql } from './collation-key-sql.js';
import { planJoinAggregate } from './join-aggregate-planner.js';

/** The gateway plan, or null when the statement is not one derived table under an outer query. */
export function planDerivedAtGateway(ctx: PlanContext, analyzer?: SelectAnalyzer, analyzed?: Analyzed): Primitive | null {
  const p = ctx.parsed;
  const sel = p.ast;
  const from: Ast[] = Array.isArray(sel.from) ? sel.from : [];
  if (sel._next || p.intoOutfile >= 0 || from.length !== 1 || !from[0].expr?.ast) return null;
  if ([sel.columns, sel.where, sel.having, sel.orderby, sel.groupby].some((x) => x && containsSubquery(x))) return null;
  // Locking reads and window functions over the derived table's rows: no gateway operator for them.
  if (p.tokens.some((t) => kw(t) === 'for' || kw(t) === 'lock' || kw(t) === 'over')) return null;
  const inner: Ast = from[0].expr.ast;
  const innerRange = derivedRange(p, inner);
  if (!innerRange) return null;
  const innerText = renderTokens(p.tokens, innerRange[0], innerRange[1], []);
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  const hasLimit = !!sel.limit && Array.isArray(sel.limit.value) && sel.limit.value.length > 0;
  // `select * from (D) t` and nothing else is D (with D's column names).
  if (columns.length === 1 && isStar(columns[0].expr) && !sel.where && !sel.having && !sel.distinct && !(sel.groupby?.columns ?? []).length && !(sel.orderby ?? []).length && !hasLimit) {
    return ctx.planText(innerText).instructions;
  }
  const grouped = (sel.groupby?.columns ?? []).length > 0 || columns.some((c) => hasAggregate(c.expr)) || !!sel.having || (sel.orderby ?? []).some((o: Ast) => hasAggregate(o.expr));
  if (grouped || sel.distinct) return analyzer && analyzed ? planJoinAggregate(ctx, analyzer, analyzed) : null;
  return new DerivedRows(ctx, inner, String(from[0].as ?? '').toLowerCase()).plan(innerText);
}

/**
 * `select * from (select * from (D) a) b` as D: what a subquery's column count is, and the
 * statement to plan for it. Each level must be a bare `select * from (…) alias`.
 */
export function unwrapStarDerived(sub: Ast): Ast {
  let cur = sub;
  for (;;) {
    const from: Ast[] = Array.isArray(cur?.from) ? cur.from : [];
    const cols: Ast[] = Array.isArray(cur?.columns) ? cur.columns : [];
    const bare = !cur._next && from.length === 1 && from[0].expr?.ast && cols.length === 1 && isStar(cols[0].expr) && !cols[0].expr.table;
    if (!bare || cur.where || cur.having || cur.distinct || (cur.groupby?.columns ?? []).length || (cur.orderby ?? []).length || cur.limit?.value?.length) return cur;
    cur = from[0].expr.ast;
  }
}

/**
 * The tokens of a derived table's statement, inside its parentheses: the parser's range of a
 * UNION covers its first part only, so the range is taken from the parentheses around it.
 */
export function derivedRange(p: PlanContext['parsed'], inner: Ast): [number, number] | null {
  const r = tokenRange(p, inner);
  if (!r) return null;
  if (p.tokens[r[0] - 1]?.text !== '(') return inner._next ? null : r;
  let depth = 0;
  for (let i = r[0] - 1; i < p.tokens.length; i++) {
    const t = p.tokens[i]!.text;
    if (t === '(') depth++;
    else if (t === ')' && --depth === 0) return [r[0], i];
  }
  return null;
}

/** Literals, binds and operators only: the same value on every row. */
function isConstant(e: Ast): boolean {
  let constant = true;
  walk(e, (n) => {
    if (isColumnRef(n) || n?.type === 'function' || n?.type === 'aggr_func' || n?.type === 'select' || n?.ast) constant = false;
    return constant;
  });
  return constant;
}

function isStar(e: Ast): boolean {
  return isColumnRef(e) && columnName(e) === '*';
}

/** The rows of one derived table under a non-aggregating outer query. */
class DerivedRows {
  private readonly p: PlanContext['parsed'];
  private readonly innerCols: Ast[];
  /** The derived table's column names, as MySQL names them: the alias, a column's name, else its text. */
  private readonly names: string[];
  private readonly isUnion: boolean;
  /** Columns added to the derived table's select list (SQL with alias). */
  private readonly pushed: string[] = [];

  constructor(
    private readonly ctx: PlanContext,
    private readonly inner: Ast,
    private readonly alias: string,
  ) {
    this.p = ctx.parsed;
    this.innerCols = Array.isArray(inner.columns) ? inner.columns : [];
    this.isUnion = !!inner._next;
    this.names = this.innerCols.map((c) => {
      if (c.as) return String(c.as);
      if (isColumnRef(c.expr)) return columnName(c.expr);
      const r = tokenRange(this.p, c.expr);
      return r ? renderTokens(this.p.tokens, r[0], r[1], []) : c.expr?.type === 'param' ? `:${String(c.expr.value)}` : '';
    });
  }

  plan(innerText: string): Primitive {
    const p = this.p;
    const sel = p.ast;
    if (this.innerCols.some((c) => isStar(c.expr))) throw notSupported("'*' inside a derived table evaluated at the gateway (name its columns)");
    if (this.names.some((n) => n === '')) throw notSupported('derived table column without a name, evaluated at the gateway');
    const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];

    // Output columns: a derived-table column, or an expression computed by the shards (or, over a
    // UNION, a planner helper the gateway evaluates).
    const expressions: EvalExpr[] = [];
    const columnNames: string[] = [];
    const sources: Ast[] = [];
    // Integer widths MariaDB's types depend on, for a derived table it materializes (its columns
    // are fields there, definitions in the shards' SQL).
    const materialized = !this.isUnion && !isMergedByMariaDb(this.inner);
    const widths: (MaterializedWidth | null)[] = [];
    for (const c of columns) {
      if (isStar(c.expr)) {
        if (c.expr.table && String(c.expr.table).toLowerCase() !== this.alias) throw notSupported(`'${String(c.expr.table)}.*' over a derived table evaluated at the gateway`);
        this.names.forEach((_, i) => {
          expressions.push({ kind: 'column', index: i });
          columnNames.push('');
          sources.push(null);
          widths.push(null);
        });
        continue;
      }
      sources.push(c.expr);
      widths.push(materialized && !isColumnRef(c.expr) ? integerWidthDependence(c.expr, (n) => this.columnOf(n)) : null);
      if (isColumnRef(c.expr)) {
        expressions.push({ kind: 'column', index: this.columnOf(c.expr) });
        columnNames.push(c.as ? String(c.as) : '');
        continue;
      }
      const name = c.as ? String(c.as) : this.sourceName(c.expr);
      if (name === null) throw notSupported('expression with a literal and no alias over a derived table evaluated at the gateway');
      if (this.isUnion) {
        // Only the planner's own helpers (count(*) and count(x) inputs, named `__sg_…`): a
        // computed column's type would otherwise not be MariaDB's.
        if (!name.startsWith('__sg_')) throw notSupported('expression over a UNION derived table evaluated at the gateway');
        expressions.push(toEvalExpr(c.expr, (n) => (isColumnRef(n) ? this.columnOf(n) : undefined), 'an expression over a UNION derived table', p.nullSafeEqual));
      } else {
        // A constant (`1 = 1`, the planner's count(*) input) adds the same value to every row.
        if (this.inner.distinct && !isConstant(c.expr)) throw notSupported('expression over a DISTINCT derived table evaluated at the gateway');
        expressions.push({ kind: 'column', index: this.push(this.substitute(c.expr)) });
      }
      columnNames.push(name);
    }

    // WHERE: a 0/1 column the shards compute, or over a UNION a numeric comparison.
    let predicate: EvalExpr | null = null;
    if (sel.where) {
      if (!this.isUnion && !this.inner.distinct) {
        predicate = { kind: 'column', index: this.push(`(${this.substitute(sel.where)}) is true`) };
      } else {
        walk(sel.where, (n) => {
          if (isColumnRef(n) && !numericColumn(this.innerCols[this.columnOf(n)]!.expr)) throw notSupported('WHERE on a non-numeric column of a derived table evaluated at the gateway');
          if (String(n?.type ?? '').endsWith('string')) throw notSupported('WHERE with text over a derived table evaluated at the gateway');
          return true;
        });
        predicate = toEvalExpr(sel.where, (n) => (isColumnRef(n) ? this.columnOf(n) : undefined), 'WHERE over a derived table evaluated at the gateway', p.nullSafeEqual);
      }
    }

    const orderBy: OrderByKey[] = [];
    for (const o of sel.orderby ?? []) {
      const e = o.expr;
      if (e?.type === 'null') continue;
      const desc = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
      let idx: number;
      let keyExpr: Ast;
      if (e?.type === 'number') {
        idx = Number(e.value) - 1;
        const out = expressions[idx];
        if (!out) throw notSupported('ORDER BY position over a derived table evaluated at the gateway');
        if (out.kind !== 'column') throw notSupported('ORDER BY a computed column over a UNION derived table');
        keyExpr = sources[idx] ?? { type: 'column_ref', table: null, column: this.names[out.index] };
        idx = out.index;
      } else {
        const byAlias = isColumnRef(e) && !e.table ? columns.findIndex((c) => c.as && String(c.as).toLowerCase() === columnName(e).toLowerCase()) : -1;
        const out = byAlias >= 0 ? expressions[byAlias] : undefined;
        if (out && out.kind !== 'column') throw notSupported('ORDER BY a computed column over a UNION derived table');
        keyExpr = byAlias >= 0 ? columns[byAlias].expr : e;
        if (out) idx = out.kind === 'column' ? out.index : -1;
        else if (isColumnRef(e)) idx = this.columnOf(e);
        else if (!this.isUnion && !this.inner.distinct) idx = this.push(this.substitute(e));
        else throw notSupported('ORDER BY an expression over a DISTINCT or UNION derived table evaluated at the gateway');
      }
      if (idx < 0) throw notSupported('ORDER BY over a derived table evaluated at the gateway');
      if (idx < this.names.length && numericColumn(this.innerCols[idx]!.expr)) {
        orderBy.push({ column: idx, desc });
        continue;
      }
      // Text is ordered by its collation key, which the shards compute beside it.
      if (this.isUnion) throw notSupported('ORDER BY other than a numeric column of a UNION derived table evaluated at the gateway');
      if (this.inner.distinct && !isColumnRef(keyExpr)) throw notSupported('ORDER BY an expression over a DISTINCT derived table evaluated at the gateway');
      const text = this.substitute(keyExpr);
      orderBy.push({ column: idx, desc, weightStringColumn: this.push(this.inner.distinct ? distinctCollationKeySql(text) : collationKeySql(text)) });
    }

    let top: Primitive = this.ctx.planText(this.pushed.length > 0 ? this.withPushedColumns(innerText) : innerText).instructions;
    if (predicate) top = { operator: 'Filter', input: top, predicate };
    if (orderBy.length > 0) top = { operator: 'Sort', input: top, orderBy };
    top = withGatewayLimit(sel.limit, top);
    const identity = this.pushed.length === 0 && expressions.length === this.names.length && expressions.every((e, i) => e.kind === 'column' && e.index === i) && columnNames.every((n) => n === '');
    if (identity) return top;
    return { operator: 'Projection', input: top, expressions, columnNames, fieldFrom: expressions.map(() => null), ...(widths.some((w) => w !== null) ? { materializedIntegerWidth: widths } : {}) };
  }

  /** The derived-table column a reference names (`t.n` or `n`). */
  private columnOf(n: Ast): number {
    if (n.table && String(n.table).toLowerCase() !== this.alias) throw notSupported(`column '${String(n.table)}.${columnName(n)}' over a derived table evaluated at the gateway`);
    const name = columnName(n).toLowerCase();
    const matches = this.names.map((x, i) => (x.toLowerCase() === name ? i : -1)).filter((i) => i >= 0);
    if (matches.length !== 1) throw notSupported(`column '${columnName(n)}' over a derived table evaluated at the gateway`);
    return matches[0]!;
  }

  /** Adds a column to the derived table's select list; its index in the derived table's rows. */
  private push(sql: string): number {
    this.pushed.push(`${sql} as ${quoteIdent(`__sg_d${this.pushed.length}`, true)}`);
    return this.names.length + this.pushed.length - 1;
  }

  /** An outer expression as SQL over the derived table's FROM: each column replaced by its definition. */
  private substitute(e: Ast): string {
    const p = this.p;
    if (e?.type === 'param') return `:${String(e.value)}`;
    if (isColumnRef(e)) return `(${this.definition(this.columnOf(e))})`;
    const r = tokenRange(p, e);
    if (!r) throw notSupported('expression over a derived table evaluated at the gateway');
    const edits: TokenEdit[] = [];
    walk(e, (n) => {
      if (!isColumnRef(n)) return true;
      const nr = tokenRange(p, n);
      if (!nr) throw notSupported('expression over a derived table evaluated at the gateway');
      const k = this.columnOf(n);
      // MariaDB materializes an AVG column at its display scale (2343.930429) before the outer
      // query computes with it; its definition, computed in place, is the unrounded average
      // (`c1 * c3` gave 382060.660000 for 382060.659927; random differential, seed 31 #14805).
      if (containsAvg(this.innerCols[k].expr)) throw notSupported('an AVG column of a derived table evaluated at the gateway, inside an expression or condition');
      edits.push({ from: nr[0], to: nr[1], text: `(${this.definition(k)})` });
      return false;
    });
    return renderTokens(p.tokens, r[0], r[1], edits);
  }

  /** The SQL of the derived table's select item that defines column k. */
  private definition(k: number): string {
    const e = this.innerCols[k].expr;
    if (e?.type === 'param') return `:${String(e.value)}`;
    const r = tokenRange(this.p, e);
    if (!r) throw notSupported('derived table column shardgate cannot rewrite');
    return renderTokens(this.p.tokens, r[0], r[1], []);
  }

  /** The derived table's statement with the pushed columns after its own select list. */
  private withPushedColumns(innerText: string): string {
    const p = this.p;
    const [start, end] = derivedRange(p, this.inner)!;
    // The select list ends at the first top-level clause keyword after `select`. Counted from
    // `select` itself: the last column's own range may stop inside its parentheses
    // (`(t1.id / (select count(*) from p)) as c`), and from there the subquery's FROM looked
    // like the statement's.
    const stops = new Set(['from', 'where', 'group', 'having', 'order', 'limit', 'into', 'window', 'for', 'lock', 'union']);
    let depth = 0;
    let at = end;
    for (let i = start + 1; i < end; i++) {
      const t = p.tokens[i]!;
      if (t.text === '(') depth++;
      else if (t.text === ')') depth--;
      else if (depth === 0 && stops.has(kw(t))) {
        at = i;
        break;
      }
    }
    void innerText;
    return renderTokens(p.tokens, start, end, [{ from: at, to: at, text: ', ' + this.pushed.join(', ') + ' ' }]);
  }

  /** The name MariaDB gives an unaliased select expression: its text as written (null if it holds a literal). */
  private sourceName(e: Ast): string | null {
    const p = this.p;
    const r = tokenRange(p, e);
    if (!r) return null;
    for (let i = r[0]; i < r[1]; i++) if (!['ident', 'qident', 'punct'].includes(p.tokens[i]!.kind)) return null;
    return p.text.slice(p.tokens[r[0]]!.start, p.tokens[r[1] - 1]!.end);
  }
}

/** count(), sum() and avg() give numbers (the derived table's other columns have no known type here). */
function numericColumn(e: Ast): boolean {
  return e?.type === 'aggr_func' && ['count', 'sum', 'avg'].includes(String(e.name).toLowerCase());
}

/** Whether an expression holds an AVG (its value rounds to the column's scale when materialized). */
function containsAvg(e: Ast): boolean {
  let found = false;
  walk(e, (n) => {
    if (n?.type === 'aggr_func' && String(n.name).toLowerCase() === 'avg') found = true;
    return !found && n?.ast === undefined;
  });
  return found;
}

type MaterializedWidth = { readonly columns: readonly number[]; readonly widens: boolean };

/** The derived-table columns whose width reaches a node's integer type, and how (integerWidthDependence). */
interface WidthScan {
  /** Columns whose own width is the node's (a column, IF/COALESCE/FLOOR of it). */
  readonly exposed: ReadonlySet<number>;
  /** Columns that went through an operator whose result width grows with its operand's, and reach the node. */
  readonly crossed: ReadonlySet<number>;
  /** Columns under a function whose typing is not listed here, reaching the node. */
  readonly unknown: ReadonlySet<number>;
}

const NO_WIDTH: WidthScan = { exposed: new Set(), crossed: new Set(), unknown: new Set() };

/**
 * Operators whose integer result is an INT or a BIGINT by its operand's width (MariaDB's
 * type_handler_long_or_longlong): over an INT field (11 characters) always a BIGINT, over a
 * narrow INT expression (`YEAR(d)`, `MONTH(d)`) an INT. Checked on MariaDB 10.11: ABS, + - *, DIV,
 * MOD/%, unary minus (and ROUND/TRUNCATE to tens, refused: see scanWidths).
 */
const WIDENING_OPERATORS: ReadonlySet<string> = new Set(['+', '-', '*', 'DIV', 'MOD', '%']);
/** Operators whose result type does not depend on their operands' integer widths (a 0/1, a quotient). */
const FIXED_OPERATORS: ReadonlySet<string> = new Set(['=', '<>', '!=', '<', '<=', '>', '>=', '<=>', 'AND', 'OR', 'XOR', '&&', '||', 'IS', 'IS NOT', 'IN', 'NOT IN', 'LIKE', 'NOT LIKE', 'BETWEEN', 'NOT BETWEEN', 'REGEXP', 'NOT REGEXP', 'RLIKE', '/']);
/** Functions whose integer result keeps the width of their value arguments (checked on MariaDB 10.11). */
const WIDTH_KEEPING_FUNCTIONS: ReadonlySet<string> = new Set(['ifnull', 'coalesce', 'greatest', 'least', 'floor', 'ceil', 'ceiling']);
/** Functions whose result type does not depend on their arguments' integer widths. */
const FIXED_FUNCTIONS: ReadonlySet<string> = new Set(['sign', 'length', 'char_length', 'character_length', 'octet_length', 'concat', 'concat_ws', 'upper', 'ucase', 'lower', 'lcase', 'substring', 'substr', 'date', 'year', 'month', 'isnull']);

/**
 * ProjectionPrimitive.materializedIntegerWidth of one outer select expression over a derived
 * table MariaDB materializes: the columns whose width MariaDB's result type depends on, null when
 * none. Only the type is at stake: the values are the same either way.
 */
function integerWidthDependence(e: Ast, columnOf: (n: Ast) => number): MaterializedWidth | null {
  const scan = scanWidths(e, columnOf);
  if (scan.unknown.size > 0) return { columns: [...new Set([...scan.unknown, ...scan.crossed])], widens: false };
  return scan.crossed.size > 0 ? { columns: [...scan.crossed], widens: true } : null;
}

function scanWidths(n: Ast, columnOf: (n: Ast) => number): WidthScan {
  if (n === null || typeof n !== 'object' || n.ast !== undefined) return NO_WIDTH;
  if (isColumnRef(n)) return { exposed: new Set([columnOf(n)]), crossed: new Set(), unknown: new Set() };
  if (['number', 'single_quote_string', 'string', 'param', 'null', 'bool', 'boolean', 'hex_string', 'bit_string'].includes(String(n.type))) return NO_WIDTH;
  const scan = (x: Ast) => scanWidths(x, columnOf);
  const union = (sets: ReadonlySet<number>[]) => new Set(sets.flatMap((x) => [...x]));
  // The result width grows with the operands': every column reaching it has crossed.
  const widening = (xs: WidthScan[]): WidthScan => ({ exposed: new Set(), crossed: union(xs.flatMap((x) => [x.exposed, x.crossed])), unknown: union(xs.map((x) => x.unknown)) });
  const keeping = (xs: WidthScan[]): WidthScan => ({ exposed: union(xs.map((x) => x.exposed)), crossed: union(xs.map((x) => x.crossed)), unknown: union(xs.map((x) => x.unknown)) });
  const unknown = (xs: WidthScan[]): WidthScan => ({ exposed: new Set(), crossed: new Set(), unknown: union(xs.flatMap((x) => [x.exposed, x.crossed, x.unknown])) });
  if (n.type === 'binary_expr') {
    const op = String(n.operator).toUpperCase();
    if (FIXED_OPERATORS.has(op)) return NO_WIDTH;
    const xs = [scan(n.left), scan(n.right)];
    return WIDENING_OPERATORS.has(op) ? widening(xs) : unknown(xs);
  }
  if (n.type === 'unary_expr') {
    const op = String(n.operator).toUpperCase();
    if (op === 'NOT' || op === '!') return NO_WIDTH;
    return op === '-' ? widening([scan(n.expr)]) : unknown([scan(n.expr)]);
  }
  if (n.type === 'function') {
    const name = functionName(n);
    const args = functionArgs(n);
    if (FIXED_FUNCTIONS.has(name)) return NO_WIDTH;
    if (name === 'abs') return widening(args.map(scan));
    if (name === 'round' || name === 'truncate') {
      // To d >= 0 places an integer keeps its width, to tens or more it may gain a digit (a
      // BIGINT over an INT field). The places are a bind value here (literals are parameters),
      // not known when planning: only ROUND(x) is derived.
      return args.length === 1 ? keeping([scan(args[0])]) : unknown(args.map(scan));
    }
    if (name === 'if') return keeping(args.slice(1).map(scan));
    if (name === 'nullif') return keeping([scan(args[0])]);
    if (WIDTH_KEEPING_FUNCTIONS.has(name)) return keeping(args.map(scan));
    return unknown(args.map(scan));
  }
  if (n.type === 'case') {
    const results: Ast[] = (Array.isArray(n.args) ? n.args : []).map((a: Ast) => a?.result);
    return keeping(results.map(scan));
  }
  const children: WidthScan[] = [];
  for (const [k, v] of Object.entries(n)) if (k !== 'loc' && v !== null && typeof v === 'object') children.push(scan(v));
  return unknown(children);
}
