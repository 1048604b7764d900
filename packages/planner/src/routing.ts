/**
 * Routing: which shards a set of tables plus predicates can be answered from, and when two such
 * sets may be merged into one route. The rules follow Vitess's operator planner
 * (sharded_routing.go, join_merging.go): predicates give vindex options, the cheapest option wins
 * (by opcode, then uniqueness, then vindex cost), and routes merge only when every joined row is
 * guaranteed to live on the same shard.
 */
import type { Keyspace, Table, ColumnVindex } from '@shardgate/vschema';
import type { RouteVariant, ValueExpr } from './plan-types.js';

/** A table reference in one query scope. */
export interface TableRef {
  readonly id: number;
  /** The name columns are qualified with (alias, or table name as written). */
  readonly alias: string;
  readonly kind: 'table' | 'dual' | 'dba' | 'derived';
  readonly table?: Table;
  /** Lower-cased column names known to exist (vindex columns and listed columns). */
  readonly knownColumns: ReadonlySet<string>;
  /** True when `knownColumns` is the complete list. */
  readonly authoritative: boolean;
  /** Derived tables: outer column (lower) → the inner column key it is, when it is a plain column. */
  readonly derivedColumns?: ReadonlyMap<string, string | null>;
  /** Derived tables: select-list names in order (lower). */
  readonly derivedNames?: readonly string[];
  /**
   * Derived tables: outer column → inner column whose values it holds (plain columns and
   * MIN/MAX of a column), for join merging even when the derived table aggregates.
   */
  readonly derivedJoinColumns?: ReadonlyMap<string, string>;
  /** Derived tables: ids of the tables inside (their columns count as this scope's). */
  readonly derivedInnerIds?: ReadonlySet<string>;
  /**
   * Derived tables whose statement needs several routes (a join across shards, a UNION of
   * different routes): why. No route can hold such a table; the gateway evaluates it, if anything.
   */
  readonly gatewayOnly?: string;
  /** Derived tables: columns (lower) that are count(), sum() or avg() of the inner statement, so numbers. */
  readonly derivedNumeric?: ReadonlySet<string>;
  /**
   * Derived tables MariaDB merges into the outer statement (one SELECT without aggregates,
   * DISTINCT, GROUP BY, HAVING, LIMIT or window functions): columns (lower) whose item is an
   * expression rather than a column. An aggregate over such a column sees the expression, as it
   * does in MariaDB (MIN(COALESCE(int_col)) is a BIGINT there, MIN(int_col) an INT).
   */
  readonly derivedExpressions?: ReadonlySet<string>;
  /** Of derivedExpressions, those whose item divides (`/`): see select-planner holdsDivision. */
  readonly derivedDivisions?: ReadonlySet<string>;
}

/** `${tableId}:${lowerColumn}` */
export type ColKey = string;

export function colKey(t: TableRef, column: string): ColKey {
  return `${t.id}:${column.toLowerCase()}`;
}

export type Cond =
  | { readonly k: 'eq'; readonly col: ColKey; readonly value: ValueExpr; readonly routable: boolean }
  | { readonly k: 'in'; readonly col: ColKey; readonly values: ValueExpr; readonly routable: boolean }
  | { readonly k: 'tupleIn'; readonly cols: readonly ColKey[]; readonly rows: readonly (readonly ValueExpr[])[]; readonly routable: boolean }
  | { readonly k: 'like'; readonly col: ColKey; readonly value: ValueExpr; readonly routable: boolean }
  | { readonly k: 'coleq'; readonly a: ColKey; readonly b: ColKey }
  | { readonly k: 'false'; readonly routable: boolean };

/** A set of tables and predicates that may become one route. */
export interface Cand {
  readonly tables: TableRef[];
  readonly conds: Cond[];
  /** A routing fixed from outside (a merged UNION), instead of one computed from `conds`. */
  fixed?: Routing;
  /** True when some part is multi-shard-unsafe (LIMIT/aggregation inside a nested select). */
  opaque: boolean;
}

export interface Routing {
  readonly variant: RouteVariant;
  /** null: only `dual` so far (any keyspace). */
  readonly keyspace: Keyspace | null;
  readonly vindex?: ColumnVindex;
  readonly values?: readonly ValueExpr[];
  /** Hex keyspace id of a pinned table. */
  readonly pinned?: string;
  /** Sharded/unsharded/reference/dba/dual: the kind of tables behind the route. */
  readonly base: 'sharded' | 'anyShard' | 'dba' | 'dual';
}

/** Vitess's opcode order (engine/routing.go); lower is cheaper. */
const OPCODE_ORDER: Record<RouteVariant, number> = {
  Unsharded: 0,
  EqualUnique: 1,
  Equal: 2,
  IN: 3,
  MultiEqual: 4,
  Scatter: 5,
  Next: 6,
  DBA: 7,
  Reference: 8,
  None: 9,
  ByDestination: 10,
  SubShard: 11,
};

/** Variants that reach at most one shard. */
export function isSingleShard(r: Routing): boolean {
  return r.variant === 'EqualUnique' || r.variant === 'Unsharded' || r.variant === 'Reference' || r.variant === 'None' || r.variant === 'DBA' || r.variant === 'Next';
}

/** Union-find over column keys, from the `coleq` conditions. */
export class ColumnClasses {
  private readonly parent = new Map<ColKey, ColKey>();
  constructor(conds: readonly Cond[]) {
    for (const c of conds) if (c.k === 'coleq') this.union(c.a, c.b);
  }
  find(x: ColKey): ColKey {
    let p = this.parent.get(x);
    if (p === undefined) return x;
    while (p !== undefined && p !== x) {
      const gp = this.parent.get(p);
      if (gp === undefined || gp === p) return p;
      x = p;
      p = gp;
    }
    return x;
  }
  union(a: ColKey, b: ColKey): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

interface ColFacts {
  eq: ValueExpr[];
  in: ValueExpr[];
  like: ValueExpr[];
}

interface Option {
  variant: RouteVariant;
  cv: ColumnVindex;
  values: ValueExpr[];
}

function optionLess(a: Option, b: Option): boolean {
  const oa = OPCODE_ORDER[a.variant];
  const ob = OPCODE_ORDER[b.variant];
  if (oa !== ob) return oa < ob;
  if (a.cv.unique === b.cv.unique) return a.cv.cost < b.cv.cost;
  return a.cv.unique;
}

/** Whether a lookup vindex can route reads (a write-only/backfilling one maps to every shard). */
function usableForReads(cv: ColumnVindex): boolean {
  const v = cv.vindex as { kind: string; writeOnly?: boolean };
  return !(v.kind === 'lookup' && v.writeOnly === true);
}

/**
 * Computes a candidate's routing from its tables and routable conditions. `defaultKeyspace` is the
 * keyspace for dual-only queries.
 */
export function computeRouting(cand: Cand): Routing {
  if (cand.fixed) return cand.fixed;
  const sharded: TableRef[] = [];
  let anyShard: TableRef | undefined;
  let dba = false;
  for (const t of cand.tables) {
    if (t.kind === 'dba') dba = true;
    else if (t.kind === 'table' && t.table) {
      if (t.table.type === 'sharded' && t.table.keyspace.sharded) sharded.push(t);
      else if (anyShard === undefined || anyShard.table!.type === 'reference') anyShard = t;
    }
  }
  const routableFalse = cand.conds.some((c) => c.k === 'false' && c.routable);
  if (sharded.length > 0) {
    const ks = sharded[0]!.table!.keyspace;
    if (routableFalse) return { variant: 'None', keyspace: ks, base: 'sharded' };
    for (const t of sharded) {
      if (t.table!.pinned !== undefined) {
        return { variant: 'EqualUnique', keyspace: ks, pinned: t.table!.pinned, base: 'sharded' };
      }
    }
    const best = bestOption(cand, sharded);
    if (best === 'none') return { variant: 'None', keyspace: ks, base: 'sharded' };
    if (best) return { variant: best.variant, keyspace: ks, vindex: best.cv, values: best.values, base: 'sharded' };
    return { variant: 'Scatter', keyspace: ks, base: 'sharded' };
  }
  if (anyShard) {
    const ks = anyShard.table!.keyspace;
    if (routableFalse) return { variant: 'None', keyspace: ks, base: 'anyShard' };
    return { variant: ks.sharded ? 'Reference' : 'Unsharded', keyspace: ks, base: 'anyShard' };
  }
  if (dba) return { variant: 'DBA', keyspace: null, base: 'dba' };
  if (routableFalse) return { variant: 'None', keyspace: null, base: 'dual' };
  return { variant: 'Reference', keyspace: null, base: 'dual' };
}

function bestOption(cand: Cand, sharded: readonly TableRef[]): Option | 'none' | null {
  const classes = new ColumnClasses(cand.conds);
  const facts = new Map<ColKey, ColFacts>();
  const factsOf = (col: ColKey): ColFacts => {
    const root = classes.find(col);
    let f = facts.get(root);
    if (!f) {
      f = { eq: [], in: [], like: [] };
      facts.set(root, f);
    }
    return f;
  };
  const tupleIns: { cols: ColKey[]; rows: readonly (readonly ValueExpr[])[] }[] = [];
  for (const c of cand.conds) {
    if (c.k === 'eq' && c.routable) factsOf(c.col).eq.push(c.value);
    else if (c.k === 'in' && c.routable) factsOf(c.col).in.push(c.values);
    else if (c.k === 'like' && c.routable) factsOf(c.col).like.push(c.value);
    else if (c.k === 'tupleIn' && c.routable) tupleIns.push({ cols: c.cols.map((x) => classes.find(x)), rows: c.rows });
  }
  let best: Option | null = null;
  const consider = (o: Option): void => {
    if (best === null || optionLess(o, best)) best = o;
  };
  for (const t of sharded) {
    for (const cv of t.table!.columnVindexes) {
      if (!usableForReads(cv)) continue;
      const vindexInfo = cv.vindex as { multiColumn?: boolean };
      // A single-column vindex type declared on several columns uses the first one (Vitess).
      const effective = vindexInfo.multiColumn ? cv.columns : cv.columns.slice(0, 1);
      const cols = effective.map((c) => classes.find(colKey(t, c)));
      const colFacts = cols.map((c) => facts.get(c));
      if (cv.partial) {
        // A leading prefix of a multi-column vindex: equalities on all of it give a key range.
        if (colFacts.every((f) => f && f.eq.length > 0)) consider({ variant: 'SubShard', cv, values: colFacts.map((f) => f!.eq[0]!) });
        continue;
      }
      if (effective.length === 1) {
        const f = colFacts[0];
        if (f) {
          if (f.eq.length > 0) consider({ variant: cv.unique ? 'EqualUnique' : 'Equal', cv, values: [f.eq[0]!] });
          else if (f.in.length > 0) consider({ variant: 'IN', cv, values: [f.in[0]!] });
          else if (f.like.length > 0 && cv.vindex.type === 'cfc') consider({ variant: 'Equal', cv, values: [f.like[0]!] });
        }
        // (a, b) IN ((1, 2), (3, 4)) on a single-column vindex: MultiEqual over that column's values.
        for (const ti of tupleIns) {
          const idx = ti.cols.indexOf(cols[0]!);
          if (idx >= 0) consider({ variant: 'MultiEqual', cv, values: [{ kind: 'list', items: ti.rows.map((r) => r[idx]!) }] });
        }
        continue;
      }
      // Multi-column vindex.
      if (colFacts.every((f) => f && (f.eq.length > 0 || f.in.length > 0))) {
        const values = colFacts.map((f) => (f!.eq.length > 0 ? f!.eq[0]! : f!.in[0]!));
        const anyIn = colFacts.some((f) => f!.eq.length === 0);
        consider({ variant: anyIn ? 'IN' : cv.unique ? 'EqualUnique' : 'Equal', cv, values });
      } else {
        for (const ti of tupleIns) {
          const idx = cols.map((c) => ti.cols.indexOf(c));
          if (idx.every((x) => x >= 0)) {
            consider({ variant: 'MultiEqual', cv, values: idx.map((x) => ({ kind: 'list', items: ti.rows.map((r) => r[x]!) }) as ValueExpr) });
          }
        }
        // A leading prefix with equalities: a key range (SubShard), as Vitess's partial vindexes.
        const vindex = cv.vindex as { multiColumn?: boolean };
        if (vindex.multiColumn) {
          const prefix: ValueExpr[] = [];
          for (const f of colFacts) {
            if (f && f.eq.length > 0) prefix.push(f.eq[0]!);
            else break;
          }
          if (prefix.length > 0 && prefix.length < cols.length) consider({ variant: 'SubShard', cv, values: prefix });
        }
      }
    }
  }
  return best;
}

/** Structural equality of value expressions (same bind var, same literal). */
export function sameValue(a: ValueExpr, b: ValueExpr): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'bind':
    case 'bindList':
      return a.name === (b as { name: string }).name;
    case 'literal': {
      const x = a.value;
      const y = (b as { value: unknown }).value;
      if (typeof x === 'bigint' || typeof x === 'string' || x === null || typeof x === 'number') return x === y;
      return String(x) === String(y);
    }
    case 'list': {
      const bi = (b as { items: readonly ValueExpr[] }).items;
      return a.items.length === bi.length && a.items.every((x, i) => sameValue(x, bi[i]!));
    }
  }
}

/**
 * `items` without the values sameValue finds equal to an earlier one, first occurrence kept, in
 * linear time (a 50,000-term OR chain on one column compared each term with every other).
 * Equal to `items.filter((x, i) => !items.slice(0, i).some((u) => sameValue(u, x)))`, including
 * sameValue's String() comparison of a literal that is not a primitive (ExactNumber, bytes).
 */
export function uniqueValues(items: readonly ValueExpr[]): ValueExpr[] {
  const out: ValueExpr[] = [];
  const keys = new Set<string>();
  // String() of the non-primitive literals kept so far: sameValue(u, x) with such a u compares
  // String(u.value) with String(x.value), whatever x's value is.
  const objectTexts = new Set<string>();
  const lists: ValueExpr[] = [];
  for (const x of items) {
    if (x.kind === 'list') {
      if (lists.some((u) => sameValue(u, x))) continue;
      lists.push(x);
      out.push(x);
      continue;
    }
    if (x.kind !== 'literal') {
      const key = `${x.kind}\u0000${x.name}`;
      if (keys.has(key)) continue;
      keys.add(key);
      out.push(x);
      continue;
    }
    const v = x.value;
    const primitive = typeof v === 'bigint' || typeof v === 'string' || v === null || typeof v === 'number';
    if (objectTexts.has(String(v))) continue;
    if (primitive) {
      // NaN equals nothing (===), so it gets no key.
      const key = typeof v === 'number' && Number.isNaN(v) ? null : `${v === null ? 'null' : typeof v}\u0000${String(v)}`;
      if (key !== null && keys.has(key)) continue;
      if (key !== null) keys.add(key);
    } else {
      objectTexts.add(String(v));
    }
    out.push(x);
  }
  return out;
}

/** The keyspace a candidate needs (null: any, i.e. dual only). */
export function keyspaceOf(r: Routing): Keyspace | null {
  return r.keyspace;
}

/** Finds a unique single-column vindex of column `col` among the candidate's sharded tables. */
function vindexOfColumn(cand: Cand, col: ColKey, depth = 0): ColumnVindex | null {
  const [idStr, column] = splitKey(col);
  for (const t of cand.tables) {
    if (String(t.id) !== idStr) continue;
    if (t.kind === 'derived' && depth < 8) {
      // A derived column that is (the MIN/MAX of) an inner column holds values of that column.
      const inner = t.derivedJoinColumns?.get(column);
      if (inner) return vindexOfColumn(cand, inner, depth + 1);
      continue;
    }
    if (t.kind !== 'table' || !t.table) continue;
    for (const cv of t.table.columnVindexes) {
      if (cv.columns.length === 1 && cv.columns[0]!.toLowerCase() === column && cv.unique && usableForReads(cv)) return cv;
    }
  }
  return null;
}

export function splitKey(col: ColKey): [string, string] {
  const i = col.indexOf(':');
  return [col.slice(0, i), col.slice(i + 1)];
}

function sameVindex(a: ColumnVindex, b: ColumnVindex): boolean {
  return a.vindex === b.vindex || (a.name === b.name && a.vindex.type === b.vindex.type && a.vindex.name === b.vindex.name);
}

/** Whether some predicate equates columns of `a` and `b` that share one unique vindex. */
export function vindexJoined(a: Cand, b: Cand, preds: readonly { a: ColKey; b: ColKey }[]): boolean {
  for (const p of preds) {
    for (const [x, y] of [
      [p.a, p.b],
      [p.b, p.a],
    ] as const) {
      const va = vindexOfColumn(a, x);
      if (!va) continue;
      const vb = vindexOfColumn(b, y);
      if (vb && sameVindex(va, vb)) return true;
    }
  }
  return false;
}

/**
 * Whether candidates `a` and `b` can be answered by one route, given the equalities `preds`
 * (column pairs joining them). Mirrors Vitess's join merging.
 */
export function canMerge(a: Cand, b: Cand, preds: readonly { a: ColKey; b: ColKey }[]): boolean {
  const ra = computeRouting(a);
  const rb = computeRouting(b);
  if (ra.base === 'dual' || rb.base === 'dual') return true;
  const ksA = ra.keyspace;
  const ksB = rb.keyspace;
  const sameKs = ksA !== null && ksB !== null && ksA.name === ksB.name;
  if (ra.base === 'dba' || rb.base === 'dba') return ra.base === 'dba' && rb.base === 'dba';
  if (!sameKs) return false;
  if (ra.base === 'anyShard' || rb.base === 'anyShard') return true;
  if (ra.variant === 'None' || rb.variant === 'None') return true;
  // Both sharded, same keyspace.
  if (ra.variant === 'EqualUnique' && rb.variant === 'EqualUnique') {
    if (ra.pinned !== undefined || rb.pinned !== undefined) return ra.pinned === rb.pinned;
    if (ra.vindex && rb.vindex && sameVindex(ra.vindex, rb.vindex) && ra.values!.length === rb.values!.length && ra.values!.every((v, i) => sameValue(v, rb.values![i]!))) {
      return true;
    }
  }
  const mergeable = (v: RouteVariant): boolean => v === 'EqualUnique' || v === 'Scatter' || v === 'IN' || v === 'None';
  if (!mergeable(ra.variant) && !mergeable(rb.variant)) return false;
  return vindexJoined(a, b, preds);
}

/**
 * Merges `b` into a new candidate with `a`. For an outer merge (b cannot filter a's rows: a LEFT
 * JOIN's right side, a NOT EXISTS, a scalar subquery) only b's column equalities are kept, so the
 * routing stays a's.
 */
export function mergeCands(a: Cand, b: Cand, outer: boolean): Cand {
  const bConds = outer ? b.conds.filter((c) => c.k === 'coleq') : b.conds;
  const merged: Cand = { tables: [...a.tables, ...b.tables], conds: [...a.conds, ...bConds], opaque: a.opaque || b.opaque };
  if (a.fixed || b.fixed) {
    const ra = computeRouting(a);
    const rb = computeRouting(b);
    merged.fixed = ra.base === 'dual' && !outer ? rb : rb.base === 'dual' || outer ? ra : ra.base === 'anyShard' ? rb : ra;
  }
  return merged;
}

/**
 * The routing of `a UNION b` when both parts can run as one route (each shard answers its part
 * of both): null when they cannot.
 */
export function unionRouting(a: Routing, b: Routing): Routing | null {
  const sameKs = a.keyspace !== null && b.keyspace !== null && a.keyspace.name === b.keyspace.name;
  if (a.variant === 'None' && (a.keyspace === null || sameKs)) return b;
  if (b.variant === 'None' && (b.keyspace === null || sameKs)) return a;
  if (a.base === 'dual' && b.base === 'dual') return a;
  if (a.base === 'dual') return b.base === 'anyShard' || isSingleShard(b) ? b : null;
  if (b.base === 'dual') return a.base === 'anyShard' || isSingleShard(a) ? a : null;
  if (a.base === 'dba' || b.base === 'dba') return a.base === 'dba' && b.base === 'dba' ? a : null;
  if (!sameKs) return null;
  if (a.base === 'anyShard' && b.base === 'anyShard') return a.variant === 'Unsharded' ? a : b;
  if (a.base === 'anyShard') return isSingleShard(b) ? b : null;
  if (b.base === 'anyShard') return isSingleShard(a) ? a : null;
  if (a.variant === 'Scatter' && b.variant === 'Scatter') return a;
  if (a.variant === 'EqualUnique' && b.variant === 'EqualUnique') {
    if (a.pinned !== undefined || b.pinned !== undefined) return a.pinned === b.pinned ? a : null;
    if (a.vindex && b.vindex && a.vindex.name === b.vindex.name && a.values!.length === b.values!.length && a.values!.every((v, i) => sameValue(v, b.values![i]!))) return a;
  }
  return null;
}
