/**
 * Turns a text-protocol result into plain strings so two servers' answers compare exactly:
 * values are the server's own text (no float/decimal/bigint/date rounding on the client), binary
 * strings become `0x…` hex, and NULL stays `null` (never the string 'NULL').
 */

/** One value after normalisation: the server's text, `0x…` for binary bytes, or null. */
export type NormalizedValue = string | null;
export type NormalizedRow = readonly NormalizedValue[];

/** What the normaliser needs from a mysql2 FieldPacket. */
export interface ColumnInfo {
  name: string;
  columnType?: number;
  type?: number;
  characterSet?: number;
  /** Digits after the point (DECIMAL: its scale; 31 or 39 where the server does not fix them). */
  decimals?: number;
  /** Column flags (ENUM 0x100, SET 0x800…). */
  flags?: number;
}

const BINARY_CHARSET = 63;
// MySQL column types whose bytes are raw data when the column's charset is binary (63).
// Numeric and temporal columns also report charset 63 but their text form is ASCII.
const BYTE_STRING_TYPES = new Set([
  15, // VARCHAR
  16, // BIT
  249, // TINY_BLOB
  250, // MEDIUM_BLOB
  251, // LONG_BLOB
  252, // BLOB
  253, // VAR_STRING
  254, // STRING
  255, // GEOMETRY
]);

export function isByteColumn(column: ColumnInfo): boolean {
  const type = column.columnType ?? column.type ?? -1;
  return column.characterSet === BINARY_CHARSET && BYTE_STRING_TYPES.has(type);
}

export function normalizeValue(value: unknown, column: ColumnInfo | undefined): NormalizedValue {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) {
    return column !== undefined && isByteColumn(column) ? `0x${value.toString('hex')}` : value.toString('utf8');
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Rows fetched with `rowsAsArray: true, typeCast: false` (or anything array-shaped) → strings. */
export function normalizeRows(rows: readonly unknown[], columns: readonly ColumnInfo[]): NormalizedRow[] {
  return rows.map((row) => {
    const values = Array.isArray(row) ? row : columns.map((c) => (row as Record<string, unknown>)[c.name]);
    return values.map((v, i) => normalizeValue(v, columns[i]));
  });
}

/** Stable text key for a row: JSON keeps null distinct from the string "NULL". */
export function rowKey(row: NormalizedRow): string {
  return JSON.stringify(row);
}
