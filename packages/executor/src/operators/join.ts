/**
 * Join: a nested-loop (apply) join across shards. For each outer row the right side runs with
 * the join bind vars taken from that row (a few rows' lookups in flight at once, identical ones
 * shared: see inner-lookups.ts).
 */
import type { BindVars, JoinPrimitive, Primitive, SqlValue } from '@shardgate/planner';
import { copyBindVars, type QueryContext } from '../query-context.js';
import { CollectingReceiver, FieldsOnce, SerialQueue, type BufferedRows, type RowReceiver } from '../row-flow.js';
import type { Cell, FieldInfo, Row } from '../types.js';
import { cellToSqlValue, ColumnNumber } from '../values/cell-codec.js';
import { integerTypeFloor, TypedNull, typedBindValue, typedNullOf } from '../values/typed-temporal.js';
import { runPrimitive } from '../primitive-runner.js';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import { ColumnFlag, ColumnType, valueClassOf } from '../values/column-types.js';
import { deterministicRoute, InnerLookups, lookupInOrder } from './inner-lookups.js';
import { KeyedLookups, ROW_OFFSET, type KeyedBatch } from './keyed-lookups.js';
import { RowSlices } from '../event-loop-yield.js';

/** Joined rows handed on at a time from a keyed batch. */
const JOINED_CHUNK = 1024;

/** Runs a primitive to completion and returns its rows (the inner side of joins, subqueries). */
export async function collect(ctx: QueryContext, p: Primitive, bv: BindVars): Promise<BufferedRows> {
  const r = new CollectingReceiver();
  await runPrimitive(ctx.buffered(), p, bv, r);
  return r.result();
}

/** A LEFT JOIN's inner column: NULL on unmatched rows, so MariaDB reports it without NOT_NULL. */
function nullable(f: FieldInfo): FieldInfo {
  return f !== undefined && (f.flags & ColumnFlag.NOT_NULL) !== 0 ? { ...f, flags: f.flags & ~ColumnFlag.NOT_NULL } : f;
}

/**
 * The bind vars of one outer row: a NEW object per row, built from the row alone. Never share
 * one between rows or callbacks — that is exactly Vitess 21.0.1's semi-join bug (#17410).
 */
export function joinBindVars(base: BindVars, joinVars: Readonly<Record<string, number>>, row: Row | null, fields: readonly FieldInfo[], valueJoinVars?: readonly string[]): BindVars {
  const bv: BindVars = copyBindVars(base);
  for (const [name, column] of Object.entries(joinVars)) bv[name] = row === null ? null : typedBindValue(cellToSqlValue(row[column] ?? null, fields[column]), fields[column]);
  // An integer value computed into a right-side expression keeps its column type's width there (a
  // literal 5 is an INT(1): `coalesce(t2.product_id, :t1_order_id)` would be an INT column where
  // MariaDB's is BIGINT, `year(d) - :t1_id` an INT where it is a BIGINT; see integerTypeFloor).
  // A DECIMAL's NULL keeps its scale there (TypedNull): `ifnull(:c_balance, o.total)` is 38.00.
  for (const name of valueJoinVars ?? []) {
    const v = bv[name];
    const field = fields[joinVars[name]!];
    const floor = integerTypeFloor(field);
    if (typeof v === 'bigint' && floor !== undefined) bv[name] = new ColumnNumber(v.toString(), 'bigint', true, floor);
    else if (v === null) bv[name] = (typedNullOf(field) as unknown as SqlValue) ?? null;
  }
  return bv;
}

/** The join values of one row's bind vars, in joinVars order (the key for sharing a lookup). */
export function joinValues(bv: BindVars, joinVars: Readonly<Record<string, number>>): SqlValue[] {
  return Object.keys(joinVars).map((name) => bv[name] as SqlValue);
}

/**
 * A join var bound into a right-side expression becomes a literal there: only a signed integer or
 * a decimal means the same as a literal (see JoinPrimitive.valueJoinVars); anything else is
 * refused before a row is joined.
 */
function checkValueJoinVars(p: JoinPrimitive, leftFields: readonly FieldInfo[]): void {
  for (const name of p.valueJoinVars ?? []) {
    const f = leftFields[p.joinVars[name]!];
    const cls = f ? valueClassOf(f.columnType, f.characterSet) : 'binary';
    const exact = (cls === 'integer' && f!.columnType !== ColumnType.YEAR && (f!.flags & ColumnFlag.UNSIGNED) === 0) || cls === 'decimal';
    if (!exact) {
      throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: an expression over both sides of a join across shards with the ${cls === 'integer' ? 'unsigned or YEAR' : cls} column '${f?.name ?? name}' (only signed integers and decimals keep their meaning when one side's value is sent to the other side's shard)`);
    }
  }
}

/**
 * The bind vars with each NULL value join var (see JoinPrimitive.valueJoinVars) replaced by a zero
 * of its left column's type, for asking the right side's column types: only signed integers and
 * decimals get there (checkValueJoinVars), and a zero types an expression as any value would.
 */
function withTypedZeros(bv: BindVars, p: JoinPrimitive, leftFields: readonly FieldInfo[]): BindVars {
  const out: BindVars = copyBindVars(bv);
  for (const name of p.valueJoinVars ?? []) {
    if (out[name] !== null && !((out[name] as unknown) instanceof TypedNull)) continue;
    const f = leftFields[p.joinVars[name]!];
    const scale = f?.decimals ?? 0;
    const floor = integerTypeFloor(f);
    out[name] =
      f !== undefined && valueClassOf(f.columnType, f.characterSet) === 'decimal'
        ? new ColumnNumber(scale > 0 ? `0.${'0'.repeat(scale)}` : '0', 'decimal')
        : floor !== undefined
          ? new ColumnNumber('0', 'bigint', true, floor)
          : 0n;
  }
  return out;
}

export async function runJoin(ctx: QueryContext, p: JoinPrimitive, bv: BindVars, out: RowReceiver): Promise<void> {
  // Per-query state shared by the outer stream's (possibly concurrent) callbacks:
  // `leftFields` is set once by the outer's single fields() call, before any rows;
  // `rightFieldCount` is set once, synchronously, by the first inner result to arrive;
  // `fieldsOnce` forwards the joined columns exactly once (synchronous test-and-set).
  let leftFields: readonly FieldInfo[] = [];
  let rightFieldCount = -1;
  const fieldsOnce = new FieldsOnce((f) => out.fields(f));
  // The right columns of an unmatched outer row: NULLs, or the plan's NULL-extended row. The
  // promise is created once, synchronously, by the first unmatched row, and only read after
  // (with nullRowPerRow each unmatched row asks for its own, sharing nothing).
  let nullRow: Promise<Row> | null = null;
  const nullExtended = (left: Row): Promise<Row> | Row => {
    if (!p.nullRow) return [];
    if (p.nullRowPerRow) return collect(ctx, p.nullRow, joinBindVars(bv, p.joinVars, left, leftFields, p.valueJoinVars)).then((r) => r.rows[0] ?? []);
    nullRow ??= collect(ctx, p.nullRow, bv).then((r) => r.rows[0] ?? []);
    return nullRow;
  };
  const sendFields = (right: readonly FieldInfo[]) => {
    if (rightFieldCount < 0) rightFieldCount = right.length;
    if (fieldsOnce.done) return;
    const leftJoin = p.variant === 'LeftJoin';
    fieldsOnce.fields(p.cols.map((c) => (c < 0 ? leftFields[-c - 1]! : leftJoin ? nullable(right[c - 1]!) : right[c - 1]!)));
  };
  // The right side's column types, when they come from a row whose values bound into right-side
  // expressions were NULL: `t2.qty * NULL` is typed otherwise than `t2.qty * 5` (a DOUBLE, not a
  // BIGINT, so an AVG over it would show another scale). Such a row's columns are asked again with
  // typed zeros in place of the NULLs, once per statement (set synchronously, then only read).
  let typedFields: Promise<readonly FieldInfo[]> | null = null;
  const rightFields = (left: Row, inner: BufferedRows): readonly FieldInfo[] | Promise<readonly FieldInfo[]> => {
    if (fieldsOnce.done || !(p.valueJoinVars ?? []).some((name) => (left[p.joinVars[name]!] ?? null) === null)) return inner.fields;
    typedFields ??= collect(ctx.columnsOnly(), p.right, withTypedZeros(joinBindVars(bv, p.joinVars, left, leftFields, p.valueJoinVars), p, leftFields)).then((r) => r.fields);
    return typedFields;
  };
  // The joined rows are built from rows already here, with no I/O between chunks: other sessions,
  // timers and this statement's abort get a turn every slice of them (see RowSlices).
  const slices = new RowSlices();
  const handOn = (joined: Row[]): Promise<void> | void => {
    const turn = slices.spend(joined.length, () => ctx.throwIfAborted());
    return turn === undefined ? out.rows(joined) : turn.then(() => out.rows(joined));
  };
  const lookups = new InnerLookups(ctx, p.right, (rowBv) => collect(ctx, p.right, rowBv));
  const request = (left: Row) => {
    const rowBv = joinBindVars(bv, p.joinVars, left, leftFields, p.valueJoinVars);
    return { bindVars: rowBv, values: joinValues(rowBv, p.joinVars) };
  };
  const joinRow = async (left: Row, inner: BufferedRows): Promise<void> => {
    const fields = rightFields(left, inner);
    sendFields(fields instanceof Promise ? await fields : fields);
    const joined: Row[] = [];
    if (inner.rows.length === 0) {
      if (p.variant === 'LeftJoin') {
        const ext = await nullExtended(left);
        joined.push(p.cols.map((c): Cell => (c < 0 ? (left[-c - 1] ?? null) : (ext[c - 1] ?? null))));
      }
    } else {
      for (const right of inner.rows) joined.push(p.cols.map((c) => (c < 0 ? (left[-c - 1] ?? null) : (right[c - 1] ?? null))));
    }
    if (joined.length > 0) await handOn(joined);
  };
  // One IN-list query per batch of outer rows, matched at the gateway, where the join allows it
  // (see keyed-lookups.ts); the per-row lookups otherwise, and for any batch it cannot answer.
  const keyed = p.keyedLookup !== undefined && deterministicRoute(p.right) ? new KeyedLookups(ctx, p.keyedLookup, p.joinVars[p.keyedLookup.joinVar]!) : null;
  const joinBatch = async (rows: readonly Row[], batch: KeyedBatch): Promise<void> => {
    sendFields(batch.fields);
    const cols = p.cols;
    const { inner, first, next } = batch;
    // Per joined column taken from the inner row, its column there (past the keyed lookup's
    // helper columns); -1 for one the inner rows lack (NULL, as a decoded row's missing cell).
    const innerColumn = cols.map((c) => (c > 0 && c - 1 < batch.fields.length ? c - 1 + ROW_OFFSET : -1));
    // Each chunk's array made at its usual size at once (not grown by push, which copied it
    // eight times over), and cut to the rows it got.
    let joined: Row[] = new Array<Row>(JOINED_CHUNK);
    let n = 0;
    for (let i = 0; i < rows.length; i++) {
      const left = rows[i]!;
      if (first[i]! < 0) {
        if (p.variant !== 'LeftJoin') continue;
        const ext = await nullExtended(left);
        joined[n++] = cols.map((c): Cell => (c < 0 ? (left[-c - 1] ?? null) : (ext[c - 1] ?? null)));
      } else {
        for (let g = first[i]!; g >= 0; g = next[g]!) {
          // Only the cells the joined row takes are read out of the shard's packet.
          const row: Cell[] = new Array<Cell>(cols.length);
          for (let j = 0; j < cols.length; j++) {
            const c = cols[j]!;
            const k = innerColumn[j]!;
            row[j] = c < 0 ? (left[-c - 1] ?? null) : k >= 0 ? inner.cell(g, k) : null;
          }
          joined[n++] = row;
        }
      }
      if (n >= JOINED_CHUNK) {
        joined.length = n;
        await handOn(joined);
        joined = new Array<Row>(JOINED_CHUNK);
        n = 0;
      }
    }
    if (n > 0) {
      joined.length = n;
      await handOn(joined);
    }
  };
  // One keyed batch at a time per join, whichever outer chunk it comes from (sibling shard
  // streams call rows() concurrently): what the join holds is one batch's inner rows.
  const keyedBatches = new SerialQueue();
  const joinKeyed = async (keyedLookups: KeyedLookups, rows: readonly Row[]): Promise<void> => {
    for (let start = 0; start < rows.length; ) {
      ctx.throwIfAborted();
      if (!keyedLookups.usable) return lookupInOrder(ctx, rows.slice(start), lookups, request, joinRow);
      const { end, distinct } = keyedLookups.batchOf(rows, start);
      const batchRows = rows.slice(start, end);
      await keyedBatches.run(async () => {
        const batch = await keyedLookups.lookup(batchRows, distinct, leftFields, bv);
        if (batch === null) {
          await lookupInOrder(ctx, batchRows, lookups, request, joinRow);
          return;
        }
        try {
          await joinBatch(batchRows, batch);
        } finally {
          ctx.releaseRows(batch.held);
        }
      });
      start = end;
    }
  };
  await runPrimitive(ctx, p.left, bv, {
    fields: (f) => {
      leftFields = f;
      checkValueJoinVars(p, f);
    },
    // Everything in a rows() call is local to it. Its rows' lookups overlap or go in batches;
    // their joined rows go out strictly in outer-row order.
    rows: (rows) => (keyed?.usable ? joinKeyed(keyed, rows) : lookupInOrder(ctx, rows, lookups, request, joinRow)),
  });
  if (!fieldsOnce.done) {
    // No outer rows: ask the right side for its columns with NULL join values (typed zeros in
    // right-side expressions, see rightFields).
    const inner = await collect(ctx, p.right, withTypedZeros(joinBindVars(bv, p.joinVars, null, leftFields, p.valueJoinVars), p, leftFields));
    sendFields(inner.fields);
  }
}
