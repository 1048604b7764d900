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
import type { BufferedRows } from '../row-flow.js';
import type { Cell, FieldInfo, Row } from '../types.js';
import { cellToSqlValue } from '../values/cell-codec.js';
import { typedBindValue } from '../values/typed-temporal.js';
import { ColumnFlag, ColumnType, valueClassOf } from '../values/column-types.js';
import { renderTemplateInSlices } from '../values/render-query.js';
import { fanOut, resolveRouteTargets, withSpecialBinds } from './route.js';

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

/** What a batch gives back: the inner rows per outer row, or null when the per-row way must answer it. */
export interface KeyedBatch {
  readonly fields: readonly FieldInfo[];
  /** Inner rows of each outer row, in the batch's order (shared arrays: read only); an inner row's own columns start at ROW_OFFSET. */
  readonly matches: readonly (readonly Row[])[];
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

  /** How many of `rows` (from `start`) the next batch takes: up to the adaptive number of distinct values. */
  batchEnd(rows: readonly Row[], start: number): number {
    const seen = new Set<string>();
    let i = start;
    for (; i < rows.length; i++) {
      const cell = rows[i]![this.outerColumn] ?? null;
      if (cell === null) continue;
      const v = latin1(cell);
      if (!seen.has(v)) {
        if (seen.size >= this.batchValues) break;
        seen.add(v);
      }
    }
    return i;
  }

  /**
   * Looks up `rows` (one batch, see batchEnd) with `bv` as the statement's bind vars and
   * `leftFields` as the outer columns. Null when the per-row way must answer this batch.
   */
  async lookup(rows: readonly Row[], leftFields: readonly FieldInfo[], bv: Parameters<typeof withSpecialBinds>[1]): Promise<KeyedBatch | null> {
    const outerField = leftFields[this.outerColumn];
    if (outerField === undefined) return this.disable();
    // Distinct outer values, exactly as the per-row query would bind them.
    const values: SqlValue[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      const cell = row[this.outerColumn] ?? null;
      if (cell === null) continue;
      const text = latin1(cell);
      if (seen.has(text)) continue;
      seen.add(text);
      values.push(typedBindValue(cellToSqlValue(cell, outerField), outerField));
    }
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
    const results: BufferedRows[] = [];
    let held = 0;
    try {
      await fanOut(this.ctx, keyspace, queries, async ({ shard, sql }, signal) => {
        const r = await this.ctx.access.query(keyspace, shard, sql, signal);
        held += r.rows.length;
        this.ctx.holdRows(r.rows.length);
        results.push({ fields: r.fields, rows: r.rows as Row[] });
      });
    } catch (err) {
      this.ctx.releaseRows(held);
      throw err;
    }
    const batch = this.match(rows, leftFields, results, held);
    if (batch === null) this.ctx.releaseRows(held);
    else this.adapt(held, values.length);
    return batch;
  }

  /** The inner rows of each outer row, or null (and the per-row way from now on) when the values can't be compared here. */
  private match(rows: readonly Row[], leftFields: readonly FieldInfo[], results: readonly BufferedRows[], held: number): KeyedBatch | null {
    const fields = results[0]!.fields;
    const mode = fields[0] === undefined ? null : keyModeOf(leftFields[this.outerColumn]!, fields[0]);
    if (mode === null) return this.disable();
    const keyColumn = mode === 'number' ? 0 : 1;
    const keyOf = mode === 'number' ? (cell: Uint8Array) => canonicalNumber(latin1(cell)) : latin1;
    // Outer keys first: under 'collation', every key names its collation, and inner keys must
    // name the same one.
    const outerKeys: (string | null)[] = [];
    let prefix: string | null = null;
    for (const row of rows) {
      const value = row[this.outerColumn] ?? null;
      if (value === null) {
        outerKeys.push(null);
        continue;
      }
      const cell: Cell = mode === 'number' ? value : (row[this.keyed.leftKeyColumn] ?? null);
      if (cell === null) return this.disable();
      const key = keyOf(cell);
      if (mode === 'collation') {
        const p = key.slice(0, key.indexOf(':') + 1);
        if (p === '' || (prefix !== null && p !== prefix)) return this.disable();
        prefix = p;
      }
      outerKeys.push(key);
    }
    const byKey = new Map<string, Row[]>();
    for (const r of results) {
      for (const row of r.rows) {
        const cell = row[keyColumn] ?? null;
        if (cell === null) {
          // An inner row matched by the IN list has a non-NULL value, and a string has a key.
          return this.disable();
        }
        const key = keyOf(cell);
        if (prefix !== null && !key.startsWith(prefix)) return this.disable();
        const list = byKey.get(key);
        if (list) list.push(row);
        else byKey.set(key, [row]);
      }
    }
    const none: readonly Row[] = [];
    return { fields: fields.slice(ROW_OFFSET), matches: outerKeys.map((k) => (k === null ? none : (byKey.get(k) ?? none))), held };
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
