/**
 * Ordering and equality of text-protocol cells with MySQL semantics, decided per column from its
 * field metadata. Strings are compared through the collation keys the planner pushed next to them
 * (WEIGHT_STRING in the column's own collation plus its padding rule: see the planner's
 * collation-key-sql.ts); without them a utf8mb4_general_ci approximation is used.
 */
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import { compareDecimal, parseDecimal } from './decimal.js';
import { ColumnType, valueClassOf, type ValueClass } from './column-types.js';
import type { Cell, FieldInfo } from '../types.js';

const utf8 = new TextDecoder();

export function cellText(cell: Uint8Array): string {
  return utf8.decode(cell);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return compareByteRanges(a, 0, a.length, b, 0, b.length);
}

/**
 * A comparator of two cells given as byte ranges `a[as, ae)` and `b[bs, be)`: a merge reads its
 * sort keys where they lie in the shards' row packets, without a view per cell (merge-sort.ts).
 */
export type RangeComparator = (a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number) => number;

export function compareByteRanges(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const la = ae - as;
  const lb = be - bs;
  const n = Math.min(la, lb);
  for (let i = 0; i < n; i++) {
    const d = a[as + i] - b[bs + i];
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return la === lb ? 0 : la < lb ? -1 : 1;
}

/**
 * Orders two integers in text-protocol form without decoding them: sign, then digit count (leading
 * zeros of ZEROFILL columns skipped), then digits. Equal to comparing BigInt(a) with BigInt(b).
 */
export function compareIntegerBytes(a: Uint8Array, b: Uint8Array): number {
  return compareIntegerRanges(a, 0, a.length, b, 0, b.length);
}

/** compareIntegerBytes of two byte ranges (RangeComparator). */
export function compareIntegerRanges(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const negA = a[as] === 0x2d;
  const negB = b[bs] === 0x2d;
  if (negA !== negB) {
    // -0 does not occur in MariaDB's integer text, but compare it as 0 to be safe.
    if (isZeroInteger(a, as, ae) && isZeroInteger(b, bs, be)) return 0;
    return negA ? -1 : 1;
  }
  let i = negA || a[as] === 0x2b ? as + 1 : as;
  let j = negB || b[bs] === 0x2b ? bs + 1 : bs;
  while (i < ae - 1 && a[i] === 0x30) i++;
  while (j < be - 1 && b[j] === 0x30) j++;
  const la = ae - i;
  const lb = be - j;
  let c = 0;
  if (la !== lb) c = la < lb ? -1 : 1;
  else {
    for (let k = 0; k < la; k++) {
      const d = a[i + k] - b[j + k];
      if (d !== 0) {
        c = d < 0 ? -1 : 1;
        break;
      }
    }
  }
  return negA && c !== 0 ? -c : c;
}

function isZeroInteger(a: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (a[i] !== 0x30 && a[i] !== 0x2d && a[i] !== 0x2b) return false;
  return true;
}

function compareDecimalText(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x && y) return compareDecimal(x, y);
  return compareFloatText(a, b);
}

function compareFloatText(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function timeToMicros(t: string): bigint {
  const neg = t.startsWith('-');
  const [hms, frac = ''] = (neg ? t.slice(1) : t).split('.');
  const [h, m, s] = hms.split(':');
  const micros = ((BigInt(h) * 60n + BigInt(m ?? 0)) * 60n + BigInt(s ?? 0)) * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
  return neg ? -micros : micros;
}

/** utf8mb4_general_ci-like folding: accents stripped, case folded, PAD SPACE. */
export function foldGeneralCi(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toUpperCase().replace(/ +$/, '');
}

/** Character-string columns: the only ones whose order and equality depend on a collation. */
export function isTextField(field: Pick<FieldInfo, 'columnType' | 'characterSet'> | undefined): boolean {
  return field !== undefined && valueClassOf(field.columnType, field.characterSet) === 'text';
}

export type CellComparator = (a: Uint8Array, b: Uint8Array) => number;

export function comparatorFor(field: Pick<FieldInfo, 'columnType' | 'characterSet'> | undefined): CellComparator {
  const cls: ValueClass = field ? valueClassOf(field.columnType, field.characterSet) : 'binary';
  switch (cls) {
    case 'integer':
      return compareIntegerBytes;
    case 'decimal':
      return (a, b) => compareDecimalText(cellText(a), cellText(b));
    case 'float':
      return (a, b) => compareFloatText(cellText(a), cellText(b));
    case 'temporal':
      if (field!.columnType === ColumnType.TIME) {
        return (a, b) => {
          const x = timeToMicros(cellText(a));
          const y = timeToMicros(cellText(b));
          return x < y ? -1 : x > y ? 1 : 0;
        };
      }
      return compareBytes;
    case 'text':
      return (a, b) => {
        const x = foldGeneralCi(cellText(a));
        const y = foldGeneralCi(cellText(b));
        return x < y ? -1 : x > y ? 1 : 0;
      };
    default:
      return compareBytes;
  }
}

/**
 * A cell comparator (comparatorFor, compareCollationKeys) as a RangeComparator: integers, binary
 * strings, dates and collation keys compare in place; the other classes (decimal, float, TIME,
 * text without a collation key) decode their text anyway and take views.
 */
export function asRangeComparator(cmp: CellComparator): RangeComparator {
  if (cmp === compareIntegerBytes) return compareIntegerRanges;
  if (cmp === compareBytes) return compareByteRanges;
  if (cmp === compareCollationKeys) return compareCollationKeyRanges;
  return (a, as, ae, b, bs, be) => cmp(a.subarray(as, ae), b.subarray(bs, be));
}

/** MySQL NULL ordering: NULL sorts before every value ascending (and after it descending). */
export function compareNullable(a: Cell, b: Cell, cmp: CellComparator): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return cmp(a, b);
}

/**
 * A key under which collation-equal values are identical (GROUP BY, DISTINCT, count(distinct)):
 * the weight string when one was pushed, otherwise a normalized text form.
 */
export function equalityKey(cell: Cell, field: FieldInfo | undefined, weight?: Cell): string {
  if (cell === null) return '\u0000N';
  if (weight !== undefined && weight !== null && (field === undefined || isTextField(field))) {
    const key = collationKeyText(weight);
    return `w${key.length}:${key}`;
  }
  const cls = field ? valueClassOf(field.columnType, field.characterSet) : 'binary';
  switch (cls) {
    case 'integer':
      return `n${BigInt(cellText(cell)).toString()}`;
    case 'decimal': {
      const d = parseDecimal(cellText(cell));
      if (!d) return `f${Number(cellText(cell))}`;
      // strip trailing zeros so 1.50 and 1.5 are one key
      let units = d.units;
      let scale = d.scale;
      while (scale > 0 && units % 10n === 0n) {
        units /= 10n;
        scale--;
      }
      return `d${units}e${scale}`;
    }
    case 'float':
      return `f${Number(cellText(cell))}`;
    case 'text':
      return `t${foldGeneralCi(cellText(cell))}`;
    default:
      return `b${Buffer.from(cell.buffer, cell.byteOffset, cell.byteLength).toString('hex')}`;
  }
}

function badKey(): never {
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: comparing strings whose collation key the shard returned in an unexpected shape');
}

/**
 * Orders two collation keys as the collation orders their strings. Under PAD SPACE the shorter
 * string counts as padded with spaces, so the longer one's remaining weights are compared with
 * the space's weight, unit by unit ('a' = 'a ', and 'a' > 'a\t' because a tab weighs less).
 */
export function compareCollationKeys(a: Uint8Array, b: Uint8Array): number {
  return compareCollationKeyRanges(a, 0, a.length, b, 0, b.length);
}

/** compareCollationKeys of two byte ranges (RangeComparator). */
export function compareCollationKeyRanges(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  // The key's layout (see collationKeyText), read in place: a merge compares keys several times per row,
  // and decoding allocated two views and an object per side each time.
  const ua = keyUnit(a, as, ae);
  const ub = keyUnit(b, bs, be);
  return compareWeightsFrom(a, as, as + 2 + ua, ae, ua, b, bs, bs + 2 + ub, be, ub, 0);
}

/**
 * A comparator of two byte ranges that may read each side through a DataView over the same
 * memory too (`av` over `a`, `bv` over `b`, with the same offsets).
 */
export type ViewRangeComparator = (a: Uint8Array, as: number, ae: number, av: DataView, b: Uint8Array, bs: number, be: number, bv: DataView) => number;

/**
 * compareCollationKeyRanges, skipping the common prefix of the weights 4 bytes at a time through
 * the views (a big-endian word orders as its bytes do). A merge under ORDER BY … LIMIT compares
 * the first rows of every shard, whose keys share their first weights: byte by byte, that prefix
 * was most of the comparison.
 */
export function compareCollationKeyViews(a: Uint8Array, as: number, ae: number, av: DataView, b: Uint8Array, bs: number, be: number, bv: DataView): number {
  const ua = keyUnit(a, as, ae);
  const ub = keyUnit(b, bs, be);
  const xa = as + 2 + ua;
  const xb = bs + 2 + ub;
  const n = Math.min(ae - xa, be - xb);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const wa = av.getUint32(xa + i);
    const wb = bv.getUint32(xb + i);
    if (wa !== wb) return wa < wb ? -1 : 1;
  }
  return compareWeightsFrom(a, as, xa, ae, ua, b, bs, xb, be, ub, i);
}

/**
 * The order of two collation keys (header at `as`/`bs`, weights from `xa`/`xb` to `ae`/`be`,
 * weight units `ua`/`ub`) whose first `from` weight bytes are equal. Under PAD SPACE the shorter
 * string counts as padded with spaces, so the longer one's remaining weights are compared with the
 * space's weight, unit by unit ('a' = 'a ', and 'a' > 'a\t' because a tab weighs less).
 */
function compareWeightsFrom(a: Uint8Array, as: number, xa: number, ae: number, ua: number, b: Uint8Array, bs: number, xb: number, be: number, ub: number, from: number): number {
  const la = ae - xa;
  const lb = be - xb;
  const n = Math.min(la, lb);
  for (let i = from; i < n; i++) {
    const d = a[xa + i] - b[xb + i];
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (la === lb) return 0;
  const padA = a[as + 1] === 1;
  const padB = b[bs + 1] === 1;
  if (padA && la % ua !== 0) badKey();
  if (padB && lb % ub !== 0) badKey();
  if (!padA || !padB) return la < lb ? -1 : 1;
  // Under PAD SPACE the longer key's remaining weights meet the space's weight, unit by unit.
  const longer = la > lb ? a : b;
  const start = la > lb ? xa : xb;
  const space = la > lb ? as + 2 : bs + 2;
  const unit = la > lb ? ua : ub;
  const sign = la > lb ? 1 : -1;
  for (let i = n; i < Math.max(la, lb); i++) {
    const d = longer[start + i] - longer[space + ((i - n) % unit)];
    if (d !== 0) return d < 0 ? -sign : sign;
  }
  return 0;
}

/** The weight unit of a collation key `cell[start, end)`, validated: a unit and a flag byte, then at least one unit. */
function keyUnit(cell: Uint8Array, start = 0, end = cell.length): number {
  if (end - start < 2) badKey();
  const unit = cell[start];
  if (unit === 0 || end - start < 2 + unit) badKey();
  return unit;
}

/**
 * A string under which collation-equal keys are identical: trailing space weights dropped under
 * PAD SPACE. A key is WEIGHT_STRING(x) after a header of the weight unit, a PAD SPACE flag and,
 * with the flag, one space's weight (the layout compareCollationKeys reads); read in place, as
 * DISTINCT and GROUP BY key every row by it and views per row were most of their allocation.
 */
export function collationKeyText(cell: Uint8Array): string {
  const unit = keyUnit(cell);
  const first = 2 + unit; // first weight byte
  let end = cell.length;
  if (cell[1] === 1) {
    if ((end - first) % unit !== 0) badKey();
    // The space's weight is cell[2, 2 + unit).
    while (end - first >= unit) {
      let same = true;
      for (let i = 0; i < unit; i++) {
        if (cell[end - unit + i] !== cell[2 + i]) {
          same = false;
          break;
        }
      }
      if (!same) break;
      end -= unit;
    }
  }
  // One character per byte (latin1): half the size of a hex string and no Buffer view per key.
  // equalityKey prefixes the length, as a key may hold any character, separators included.
  return LATIN1_SLICE.call(cell, first, end);
}

/** Buffer's native latin1 decoder, which reads any Uint8Array in place. */
const LATIN1_SLICE = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;
