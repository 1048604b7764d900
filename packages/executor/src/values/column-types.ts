/** MySQL column type codes (protocol ColumnDefinition41.column_type) and the flags we read. */
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

export const ColumnFlag = {
  NOT_NULL: 1,
  PRI_KEY: 2,
  BLOB: 16,
  UNSIGNED: 32,
  BINARY: 128,
  ENUM: 256,
  SET: 2048,
  NUM: 32768,
} as const;

export const BINARY_CHARSET = 63;
export const UTF8MB4_GENERAL_CI = 45;

export type ValueClass = 'integer' | 'decimal' | 'float' | 'temporal' | 'text' | 'binary';

/** How values of a column compare and compute: decided from the field metadata alone. */
export function valueClassOf(columnType: number, characterSet: number): ValueClass {
  switch (columnType) {
    case ColumnType.TINY:
    case ColumnType.SHORT:
    case ColumnType.LONG:
    case ColumnType.INT24:
    case ColumnType.LONGLONG:
    case ColumnType.YEAR:
      return 'integer';
    case ColumnType.DECIMAL:
    case ColumnType.NEWDECIMAL:
      return 'decimal';
    case ColumnType.FLOAT:
    case ColumnType.DOUBLE:
      return 'float';
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
    case ColumnType.TIME:
      return 'temporal';
    case ColumnType.BIT:
    case ColumnType.GEOMETRY:
      return 'binary';
    default:
      return characterSet === BINARY_CHARSET ? 'binary' : 'text';
  }
}
