import { Charset, ColumnType } from '@shardgate/mysql-protocol';

/** Column type codes and flags come from the wire protocol's own table (one list, not two). */
export { ColumnType, ColumnFlag } from '@shardgate/mysql-protocol';

export const BINARY_CHARSET = Charset.BINARY;
export const UTF8MB4_GENERAL_CI = Charset.UTF8MB4_GENERAL_CI;

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
