/**
 * A DATE, DATETIME/TIMESTAMP or TIME value the gateway read from one query's result and puts into
 * another query as a literal: a pulled-out subquery's value (`x = (select max(at) …)`,
 * `s in (select at …)`) or a join var (`on o.label = e.at`). A plain string literal would not mean
 * what the column meant: MariaDB compares a temporal value with a string as a temporal value, but
 * two strings as text (`'2024-02-01 00:00:00' = '2024-2-1 0:0:0'` is false, the dates are equal),
 * and computes with a string's numeric prefix (`'2024-02-01 00:00:00' + 0` is 2024). So it is
 * rendered as `CAST('…' AS DATETIME(fsp))`, which has the column's type and precision.
 *
 * It is not one of the planner's SqlValue kinds: it exists only between the operator that binds
 * it and the rendering of shard SQL (literalOf). Everything else that reads bind vars (the
 * gateway's expression evaluator, vindex inputs) takes its text, as before (unwrapBind).
 * TypedNull, below, is the same for a DECIMAL column's NULL.
 */
import type { SqlValue } from '@shardgate/planner';
import type { FieldInfo } from '../types.js';
import { ColumnFlag, ColumnType } from './column-types.js';

export class TypedTemporal {
  constructor(
    readonly text: string,
    /** `DATE`, `DATETIME(n)` or `TIME(n)`. */
    readonly castType: string,
  ) {}

  toString(): string {
    return this.text;
  }
}

/** The CAST target that gives a column of this type its type back, or null for other columns. */
function castTypeOf(field: FieldInfo | undefined): string | null {
  if (field === undefined) return null;
  const fsp = Number.isInteger(field.decimals) && field.decimals >= 0 && field.decimals <= 6 ? field.decimals : 0;
  switch (field.columnType) {
    case ColumnType.DATE:
    case ColumnType.NEWDATE:
      return 'DATE';
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
      return `DATETIME(${fsp})`;
    case ColumnType.TIME:
      return `TIME(${fsp})`;
    default:
      return null;
  }
}

/**
 * `value` (read from a column described by `field`) as a bind value: a TypedTemporal for a
 * temporal column's text, else `value` itself. Zero dates stay strings (CAST would make them NULL
 * under some sql_modes).
 */
export function typedBindValue(value: SqlValue, field: FieldInfo | undefined): SqlValue {
  if (typeof value !== 'string' || value.startsWith('0000-00-00')) return value;
  const castType = castTypeOf(field);
  return castType === null ? value : (new TypedTemporal(value, castType) as unknown as SqlValue);
}

/**
 * A NULL read from a DECIMAL column and put into another query as a literal (a join var in an
 * expression over both sides of a join: JoinPrimitive.valueJoinVars). A bare NULL has no scale,
 * so `ifnull(:c_balance, o.total)` was 38 where MariaDB, reading the DECIMAL(10,2) column, gives
 * 38.00; it is rendered `CAST(NULL AS DECIMAL(m,d))`, the column's type. Like TypedTemporal it
 * exists only between the operator that binds it and literalOf; everything else reads NULL.
 */
export class TypedNull {
  constructor(
    /** `DECIMAL(m,d)`, or for an integer the floor literal (integerTypeFloor) it is typed by. */
    readonly castType: string,
    /** An integer's NULL: `IF(0, floor, NULL)` (CAST AS SIGNED would make every integer a BIGINT). */
    private readonly integer = false,
  ) {}

  /** The NULL as shard SQL, typed as its column. */
  sql(): string {
    return this.integer ? `IF(0, ${this.castType}, NULL)` : `CAST(NULL AS ${this.castType})`;
  }

  /** What it is, for keys that tell bind values apart (inner-lookups' lookupKey). */
  toString(): string {
    return `NULL AS ${this.castType}`;
  }
}

/**
 * For a signed integer column (not YEAR), a literal that MariaDB's arithmetic reads with the
 * column type's digits, and that COALESCE still types as an INT where the column is one: an
 * expression over both sides of a join gets the other side's value as a literal, and `year(d) -
 * 5` is an INT(6) where `year(d) - t1.id` is a BIGINT(12). TINYINT 3 digits, SMALLINT 5,
 * MEDIUMINT 8, BIGINT 19 (its smallest value). INT gets 8 of its 10: MariaDB types any integer
 * expression over 9 characters as a BIGINT, so 10 digits would turn `ifnull(t2.x, :t1_id)` into
 * a BIGINT, where it is an INT; with 8, sums, differences, products and negations over an INT
 * still come out BIGINT, as with the column.
 */
export function integerTypeFloor(field: FieldInfo | undefined): string | undefined {
  if (field === undefined || (field.flags & ColumnFlag.UNSIGNED) !== 0) return undefined;
  switch (field.columnType) {
    case ColumnType.TINY:
      return '-999';
    case ColumnType.SHORT:
      return '-99999';
    case ColumnType.INT24:
    case ColumnType.LONG:
      return '-99999999';
    case ColumnType.LONGLONG:
      return '-9223372036854775808';
    default:
      return undefined;
  }
}

/**
 * A typed NULL for a DECIMAL or signed integer column, or null for other columns: a bare NULL in
 * `year(d) - NULL` makes a DOUBLE where the column's NULL makes a BIGINT.
 */
export function typedNullOf(field: FieldInfo | undefined): TypedNull | null {
  const floor = integerTypeFloor(field);
  if (floor !== undefined) return new TypedNull(floor, true);
  if (field === undefined || (field.columnType !== ColumnType.NEWDECIMAL && field.columnType !== ColumnType.DECIMAL)) return null;
  const scale = Math.min(38, Math.max(0, Number.isInteger(field.decimals) ? field.decimals : 0));
  // The column length counts the sign (signed columns) and the point (a scale), as MariaDB reports it.
  const digits = field.columnLength - (scale > 0 ? 1 : 0) - ((field.flags & ColumnFlag.UNSIGNED) !== 0 ? 0 : 1);
  const precision = Math.min(65, Math.max(scale, 1, Number.isFinite(digits) ? digits : 65));
  return new TypedNull(`DECIMAL(${precision},${scale})`);
}


/** A bind value as the gateway's own evaluators read it: a TypedTemporal's text, a TypedNull's NULL. */
export function unwrapBind<T>(v: T): T | string | null {
  return v instanceof TypedTemporal ? v.text : v instanceof TypedNull ? null : v;
}
