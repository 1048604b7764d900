/**
 * How MariaDB reads a value of another type as a number, for what the gateway computes itself
 * (SUM/AVG(DISTINCT …) over raw shard values, expressions). Each function mirrors one server rule.
 */
import { parseDecimal, type Decimal } from './decimal.js';

/** The number MySQL reads from a string: its longest numeric prefix ('12abc' is 12, 'abc' is 0). */
export function numericPrefix(s: string): string {
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(s);
  return m ? m[1]! : '0';
}

/**
 * A string read as a DOUBLE, as `'…' + 0e0` does: the numeric prefix; out-of-range values are
 * clamped to the largest finite double ('1e400' is 1.7976931348623157e308), never Infinity.
 */
export function stringToDouble(s: string): number {
  const x = Number(numericPrefix(s));
  if (x === Infinity) return Number.MAX_VALUE;
  if (x === -Infinity) return -Number.MAX_VALUE;
  return x;
}

/**
 * A DATE/DATETIME/TIMESTAMP/TIME as text ('2024-01-02 10:00:00.5') read as the number its digits
 * spell (20240102100000.5), as MariaDB's SUM and AVG read temporal values. Null when the text is
 * not a temporal value's form.
 */
export function temporalToDecimal(text: string): Decimal | null {
  const m = /^(-?)([\d:\- ]+?)(?:\.(\d+))?$/.exec(text.trim());
  if (m === null) return null;
  const digits = m[2]!.replace(/[^\d]/g, '');
  if (digits === '') return null;
  return parseDecimal(`${m[1]}${digits}${m[3] ? `.${m[3]}` : ''}`);
}

/**
 * Orders doubles as MariaDB's DISTINCT aggregates walk their tree of seen values: by memcmp of
 * the value's 8 bytes as stored (little-endian IEEE 754), not numerically. SUM(DISTINCT) of
 * doubles adds the values in this order, and double addition is not associative, so the gateway
 * must add them in the same order to give the same last digits.
 */
export function compareStoredDoubles(a: number, b: number): number {
  const x = storedBytes(a);
  const y = storedBytes(b);
  for (let i = 0; i < 8; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

const scratch = new DataView(new ArrayBuffer(8));

function storedBytes(x: number): number[] {
  scratch.setFloat64(0, x, true);
  const out = new Array<number>(8);
  for (let i = 0; i < 8; i++) out[i] = scratch.getUint8(i);
  return out;
}

/** A key equal for two doubles exactly when MariaDB's DISTINCT tree sees one value (same bytes). */
export function storedDoubleKey(x: number): string {
  return storedBytes(x).join(',');
}
