/**
 * The rows of an INSERT … SELECT the gateway writes itself (InsertPrimitive.source): the SELECT read
 * whole, each value turned into what its literal must be for the shard's INSERT to store what
 * MariaDB's INSERT … SELECT stores, which copies field to field: a value keeps its type class.
 * Integers, DECIMALs and DOUBLEs go as numbers of their type, dates and times as CASTs to their
 * type, character strings as strings, binary strings as X'…' strings.
 * Types whose value the result does not carry whole are refused: a FLOAT's text is rounded (its
 * column holds 1.100000023841858 where the text says 1.1), an ENUM or SET is a member index in
 * a numeric column, a BIT or geometry value has no literal here.
 */
import type { SqlValue } from '@shardgate/planner';
import { ExactNumber } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import type { Cell, FieldInfo, Row } from '../types.js';
import { ColumnFlag, ColumnType, valueClassOf } from './column-types.js';
import { typedBindValue } from './typed-temporal.js';

const ER_WRONG_VALUE_COUNT_ON_ROW = 1136;
const utf8 = new TextDecoder();

/**
 * The SELECT's rows as INSERT row values. Its width must be the INSERT's: MariaDB checks that
 * before it reads a row, so an empty SELECT of the wrong width fails too.
 */
export function insertRowsOf(fields: readonly FieldInfo[], rows: readonly Row[], columns: number): SqlValue[][] {
  if (fields.length !== columns) throw new ExecutorError(ER_WRONG_VALUE_COUNT_ON_ROW, '21S01', "Column count doesn't match value count at row 1");
  const converters = fields.map(converterFor);
  return rows.map((row) => converters.map((convert, i) => convert(row[i] ?? null)));
}

function converterFor(field: FieldInfo): (cell: Cell) => SqlValue {
  const refuse = (what: string, instead: string): never => {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: INSERT … SELECT, written by the gateway, of the ${what} column '${field.name}' (${instead})`);
  };
  if ((field.flags & (ColumnFlag.ENUM | ColumnFlag.SET)) !== 0) refuse('ENUM or SET', 'select CAST(… AS CHAR) for its member names, or … + 0 for its index');
  switch (field.columnType) {
    case ColumnType.FLOAT:
      refuse('FLOAT', 'its text is rounded; select CAST(… AS DOUBLE)');
      break;
    case ColumnType.BIT:
      refuse('BIT', 'select … + 0');
      break;
    case ColumnType.GEOMETRY:
      refuse('geometry', 'select ST_AsText(…) or ST_AsBinary(…)');
      break;
  }
  const text = (cell: Uint8Array): string => utf8.decode(cell);
  switch (valueClassOf(field.columnType, field.characterSet)) {
    case 'integer':
      return (cell) => (cell === null ? null : BigInt(text(cell)));
    case 'decimal':
      return (cell) => (cell === null ? null : new ExactNumber(text(cell)));
    case 'float':
      // A DOUBLE's text is its shortest round-trip form: Number() gives the same double back.
      return (cell) => (cell === null ? null : Number(text(cell)));
    case 'temporal':
      return (cell) => (cell === null ? null : typedBindValue(text(cell), field));
    case 'binary':
      // X'…', which MariaDB reads as a binary string in every context (0x… would be a number).
      return (cell) => (cell === null ? null : Uint8Array.from(cell));
    default:
      return (cell) => (cell === null ? null : text(cell));
  }
}
