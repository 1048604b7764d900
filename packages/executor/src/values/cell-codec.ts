/**
 * Conversions between text-protocol cells (what shards send) and planner SqlValues (what bind
 * vars hold). Exact values never pass through a JS number: integers become bigint, decimals and
 * floats stay text (ExactNumber), temporals stay strings.
 */
import { ExactNumber, type SqlValue } from '@shardgate/planner';
import { valueClassOf } from './column-types.js';
import type { Cell, FieldInfo } from '../types.js';

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export function cellToSqlValue(cell: Cell, field: FieldInfo | undefined): SqlValue {
  if (cell === null) return null;
  const cls = field ? valueClassOf(field.columnType, field.characterSet) : 'binary';
  switch (cls) {
    case 'integer':
      return BigInt(utf8.decode(cell));
    case 'decimal':
    case 'float':
      return new ExactNumber(utf8.decode(cell));
    case 'binary':
      return Uint8Array.from(cell);
    default:
      return utf8.decode(cell);
  }
}

export function sqlValueToCell(value: SqlValue | undefined): Cell {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'number') return encoder.encode(formatDouble(value));
  return encoder.encode(value.toString());
}

export function textCell(text: string): Uint8Array {
  return encoder.encode(text);
}

/** MariaDB's text form of a DOUBLE: shortest round-trip digits, exponent outside [1e-4, 1e15). */
export function formatDouble(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e15 || abs < 1e-4) {
    const [mant, exp] = x.toExponential().split('e');
    return `${mant}e${exp.startsWith('+') ? exp.slice(1) : exp}`;
  }
  return String(x);
}

/** MySQL string literal escaping (as mysql_real_escape_string with NO_BACKSLASH_ESCAPES off). */
export function quoteString(s: string): string {
  return `'${s.replace(/[\0\n\r\b\t\\'"\x1a]/g, (c) => {
    switch (c) {
      case '\0':
        return '\\0';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\b':
        return '\\b';
      case '\t':
        return '\\t';
      case '\x1a':
        return '\\Z';
      default:
        return `\\${c}`;
    }
  })}'`;
}

export function literalOf(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? formatDouble(value) : 'NULL';
  if (value instanceof ExactNumber) return value.text;
  if (value instanceof Uint8Array) return value.length === 0 ? "''" : `X'${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}'`;
  return quoteString(value);
}
