/**
 * The column types of a UNION whose parts ran separately: each result column takes the aggregate
 * of its parts' types, as MariaDB's type aggregation for a UNION result does, and the parts'
 * values are converted to it (int + decimal is a DECIMAL with the largest scale, so 8 shows as
 * 8.0000; a number or a date with a string is a string; a date with a datetime is a datetime).
 * Mixes whose conversion the gateway cannot reproduce exactly are refused.
 */
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import type { Cell, FieldInfo, Row } from '../types.js';
import { castToField } from './cast-to-field.js';
import { cellToSqlValue, sqlValueToCell } from './cell-codec.js';
import { BINARY_CHARSET, ColumnFlag, ColumnType, UTF8MB4_GENERAL_CI, valueClassOf } from './column-types.js';

const NOT_FIXED_DEC = 31;
const BLOBS: ReadonlySet<number> = new Set([ColumnType.TINY_BLOB, ColumnType.MEDIUM_BLOB, ColumnType.LONG_BLOB, ColumnType.BLOB]);
/** Integer types from narrowest to widest. */
const INT_RANK: readonly number[] = [ColumnType.TINY, ColumnType.SHORT, ColumnType.INT24, ColumnType.LONG, ColumnType.LONGLONG];

function refuse(what: string): never {
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: a UNION column mixing ${what}, across shards`);
}

/**
 * The result fields of a UNION from its parts' fields (parts that sent none are skipped), described
 * as MariaDB describes them: `streamed` for a UNION ALL it sends part after part (no ORDER BY, no
 * DISTINCT), whose columns are type holders; otherwise the columns of the temporary table it
 * sorts or deduplicates in. Neither names a table, and they differ in names, flags, lengths and
 * the decimals of strings (asStreamedColumn, asTemporaryTableColumn).
 */
export function unionFields(parts: readonly (readonly FieldInfo[] | undefined)[], streamed = false): FieldInfo[] {
  const known = parts.filter((f): f is readonly FieldInfo[] => f !== undefined);
  const first = known[0];
  if (first === undefined) return [];
  return first.map((head, i) => {
    const merged = mergeColumn(head, known.map((f) => f[i]).filter((f): f is FieldInfo => f !== undefined));
    return streamed ? asStreamedColumn(merged) : asTemporaryTableColumn(merged);
  });
}

const STRING_TYPES: ReadonlySet<number> = new Set([ColumnType.VARCHAR, ColumnType.VAR_STRING, ColumnType.STRING, ColumnType.ENUM, ColumnType.SET, ColumnType.JSON, ...BLOBS]);
/** MariaDB's display width of each integer type, signed and unsigned (a column's declared width aside). */
const SIGNED_WIDTH: Readonly<Record<number, number>> = { [ColumnType.TINY]: 4, [ColumnType.SHORT]: 6, [ColumnType.INT24]: 9, [ColumnType.LONG]: 11, [ColumnType.LONGLONG]: 20 };
const UNSIGNED_WIDTH: Readonly<Record<number, number>> = { [ColumnType.TINY]: 3, [ColumnType.SHORT]: 5, [ColumnType.INT24]: 8, [ColumnType.LONG]: 10, [ColumnType.LONGLONG]: 20 };
const MAX_LENGTH = 4294967295;
/** The largest length of each BLOB (TEXT) size, smallest first, and the type a length of it has. */
const BLOB_SIZES: readonly (readonly [number, number])[] = [
  [255, ColumnType.TINY_BLOB],
  [65535, ColumnType.BLOB],
  [16777215, ColumnType.MEDIUM_BLOB],
  [MAX_LENGTH, ColumnType.LONG_BLOB],
];
/** Flags a temporary table's column keeps: none of the source column's keys and defaults. */
const TEMPORARY_TABLE_FLAGS = ColumnFlag.NOT_NULL | ColumnFlag.BLOB | ColumnFlag.UNSIGNED | ColumnFlag.ZEROFILL | ColumnFlag.BINARY;

/**
 * A BLOB (TEXT) column's length counted again in bytes per character, as MariaDB's UNION does
 * (TEXT in utf8mb4, 262,140, becomes 1,048,560), with the size class that length falls in. The
 * bytes per character come from the length itself: a TEXT type's is its size's largest length
 * times them. Null when the length is none of those.
 */
function blobLengthAgain(length: number): { length: number; size: number; type: number } | null {
  if (length >= MAX_LENGTH) return { length: MAX_LENGTH, size: MAX_LENGTH, type: ColumnType.LONG_BLOB };
  const per = BLOB_SIZES.map(([max]) => length / max).find((m) => Number.isInteger(m) && m >= 1 && m <= 4);
  if (per === undefined) return null;
  const again = Math.min(MAX_LENGTH, length * per);
  const [size, type] = BLOB_SIZES.find(([max]) => again <= max)!;
  return { length: again, size: Math.min(MAX_LENGTH, size * per), type };
}

/** Integer columns show their type's whole width (TINYINT(1) shows 4), as a UNION's do. */
function integerWidth(f: FieldInfo): number {
  const widths = (f.flags & ColumnFlag.UNSIGNED) !== 0 ? UNSIGNED_WIDTH : SIGNED_WIDTH;
  return widths[f.columnType] ?? f.columnLength;
}

/**
 * A column of a UNION ALL that MariaDB streams: no name of its own (orgName), no table; flags
 * only NOT_NULL, UNSIGNED of a number and BINARY of binary data or a binary collation; strings
 * with decimals 39; a TEXT's length counted again per character and typed by it, without the BLOB flag.
 */
function asStreamedColumn(f: FieldInfo): FieldInfo {
  const cls = valueClassOf(f.columnType, f.characterSet);
  const numeric = cls === 'integer' || cls === 'decimal' || cls === 'float' || f.columnType === ColumnType.BIT;
  let flags = f.flags & ColumnFlag.NOT_NULL;
  if (numeric) flags |= f.flags & ColumnFlag.UNSIGNED;
  if (f.characterSet === BINARY_CHARSET || (f.flags & ColumnFlag.BINARY) !== 0) flags |= ColumnFlag.BINARY;
  let { columnType, columnLength, decimals } = f;
  if (cls === 'integer' && f.columnType !== ColumnType.YEAR) columnLength = integerWidth(f);
  if (BLOBS.has(columnType)) {
    const again = blobLengthAgain(columnLength);
    if (again !== null) ({ length: columnLength, type: columnType } = again);
  }
  if (STRING_TYPES.has(f.columnType)) decimals = 39;
  return { ...f, orgName: '', table: '', orgTable: '', schema: '', columnType, columnLength, flags, decimals };
}

/**
 * A column of the temporary table MariaDB sorts or deduplicates a UNION in: its own name, no table,
 * none of the source column's key or default flags, an integer's whole width, and a TEXT at the
 * largest length of the next size up (its length counted again per character).
 */
function asTemporaryTableColumn(f: FieldInfo): FieldInfo {
  let columnLength = f.columnLength;
  if (valueClassOf(f.columnType, f.characterSet) === 'integer' && f.columnType !== ColumnType.YEAR) columnLength = integerWidth(f);
  if (BLOBS.has(f.columnType)) columnLength = blobLengthAgain(columnLength)?.size ?? columnLength;
  return { ...f, table: '', orgTable: '', schema: '', columnLength, flags: f.flags & TEMPORARY_TABLE_FLAGS };
}

function mergeColumn(head: FieldInfo, all: readonly FieldInfo[]): FieldInfo {
  // A NULL literal's column (type NULL) takes the other parts' type.
  const typed = all.filter((f) => f.columnType !== ColumnType.NULL);
  const base = { ...head, columnLength: Math.max(...all.map((f) => f.columnLength)), decimals: Math.max(...all.map((f) => f.decimals)) };
  if (typed.length === 0) return base;
  const notNull = typed.every((f) => (f.flags & ColumnFlag.NOT_NULL) !== 0) && typed.length === all.length;
  const flagsFrom = (f: FieldInfo, drop = 0) => (f.flags & ~(ColumnFlag.NOT_NULL | ColumnFlag.PRI_KEY | drop)) | (notNull ? ColumnFlag.NOT_NULL : 0);
  const t0 = typed[0]!;
  const classes = new Set(typed.map((f) => valueClassOf(f.columnType, f.characterSet)));
  const sameType = typed.every((f) => f.columnType === t0.columnType && f.characterSet === t0.characterSet && (f.flags & (ColumnFlag.ENUM | ColumnFlag.SET)) === (t0.flags & (ColumnFlag.ENUM | ColumnFlag.SET)));
  const anyEnum = typed.some((f) => (f.flags & (ColumnFlag.ENUM | ColumnFlag.SET)) !== 0);
  const decimals = Math.max(...typed.map((f) => f.decimals));
  // Two ENUM (SET) columns make a VARCHAR in MariaDB, even the same one twice: it then sorts as text.
  if (sameType && !anyEnum && !(classes.has('integer') && typed.some((f) => (f.flags & ColumnFlag.UNSIGNED) !== (t0.flags & ColumnFlag.UNSIGNED)))) {
    // Strings: a column's 0 wins over a literal's 39, as MariaDB reports them.
    const stringDecimals = classes.has('text') || classes.has('binary') ? Math.min(...typed.map((f) => f.decimals)) : decimals;
    return { ...base, columnType: t0.columnType, characterSet: t0.characterSet, flags: flagsFrom(t0), decimals: stringDecimals };
  }
  if (!anyEnum && [...classes].every((c) => c === 'integer' || c === 'decimal' || c === 'float')) {
    if (typed.some((f) => f.columnType === ColumnType.YEAR)) refuse('YEAR and other numbers');
    if (classes.has('float')) {
      const type = typed.every((f) => f.columnType === ColumnType.FLOAT) ? ColumnType.FLOAT : ColumnType.DOUBLE;
      return { ...base, columnType: type, characterSet: BINARY_CHARSET, flags: flagsFrom(t0, ColumnFlag.UNSIGNED), decimals: NOT_FIXED_DEC };
    }
    if (classes.has('decimal')) {
      const scale = Math.max(...typed.map((f) => (valueClassOf(f.columnType, f.characterSet) === 'decimal' ? f.decimals : 0)));
      return { ...base, columnType: ColumnType.NEWDECIMAL, characterSet: BINARY_CHARSET, flags: flagsFrom(t0, ColumnFlag.UNSIGNED), decimals: scale };
    }
    const merged = mergeIntegers(typed);
    return { ...base, ...merged, characterSet: BINARY_CHARSET, decimals: 0, flags: merged.flags | (notNull ? ColumnFlag.NOT_NULL : 0) };
  }
  if (!anyEnum && classes.size === 1 && classes.has('temporal')) {
    const types = new Set(typed.map((f) => f.columnType));
    if (types.has(ColumnType.TIME) || types.has(ColumnType.YEAR)) refuse('TIME and dates');
    return { ...base, columnType: ColumnType.DATETIME, characterSet: BINARY_CHARSET, flags: flagsFrom(t0), decimals: Math.max(0, ...typed.map((f) => (f.decimals >= NOT_FIXED_DEC ? 0 : f.decimals))) };
  }
  if (typed.some((f) => f.columnType === ColumnType.BIT || f.columnType === ColumnType.GEOMETRY)) refuse('BIT or GEOMETRY and other types');
  // Anything with a string, or numbers with dates: a string.
  const binary = typed.some((f) => f.characterSet === BINARY_CHARSET && valueClassOf(f.columnType, f.characterSet) === 'binary');
  const text = typed.find((f) => valueClassOf(f.columnType, f.characterSet) === 'text');
  const type = typed.some((f) => BLOBS.has(f.columnType)) ? ColumnType.BLOB : ColumnType.VAR_STRING;
  return {
    ...base,
    columnType: type,
    characterSet: binary ? BINARY_CHARSET : (text?.characterSet ?? UTF8MB4_GENERAL_CI),
    // A part in a binary collation (utf8mb4_bin) makes the column's collation binary, as MariaDB flags it.
    flags: (binary || typed.some((f) => (f.flags & ColumnFlag.BINARY) !== 0) ? ColumnFlag.BINARY : 0) | (type === ColumnType.BLOB ? ColumnFlag.BLOB : 0) | (notNull ? ColumnFlag.NOT_NULL : 0),
    // Strings only: a column's 0 wins over a literal's 39; MariaDB marks a string made from
    // values of other types with 39.
    decimals: [...classes].every((c) => c === 'text' || c === 'binary') ? Math.min(...typed.map((f) => f.decimals)) : 39,
  };
}

/**
 * A divided or averaged DECIMAL that the UNION converts to another type or a larger scale:
 * MariaDB converts its unrounded value (`avg(price)` as the string 3.475000000, `1/3` as the
 * double 0.333333333), the gateway only has the rounded one. Refused.
 */
export function refuseUnroundedConversion(from: FieldInfo | undefined, to: FieldInfo | undefined): void {
  if (!from || !to || valueClassOf(from.columnType, from.characterSet) !== 'decimal') return;
  if (valueClassOf(to.columnType, to.characterSet) !== 'decimal' || to.decimals > from.decimals) refuse('a divided or averaged DECIMAL with values of another type or a larger scale');
}

function mergeIntegers(typed: readonly FieldInfo[]): Pick<FieldInfo, 'columnType' | 'flags' | 'columnLength'> {
  const unsigned = typed.filter((f) => (f.flags & ColumnFlag.UNSIGNED) !== 0);
  const signed = typed.filter((f) => (f.flags & ColumnFlag.UNSIGNED) === 0);
  const widest = (fs: readonly FieldInfo[]) => INT_RANK[fs.reduce((w, f) => Math.max(w, INT_RANK.indexOf(f.columnType)), -1)]!;
  if (signed.length === 0) return { columnType: widest(unsigned), flags: ColumnFlag.UNSIGNED, columnLength: UNSIGNED_WIDTH[widest(unsigned)]! };
  if (unsigned.length === 0) return { columnType: widest(signed), flags: 0, columnLength: SIGNED_WIDTH[widest(signed)]! };
  // Signed with unsigned: MariaDB 10.11 makes any such mix a DECIMAL(n, 0) (a client then reads
  // it as a decimal: mysql2 as a string), wide enough for the unsigned digits and a sign.
  const digits = Math.max(SIGNED_WIDTH[widest(signed)]!, UNSIGNED_WIDTH[widest(unsigned)]! + 1);
  return { columnType: ColumnType.NEWDECIMAL, flags: 0, columnLength: digits };
}

/**
 * Converts one part's rows to the UNION's column types; null when the part's values already have
 * them (same class and scale), which is the common case.
 */
export function unionRowConverter(part: readonly FieldInfo[], merged: readonly FieldInfo[]): ((row: Row) => Row) | null {
  const columns: number[] = [];
  for (let i = 0; i < merged.length; i++) {
    const from = part[i];
    const to = merged[i]!;
    if (from === undefined || from.columnType === ColumnType.NULL) continue;
    const a = valueClassOf(from.columnType, from.characterSet);
    const b = valueClassOf(to.columnType, to.characterSet);
    if (a === b && (a !== 'decimal' || from.decimals === to.decimals) && (a !== 'temporal' || (from.columnType === to.columnType && from.decimals === to.decimals))) continue;
    if (b === 'text' || b === 'binary') continue;
    columns.push(i);
  }
  if (columns.length === 0) return null;
  return (row) => {
    const out: Cell[] = row.slice();
    for (const i of columns) out[i] = sqlValueToCell(castToField(cellToSqlValue(row[i] ?? null, part[i]), merged[i]!));
    return out;
  };
}
