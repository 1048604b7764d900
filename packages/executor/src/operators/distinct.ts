/**
 * Distinct (UNION, SELECT DISTINCT across shards): passes each row the first time its
 * collation-equal key is seen. Streams; memory holds the keys seen so far, except over rows
 * sorted on the key itself (`SELECT DISTINCT c … ORDER BY c`), where equal keys arrive one after
 * the other and each row is compared with the last one kept (AdjacentKeys).
 */
import type { BindVars, DistinctPrimitive, Primitive, RoutePrimitive } from '@shardgate/planner';
import type { QueryContext } from '../query-context.js';
import { FieldsOnce, trimFields, trimRow, type RowReceiver } from '../row-flow.js';
import type { Cell, FieldInfo, Row } from '../types.js';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import { compareCollationKeys, equalityKey, isTextField } from '../values/cell-compare.js';
import { CollationTagCheck } from '../values/collation-tag-check.js';
import { runPrimitive } from '../primitive-runner.js';

export function rowKey(row: Row, fields: readonly FieldInfo[], columns: number, weightStringColumns?: readonly (number | undefined)[]): string {
  let key = '';
  for (let i = 0; i < columns; i++) {
    const ws = weightStringColumns?.[i];
    key += equalityKey(row[i], fields[i], ws === undefined ? undefined : row[ws]) + '\u0001';
  }
  return key;
}

export async function runDistinct(ctx: QueryContext, p: DistinctPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Per-query set of keys. Concurrency rule: each chunk checks and inserts its keys in one
  // synchronous loop (no await between has() and add()), so concurrent chunks cannot both pass
  // the same key.
  const seen = new Set<string>();
  let fields: readonly FieldInfo[] = [];
  // Set with the fields (before any row), when the plan asks for it.
  let collations: CollationTagCheck | null = null;
  // Set with the fields when the rows come sorted on the one key column's collation key.
  let adjacent: AdjacentKeys | null = null;
  const sortedKey = sortedKeyColumn(p);
  const fieldsOnce = new FieldsOnce((f) => {
    fields = f;
    if (p.collationTagColumn !== undefined) collations = new CollationTagCheck(f, p.collationTagColumn, p.weightStringColumns ?? []);
    // The merge compares collation keys only for a text column (others by value): so does this.
    if (sortedKey !== undefined && isTextField(f[0])) adjacent = new AdjacentKeys(f[0]!, sortedKey);
    out.fields(trimFields(f, p.resultColumns));
  });
  await runPrimitive(ctx, p.input, bv, {
    fields: (f) => fieldsOnce.fields(f),
    rows: (rows) => {
      if (adjacent !== null) {
        const fresh: Row[] = [];
        for (const r of rows) if (adjacent.isNew(r)) fresh.push(trimRow(r, p.resultColumns));
        ctx.holdRows(fresh.length);
        return fresh.length > 0 ? out.rows(fresh) : undefined;
      }
      // The result columns; without a trim, those that have keys (the rest are the keys).
      const columns = p.resultColumns ?? p.weightStringColumns?.length ?? fields.length;
      const fresh: Row[] = [];
      for (const r of rows) {
        collations?.check(r);
        const k = rowKey(r, fields, columns, p.weightStringColumns);
        if (seen.has(k)) continue;
        seen.add(k);
        fresh.push(trimRow(r, p.resultColumns));
      }
      ctx.holdRows(fresh.length);
      return fresh.length > 0 ? out.rows(fresh) : undefined;
    },
  });
}

/**
 * The collation-key column of a DISTINCT whose rows come sorted on it: one result column whose
 * equality is its collation key, under a route that orders by exactly that column and key (the
 * merge of several shards compares the keys with compareCollationKeys, one shard sorts by the
 * same collation). Rows with equal keys are then adjacent. Not for a UNION (its parts are not
 * merged in order, and carry collation tags).
 */
function sortedKeyColumn(p: DistinctPrimitive): number | undefined {
  const ws = p.weightStringColumns;
  if (p.collationTagColumn !== undefined || ws === undefined || ws.length !== 1 || ws[0] === undefined) return undefined;
  if ((p.resultColumns ?? 1) !== 1) return undefined;
  const input: Primitive = p.input;
  if (input.operator !== 'Route') return undefined;
  const orderBy = (input as RoutePrimitive).orderBy;
  if (orderBy === undefined || orderBy.length !== 1) return undefined;
  const k = orderBy[0]!;
  if (k.column !== 0 || k.weightStringColumn !== ws[0] || k.grouping === true || k.noCollationKey === true) return undefined;
  return ws[0];
}

/**
 * DISTINCT over rows sorted on their one collation key (see sortedKeyColumn): a row is new unless
 * its key equals the last kept row's, compared in the key's bytes, where a set of keys built a
 * string per row. The same rows pass as through the set: with equal key headers,
 * compareCollationKeys is 0 exactly when collationKeyText is equal (trailing space weights under
 * PAD SPACE), and the sort puts equal keys together. A row without a key (a NULL, or a value the
 * shard gave no weight) sorts among the NULLs, in no order of its own: those few go through a set
 * under equalityKey, whose keys never equal a weighted key's. Per query; isNew runs on one row at
 * a time, synchronously.
 */
class AdjacentKeys {
  private last: Uint8Array | null = null;
  private unkeyed: Set<string> | null = null;

  constructor(
    private readonly field: FieldInfo,
    private readonly keyColumn: number,
  ) {}

  isNew(row: Row): boolean {
    const value = row[0] ?? null;
    const key: Cell = row[this.keyColumn] ?? null;
    if (value === null || key === null) {
      const k = equalityKey(value, this.field, key);
      const seen = (this.unkeyed ??= new Set());
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }
    const last = this.last;
    if (last !== null) {
      if (!sameKeyHeader(last, key)) refuseMixedKeys();
      if (compareCollationKeys(last, key) === 0) return false;
    }
    this.last = key;
    return true;
  }
}

/** Whether two collation keys share their header: weight unit, PAD SPACE flag and the space's weight. */
function sameKeyHeader(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length < 2 || b.length < 2 || a[0] !== b[0] || a[1] !== b[1]) return false;
  const end = 2 + a[0]!;
  if (a.length < end || b.length < end) return false;
  for (let i = 2; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

function refuseMixedKeys(): never {
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: DISTINCT over strings whose collation keys the shards made in different collations');
}
