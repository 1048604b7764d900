/**
 * The inner side of a join looked up for a whole batch of outer rows at once, when the join's only
 * dependence on the outer row is one equality `inner.col = outer.col` (the plan's KeyedLookup):
 * one `inner.col IN (distinct outer values)` query per inner shard (each shard gets only its own
 * values when col is a vindex), whose rows are matched to the outer rows at the gateway through a
 * hash table keyed by the join value, a hash join per batch.
 *
 * The match must be MariaDB's own `inner.col = <the outer value>`, so it is used only where the
 * gateway reproduces that comparison exactly, decided from the two columns' types:
 * - numbers: both integers, both decimals, or an integer outer value against a decimal column,
 *   compared by their exact decimal value (YEAR, floats, and a decimal against an integer column,
 *   which MariaDB may round, are not);
 * - strings of one collation on both sides: compared by the collation key each shard computes
 *   (joinKeySql: 'a' = 'A' under a _ci collation, trailing spaces ignored under PAD SPACE), whose
 *   collation name must be the same on both sides; ENUM and SET are not.
 * NULL never matches. Anything else (a string against a number, two collations, dates) goes the
 * per-row way (inner-lookups.ts), whose answer is each outer row's own query; so does a batch
 * whose values are all NULL (it needs the inner columns from somewhere).
 *
 * Outer rows keep their order; each one's inner rows come in the order the shards returned them.
 * A batch's inner rows are held until it is joined: they count against maxMemoryRows meanwhile,
 * and the batch size adapts so that a batch aims to hold at most BATCH_INNER_ROWS of them.
 */
import type { KeyedLookup, SqlValue } from '@shardgate/planner';
import { extendBindVars, type QueryContext } from '../query-context.js';
import type { Cell, FieldInfo, Row } from '../types.js';
import { cellToSqlValue } from '../values/cell-codec.js';
import { typedBindValue } from '../values/typed-temporal.js';
import { ColumnFlag, ColumnType, valueClassOf } from '../values/column-types.js';
import { renderTemplateInSlices } from '../values/render-query.js';
import { fanOut, resolveRouteTargets, withSpecialBinds } from './route.js';
import { KeyedInnerRows } from './keyed-inner-rows.js';

/** The helper columns opening each inner row of a keyed lookup (the join value and its key). */
export const ROW_OFFSET = 2;
/** Most distinct outer values in one batch. */
export const KEYED_BATCH_VALUES = 4096;
/** Fewest distinct outer values in one batch, however many inner rows each brings. */
const MIN_BATCH_VALUES = 64;
/** Inner rows a batch aims to hold (within maxMemoryRows). */
const BATCH_INNER_ROWS = 50_000;
/** Largest statement sent: a shard's part of the list is split into several beyond it. */
const BATCH_SQL_BYTES = 256 * 1024;

/** How the gateway compares outer and inner join values. */
export type KeyMode = 'number' | 'collation';

/** A cell's bytes as a string, one character per byte (a key: never shown). No Buffer per cell for the short ones. */
function latin1(cell: Uint8Array): string {
  if (cell.length <= 256) return String.fromCharCode.apply(null, cell as unknown as number[]);
  return Buffer.from(cell.buffer, cell.byteOffset, cell.byteLength).toString('latin1');
}

/** `source[start, end)` as a latin1 string, with no view of it when source is a Buffer. */
function latin1Of(source: Uint8Array, start: number, end: number): string {
  return Buffer.isBuffer(source) ? source.toString('latin1', start, end) : latin1(source.subarray(start, end));
}

/** Most digits of an integer read straight into a double (exact below 2^53). */
const MAX_FAST_DIGITS = 15;

/**
 * The integer `source[start, end)` as a number when its text is a plain integer in its one form
 * ('0', '42', '-7': no sign on zero, no leading zero) of at most MAX_FAST_DIGITS digits, so that
 * the common key is found with no string. null otherwise.
 */
function plainInteger(source: Uint8Array, start: number, end: number): number | null {
  let i = start;
  const negative = i < end && source[i] === 45;
  if (negative) i++;
  const digits = end - i;
  if (digits < 1 || digits > MAX_FAST_DIGITS) return null;
  if (source[i] === 48 && (digits > 1 || negative)) return null;
  let n = 0;
  for (; i < end; i++) {
    const d = source[i]! - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/**
 * A key for a cell's bytes, equal for equal bytes only: a plain integer as its number (no string
 * allocated), anything else as its latin1 string. Numbers and strings never equal each other in a
 * Set or Map, and a plain integer's bytes never take the string form.
 */
export type CellKey = number | string;
export function bytesKey(source: Uint8Array, start: number, end: number): CellKey {
  return plainInteger(source, start, end) ?? latin1Of(source, start, end);
}

const PLAIN_SHORT_INTEGER = new RegExp(`^(?:0|-?[1-9][0-9]{0,${MAX_FAST_DIGITS - 1}})$`);

/**
 * A key for an integer or decimal's value, equal for equal values only ('007', '7' and '7.00'):
 * its canonical text (canonicalNumber), as a number when that is a plain integer of at most
 * MAX_FAST_DIGITS digits (the same number plainInteger reads), as the string otherwise.
 */
export function numberKey(source: Uint8Array, start: number, end: number): CellKey {
  const fast = plainInteger(source, start, end);
  if (fast !== null) return fast;
  const text = canonicalNumber(latin1Of(source, start, end));
  return PLAIN_SHORT_INTEGER.test(text) ? Number(text) : text;
}

/**
 * The collation named at the head of a collation key ('utf8mb4_general_ci:…'), when it is the
 * one named so far (`prefix`, null before the first key); null otherwise (no name, or another).
 */
function collationOf(key: string, prefix: string | null): string | null {
  if (prefix !== null) return key.startsWith(prefix) ? prefix : null;
  const p = key.slice(0, key.indexOf(':') + 1);
  return p === '' ? null : p;
}

/** Column types of the text and binary classes that do not compare as plain strings. */
const NOT_PLAIN_STRINGS: ReadonlySet<number> = new Set([ColumnType.BIT, ColumnType.GEOMETRY, ColumnType.ENUM, ColumnType.SET]);

/** How `outer` and `inner` columns' values compare at the gateway exactly as MariaDB's `=`, or null when they can't be. */
export function keyModeOf(outer: FieldInfo, inner: FieldInfo): KeyMode | null {
  const o = valueClassOf(outer.columnType, outer.characterSet);
  const i = valueClassOf(inner.columnType, inner.characterSet);
  if (outer.columnType === ColumnType.YEAR || inner.columnType === ColumnType.YEAR) return null;
  if ((o === 'integer' || o === 'decimal') && (i === 'integer' || i === 'decimal')) return o === 'decimal' && i === 'integer' ? null : 'number';
  const plainString = (f: FieldInfo) => (f.flags & (ColumnFlag.ENUM | ColumnFlag.SET)) === 0 && !NOT_PLAIN_STRINGS.has(f.columnType);
  if (o === i && (o === 'text' || o === 'binary') && plainString(outer) && plainString(inner)) return 'collation';
  return null;
}

const PLAIN_INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

/** An integer or decimal's text in one form per value: '007' and '7', '1.50' and '1.5', '-0.0' and '0'. */
export function canonicalNumber(text: string): string {
  // Most values are plain integers already in their one form: '42', '-7', '0'.
  if (PLAIN_INTEGER.test(text)) return text;
  let s = text;
  let sign = '';
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = '-';
    s = s.slice(1);
  }
  const dot = s.indexOf('.');
  let int = dot < 0 ? s : s.slice(0, dot);
  let frac = dot < 0 ? '' : s.slice(dot + 1);
  let a = 0;
  while (a < int.length - 1 && int.charCodeAt(a) === 48) a++;
  int = int.slice(a) || '0';
  let b = frac.length;
  while (b > 0 && frac.charCodeAt(b - 1) === 48) b--;
  frac = frac.slice(0, b);
  if (int === '0' && frac === '') sign = '';
  return sign + int + (frac === '' ? '' : '.' + frac);
}

/** A batch of outer rows (KeyedLookups.batchOf). */
export interface OuterBatch {
  /** End of the batch in the chunk. */
  readonly end: number;
  /** Per distinct non-NULL join value, the batch's row (from its start) where it first appears. */
  readonly distinct: readonly number[];
}

/** What a batch gives back: the inner rows per outer row, or null when the per-row way must answer it. */
export interface KeyedBatch {
  readonly fields: readonly FieldInfo[];
  /** The batch's inner rows; an inner row's own columns start at ROW_OFFSET. */
  readonly inner: KeyedInnerRows;
  /** Per outer row of the batch (in its order), its first inner row, or -1 when none matches. */
  readonly first: Int32Array;
  /** Per inner row, the next inner row that matches the same outer rows, or -1. */
  readonly next: Int32Array;
  /** Inner rows held, to release once the batch is joined. */
  readonly held: number;
}

/**
 * One join's batched lookups. Concurrency rule: `batchValues` and `disabled` are written
 * synchronously after a batch's results arrive and only steer later batches (any value is
 * correct); everything else of a batch is local to its call.
 */
export class KeyedLookups {
  /** Distinct values of the next batch: at first as if each brought one inner row (see adapt). */
  private batchValues: number;
  /** Set once the columns' types show the per-row way must answer (then for every batch). */
  private disabled = false;

  constructor(
    private readonly ctx: QueryContext,
    private readonly keyed: KeyedLookup,
    private readonly outerColumn: number,
  ) {
    this.batchValues = Math.max(MIN_BATCH_VALUES, Math.min(1024, this.budget()));
  }

  /** Inner rows a batch aims to hold: BATCH_INNER_ROWS, or a quarter of maxMemoryRows when that is less. */
  private budget(): number {
    return Math.max(1, Math.min(BATCH_INNER_ROWS, Math.floor(this.ctx.settings.maxMemoryRows / 4)));
  }

  get usable(): boolean {
    return !this.disabled;
  }

  /**
   * The next batch of `rows` from `start`: up to the adaptive number of distinct join values,
   * with the row (counted from `start`) where each value first appears.
   */
  batchOf(rows: readonly Row[], start: number): OuterBatch {
    const seen = new Set<CellKey>();
    const distinct: number[] = [];
    let i = start;
    for (; i < rows.length; i++) {
      const cell = rows[i]![this.outerColumn] ?? null;
      if (cell === null) continue;
      const v = bytesKey(cell, 0, cell.length);
      if (!seen.has(v)) {
        if (seen.size >= this.batchValues) break;
        seen.add(v);
        distinct.push(i - start);
      }
    }
    return { end: i, distinct };
  }

  /**
   * Looks up `rows` (one batch, see batchOf, whose `distinct` it takes) with `bv` as the
   * statement's bind vars and `leftFields` as the outer columns. Null when the per-row way must
   * answer this batch.
   */
  async lookup(rows: readonly Row[], distinct: readonly number[], leftFields: readonly FieldInfo[], bv: Parameters<typeof withSpecialBinds>[1]): Promise<KeyedBatch | null> {
    const outerField = leftFields[this.outerColumn];
    if (outerField === undefined) return this.disable();
    // Distinct outer values (by their bytes), exactly as the per-row query would bind them.
    const values: SqlValue[] = new Array(distinct.length);
    for (let d = 0; d < distinct.length; d++) values[d] = typedBindValue(cellToSqlValue(rows[distinct[d]!]![this.outerColumn]!, outerField), outerField);
    if (values.length === 0) return null;
    const route = this.keyed.route;
    this.ctx.onRouteVariant(route.variant);
    const routeBv = withSpecialBinds(this.ctx, extendBindVars(bv, { [this.keyed.keysBind]: values }));
    const resolved = resolveRouteTargets(this.ctx, route, routeBv);
    const targets = resolved instanceof Promise ? await resolved : resolved;
    if (targets.length === 0 || targets.some((t) => t.keyspace !== undefined)) return null;
    const queries: { shard: string; sql: string }[] = [];
    for (const t of targets) await this.render(t.shard, t.bindVars, queries);
    const keyspace = route.keyspace.name;
    const inner = new KeyedInnerRows();
    let fields: readonly FieldInfo[] | null = null;
    let held = 0;
    try {
      await fanOut(this.ctx, keyspace, queries, async ({ shard, sql }, signal) => {
        const r = await this.ctx.access.query(keyspace, shard, sql, signal);
        const n = inner.add(r);
        held += n;
        this.ctx.holdRows(n);
        fields ??= r.fields;
      });
    } catch (err) {
      this.ctx.releaseRows(held);
      throw err;
    }
    inner.seal();
    const batch = this.match(rows, leftFields, fields!, inner, held);
    if (batch === null) this.ctx.releaseRows(held);
    else this.adapt(held, values.length);
    return batch;
  }

  /** The inner rows of each outer row, or null (and the per-row way from now on) when the values can't be compared here. */
  private match(rows: readonly Row[], leftFields: readonly FieldInfo[], fields: readonly FieldInfo[], inner: KeyedInnerRows, held: number): KeyedBatch | null {
    const mode = fields[0] === undefined ? null : keyModeOf(leftFields[this.outerColumn]!, fields[0]);
    if (mode === null) return this.disable();
    const keyColumn = mode === 'number' ? 0 : 1;
    const keyOf = mode === 'number' ? numberKey : latin1Of;
    // Inner rows first, last to first, so that each key's chain lists its rows in their order.
    // Under 'collation', every key names its collation, and all keys must name the same one.
    const chainOf = new Map<CellKey, number>();
    const next = new Int32Array(inner.count);
    let prefix: string | null = null;
    for (let g = inner.count - 1; g >= 0; g--) {
      inner.cellAt(g, keyColumn);
      // An inner row matched by the IN list has a non-NULL value, and a string has a key.
      if (inner.cellStart < 0) return this.disable();
      const key = keyOf(inner.cellSource!, inner.cellStart, inner.cellEnd);
      if (mode === 'collation') {
        const p = collationOf(key as string, prefix);
        if (p === null) return this.disable();
        prefix = p;
      }
      next[g] = chainOf.get(key) ?? -1;
      chainOf.set(key, g);
    }
    const first = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const value = row[this.outerColumn] ?? null;
      if (value === null) {
        first[i] = -1;
        continue;
      }
      const cell: Cell = mode === 'number' ? value : (row[this.keyed.leftKeyColumn] ?? null);
      if (cell === null) return this.disable();
      const key = keyOf(cell, 0, cell.length);
      if (mode === 'collation') {
        const p = collationOf(key as string, prefix);
        if (p === null) return this.disable();
        prefix = p;
      }
      first[i] = chainOf.get(key) ?? -1;
    }
    return { fields: fields.slice(ROW_OFFSET), inner, first, next, held };
  }

  private disable(): null {
    this.disabled = true;
    return null;
  }

  /** The next batch's size: as many values as keep its inner rows near BATCH_INNER_ROWS. */
  private adapt(innerRows: number, values: number): void {
    const perValue = Math.max(innerRows / values, 1 / 16);
    this.batchValues = Math.max(MIN_BATCH_VALUES, Math.min(KEYED_BATCH_VALUES, Math.floor(this.budget() / perValue)));
  }

  /** One shard's statement(s): its list split in halves until each statement fits BATCH_SQL_BYTES. */
  private async render(shard: string, shardBv: Parameters<typeof renderTemplateInSlices>[1], out: { shard: string; sql: string }[]): Promise<void> {
    const rendered = renderTemplateInSlices(this.keyed.route.query, shardBv);
    const sql = typeof rendered === 'string' ? rendered : await rendered;
    const list = shardBv[this.keyed.keysBind];
    if (sql.length <= BATCH_SQL_BYTES || !Array.isArray(list) || list.length < 2) {
      out.push({ shard, sql });
      return;
    }
    const half = Math.ceil(list.length / 2);
    await this.render(shard, extendBindVars(shardBv, { [this.keyed.keysBind]: list.slice(0, half) }), out);
    await this.render(shard, extendBindVars(shardBv, { [this.keyed.keysBind]: list.slice(half) }), out);
  }
}
