/**
 * Conversions between text-protocol cells (what shards send) and planner SqlValues (what bind
 * vars hold). Exact values never pass through a JS number: integers become bigint, decimals and
 * floats stay text (ExactNumber), temporals stay strings.
 */
import { encodeSqlValue, ExactNumber, quoteString, type SqlValue } from '@shardgate/planner';
import { valueClassOf } from './column-types.js';
import type { Cell, FieldInfo } from '../types.js';
import { TypedNull, TypedTemporal } from './typed-temporal.js';

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export function cellToSqlValue(cell: Cell, field: FieldInfo | undefined): SqlValue {
  if (cell === null) return null;
  const cls = field ? valueClassOf(field.columnType, field.characterSet) : 'binary';
  switch (cls) {
    case 'integer':
      return BigInt(utf8.decode(cell));
    case 'decimal':
      return new ColumnNumber(utf8.decode(cell), 'decimal');
    case 'float':
      return new ColumnNumber(utf8.decode(cell), 'double');
    case 'binary':
      return Uint8Array.from(cell);
    default:
      return utf8.decode(cell);
  }
}

/**
 * A DECIMAL or DOUBLE value read from a shard's column, to be sent back in shard SQL (a join var,
 * a pulled-out subquery's values). It renders as a CAST, not as a bare literal: MariaDB 10.11
 * rounds a fractional literal compared with a prefix of a multi-column integer index
 * (`order_id = 14.72` on PRIMARY KEY (order_id, line_no) matches order 15), while the column
 * reference the gateway replaced compares exactly. A CAST is not folded that way and keeps the
 * value's type (a DECIMAL(p,s) literal is DECIMAL(p,s); a DOUBLE column's text is a DOUBLE).
 * Its `text` stays the plain number, for everything that reads the value rather than sends it.
 */
export class ColumnNumber extends ExactNumber {
  constructor(
    text: string,
    readonly kind: 'decimal' | 'double' | 'bigint',
    /**
     * Render it so that MariaDB gives it the column's type even where the value alone would make
     * a narrower one (a pulled-out subquery's value becomes a select column of the outer query):
     * a BIGINT stays BIGINT (a literal 5 is an INT), a DECIMAL without a fraction stays DECIMAL.
     */
    readonly keepType = false,
    /**
     * A kept BIGINT is written `COALESCE(value, typeFloor)`: a literal of the column type's
     * digits, which MariaDB's type rules read as the column's width (see integerTypeFloor).
     */
    readonly typeFloor = '-9223372036854775808',
  ) {
    super(text);
  }

  override isDouble(): boolean {
    return this.kind === 'double';
  }

  sql(): string {
    const t = this.text;
    // COALESCE with BIGINT's smallest value: a BIGINT of the same value (CAST(5 AS SIGNED) is an INT).
    if (this.kind === 'bigint') return this.keepType ? `COALESCE(${t}, ${this.typeFloor})` : t;
    if (this.kind === 'double') return /^[-+]?\d+$/.test(t) && !this.keepType ? t : `CAST(${t} AS DOUBLE)`;
    const dot = t.indexOf('.');
    if (dot < 0) return this.keepType ? `CAST(${t} AS DECIMAL(${Math.min(65, Math.max(1, t.replace(/[-+]/g, '').length))},0))` : t;
    const digits = t.replace(/[-+.]/g, '').length;
    const scale = t.length - dot - 1;
    return `CAST(${t} AS DECIMAL(${Math.min(65, Math.max(digits, scale, 1))},${Math.min(38, scale)}))`;
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

/**
 * A value as a literal in shard SQL. The planner's encodeSqlValue writes the planner's kinds, so
 * the executor and the planner write a value alike (one escaping, one DOUBLE form); here only
 * what the planner never holds: the executor's typed values (ColumnNumber, TypedNull,
 * TypedTemporal), a non-finite double (NULL, as MariaDB stores one), and an empty binary string
 * written `''`.
 */
export function literalOf(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'NULL';
  if (value instanceof ColumnNumber) return value.sql();
  if ((value as unknown) instanceof TypedNull) return (value as unknown as TypedNull).sql();
  if ((value as unknown) instanceof TypedTemporal) {
    const t = value as unknown as TypedTemporal;
    return `CAST(${quoteString(t.text)} AS ${t.castType})`;
  }
  if (value instanceof Uint8Array && value.length === 0) return "''";
  return encodeSqlValue(value);
}
