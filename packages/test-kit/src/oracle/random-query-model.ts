/**
 * The random generator's query model and its SQL rendering. Queries are kept as data (not text)
 * so the shrinker can drop select items, predicates, clauses and joins and render again, and so
 * rendering can keep every ORDER BY total: the tiebreak is computed from the query's shape each
 * time, never stored as text that a shrink step could leave half-removed.
 */

/** A boolean expression; `leaf` is SQL text (a comparison, IN list, subquery test…). */
export type Predicate =
  | { op: 'leaf'; sql: string }
  | { op: 'and' | 'or'; left: Predicate; right: Predicate }
  | { op: 'not'; arg: Predicate }
  | { op: 'is-null'; arg: Predicate };

export interface SelectItem {
  sql: string;
  /** An aggregate call (COUNT, SUM, MIN…): allowed beside GROUP BY keys. */
  aggregate: boolean;
}

export type FromSource =
  | { kind: 'table'; table: string; alias: string; uniqueKey: readonly string[] }
  | {
      kind: 'derived';
      query: RandomQuery;
      alias: string;
      uniqueKey: readonly string[];
      /** Only on a top-level query's FROM: written as `WITH alias AS (query) SELECT … FROM alias`. */
      cte?: boolean;
    };

export interface JoinClause {
  type: 'JOIN' | 'LEFT JOIN';
  source: FromSource;
  on: Predicate;
}

export interface OrderSpec {
  /** Expressions ordered first (the rest of the total order follows). */
  lead: string[];
  /** Direction of the i-th ORDER BY key: desc[i % desc.length]. */
  desc: boolean[];
  limit?: number;
  offset?: number;
}

export interface SelectQuery {
  distinct: boolean;
  items: SelectItem[];
  from: FromSource;
  joins: JoinClause[];
  /** Conjuncts of WHERE. */
  where: Predicate[];
  groupBy: string[];
  /** Conjuncts of HAVING. */
  having: Predicate[];
  order: OrderSpec | null;
  /**
   * Top-level only: the differential reads `SELECT FOUND_ROWS()` right after the query, and
   * compares it too; `calc` writes SELECT SQL_CALC_FOUND_ROWS.
   */
  foundRows?: 'calc' | 'plain';
  /**
   * Top-level only: the first item is written `LAST_INSERT_ID(item)`, and the differential reads
   * `SELECT LAST_INSERT_ID()` right after the query and compares it too.
   */
  lastInsertId?: boolean;
}

export interface UnionQuery {
  all: boolean;
  parts: SelectQuery[];
  /** DISTINCT unions only: ordered by every column (positions), so the order is total. */
  order: OrderSpec | null;
}

export type RandomQuery = { kind: 'select'; select: SelectQuery } | { kind: 'union'; union: UnionQuery };

export function renderPredicate(p: Predicate): string {
  switch (p.op) {
    case 'leaf':
      return p.sql;
    case 'and':
    case 'or':
      return `(${renderPredicate(p.left)} ${p.op.toUpperCase()} ${renderPredicate(p.right)})`;
    case 'not':
      return `(NOT ${renderPredicate(p.arg)})`;
    case 'is-null':
      return `((${renderPredicate(p.arg)}) IS NULL)`;
  }
}

function renderSource(s: FromSource): string {
  return s.kind === 'table' ? `${s.table} AS ${s.alias}` : `(${renderQuery(s.query)}) AS ${s.alias}`;
}

/** True when rows of the answer may be merged from several source rows (DISTINCT, GROUP BY, aggregates, UNION). */
export function selectDeduplicates(q: SelectQuery): boolean {
  return (
    q.distinct ||
    q.groupBy.length > 0 ||
    q.items.some((i) => i.aggregate) ||
    [q.from, ...q.joins.map((j) => j.source)].some((s) => s.kind === 'derived' && queryDeduplicates(s.query))
  );
}

export function queryDeduplicates(q: RandomQuery): boolean {
  return q.kind === 'select' ? selectDeduplicates(q.select) : !q.union.all || q.union.parts.some(selectDeduplicates);
}

/**
 * The statement the differential runs right after the query on the same connection, and compares
 * (see SelectQuery.foundRows and lastInsertId); undefined for none.
 */
export function followUpQuery(q: RandomQuery): string | undefined {
  if (q.kind !== 'select') return undefined;
  if (q.select.foundRows !== undefined) return 'SELECT FOUND_ROWS() AS n';
  return q.select.lastInsertId === true ? 'SELECT LAST_INSERT_ID() AS n' : undefined;
}

/** Whether the rendered query's answer is a sequence (total ORDER BY) rather than a multiset. */
export function queryIsOrdered(q: RandomQuery): boolean {
  if (q.kind === 'union') return q.union.order !== null;
  const s = q.select;
  if (s.order === null) return false;
  // An aggregate without GROUP BY is one row: ordered trivially.
  return true;
}

/**
 * ORDER BY keys that make the order total:
 * - GROUP BY: every group key (groups are distinct by them);
 * - DISTINCT: every select item (rows are distinct by them);
 * - otherwise: the unique key of every source (rows are distinct by them).
 * Collation-equal strings tie under ORDER BY, so only these keys, never "all selected columns",
 * make a LIMIT's answer deterministic.
 */
function totalOrderKeys(q: SelectQuery): string[] {
  if (q.groupBy.length > 0) return q.groupBy;
  if (q.distinct) return q.items.map((_, i) => String(i + 1));
  if (q.items.some((i) => i.aggregate)) return [];
  return [q.from, ...q.joins.map((j) => j.source)].flatMap((s) => s.uniqueKey.map((k) => `${s.alias}.${k}`));
}

function renderOrder(order: OrderSpec, keys: string[]): string {
  const seen = new Set<string>();
  const all = [...order.lead, ...keys].filter((k) => (seen.has(k) ? false : (seen.add(k), true)));
  let sql = '';
  if (all.length > 0) sql += ` ORDER BY ${all.map((k, i) => `${k}${order.desc[i % order.desc.length] ? ' DESC' : ''}`).join(', ')}`;
  if (order.limit !== undefined) sql += ` LIMIT ${order.limit}${order.offset !== undefined ? ` OFFSET ${order.offset}` : ''}`;
  return sql;
}

export function renderSelect(q: SelectQuery): string {
  const cte = q.from.kind === 'derived' && q.from.cte === true ? q.from : null;
  const from = cte !== null ? cte.alias : renderSource(q.from);
  let sql = `${cte !== null ? `WITH ${cte.alias} AS (${renderQuery(cte.query)}) ` : ''}SELECT ${q.foundRows === 'calc' ? 'SQL_CALC_FOUND_ROWS ' : ''}${q.distinct ? 'DISTINCT ' : ''}${q.items.map((it, i) => `${i === 0 && q.lastInsertId === true ? `LAST_INSERT_ID(${it.sql})` : it.sql} AS c${i}`).join(', ')} FROM ${from}`;
  for (const j of q.joins) sql += ` ${j.type} ${renderSource(j.source)} ON ${renderPredicate(j.on)}`;
  if (q.where.length > 0) sql += ` WHERE ${q.where.map(renderPredicate).join(' AND ')}`;
  if (q.groupBy.length > 0) sql += ` GROUP BY ${q.groupBy.join(', ')}`;
  if (q.having.length > 0) sql += ` HAVING ${q.having.map(renderPredicate).join(' AND ')}`;
  if (q.order !== null) {
    // With DISTINCT, lead keys must be select items: order by positions only.
    const order = q.distinct ? { ...q.order, lead: q.order.lead.filter((k) => /^\d+$/.test(k)) } : q.order;
    sql += renderOrder(order, totalOrderKeys(q));
  }
  return sql;
}

export function renderQuery(q: RandomQuery): string {
  if (q.kind === 'select') return renderSelect(q.select);
  const u = q.union;
  const glue = u.all ? ' UNION ALL ' : ' UNION ';
  let sql = u.parts.map((p) => (p.order !== null ? `(${renderSelect(p)})` : renderSelect(p))).join(glue);
  if (u.order !== null) {
    const width = u.parts[0].items.length;
    sql += renderOrder(u.order, Array.from({ length: width }, (_, i) => String(i + 1)));
  }
  return sql;
}
