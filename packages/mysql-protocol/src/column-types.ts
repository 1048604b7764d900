/** Column (field) types as they appear in column definitions and binary values. */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  VECTOR: 242,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Column definition flags (the `flags` field). */
export const ColumnFlag = {
  NOT_NULL: 0x1,
  PRI_KEY: 0x2,
  UNIQUE_KEY: 0x4,
  MULTIPLE_KEY: 0x8,
  BLOB: 0x10,
  UNSIGNED: 0x20,
  ZEROFILL: 0x40,
  BINARY: 0x80,
  ENUM: 0x100,
  AUTO_INCREMENT: 0x200,
  TIMESTAMP: 0x400,
  SET: 0x800,
  NO_DEFAULT_VALUE: 0x1000,
  ON_UPDATE_NOW: 0x2000,
  NUM: 0x8000,
} as const;

/** Collation ids used by this package. */
export const Charset = {
  /** utf8mb4_general_ci: understood by every MySQL and MariaDB client (255 is not). */
  UTF8MB4_GENERAL_CI: 45,
  UTF8MB4_BIN: 46,
  UTF8MB4_0900_AI_CI: 255,
  BINARY: 63,
} as const;

/**
 * Protocol::ColumnDefinition41. Property names match mysql2's FieldPacket so
 * shard metadata passes through unchanged.
 */
export interface ColumnDefinition {
  catalog?: string;
  schema: string;
  table: string;
  orgTable: string;
  name: string;
  orgName: string;
  characterSet: number;
  columnLength: number;
  columnType: number;
  flags: number;
  decimals: number;
}

/** Display widths for synthesized columns (what MySQL reports for expressions of that type). */
const DEFAULT_LENGTH: Record<number, number> = {
  [ColumnType.TINY]: 4,
  [ColumnType.SHORT]: 6,
  [ColumnType.INT24]: 9,
  [ColumnType.LONG]: 11,
  [ColumnType.LONGLONG]: 21,
  [ColumnType.FLOAT]: 12,
  [ColumnType.DOUBLE]: 22,
  [ColumnType.YEAR]: 4,
  [ColumnType.DATE]: 10,
  [ColumnType.TIME]: 17,
  [ColumnType.DATETIME]: 26,
  [ColumnType.TIMESTAMP]: 26,
  [ColumnType.NEWDECIMAL]: 66,
};

const TEXT_TYPES: ReadonlySet<number> = new Set<number>([
  ColumnType.VARCHAR,
  ColumnType.VAR_STRING,
  ColumnType.STRING,
  ColumnType.ENUM,
  ColumnType.SET,
  ColumnType.JSON,
  ColumnType.TINY_BLOB,
  ColumnType.MEDIUM_BLOB,
  ColumnType.LONG_BLOB,
  ColumnType.BLOB,
]);

/**
 * A column definition for gateway-synthesized results with sensible defaults
 * for the type: utf8mb4 for text types, binary collation and the BINARY flag
 * for the others, decimals 31 ("not fixed") for floating point and text. No
 * NUM flag: MariaDB never sends it, though it is a protocol flag.
 */
export function columnDefinition(name: string, columnType: number, opts: Partial<ColumnDefinition> = {}): ColumnDefinition {
  const text = TEXT_TYPES.has(columnType);
  const floating = columnType === ColumnType.FLOAT || columnType === ColumnType.DOUBLE;
  return {
    catalog: 'def',
    schema: '',
    table: '',
    orgTable: '',
    name,
    orgName: name,
    characterSet: text ? Charset.UTF8MB4_GENERAL_CI : Charset.BINARY,
    columnLength: DEFAULT_LENGTH[columnType] ?? (text ? 1024 : 255),
    columnType,
    flags: text ? 0 : ColumnFlag.BINARY,
    decimals: floating || text ? 31 : 0,
    ...opts,
  };
}

/** A VAR_STRING utf8mb4 column (the common case for gateway-synthesized results such as SHOW output). */
export function textColumn(name: string, opts: Partial<ColumnDefinition> = {}): ColumnDefinition {
  return columnDefinition(name, ColumnType.VAR_STRING, opts);
}

/**
 * The utf8mb4 collations a handshake can name (one byte) that MariaDB knows: general_ci, bin and
 * the unicode_ci family (224–247). A client naming another (MySQL 8's utf8mb4_0900_ai_ci, 255, or
 * a non-utf8mb4 character set, which the gateway does not speak) gets utf8mb4_general_ci, as
 * MariaDB falls back to it for 255.
 */
export function resultCollationOf(handshakeCollation: number): number {
  return handshakeCollation === Charset.UTF8MB4_GENERAL_CI || handshakeCollation === Charset.UTF8MB4_BIN || (handshakeCollation >= 224 && handshakeCollation <= 247)
    ? handshakeCollation
    : Charset.UTF8MB4_GENERAL_CI;
}
