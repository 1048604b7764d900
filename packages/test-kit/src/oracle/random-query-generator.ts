/**
 * Seeded random SELECT generator, in the spirit of SQLancer (random expressions, plus ternary
 * logic partitioning: Q ≡ Q WHERE p ∪ Q WHERE NOT p ∪ Q WHERE p IS NULL) and of Vitess's random
 * end-to-end test (joins on and off the vindex, aggregates, derived tables across keyspaces).
 *
 * Every query it makes has one answer on one MariaDB: ORDER BY is total whenever it is there
 * (see random-query-model.ts), GROUP BY selects only its keys and aggregates, no float column is
 * summed, scalar subqueries are aggregates (one row), and string outputs of deduplicating queries
 * are compared by their collation's weight (the runner folds them), because which of several
 * collation-equal strings a group or DISTINCT shows is unspecified.
 */
import { deriveSeed, seededRandom } from '../race/seeded-random.js';
import { selectDeduplicates, type FromSource, type JoinClause, type OrderSpec, type Predicate, type RandomQuery, type SelectItem, type SelectQuery } from './random-query-model.js';
import type { RandomColumn, RandomColumnKind, RandomSchema, RandomTable } from './random-query-schema.js';

/** A column visible in a scope: `alias.name`. */
interface ScopeColumn {
  ref: string;
  kind: RandomColumnKind;
  nullable: boolean;
  values: readonly string[];
  collation?: string;
}

interface Scope {
  columns: ScopeColumn[];
}

/** The query shapes, each drawn with this relative weight. */
const SHAPES = {
  simple: 5,
  join: 4,
  aggregate: 3,
  groupJoin: 1,
  distinct: 2,
  union: 2,
  derived: 2,
  tlp: 3,
  tlpAggregate: 1,
} as const;
type Shape = keyof typeof SHAPES;

/** Builds the query of one seed: the same schema and seed give the same query on every machine. */
export function generateRandomQuery(schema: RandomSchema, seed: number): RandomQuery {
  return new RandomQueryGenerator(schema, seededRandom(seed)).query();
}

/** The seed of query `index` in a run started with `runSeed` (each query can be replayed alone). */
export function querySeed(runSeed: number, index: number): number {
  return deriveSeed(runSeed, index);
}

class RandomQueryGenerator {
  private aliasCounter = 0;

  constructor(
    private readonly schema: RandomSchema,
    private readonly random: () => number,
  ) {}

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  private alias(): string {
    return `t${++this.aliasCounter}`;
  }

  query(): RandomQuery {
    const q = this.queryOfShape();
    // Drawn after the whole query, so every seed's query is the one it was before this existed.
    // A top-level SELECT (not a WITH: the option must follow its SELECT) is followed by
    // `SELECT FOUND_ROWS()` one time in six, with SQL_CALC_FOUND_ROWS when it has a LIMIT; else,
    // one time in eight, its first column is LAST_INSERT_ID(expr), followed by LAST_INSERT_ID().
    if (q.kind === 'select' && !(q.select.from.kind === 'derived' && q.select.from.cte === true) && this.chance(1 / 6)) {
      q.select.foundRows = q.select.order?.limit !== undefined || this.chance(0.2) ? 'calc' : 'plain';
    } else if (q.kind === 'select' && q.select.order !== null && !selectDeduplicates(q.select) && q.select.having.length === 0 && this.chance(1 / 8)) {
      // A total ORDER BY: the last row, whose value LAST_INSERT_ID() keeps, is the same on both.
      q.select.lastInsertId = true;
    }
    return q;
  }

  private queryOfShape(): RandomQuery {
    const shape = this.pickShape();
    switch (shape) {
      case 'simple':
        return { kind: 'select', select: this.plainSelect(0) };
      case 'join':
        return { kind: 'select', select: this.plainSelect(1 + this.int(2)) };
      case 'aggregate':
        return { kind: 'select', select: this.groupedSelect(0) };
      case 'groupJoin':
        return { kind: 'select', select: this.groupedSelect(1) };
      case 'distinct':
        return { kind: 'select', select: this.distinctSelect() };
      case 'union':
        return this.union();
      case 'derived': {
        const select = this.derivedSelect();
        // Every other one as a WITH (decided without a draw, so the seeds' other queries stay the same).
        if (select.from.kind === 'derived' && select.items.length % 2 === 0) select.from.cte = true;
        return { kind: 'select', select };
      }
      case 'tlp':
        return this.tlp();
      case 'tlpAggregate':
        return this.tlpAggregate();
    }
  }

  private pickShape(): Shape {
    const entries = Object.entries(SHAPES) as [Shape, number][];
    let r = this.random() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [shape, w] of entries) {
      r -= w;
      if (r < 0) return shape;
    }
    return 'simple';
  }

  // --- FROM ---------------------------------------------------------------------------------

  private tableSource(table: RandomTable): { source: FromSource; scope: ScopeColumn[] } {
    const alias = this.alias();
    return {
      source: { kind: 'table', table: table.name, alias, uniqueKey: table.uniqueKey },
      scope: table.columns.map((c) => columnInScope(alias, c)),
    };
  }

  /** A base table plus `joins` joins along the schema's join paths (on and off the vindex). */
  private fromClause(joins: number): { from: FromSource; joins: JoinClause[]; scope: Scope } {
    const base = this.pick(this.schema.tables);
    const first = this.tableSource(base);
    const scope: Scope = { columns: [...first.scope] };
    const inScope: { table: RandomTable; alias: string }[] = [{ table: base, alias: first.source.alias }];
    const clauses: JoinClause[] = [];
    for (let n = 0; n < joins; n++) {
      const candidates = this.schema.joins.flatMap((j) =>
        inScope.flatMap((s) => {
          const out: { from: string; fromColumn: string; to: string; toColumn: string }[] = [];
          if (j.left === s.table.name) out.push({ from: s.alias, fromColumn: j.leftColumn, to: j.right, toColumn: j.rightColumn });
          if (j.right === s.table.name) out.push({ from: s.alias, fromColumn: j.rightColumn, to: j.left, toColumn: j.leftColumn });
          return out;
        }),
      );
      if (candidates.length === 0) break;
      const path = this.pick(candidates);
      const table = this.schema.tables.find((t) => t.name === path.to);
      if (table === undefined) continue;
      const joined = this.tableSource(table);
      const type = this.chance(0.35) ? 'LEFT JOIN' : 'JOIN';
      let on: Predicate = { op: 'leaf', sql: `${path.from}.${path.fromColumn} = ${joined.source.alias}.${path.toColumn}` };
      // A filter in ON (rather than WHERE) keeps unmatched left rows in a LEFT JOIN.
      if (this.chance(0.25)) on = { op: 'and', left: on, right: this.comparison({ columns: joined.scope }) };
      clauses.push({ type, source: joined.source, on });
      scope.columns.push(...joined.scope);
      inScope.push({ table, alias: joined.source.alias });
    }
    return { from: first.source, joins: clauses, scope };
  }

  // --- SELECT shapes ------------------------------------------------------------------------

  private plainSelect(joins: number): SelectQuery {
    const { from, joins: clauses, scope } = this.fromClause(joins);
    const items = Array.from({ length: 1 + this.int(4) }, () => ({ sql: this.scalarExpression(scope, 2), aggregate: false }));
    // A scalar subquery as a column: one value the gateway pulls out and binds into the query.
    if (this.chance(0.08)) items.push({ sql: this.scalarSubquery(), aggregate: false });
    // …and inside an expression over a row's column: bound with the subquery's type.
    const numeric = scope.columns.filter((o) => o.kind === 'int' || o.kind === 'decimal');
    if (numeric.length > 0 && this.chance(0.06)) items.push({ sql: `(${this.pick(numeric).ref} ${this.pick(['+', '-', '*', '/'])} ${this.scalarSubquery()})`, aggregate: false });
    return {
      distinct: false,
      items,
      from,
      joins: clauses,
      where: this.whereClause(scope),
      groupBy: [],
      having: [],
      // Sometimes led by an expression that is not selected (a helper column for the gateway's Sort).
      order: this.chance(0.6) ? this.orderSpec([...(this.chance(0.2) ? [this.scalarExpression(scope, 1)] : []), ...items.filter(() => this.chance(0.5)).map((i) => i.sql)], true) : null,
    };
  }

  private groupedSelect(joins: number): SelectQuery {
    const { from, joins: clauses, scope } = this.fromClause(joins);
    const keyCount = this.int(3);
    const groupBy = unique(Array.from({ length: keyCount }, () => this.groupKey(scope)));
    const aggregates = Array.from({ length: 1 + this.int(3) }, () => this.aggregate(scope));
    const items: SelectItem[] = [
      ...groupBy.filter(() => this.chance(0.8)).map((sql) => ({ sql, aggregate: false })),
      ...aggregates.map((sql) => ({ sql, aggregate: true })),
    ];
    const having = groupBy.length > 0 && this.chance(0.4) ? [this.havingPredicate(scope, aggregates)] : [];
    const query: SelectQuery = {
      distinct: false,
      items,
      from,
      joins: clauses,
      where: this.whereClause(scope),
      groupBy,
      having,
      order: groupBy.length > 0 && this.chance(0.6) ? this.orderSpec(this.chance(0.3) ? [this.pick(aggregates)] : [], true) : null,
    };
    // Drawn last, so the draws above stay those of every seed before: an expression over
    // aggregates in the select list, and one as an ORDER BY key that is not selected (the
    // gateway computes both after aggregating, over a join across shards too).
    if (this.chance(0.3)) query.items.push({ sql: this.aggregateExpression(scope), aggregate: true });
    if (query.order !== null && this.chance(0.3)) query.order.lead.unshift(this.aggregateExpression(scope));
    return query;
  }

  /** A number computed from aggregates: division and avg with their DECIMAL scales, ROUND, COALESCE, counts. */
  private aggregateExpression(scope: Scope): string {
    const numeric = scope.columns.filter((c) => c.kind === 'int' || c.kind === 'decimal');
    const any = this.pick(scope.columns).ref;
    if (numeric.length === 0) return this.pick([`COUNT(*) + ${this.int(3)}`, `COUNT(${any}) * 2`, `COUNT(DISTINCT ${any}) - COUNT(*)`]);
    const n = this.pick(numeric).ref;
    const m = this.pick(numeric).ref;
    return this.pick([
      `SUM(${n}) / COUNT(*)`,
      `ROUND(AVG(${n}), ${this.int(3)})`,
      `COUNT(*) + ${this.int(3)}`,
      `COALESCE(SUM(${n}), 0)`,
      `MAX(${n}) - MIN(${m})`,
      `SUM(${n}) * 1.5`,
      `AVG(DISTINCT ${n})`,
      `AVG(${n}) * COUNT(*)`,
      `SUM(${n}) / SUM(${m})`,
      `IF(COUNT(${any}) > 1, SUM(${n}), 0)`,
      `ABS(MIN(${n}) - ${this.int(5)})`,
      `GREATEST(MAX(${n}), MIN(${m}))`,
    ]);
  }

  private distinctSelect(): SelectQuery {
    const { from, joins, scope } = this.fromClause(this.chance(0.3) ? 1 : 0);
    const items = Array.from({ length: 1 + this.int(3) }, () => ({ sql: this.chance(0.7) ? this.pick(scope.columns).ref : this.scalarExpression(scope, 1), aggregate: false }));
    return {
      distinct: true,
      items,
      from,
      joins,
      where: this.whereClause(scope),
      groupBy: [],
      having: [],
      order: this.chance(0.5) ? this.orderSpec(this.chance(0.5) ? [String(1 + this.int(items.length))] : [], true) : null,
    };
  }

  /** Parts share their select list and FROM (so no type aggregation across parts) and differ in WHERE. */
  private union(): RandomQuery {
    const base = this.chance(0.3) ? this.groupedSelect(0) : this.plainSelect(this.chance(0.3) ? 1 : 0);
    base.order = null;
    const parts = [base];
    const n = 1 + this.int(2);
    for (let i = 0; i < n; i++) parts.push({ ...base, where: this.whereClause(this.scopeOf(base)) });
    const all = this.chance(0.5);
    const width = base.items.length;
    const order = !all && this.chance(0.5) ? this.orderSpec([String(1 + this.int(width))], true) : null;
    return { kind: 'union', union: { all, parts, order } };
  }

  /** SELECT over a derived table: its rows are unique by the keys it exposes, so outer ORDER BY stays total. */
  private derivedSelect(): SelectQuery {
    const grouped = this.chance(0.4);
    let inner: SelectQuery;
    let uniqueKey: string[];
    if (grouped) {
      inner = this.groupedSelect(0);
      if (inner.groupBy.length === 0) inner.groupBy = [this.groupKey(this.scopeOf(inner))];
      // Expose every group key (the derived table's unique key) first, then the aggregates.
      inner.items = [...inner.groupBy.map((sql) => ({ sql, aggregate: false })), ...inner.items.filter((i) => i.aggregate)];
      uniqueKey = inner.groupBy.map((_, i) => `c${i}`);
    } else {
      inner = this.plainSelect(this.chance(0.3) ? 1 : 0);
      const sources = [inner.from, ...inner.joins.map((j) => j.source)];
      const keys = sources.flatMap((s) => s.uniqueKey.map((k) => `${s.alias}.${k}`));
      inner.items = [...keys.map((sql) => ({ sql, aggregate: false })), ...inner.items];
      uniqueKey = keys.map((_, i) => `c${i}`);
    }
    // A LIMIT (under a total order, so the rows it keeps are determined) makes the derived table
    // one the gateway evaluates when it reaches several shards.
    inner.order = this.chance(0.5) ? { lead: [], desc: [this.chance(0.4)], limit: 1 + this.int(15) } : null;
    const alias = this.alias();
    const innerScope = this.scopeOf(inner);
    const columns: ScopeColumn[] = inner.items.map((it, i) => ({
      ref: `${alias}.c${i}`,
      kind: guessKind(it.sql, innerScope),
      nullable: true,
      values: valuesOf(it.sql, innerScope),
      ...collationOf(it.sql, innerScope),
    }));
    const scope: Scope = { columns };
    if (this.chance(0.35)) {
      // Aggregation over the derived table's rows, grouped by one of its columns or not.
      const groupBy = this.chance(0.5) ? [this.pick(columns).ref] : [];
      const aggregates = Array.from({ length: 1 + this.int(3) }, () => this.aggregate(scope));
      return {
        distinct: false,
        items: [...groupBy.map((sql) => ({ sql, aggregate: false })), ...aggregates.map((sql) => ({ sql, aggregate: true }))],
        from: { kind: 'derived', query: { kind: 'select', select: inner }, alias, uniqueKey },
        joins: [],
        where: this.whereClause(scope),
        groupBy,
        having: [],
        order: null,
      };
    }
    // Outer expressions over a deduplicated string would expose which equal string won: bare columns only.
    const items = Array.from({ length: 1 + this.int(3) }, () => ({ sql: grouped ? this.pick(columns).ref : this.scalarExpression(scope, 1), aggregate: false }));
    return {
      distinct: false,
      items,
      from: { kind: 'derived', query: { kind: 'select', select: inner }, alias, uniqueKey },
      joins: [],
      where: this.whereClause(scope),
      groupBy: [],
      having: [],
      order: this.chance(0.5) ? this.orderSpec([], true) : null,
    };
  }

  /** Ternary logic partitioning: Q WHERE p UNION ALL Q WHERE NOT p UNION ALL Q WHERE p IS NULL. */
  private tlp(): RandomQuery {
    const base = this.plainSelect(this.chance(0.4) ? 1 : 0);
    base.order = null;
    const p = this.predicate(this.scopeOf(base), 2);
    const parts: SelectQuery[] = [
      { ...base, where: [...base.where, p] },
      { ...base, where: [...base.where, { op: 'not', arg: p }] },
      { ...base, where: [...base.where, { op: 'is-null', arg: p }] },
    ];
    return { kind: 'union', union: { all: true, parts, order: null } };
  }

  /** TLP for aggregates: SUM/COUNT/MIN/MAX of the three partitions' aggregates, through a derived table. */
  private tlpAggregate(): RandomQuery {
    const { from, joins, scope } = this.fromClause(this.chance(0.3) ? 1 : 0);
    const numeric = scope.columns.filter((c) => c.kind === 'int' || c.kind === 'decimal');
    const fn = this.pick(['COUNT', 'SUM', 'MIN', 'MAX'] as const);
    const arg = fn === 'COUNT' ? (this.chance(0.5) ? '*' : this.pick(scope.columns).ref) : this.pick(numeric.length > 0 ? numeric : scope.columns).ref;
    const p = this.predicate(scope, 2);
    const base: SelectQuery = { distinct: false, items: [{ sql: `${fn}(${arg})`, aggregate: true }], from, joins, where: this.whereClause(scope).slice(0, 1), groupBy: [], having: [], order: null };
    const parts: SelectQuery[] = [
      { ...base, where: [...base.where, p] },
      { ...base, where: [...base.where, { op: 'not', arg: p }] },
      { ...base, where: [...base.where, { op: 'is-null', arg: p }] },
    ];
    const outer = fn === 'COUNT' ? 'SUM' : fn;
    const alias = this.alias();
    return {
      kind: 'select',
      select: {
        distinct: false,
        items: [{ sql: `${outer}(${alias}.c0)`, aggregate: true }],
        from: { kind: 'derived', query: { kind: 'union', union: { all: true, parts, order: null } }, alias, uniqueKey: [] },
        joins: [],
        where: [],
        groupBy: [],
        having: [],
        order: null,
      },
    };
  }

  private scopeOf(q: SelectQuery): Scope {
    // Rebuild the scope from the aliases: table columns come from the schema.
    const columns: ScopeColumn[] = [];
    for (const s of [q.from, ...q.joins.map((j) => j.source)]) {
      if (s.kind !== 'table') continue;
      const table = this.schema.tables.find((t) => t.name === s.table);
      if (table !== undefined) columns.push(...table.columns.map((c) => columnInScope(s.alias, c)));
    }
    return { columns };
  }

  // --- clauses ------------------------------------------------------------------------------

  private orderSpec(lead: string[], allowLimit: boolean): OrderSpec {
    const order: OrderSpec = { lead, desc: Array.from({ length: 1 + this.int(3) }, () => this.chance(0.4)) };
    if (allowLimit && this.chance(0.6)) {
      order.limit = this.int(12);
      if (this.chance(0.4)) order.offset = this.int(8);
    }
    return order;
  }

  private whereClause(scope: Scope): Predicate[] {
    const n = this.chance(0.2) ? 0 : 1 + this.int(2);
    return Array.from({ length: n }, () => this.predicate(scope, 2));
  }

  private havingPredicate(scope: Scope, aggregates: string[]): Predicate {
    const agg = this.chance(0.5) ? this.pick(aggregates) : `COUNT(*)`;
    // NULL aggregates (MAX over only NULLs, SUM of nothing): IS NULL and COALESCE over them.
    const r = this.random();
    if (r < 0.12) return { op: 'leaf', sql: `${agg} IS ${this.chance(0.5) ? 'NOT ' : ''}NULL` };
    if (r < 0.2 && /^(COUNT|SUM|AVG)/.test(agg)) return { op: 'leaf', sql: `COALESCE(${agg}, -1) ${this.pick(['>', '<=', '='])} ${this.int(5)}` };
    const op = this.pick(['>', '>=', '<', '=', '<>']);
    const numeric = /^(COUNT|SUM|AVG)/.test(agg) || scope.columns.length === 0;
    const lit = numeric ? String(this.int(5)) : this.literalFor(this.pick(scope.columns));
    return { op: 'leaf', sql: `${agg} ${op} ${lit}` };
  }

  private predicate(scope: Scope, depth: number): Predicate {
    if (depth > 0 && this.chance(0.35)) {
      const r = this.random();
      if (r < 0.4) return { op: 'and', left: this.predicate(scope, depth - 1), right: this.predicate(scope, depth - 1) };
      if (r < 0.8) return { op: 'or', left: this.predicate(scope, depth - 1), right: this.predicate(scope, depth - 1) };
      return { op: 'not', arg: this.predicate(scope, depth - 1) };
    }
    const r = this.random();
    if (r < 0.12 && this.schema.tables.length > 0) return this.subqueryPredicate(scope);
    return this.comparison(scope);
  }

  /** A leaf test on one column: comparison, BETWEEN, IN list (with NULL sometimes), IS NULL, LIKE, or column = column. */
  private comparison(scope: Scope): Predicate {
    const c = this.pick(scope.columns);
    const r = this.random();
    let sql: string;
    if (r < 0.35) sql = `${c.ref} ${this.pick(['=', '<>', '<', '<=', '>', '>=', '<=>'])} ${this.literalFor(c)}`;
    else if (r < 0.45) sql = `${c.ref} ${this.chance(0.2) ? 'NOT ' : ''}BETWEEN ${this.literalFor(c, false)} AND ${this.literalFor(c, false)}`;
    else if (r < 0.6) {
      const list = Array.from({ length: 1 + this.int(3) }, () => this.literalFor(c));
      sql = `${c.ref} ${this.chance(0.35) ? 'NOT IN' : 'IN'} (${list.join(', ')})`;
    } else if (r < 0.7) sql = `${c.ref} IS ${this.chance(0.5) ? 'NOT ' : ''}NULL`;
    else if (r < 0.8 && c.kind === 'string') {
      const v = this.pick(c.values.length > 0 ? c.values : ["'a'"]);
      // Quotes and backslashes dropped: a slice of an escaped literal could end inside an escape.
      const text = (v.startsWith("'") ? v.slice(1, -1) : v).replace(/[\\']/g, '');
      const pattern = this.chance(0.5) ? `${text.slice(0, 2)}%` : `%${text.slice(-2)}`;
      sql = `${c.ref} ${this.chance(0.2) ? 'NOT ' : ''}LIKE '${pattern}'`;
    } else {
      const others = scope.columns.filter((o) => o.ref !== c.ref && sameFamily(o, c));
      if (others.length === 0) sql = `${c.ref} ${this.pick(['=', '<', '>='])} ${this.literalFor(c)}`;
      else sql = `${c.ref} ${this.pick(['=', '<>', '<', '>', '<=>'])} ${this.pick(others).ref}`;
    }
    return { op: 'leaf', sql };
  }

  /** IN / NOT IN (subquery), correlated EXISTS / NOT EXISTS, or a comparison with an aggregate scalar subquery. */
  private subqueryPredicate(scope: Scope): Predicate {
    const c = this.pick(scope.columns);
    const table = this.pick(this.schema.tables);
    const sub = this.tableSource(table);
    const subScope: Scope = { columns: sub.scope };
    const same = sub.scope.filter((o) => sameFamily(o, c));
    const target = same.length > 0 ? this.pick(same) : undefined;
    const filter = this.chance(0.6) ? ` WHERE ${this.renderLeaf(this.comparison(subScope))}` : '';
    const from = `${table.name} AS ${sub.source.alias}`;
    const r = this.random();
    if (target !== undefined && r < 0.4) {
      return { op: 'leaf', sql: `${c.ref} ${this.chance(0.3) ? 'NOT IN' : 'IN'} (SELECT ${target.ref} FROM ${from}${filter})` };
    }
    if (target !== undefined && r < 0.75) {
      // Uncorrelated sometimes: the gateway runs it once and binds whether it found a row.
      if (this.chance(0.2)) return { op: 'leaf', sql: `${this.chance(0.3) ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${from}${filter})` };
      const corr = `${target.ref} = ${c.ref}`;
      return { op: 'leaf', sql: `${this.chance(0.3) ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${from} WHERE ${corr}${filter ? ` AND ${filter.slice(7)}` : ''})` };
    }
    if (target !== undefined && r < 0.85) {
      // MIN/MAX of a column of the same family, strings and datetimes too: the pulled-out value
      // must compare as the column does (its collation, its type), in either operand order.
      const sub = `(SELECT ${this.pick(['MIN', 'MAX'])}(${target.ref}) FROM ${from}${filter})`;
      const op = this.pick(['=', '<>', '<', '>=', '<=>']);
      return { op: 'leaf', sql: this.chance(0.5) ? `${c.ref} ${op} ${sub}` : `${sub} ${op} ${this.literalFor(c, false)}` };
    }
    const numeric = sub.scope.filter((o) => o.kind === 'int' || o.kind === 'decimal');
    const outerNumeric = scope.columns.filter((o) => o.kind === 'int' || o.kind === 'decimal');
    if (numeric.length === 0 || outerNumeric.length === 0) return this.comparison(scope);
    const fn = this.pick(['MAX', 'MIN', 'COUNT', 'SUM']);
    return { op: 'leaf', sql: `${this.pick(outerNumeric).ref} ${this.pick(['<', '>=', '=', '<>'])} (SELECT ${fn}(${this.pick(numeric).ref}) FROM ${from}${filter})` };
  }

  /** `(SELECT COUNT(*) | SUM/MIN/MAX(number) FROM t [WHERE …])`: one numeric value (NULL when no row). */
  private scalarSubquery(): string {
    const table = this.pick(this.schema.tables);
    const sub = this.tableSource(table);
    const filter = this.chance(0.5) ? ` WHERE ${this.renderLeaf(this.comparison({ columns: sub.scope }))}` : '';
    const numeric = sub.scope.filter((o) => o.kind === 'int' || o.kind === 'decimal');
    const agg = numeric.length === 0 || this.chance(0.3) ? 'COUNT(*)' : `${this.pick(['SUM', 'MIN', 'MAX'])}(${this.pick(numeric).ref})`;
    return `(SELECT ${agg} FROM ${table.name} AS ${sub.source.alias}${filter})`;
  }

  private renderLeaf(p: Predicate): string {
    return p.op === 'leaf' ? p.sql : '1 = 1';
  }

  // --- expressions --------------------------------------------------------------------------

  /** A row-level expression: a column, arithmetic, a string or date function, CASE or COALESCE. */
  private scalarExpression(scope: Scope, depth: number): string {
    const c = this.pick(scope.columns);
    if (depth === 0 || this.chance(0.55)) return c.ref;
    const r = this.random();
    switch (c.kind) {
      case 'int':
      case 'decimal':
        if (r < 0.2) return `${c.ref} ${this.pick(['+', '-', '*'])} ${this.pick(['1', '2', '10', '0.5'])}`;
        // Two columns, often of two joined tables (the gateway's cross-shard join computes it).
        if (r < 0.3) return `${c.ref} ${this.pick(['+', '-', '*'])} ${this.pick(scope.columns.filter((o) => o.kind === 'int' || o.kind === 'decimal')).ref}`;
        if (r < 0.4) return `ABS(${c.ref})`;
        break;
      case 'string':
        if (r < 0.1) return `CONCAT(${c.ref}, '-')`;
        if (r < 0.2) return `UPPER(${c.ref})`;
        if (r < 0.3) return `CHAR_LENGTH(${c.ref})`;
        if (r < 0.4) return `SUBSTRING(${c.ref}, 1, 3)`;
        break;
      case 'datetime':
        if (r < 0.2) return `YEAR(${c.ref})`;
        if (r < 0.4) return `DATE(${c.ref})`;
        break;
    }
    const same = scope.columns.filter((o) => o.kind === c.kind && sameFamily(o, c));
    if (r < 0.7) return `COALESCE(${c.ref}, ${this.chance(0.5) ? this.pick(same).ref : this.literalFor(c, false)})`;
    const p = this.predicate(scope, 1);
    const other = this.chance(0.5) ? this.pick(same).ref : this.literalFor(c, false);
    return `CASE WHEN ${this.renderPredicateInline(p)} THEN ${c.ref} ELSE ${other} END`;
  }

  private renderPredicateInline(p: Predicate): string {
    switch (p.op) {
      case 'leaf':
        return p.sql;
      case 'and':
      case 'or':
        return `(${this.renderPredicateInline(p.left)} ${p.op.toUpperCase()} ${this.renderPredicateInline(p.right)})`;
      case 'not':
        return `(NOT ${this.renderPredicateInline(p.arg)})`;
      case 'is-null':
        return `((${this.renderPredicateInline(p.arg)}) IS NULL)`;
    }
  }

  private groupKey(scope: Scope): string {
    const c = this.pick(scope.columns);
    if (this.chance(0.75)) return c.ref;
    if (c.kind === 'datetime') return `YEAR(${c.ref})`;
    if (c.kind === 'string') return `CHAR_LENGTH(${c.ref})`;
    return `${c.ref} IS NULL`;
  }

  private aggregate(scope: Scope): string {
    const numeric = scope.columns.filter((c) => c.kind === 'int' || c.kind === 'decimal');
    const r = this.random();
    if (r < 0.25) return 'COUNT(*)';
    if (r < 0.4) return `COUNT(${this.pick(scope.columns).ref})`;
    if (r < 0.5) return `COUNT(DISTINCT ${this.pick(scope.columns).ref})`;
    if (r < 0.62) return `${this.pick(['MIN', 'MAX'])}(${this.pick(scope.columns).ref})`;
    if (r < 0.7) return this.groupConcat(scope);
    if (numeric.length === 0) return 'COUNT(*)';
    if (r < 0.85) {
      // DISTINCT inside SUM/AVG/MIN: the gateway must not merge partial distinct sums.
      const distinct = this.chance(0.2) ? 'DISTINCT ' : '';
      return `${this.pick(['SUM', 'SUM', 'AVG', 'MIN'])}(${distinct}${this.pick(numeric).ref})`;
    }
    // Over an expression of two columns, of both sides when the FROM is a join.
    return `${this.pick(['SUM', 'MAX', 'AVG'])}(${this.pick(numeric).ref} ${this.pick(['+', '*'])} ${this.pick(numeric).ref})`;
  }

  /**
   * GROUP_CONCAT in an order that is total over the text it joins (values that tie under the
   * ORDER BY are then the same text): numbers and dates by value, strings by their HEX.
   */
  private groupConcat(scope: Scope): string {
    const c = this.pick(scope.columns);
    const sep = this.pick(['', " SEPARATOR '|'", " SEPARATOR ''"]);
    const dir = this.pick(['', ' DESC']);
    if (c.kind === 'string') return `GROUP_CONCAT(HEX(${c.ref}) ORDER BY HEX(${c.ref})${dir}${sep})`;
    const distinct = c.kind !== 'datetime' && this.chance(0.3) ? 'DISTINCT ' : '';
    return `GROUP_CONCAT(${distinct}${c.ref} ORDER BY ${c.ref}${dir}${sep})`;
  }

  /** A literal for comparisons with `c`: one of its values, a case/space/accent variant of a string one, or NULL. */
  private literalFor(c: ScopeColumn, allowNull = true): string {
    if (allowNull && this.chance(0.08)) return 'NULL';
    if (c.values.length === 0) return c.kind === 'string' ? "'x'" : c.kind === 'datetime' ? "'2024-01-01 00:00:00'" : String(this.int(10));
    const v = this.pick(c.values);
    if (c.kind === 'string' && v.startsWith("'") && this.chance(0.4)) {
      const text = v.slice(1, -1);
      const variant = this.pick([text.toUpperCase(), text.toLowerCase(), `${text} `, text.trimEnd(), accentVariant(text)]);
      return `'${variant}'`;
    }
    if ((c.kind === 'int' || c.kind === 'decimal') && /^-?\d+(\.\d+)?$/.test(v) && this.chance(0.3)) {
      return c.kind === 'int' ? String(BigInt(v) + BigInt(this.int(3) - 1)) : v;
    }
    return v;
  }
}

function columnInScope(alias: string, c: RandomColumn): ScopeColumn {
  return { ref: `${alias}.${c.name}`, kind: c.kind, nullable: c.nullable, values: c.values ?? [], ...(c.collation === undefined ? {} : { collation: c.collation }) };
}

/** Whether two columns may meet in one comparison or COALESCE: numbers with numbers, strings of one collation. */
function sameFamily(a: ScopeColumn, b: ScopeColumn): boolean {
  const numeric = (k: RandomColumnKind) => k === 'int' || k === 'decimal';
  if (numeric(a.kind) && numeric(b.kind)) return true;
  return a.kind === b.kind && (a.kind !== 'string' || (a.collation ?? '') === (b.collation ?? ''));
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The kind of an inner select item, for the outer query's literals and operators. */
function guessKind(sql: string, scope: Scope): RandomColumnKind {
  const exact = scope.columns.find((c) => c.ref === sql);
  if (exact !== undefined) return exact.kind;
  if (/^(COUNT|CHAR_LENGTH|YEAR)\(/.test(sql) || / IS NULL$/.test(sql) || /^\(SELECT COUNT\(/.test(sql)) return 'int';
  if (/^(SUM|AVG)\(/.test(sql) || /^\(SELECT /.test(sql)) return 'decimal';
  return leadColumn(sql, scope)?.kind ?? 'int';
}

/**
 * The column an expression's value comes from: the first one it names after a CASE's THEN (the
 * columns of its WHEN only decide), else the first one it names (COALESCE's first argument).
 */
function leadColumn(sql: string, scope: Scope): ScopeColumn | undefined {
  const then = sql.indexOf(' THEN ');
  const head = then >= 0 ? sql.slice(then + 6) : sql;
  // A ref followed by a letter, digit or _ is another column's prefix (t1.id in t1.id_x).
  const at = (ref: string) => head.search(new RegExp(`${ref.replace('.', '\\.')}(?![\\w])`));
  return scope.columns.map((c) => ({ c, at: at(c.ref) })).filter((x) => x.at >= 0).sort((a, b) => a.at - b.at)[0]?.c;
}

/** The collation of an inner select item: the one of the column it is built on (CHAR_LENGTH and the like are numbers). */
function collationOf(sql: string, scope: Scope): { collation?: string } {
  if (guessKind(sql, scope) !== 'string') return {};
  const c = scope.columns.find((o) => o.ref === sql) ?? leadColumn(sql, scope);
  return c?.collation === undefined ? {} : { collation: c.collation };
}

function valuesOf(sql: string, scope: Scope): readonly string[] {
  return scope.columns.find((c) => c.ref === sql)?.values ?? [];
}

/** 'alice' → 'álice': the first a/e/o/u gets an accent (equal under _ci collations, unequal under _bin). */
function accentVariant(text: string): string {
  const map: Record<string, string> = { a: 'á', e: 'é', o: 'ö', u: 'ü', A: 'Á', E: 'É', O: 'Ö', U: 'Ü' };
  const i = [...text].findIndex((ch) => ch in map);
  if (i < 0) return text;
  const chars = [...text];
  chars[i] = map[chars[i]];
  return chars.join('');
}
