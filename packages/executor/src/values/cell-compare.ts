/**
 * Ordering and equality of text-protocol cells with MySQL semantics, decided per column from its
 * field metadata. Strings are compared through WEIGHT_STRING bytes when the planner pushed them
 * (exactly the shard's collation); without them a utf8mb4_general_ci approximation is used.
 */
import { compareDecimal, parseDecimal } from './decimal.js';
import { ColumnType, valueClassOf, type ValueClass } from './column-types.js';
import type { Cell, FieldInfo } from '../types.js';

const utf8 = new TextDecoder();

export function cellText(cell: Uint8Array): string {
  return utf8.decode(cell);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareIntegerText(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
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
      return (a, b) => compareIntegerText(cellText(a), cellText(b));
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
  if (weight !== undefined && weight !== null && (field === undefined || isTextField(field))) return `w${Buffer.from(weight.buffer, weight.byteOffset, weight.byteLength).toString('hex')}`;
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
