/**
 * The result column MariaDB gives an expression the gateway evaluates (a Projection over an
 * aggregation of a join across shards, where no shard computed the expression to show its type):
 * derived from the input columns' fields and the bind values by MariaDB's own type rules, for
 * the operators and functions eval-expr.ts implements.
 *
 * - Integers: `a + b` has max(precision) + 1 digits, `a * b` the sum of the precisions; the
 *   result is INT (LONG) when its display length is at most 9, else BIGINT, as MariaDB's
 *   type_handler_long_or_longlong decides. `a / b` is DECIMAL with div_precision_increment digits.
 * - DECIMAL: `+`/`-` keep the larger scale, `*` adds the scales, `/` adds div_precision_increment
 *   to the dividend's scale (at most 38).
 * - Any DOUBLE or string operand makes arithmetic DOUBLE.
 * - Comparisons and logic are INT(1); ROUND(x, d) keeps an integer's type for d >= 0 and takes
 *   d decimals for a DECIMAL or DOUBLE; COALESCE/IFNULL/IF take the common type of their values.
 *
 * A shape whose rules are not written here (a temporal operand, ROUND of an integer to a negative
 * number of places, a CONCAT over numbers of several types…) is refused, never guessed.
 */
import { ExactNumber, type BindVars, type EvalExpr, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import type { FieldInfo } from '../types.js';
import { ColumnFlag, ColumnType, UTF8MB4_GENERAL_CI, valueClassOf } from './column-types.js';
import { unwrapBind } from './typed-temporal.js';

const DECIMAL_MAX_SCALE = 38;
const DECIMAL_MAX_PRECISION = 65;
const NOT_FIXED_DEC = 31;

/** The type of one (sub)expression as MariaDB's fix_length_and_dec sees it. */
type ExprType =
  | { readonly kind: 'null' }
  /** precision: decimal digits without the sign; type: the column type an integer keeps (ROUND, COALESCE). */
  | { readonly kind: 'int'; readonly precision: number; readonly columnType: number }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'double'; readonly decimals: number }
  | { readonly kind: 'string' };

const INT_RANK: readonly number[] = [ColumnType.TINY, ColumnType.SHORT, ColumnType.INT24, ColumnType.LONG, ColumnType.LONGLONG];

function refuse(what: string): never {
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: the result type of ${what} computed at the gateway over an aggregation of a join across shards`);
}

/** LONG when the display length (digits plus sign) is at most 9, else BIGINT. */
function longOrLonglong(precision: number): ExprType {
  return { kind: 'int', precision, columnType: precision + 1 <= 9 ? ColumnType.LONG : ColumnType.LONGLONG };
}

function ofField(f: FieldInfo | undefined): ExprType {
  if (!f) return refuse('a column without metadata');
  if (f.columnType === ColumnType.NULL) return { kind: 'null' };
  const unsigned = (f.flags & ColumnFlag.UNSIGNED) !== 0;
  switch (valueClassOf(f.columnType, f.characterSet)) {
    case 'integer':
      if (f.columnType === ColumnType.YEAR) return refuse('a YEAR operand');
      return { kind: 'int', precision: Math.max(1, f.columnLength - (unsigned ? 0 : 1)), columnType: f.columnType };
    case 'decimal': {
      const scale = f.decimals;
      return { kind: 'decimal', precision: Math.max(1, f.columnLength - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1)), scale };
    }
    case 'float':
      return { kind: 'double', decimals: f.decimals };
    case 'text':
      return { kind: 'string' };
    default:
      return refuse(`a ${valueClassOf(f.columnType, f.characterSet)} operand`);
  }
}

function ofValue(v: SqlValue): ExprType {
  if (v === null) return { kind: 'null' };
  if (typeof v === 'bigint') return longOrLonglong((v < 0n ? -v : v).toString().length);
  if (typeof v === 'number') return { kind: 'double', decimals: NOT_FIXED_DEC };
  if (v instanceof ExactNumber) {
    if (/e/i.test(v.text)) return { kind: 'double', decimals: NOT_FIXED_DEC };
    const digits = v.text.replace(/^-/, '');
    const [whole, frac = ''] = digits.split('.');
    return { kind: 'decimal', precision: Math.max(1, whole!.replace(/^0+(?=\d)/, '').length + frac.length), scale: frac.length };
  }
  if (typeof v === 'string') return { kind: 'string' };
  return refuse('a binary or temporal value');
}

const intDigits = (t: ExprType & { kind: 'int' | 'decimal' }): number => (t.kind === 'int' ? t.precision : t.precision - t.scale);
const scaleOf = (t: ExprType & { kind: 'int' | 'decimal' }): number => (t.kind === 'int' ? 0 : t.scale);

function arithmeticType(op: string, a: ExprType, b: ExprType, divPrecisionIncrement: number): ExprType {
  if (a.kind === 'null' || b.kind === 'null') {
    // NULL + x is a NULL of x's kind; MariaDB types it as the other operand (DOUBLE for strings).
    const other = a.kind === 'null' ? b : a;
    if (other.kind === 'null') return refuse('arithmetic over NULL only');
    return arithmeticType(op, other, other, divPrecisionIncrement);
  }
  if (a.kind === 'double' || b.kind === 'double' || a.kind === 'string' || b.kind === 'string') return { kind: 'double', decimals: NOT_FIXED_DEC };
  if (op === '%') {
    // Item_func_mod::result_precision: the larger of the two precisions and of the two scales.
    if (a.kind === 'int' && b.kind === 'int') return longOrLonglong(Math.max(a.precision, b.precision));
    const scale = Math.max(scaleOf(a), scaleOf(b));
    return { kind: 'decimal', precision: Math.min(Math.max(a.precision, b.precision, scale), DECIMAL_MAX_PRECISION), scale };
  }
  if (op === '/') {
    const scale = Math.min(scaleOf(a) + divPrecisionIncrement, DECIMAL_MAX_SCALE);
    return { kind: 'decimal', precision: Math.min(intDigits(a) + scaleOf(b) + scale, DECIMAL_MAX_PRECISION), scale };
  }
  if (a.kind === 'int' && b.kind === 'int') return longOrLonglong(op === '*' ? a.precision + b.precision : Math.max(a.precision, b.precision) + 1);
  if (op === '*') {
    const scale = Math.min(scaleOf(a) + scaleOf(b), DECIMAL_MAX_SCALE);
    return { kind: 'decimal', precision: Math.min(a.precision + b.precision, DECIMAL_MAX_PRECISION), scale };
  }
  const scale = Math.max(scaleOf(a), scaleOf(b));
  return { kind: 'decimal', precision: Math.min(Math.max(intDigits(a), intDigits(b)) + 1 + scale, DECIMAL_MAX_PRECISION), scale };
}

/** COALESCE / IFNULL / IF: the type all the values fit in. */
function commonType(ts: readonly ExprType[], what: string): ExprType {
  const known = ts.filter((t) => t.kind !== 'null');
  if (known.length === 0) return { kind: 'null' };
  if (known.some((t) => t.kind === 'string')) {
    if (known.every((t) => t.kind === 'string')) return { kind: 'string' };
    return refuse(`${what} over strings and numbers`);
  }
  if (known.some((t) => t.kind === 'double')) return { kind: 'double', decimals: NOT_FIXED_DEC };
  const nums = known as (ExprType & { kind: 'int' | 'decimal' })[];
  if (nums.every((t) => t.kind === 'int')) {
    const ints = nums as (ExprType & { kind: 'int' })[];
    const rank = Math.max(...ints.map((t) => INT_RANK.indexOf(t.columnType)));
    if (rank < 0) return refuse(`${what} over integers of these types`);
    return { kind: 'int', precision: Math.max(...ints.map((t) => t.precision)), columnType: INT_RANK[rank]! };
  }
  const scale = Math.max(...nums.map(scaleOf));
  return { kind: 'decimal', precision: Math.min(Math.max(...nums.map(intDigits)) + scale, DECIMAL_MAX_PRECISION), scale };
}

/**
 * Whether an integer operand is a MIN/MAX of an integer expression: a BIGINT field shorter than a
 * BIGINT column's 20. ROUND, TRUNCATE, FLOOR and CEIL of it take the expression's own type, which
 * the field no longer tells: ROUND(MIN(YEAR(d))) and ROUND(MIN(LENGTH(s))) are INTs,
 * ROUND(MIN(i DIV 1000)) a BIGINT.
 */
function isMinMaxOfIntegerExpression(t: ExprType & { kind: 'int' }, arg: EvalExpr, fields: readonly FieldInfo[]): boolean {
  return t.columnType === ColumnType.LONGLONG && arg.kind === 'column' && (fields[arg.index]?.columnLength ?? 0) < 20;
}

function typeOf(e: EvalExpr, fields: readonly FieldInfo[], bindVars: BindVars, divPrecisionIncrement: number): ExprType {
  const sub = (x: EvalExpr) => typeOf(x, fields, bindVars, divPrecisionIncrement);
  switch (e.kind) {
    case 'column':
      return ofField(fields[e.index]);
    case 'literal':
      return ofValue(e.value);
    case 'bind': {
      const v = bindVars[e.name];
      if (v === undefined || Array.isArray(v)) return refuse('a list value');
      return ofValue(unwrapBind(v as SqlValue));
    }
    case 'call':
      break;
  }
  const fn = e.fn.toLowerCase();
  switch (fn) {
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      if (e.args.length === 1) {
        // Unary minus: one more character of display length (the sign).
        const t = sub(e.args[0]!);
        if (t.kind === 'int') return longOrLonglong(t.precision + 1);
        if (t.kind === 'string') return { kind: 'double', decimals: NOT_FIXED_DEC };
        return t;
      }
      return arithmeticType(fn, sub(e.args[0]!), sub(e.args[1]!), divPrecisionIncrement);
    }
    case '=':
    case '<=>':
    case '!=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=':
    case 'and':
    case 'or':
    case 'not':
    case 'istrue':
    case 'isnull':
    case 'isnotnull':
      return { kind: 'int', precision: 1, columnType: ColumnType.LONG };
    case 'abs': {
      const t = sub(e.args[0]!);
      if (t.kind === 'int') return longOrLonglong(t.precision);
      if (t.kind === 'string') return { kind: 'double', decimals: NOT_FIXED_DEC };
      return t;
    }
    case 'div': {
      // Item_func_int_div: a BIGINT as long as the dividend's integer digits (at most 21), no sign position.
      const a = sub(e.args[0]!);
      const b = sub(e.args[1]!);
      if (a.kind === 'null' || b.kind === 'null') return refuse('DIV with a NULL operand');
      if (a.kind !== 'int' && a.kind !== 'decimal') return refuse('DIV of a DOUBLE or a string');
      if (b.kind !== 'int' && b.kind !== 'decimal') return refuse('DIV by a DOUBLE or a string');
      const digits = Math.min(Math.max(1, intDigits(a)), 21);
      return { kind: 'int', precision: digits - 1, columnType: ColumnType.LONGLONG };
    }
    case 'floor':
    case 'ceil':
    case 'ceiling': {
      // MariaDB 10.11 (Item_func_int_val): over a DECIMAL an integer of the digits before the
      // point, plus one a fraction may carry (CEIL always, FLOOR of a signed value: -9.5 is -10),
      // an INT up to 9 digits, a BIGINT up to 18, a DECIMAL(p, 0) past that; over a DOUBLE a
      // DOUBLE; over an integer that integer's type.
      const t = sub(e.args[0]!);
      if (t.kind === 'null') return t;
      if (t.kind === 'int') {
        if (isMinMaxOfIntegerExpression(t, e.args[0]!, fields)) return refuse(`${fn.toUpperCase()}() of a MIN/MAX of an integer expression`);
        return t;
      }
      if (t.kind === 'double') return { kind: 'double', decimals: 0 };
      if (t.kind === 'decimal') {
        const p = Math.max(1, t.precision - t.scale + (t.scale > 0 ? 1 : 0));
        if (p > 18) return { kind: 'decimal', precision: p, scale: 0 };
        return { kind: 'int', precision: p, columnType: p > 9 ? ColumnType.LONGLONG : ColumnType.LONG };
      }
      return refuse(`${fn.toUpperCase()}() of a string`);
    }
    case 'round':
    case 'truncate': {
      // One item in MariaDB (Item_func_round), typed alike but for the digit ROUND may carry.
      const name = fn === 'round' ? 'ROUND()' : 'TRUNCATE()';
      const t = sub(e.args[0]!);
      const d = e.args[1] === undefined ? 0n : constantInteger(e.args[1], bindVars);
      if (d === null) return refuse(`${name} with a number of places that is not an integer`);
      if (t.kind === 'null') return t;
      if (t.kind === 'int') {
        // MariaDB keeps an integer's type when rounding to d >= 0 places; rounding to tens or
        // more may lengthen it (ROUND(9, -1) is 10), by rules not written here.
        if (d < 0n) return refuse(`${name} of an integer to a negative number of places`);
        if (isMinMaxOfIntegerExpression(t, e.args[0]!, fields)) return refuse(`${name} of a MIN/MAX of an integer expression`);
        return t;
      }
      const places = d < 0n ? 0 : Number(d > 100n ? 100n : d);
      if (t.kind === 'decimal') {
        const scale = Math.min(places, DECIMAL_MAX_SCALE);
        // TRUNCATE never carries into a new digit: one digit fewer than ROUND's.
        return { kind: 'decimal', precision: Math.min(t.precision - t.scale + scale + (fn === 'round' ? 1 : 0), DECIMAL_MAX_PRECISION), scale };
      }
      if (t.kind === 'double') return { kind: 'double', decimals: Math.min(places, NOT_FIXED_DEC) };
      return refuse(`${name} of a string`);
    }
    case 'coalesce':
    case 'ifnull':
    case 'greatest':
    case 'least': {
      const ts = e.args.map(sub);
      // MariaDB types GREATEST(x, NULL) otherwise (a DOUBLE): not derived here.
      if (fn !== 'coalesce' && fn !== 'ifnull' && ts.some((t) => t.kind === 'null')) return refuse(`${fn.toUpperCase()}() with a NULL argument`);
      return commonType(ts, fn.toUpperCase());
    }
    case 'if':
      return commonType([sub(e.args[1]!), sub(e.args[2]!)], 'IF');
    case 'concat':
    case 'upper':
    case 'ucase':
    case 'lower':
    case 'lcase': {
      // Over numbers the result is a string in the connection's character set; over strings it
      // is the operands' collation, which a Projection does not know: only the type is given.
      return { kind: 'string' };
    }
    default:
      return refuse(`${fn}()`);
  }
}

function constantInteger(e: EvalExpr, bindVars: BindVars): bigint | null {
  if (e.kind === 'literal') return typeof e.value === 'bigint' ? e.value : null;
  if (e.kind === 'bind') {
    const v = bindVars[e.name];
    const u = v === undefined || Array.isArray(v) ? null : unwrapBind(v as SqlValue);
    return typeof u === 'bigint' ? u : null;
  }
  if (e.kind === 'call' && e.fn === '-' && e.args.length === 1) {
    const x = constantInteger(e.args[0]!, bindVars);
    return x === null ? null : -x;
  }
  return null;
}

/**
 * The scale MariaDB shows a DECIMAL expression with (its text in CONCAT, UPPER…), or null when
 * the expression is not a DECIMAL. Refuses (1235) an expression whose type is not derived here.
 */
export function decimalScaleOf(expr: EvalExpr, fields: readonly FieldInfo[], bindVars: BindVars, divPrecisionIncrement: number): number | null {
  const t = typeOf(expr, fields, bindVars, divPrecisionIncrement);
  return t.kind === 'decimal' ? t.scale : null;
}

/**
 * The field MariaDB sends for `expr` over input columns `fields`, named `name`. Refuses (1235) an
 * expression whose result type is not derived here.
 */
export function expressionField(expr: EvalExpr, fields: readonly FieldInfo[], bindVars: BindVars, divPrecisionIncrement: number, name: string, schema: string): FieldInfo {
  const t = typeOf(expr, fields, bindVars, divPrecisionIncrement);
  const base = { catalog: 'def', schema, table: '', orgTable: '', name, orgName: '' };
  const numeric = { characterSet: 63, flags: ColumnFlag.BINARY };
  switch (t.kind) {
    case 'null':
      return { ...base, characterSet: 63, columnLength: 0, columnType: ColumnType.NULL, flags: ColumnFlag.BINARY, decimals: 0 };
    case 'int':
      return { ...base, ...numeric, columnLength: t.precision + 1, columnType: t.columnType, decimals: 0 };
    case 'decimal':
      return { ...base, ...numeric, columnLength: t.precision + (t.scale > 0 ? 1 : 0) + 1, columnType: ColumnType.NEWDECIMAL, decimals: t.scale };
    case 'double':
      return { ...base, ...numeric, columnLength: 23, columnType: ColumnType.DOUBLE, decimals: t.decimals };
    case 'string':
      return { ...base, characterSet: UTF8MB4_GENERAL_CI, columnLength: 1024, columnType: ColumnType.VAR_STRING, flags: 0, decimals: 39 };
  }
}
