/**
 * Gateway-side evaluation of the planner's EvalExpr (Projection, Filter) with MySQL semantics:
 * NULL propagates, integer and decimal arithmetic is exact, comparisons follow the operand types.
 */
import { exactAvgDouble, isExactAvgField } from './exact-avg-fields.js';
import { ExactNumber, type BindVars, type EvalExpr, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET, ER_UNKNOWN_ERROR } from '../errors.js';
import type { FieldInfo, Row } from '../types.js';
import { cellToSqlValue } from './cell-codec.js';
import { compareBytes, foldGeneralCi } from './cell-compare.js';
import { valueClassOf } from './column-types.js';
import { addDecimal, compareDecimal, divideDecimal, divideDecimalUnrounded, formatDecimal, multiplyDecimal, parseDecimal, rescale, type Decimal } from './decimal.js';
import { numericPrefix, stringToDouble } from './numeric-conversion.js';
import { unwrapBind } from './typed-temporal.js';
import { decimalScaleOf } from './expression-field.js';

export interface EvalEnv {
  readonly row: Row;
  readonly fields: readonly FieldInfo[];
  readonly bindVars: BindVars;
  readonly divPrecisionIncrement: number;
}

export function evalExpr(expr: EvalExpr, env: EvalEnv): SqlValue {
  switch (expr.kind) {
    case 'column':
      return cellToSqlValue(env.row[expr.index] ?? null, env.fields[expr.index]);
    case 'literal':
      return expr.value;
    case 'bind': {
      const v = env.bindVars[expr.name];
      if (v === undefined || Array.isArray(v)) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `missing scalar bind var ${expr.name}`);
      return unwrapBind(v as SqlValue);
    }
    case 'call':
      return callFunction(expr.fn.toLowerCase(), expr.args, env);
  }
}


function toDecimal(v: SqlValue): Decimal | null {
  if (v === null) return null;
  if (typeof v === 'bigint') return { units: v, scale: 0 };
  if (typeof v === 'number') return parseDecimal(String(v));
  const s = v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v.toString();
  const prefix = numericPrefix(s);
  return parseDecimal(prefix) ?? parseDecimal(String(Number(prefix) || 0));
}

/**
 * A DATE/DATETIME/TIMESTAMP/TIME column compared with a number is compared as the number its
 * digits spell (MariaDB: '2024-09-15 10:00:00' is 20240915100000), not as its leading year.
 */
function temporalAsNumber(expr: EvalExpr, v: SqlValue, env: EvalEnv): SqlValue {
  if (v === null || expr.kind !== 'column') return v;
  const f = env.fields[expr.index];
  if (!f || valueClassOf(f.columnType, f.characterSet) !== 'temporal') return v;
  const s = v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v.toString();
  const m = /^(-?)([\d:\- ]+)(?:\.(\d+))?$/.exec(s);
  if (!m) return v;
  const digits = m[2].replace(/[^\d]/g, '').replace(/^0+(?=\d)/, '');
  return new ExactNumber(`${m[1]}${digits}${m[3] ? `.${m[3]}` : ''}`);
}

/** The column type of `expr` when it is a DATE/DATETIME/TIMESTAMP/TIME column, else undefined. */
function temporalColumnType(expr: EvalExpr, env: EvalEnv): number | undefined {
  if (expr.kind !== 'column') return undefined;
  const f = env.fields[expr.index];
  return f && valueClassOf(f.columnType, f.characterSet) === 'temporal' ? f.columnType : undefined;
}

const TIME_TYPE = 11;
const DATETIME_TEXT = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?)?$/;

/** 'YYYY-MM-DD[ hh:mm:ss[.ffffff]]' as 'YYYY-MM-DD hh:mm:ss.ffffff' (fixed width, so it compares as text), else null. */
function canonicalDatetime(s: string): string | null {
  const m = DATETIME_TEXT.exec(s);
  if (m === null) return null;
  const two = (x: string | undefined) => (x ?? '0').padStart(2, '0');
  return `${m[1]}-${two(m[2])}-${two(m[3])} ${two(m[4])}:${two(m[5])}:${two(m[6])}.${(m[7] ?? '').padEnd(6, '0')}`;
}

/**
 * A DATE/DATETIME/TIMESTAMP compared with a string (or with another temporal column) is compared
 * as a DATETIME in MariaDB: '2024-01-05' equals '2024-01-05 00:00:00', and a string that is not a
 * datetime ('Emile') becomes a zero date with a warning. Both sides are brought to one fixed-width
 * form here; a string the gateway cannot read as a datetime, and TIME columns (whose strings have
 * rules of their own), are refused rather than compared as text.
 */
function temporalComparedWithString(args: readonly EvalExpr[], a: SqlValue, b: SqlValue, env: EvalEnv): [SqlValue, SqlValue] | null {
  const ta = temporalColumnType(args[0], env);
  const tb = temporalColumnType(args[1], env);
  if (a === null || b === null || (ta === undefined && tb === undefined)) return null;
  const stringy = (v: SqlValue, t: number | undefined) => t !== undefined || typeof v === 'string';
  if (!stringy(a, ta) || !stringy(b, tb)) return null;
  if (ta === TIME_TYPE || tb === TIME_TYPE) {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'comparing a TIME value with a string cannot be evaluated at the gateway');
  }
  const ca = canonicalDatetime(String(a));
  const cb = canonicalDatetime(String(b));
  if (ca === null || cb === null) {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `comparing a DATE/DATETIME value with a string that is not a datetime (${JSON.stringify(String(ca === null ? a : b))}) cannot be evaluated at the gateway`);
  }
  return [ca, cb];
}

/**
 * Two character strings compare by their collation, which the gateway does not know here (field
 * packets carry the connection's collation, not the column's: 'Alice' >= 'alice' is true under
 * utf8mb4_general_ci and false under utf8mb4_bin, and 'ß' = 's' only under some collations). So a
 * comparison of two strings is refused rather than guessed; numbers, dates and binary strings
 * (compared byte by byte, as MariaDB does) are evaluated.
 */
function refuseTextComparison(a: SqlValue, b: SqlValue): void {
  if (typeof a === 'string' && typeof b === 'string') {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: comparing two character strings at the gateway (their collation is not known there), e.g. HAVING max(name) > \'b\' across shards');
  }
}

function isNumeric(v: SqlValue): boolean {
  return typeof v === 'bigint' || typeof v === 'number' || v instanceof ExactNumber;
}

function isFloat(v: SqlValue): boolean {
  return typeof v === 'number' || (v instanceof ExactNumber && v.isDouble());
}

function decimalValue(d: Decimal): SqlValue {
  return d.scale === 0 ? d.units : new ExactNumber(formatDecimal(d));
}

function arithmetic(op: string, a: SqlValue, b: SqlValue, env: EvalEnv): SqlValue {
  if (a === null || b === null) return null;
  if (isFloat(a) || isFloat(b)) {
    const x = Number(a.toString());
    const y = Number(b.toString());
    switch (op) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '%':
        // JavaScript's % is C's fmod, which MariaDB's MOD of doubles is.
        return y === 0 ? null : x % y;
      default:
        return y === 0 ? null : x / y;
    }
  }
  const x = toDecimal(a)!;
  const y = toDecimal(b)!;
  switch (op) {
    case '+':
      return decimalValue(addDecimal(x, y));
    case '-':
      return decimalValue(addDecimal(x, { units: -y.units, scale: y.scale }));
    case '*':
      return decimalValue(multiplyDecimal(x, y));
    case '%': {
      // At the larger scale, with the dividend's sign (BigInt % truncates as MariaDB's do_div_mod).
      if (y.units === 0n) return null;
      const scale = Math.max(x.scale, y.scale);
      return decimalValue({ units: rescale(x, scale).units % rescale(y, scale).units, scale });
    }
    default:
      if (y.units === 0n) return null;
      // Unrounded, as MariaDB keeps it: the Projection rounds to the result column's scale.
      return new ExactNumber(formatDecimal(divideDecimalUnrounded(x, y, env.divPrecisionIncrement)));
  }
}

/** MySQL comparison: numbers numerically, strings by (approximate) utf8mb4_general_ci. */
export function compareValues(a: SqlValue, b: SqlValue): number | null {
  if (a === null || b === null) return null;
  const numeric = (v: SqlValue) => typeof v === 'bigint' || typeof v === 'number' || v instanceof ExactNumber;
  if (numeric(a) || numeric(b)) {
    if (isFloat(a) || isFloat(b)) {
      // A string compared with a DOUBLE is read as MariaDB reads it ('paid' is 0, '12abc' is 12):
      // Number() would give NaN, which compares equal to everything below.
      const x = asDouble(a);
      const y = asDouble(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const x = toDecimal(a);
    const y = toDecimal(b);
    // A string whose number overflows a decimal ('2E30313233'): MariaDB compares it as a DOUBLE.
    if (x === null || y === null) {
      const fx = asDouble(a);
      const fy = asDouble(b);
      return fx < fy ? -1 : fx > fy ? 1 : 0;
    }
    return compareDecimal(x, y);
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    const x = a instanceof Uint8Array ? a : Buffer.from(String(a));
    const y = b instanceof Uint8Array ? b : Buffer.from(String(b));
    return compareBytes(x, y);
  }
  const x = foldGeneralCi(String(a));
  const y = foldGeneralCi(String(b));
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A non-NULL value as the DOUBLE MariaDB compares it as. */
function asDouble(v: Exclude<SqlValue, null>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof ExactNumber) return Number(v.text);
  return stringToDouble(v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v);
}

export function truthy(v: SqlValue): boolean | null {
  if (v === null) return null;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  // A string is true when the number MariaDB reads from it is ('1abc' is 1, '0x10' is 0); Number()
  // read '1abc' as NaN (false) and '0x10' as 16.
  return stringToDouble(v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v.toString()) !== 0;
}

function bool(b: boolean | null): SqlValue {
  return b === null ? null : b ? 1n : 0n;
}

function text(v: SqlValue): string | null {
  if (v === null) return null;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return v.toString();
}

/**
 * A value's text in a string function (CONCAT, UPPER, LOWER), as MariaDB prints it: a DECIMAL at
 * the scale of its type. An AVG, and a quotient, keep digits beyond the scale they show
 * (`avg(total)` is 238.671052631 inside, '238.671053' as text; fuzz seed 64 audit); a DECIMAL
 * expression whose type is not derived is refused (expression-field.ts).
 */
function displayText(a: EvalExpr, env: EvalEnv): string | null {
  const v = evalExpr(a, env);
  if (v !== null && (typeof v === 'number' || (v instanceof ExactNumber && v.isDouble()) || (a.kind === 'column' && isFloatColumn(a.index, env)))) return doubleAsText(v);
  if (!(v instanceof ExactNumber) || /e/i.test(v.text)) return text(v);
  const scale = a.kind === 'column' ? (valueClassOf(env.fields[a.index]?.columnType ?? -1, env.fields[a.index]?.characterSet ?? 63) === 'decimal' ? env.fields[a.index]!.decimals : null) : decimalScaleOf(a, env.fields, env.bindVars, env.divPrecisionIncrement);
  const d = scale === null ? null : parseDecimal(v.text);
  return d === null || scale === null ? text(v) : formatDecimal(rescale(d, scale));
}

/**
 * A FLOAT or DOUBLE as a string function reads it. MariaDB writes it in a form of its own there,
 * not the one it sends as a column (`concat(5e-11)` is '0.00000000005', the column '5e-11'; 2.35e26
 * is '2.35e26'): the shortest digits agree where both write no exponent, which is all that is
 * evaluated here.
 */
function doubleAsText(v: Exclude<SqlValue, null>): string {
  const x = Number(text(v));
  if (x === 0 && !Object.is(x, -0)) return '0';
  const abs = Math.abs(x);
  if (!Number.isFinite(x) || abs >= 1e15 || abs < 1e-4) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `a DOUBLE of ${text(v)} as text (CONCAT, UPPER, LOWER) cannot be evaluated at the gateway (MariaDB's text form of it there is its own)`);
  return String(x);
}

/**
 * `[a, b]` with an AVG of exact values beside a DOUBLE read as MariaDB reads it there: the sum as a
 * double over the count, not its decimal (exact-avg-fields.ts).
 */
function exactAvgBesideDouble(args: readonly EvalExpr[], a: SqlValue, b: SqlValue, env: EvalEnv): [SqlValue, SqlValue] {
  const asDoubleIfAvg = (e: EvalExpr | undefined, v: SqlValue): SqlValue => {
    if (v === null || e === undefined || e.kind !== 'column' || !isExactAvgField(env.fields[e.index])) return v;
    const real = exactAvgDouble(env.row[e.index]);
    if (real === undefined) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: AVG() of integers or decimals beside a DOUBLE here (MariaDB then computes the average as a double of its own)');
    return real;
  };
  if (b !== null && isFloat(b)) a = asDoubleIfAvg(args[0], a);
  if (a !== null && isFloat(a)) b = asDoubleIfAvg(args[1], b);
  return [a, b];
}

function callFunction(fn: string, args: readonly EvalExpr[], env: EvalEnv): SqlValue {
  const arg = (i: number) => evalExpr(args[i], env);
  // An argument as a number: a DATE/DATETIME/TIME column is the number its digits spell
  // (`max(at) + 0` is 20240915100000.123 in MariaDB, not the year its text begins with).
  const numberArg = (i: number) => temporalAsNumber(args[i], arg(i), env);
  switch (fn) {
    case 'div': {
      // Integer division (Item_func_int_div): toward zero, over the exact values; NULL by zero;
      // past BIGINT MariaDB fails the statement. A double or string operand is refused (MariaDB
      // converts it to a DECIMAL first, by rules not written here).
      const [x, y] = [numberArg(0), numberArg(1)];
      if (x === null || y === null) return null;
      if (isFloat(x) || isFloat(y) || !isNumeric(x) || !isNumeric(y) || mentionsFloatColumn(args[0], env) || mentionsFloatColumn(args[1], env)) {
        throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'DIV of a DOUBLE or a string cannot be evaluated at the gateway');
      }
      const a = toDecimal(x)!;
      const b = toDecimal(y)!;
      if (b.units === 0n) return null;
      const q = (a.units * 10n ** BigInt(b.scale)) / (b.units * 10n ** BigInt(a.scale));
      if (q > 2n ** 63n - 1n || q < -(2n ** 63n)) throw new ExecutorError(1690, '22003', 'BIGINT value is out of range in a DIV computed at the gateway');
      return q;
    }
    case '+':
    case 'plus':
    case '-':
    case 'minus':
    case '*':
    case 'multiply':
    case '/':
    case 'divide':
    case '%': {
      const op = fn === 'plus' ? '+' : fn === 'minus' ? '-' : fn === 'multiply' ? '*' : fn === 'divide' ? '/' : fn;
      if (args.length === 1 && op === '-') return arithmetic('-', 0n, numberArg(0), env);
      const [x, y] = exactAvgBesideDouble(args, numberArg(0), numberArg(1), env);
      return arithmetic(op, x, y, env);
    }
    case '<=>':
    case '=':
    case '!=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      let a = arg(0);
      let b = arg(1);
      // NULL-safe equality: equal when both are NULL, unequal when one is; else it is `=`.
      if (fn === '<=>' && (a === null || b === null)) return bool(a === null && b === null);
      if (isNumeric(b)) a = temporalAsNumber(args[0], a, env);
      if (isNumeric(a)) b = temporalAsNumber(args[1], b, env);
      [a, b] = exactAvgBesideDouble(args, a, b, env);
      const temporal = temporalComparedWithString(args, a, b, env);
      if (temporal === null) refuseTextComparison(a, b);
      else [a, b] = temporal;
      const c = compareValues(a, b);
      if (c === null) return null;
      const r = fn === '=' || fn === '<=>' ? c === 0 : fn === '<' ? c < 0 : fn === '<=' ? c <= 0 : fn === '>' ? c > 0 : fn === '>=' ? c >= 0 : c !== 0;
      return bool(r);
    }
    case 'and': {
      let sawNull = false;
      for (const a of args) {
        const t = truthy(evalExpr(a, env));
        if (t === false) return 0n;
        if (t === null) sawNull = true;
      }
      return sawNull ? null : 1n;
    }
    case 'or': {
      let sawNull = false;
      for (const a of args) {
        const t = truthy(evalExpr(a, env));
        if (t === true) return 1n;
        if (t === null) sawNull = true;
      }
      return sawNull ? null : 0n;
    }
    case 'not': {
      const t = truthy(arg(0));
      return t === null ? null : bool(!t);
    }
    case 'istrue': {
      // `x IS TRUE`: never NULL; a string counts by its numeric prefix, as MariaDB reads it.
      const v = arg(0);
      if (v === null) return 0n;
      if (typeof v === 'string' || v instanceof Uint8Array) return bool(stringToDouble(text(v)!) !== 0);
      return bool(truthy(v) === true);
    }
    case 'isnull':
    case 'is null':
      return bool(arg(0) === null);
    case 'isnotnull':
    case 'is not null':
      return bool(arg(0) !== null);
    case 'coalesce':
    case 'ifnull': {
      for (const a of args) {
        const v = evalExpr(a, env);
        if (v !== null) return v;
      }
      return null;
    }
    case 'if':
      return truthy(arg(0)) ? arg(1) : arg(2);
    case 'greatest':
    case 'least': {
      // NULL when any argument is; numbers compare as numbers (exactly, or as doubles when one
      // is). A string among them compares by rules (collation, or as a double beside numbers)
      // not reproduced here: refused.
      const values = args.map((a) => evalExpr(a, env));
      if (values.some((v) => v === null)) return null;
      if (!values.every(isNumeric)) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${fn.toUpperCase()}() over other than numbers cannot be evaluated at the gateway`);
      let best: Exclude<SqlValue, null> = values[0]!;
      for (const v of values.slice(1) as Exclude<SqlValue, null>[]) {
        const c = compareValues(v, best)!;
        if (fn === 'greatest' ? c > 0 : c < 0) best = v;
      }
      // Over a double the result is a double.
      return values.some(isFloat) ? Number(best.toString()) : best;
    }
    case 'concat': {
      let s = '';
      for (const a of args) {
        const t = displayText(a, env);
        if (t === null) return null;
        s += t;
      }
      return s;
    }
    case 'upper':
    case 'ucase':
    case 'lower':
    case 'lcase': {
      // A binary string keeps its bytes, as in MariaDB.
      const v = arg(0);
      if (v instanceof Uint8Array) return v;
      const t = displayText(args[0]!, env);
      if (t === null) return null;
      // MariaDB maps case by its collation's own tables, which differ from Unicode's (and from
      // each other) past ASCII: 'ﬁ' stays, 'İ' lowers to 'i', final 'Σ' lowers to 'σ', and a
      // latin1 'ÿ' has no capital. Only ASCII, where they all agree, is mapped here.
      if (!/^[\x00-\x7f]*$/.test(t)) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${fn.toUpperCase()}() of text beyond ASCII cannot be evaluated at the gateway (MariaDB maps its case by the collation's own tables)`);
      return fn === 'upper' || fn === 'ucase' ? t.toUpperCase() : t.toLowerCase();
    }
    case 'abs': {
      const v = numberArg(0);
      if (v === null) return null;
      if (isFloat(v)) return Math.abs(Number(v.toString()));
      const d = toDecimal(v)!;
      return decimalValue({ units: d.units < 0n ? -d.units : d.units, scale: d.scale });
    }
    case 'round':
    case 'truncate':
    case 'floor':
    case 'ceil':
    case 'ceiling': {
      // As MariaDB's Item_func_round and Item_func_int_val round: ROUND
      // half away from zero (a double half to even), TRUNCATE toward zero, FLOOR down, CEIL up.
      // A FLOAT/DOUBLE column reaches here as the exact text the shard sent: it must still be
      // treated as a double (in binary). Over an expression of one, the value computed here is
      // not the double MariaDB would round: refused. Of a DATE/DATETIME/TIME MariaDB gives a
      // temporal value back.
      const name = `${fn.toUpperCase()}()`;
      if (temporalColumnType(args[0], env) !== undefined) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${name} of a DATE, DATETIME or TIME value cannot be evaluated at the gateway`);
      const x = arg(0);
      const float = isFloat(x) || (args[0].kind === 'column' && isFloatColumn(args[0].index, env));
      if (!float && args[0].kind !== 'column' && mentionsFloatColumn(args[0], env)) {
        throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${name} of an expression over FLOAT/DOUBLE values cannot be evaluated at the gateway`);
      }
      return roundValue(x, args.length > 1 ? arg(1) : 0n, float, fn === 'ceiling' ? 'ceil' : fn);
    }
    case 'cast_signed':
    case 'cast_unsigned':
      return castInteger(numberArg(0), fn === 'cast_unsigned');
    case 'cast_char': {
      const v = arg(0);
      // A double's text (and a quotient's, printed at the item's scale) are MariaDB's own.
      if (isFloat(v) || v instanceof Uint8Array) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'CAST of a DOUBLE or binary value AS CHAR cannot be evaluated at the gateway');
      return text(v);
    }
    default:
      throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `function ${fn} cannot be evaluated at the gateway (unsupported in cross-shard projections)`);
  }
}

const MAX_SIGNED = 2n ** 63n - 1n;

/**
 * CAST(x AS SIGNED | UNSIGNED) as MariaDB computes it: a DECIMAL rounds half away from zero, a
 * DOUBLE half to even (rint), a string must spell an integer. Refused: a string that is not a
 * plain integer ('12abc', '2.5': MariaDB truncates with a warning), and values that MariaDB wraps
 * around (past BIGINT, or negative AS UNSIGNED).
 */
function castInteger(v: SqlValue, unsigned: boolean): SqlValue {
  if (v === null) return null;
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (isFloat(v)) {
    const x = Number(v.toString());
    if (!Number.isFinite(x) || Math.abs(x) >= 2 ** 63) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'CAST of a DOUBLE past BIGINT cannot be evaluated at the gateway');
    n = BigInt(rint(x));
  } else if (v instanceof ExactNumber) {
    const d = parseDecimal(v.text);
    if (d === null) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `CAST of ${v.text} cannot be evaluated at the gateway`);
    n = rescale(d, 0).units;
  } else {
    const s = typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
    if (!/^ *[+-]?\d+$/.test(s)) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `CAST of the string ${JSON.stringify(s)} to an integer cannot be evaluated at the gateway (MariaDB truncates it with a warning)`);
    n = BigInt(s.trim());
  }
  if (n > MAX_SIGNED || n < -MAX_SIGNED - 1n || (unsigned && n < 0n)) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `CAST of ${n} AS ${unsigned ? 'UNSIGNED' : 'SIGNED'} wraps around in MariaDB, not evaluated at the gateway`);
  return n;
}

/** MariaDB's DECIMAL_MAX_SCALE: ROUND(x, d) keeps at most this many decimals. */
const DECIMAL_MAX_SCALE = 38;

/**
 * ROUND(x, d) as MariaDB computes it: an exact number (integer or decimal) is rounded half away
 * from zero to d decimals (d < 0 rounds to tens, hundreds…; an integer stays an integer); a
 * double is rounded with rint(), i.e. half to even, as MariaDB's my_double_round does.
 */
function isFloatColumn(index: number, env: EvalEnv): boolean {
  const f = env.fields[index];
  return !!f && valueClassOf(f.columnType, f.characterSet) === 'float';
}

function mentionsFloatColumn(e: EvalExpr, env: EvalEnv): boolean {
  if (e.kind === 'column') return isFloatColumn(e.index, env);
  return e.kind === 'call' && e.args.some((a) => mentionsFloatColumn(a, env));
}

/** How a value loses digits: ROUND, TRUNCATE (toward zero), FLOOR (down), CEIL (up). */
type Rounding = 'round' | 'truncate' | 'floor' | 'ceil';

function roundValue(x: SqlValue, d: SqlValue, float: boolean, mode: Rounding): SqlValue {
  const name = `${mode.toUpperCase()}()`;
  if (x === null || d === null) return null;
  if (typeof d !== 'bigint') throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${name} with a number of decimals that is not an integer cannot be evaluated at the gateway`);
  // A string or temporal argument has rules of its own (a DATETIME stays one): not done here.
  if (!isNumeric(x)) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${name} of a value that is not a number cannot be evaluated at the gateway`);
  if (float) return roundDouble(Number(x.toString()), d, mode);
  const places = d > BigInt(DECIMAL_MAX_SCALE) ? DECIMAL_MAX_SCALE : d < -BigInt(DECIMAL_MAX_SCALE + 40) ? -(DECIMAL_MAX_SCALE + 40) : Number(d);
  const v = toDecimal(x)!;
  if (typeof x === 'bigint' && places >= 0) return x;
  const toScale = (a: Decimal, scale: number): Decimal => (mode === 'round' || scale >= a.scale ? rescale(a, scale) : { units: dropDigits(a.units, 10n ** BigInt(a.scale - scale), mode), scale });
  if (places >= 0) return decimalValue(places >= v.scale ? (typeof x === 'bigint' ? v : toScale(v, places)) : toScale(v, places));
  // Negative places: to a multiple of 10^-places, scale 0.
  const whole = toScale(v, 0);
  const unit = 10n ** BigInt(-places);
  const r = { units: (mode === 'round' ? divideDecimal(whole, { units: unit, scale: 0 }, 0).units : dropDigits(whole.units, unit, mode)) * unit, scale: 0 };
  return typeof x === 'bigint' ? r.units : decimalValue(r);
}

/** units / unit without a remainder, by TRUNCATE (toward zero), FLOOR (down) or CEIL (up). */
function dropDigits(units: bigint, unit: bigint, mode: Exclude<Rounding, 'round'>): bigint {
  // BigInt division truncates toward zero: one step further out when FLOOR or CEIL drops a fraction.
  const q = units / unit;
  if (units % unit === 0n) return q;
  if (mode === 'floor' && units < 0n) return q - 1n;
  if (mode === 'ceil' && units > 0n) return q + 1n;
  return q;
}

/**
 * The double result is sent as MariaDB prints it: its column has min(d, 0…31) decimals, and
 * below 31 (NOT_FIXED_DEC) the text has exactly that many digits after the point (`5.0`).
 */
function roundDouble(value: number, d: bigint, mode: Rounding): SqlValue {
  if (!Number.isFinite(value)) return value;
  const dec = d > 400n ? 400 : d < -400n ? -400 : Number(d);
  const tmp = 10 ** Math.abs(dec);
  // As MariaDB's my_double_round (rint; TRUNCATE floor() of a positive value, ceil() of a
  // negative one) and its floor()/ceil() for FLOOR and CEIL.
  const whole = mode === 'round' ? rint : mode === 'floor' ? Math.floor : mode === 'ceil' ? Math.ceil : (v: number): number => (value >= 0 ? Math.floor(v) : Math.ceil(v));
  let r: number;
  if (dec < 0) r = Number.isFinite(tmp) ? whole(value / tmp) * tmp : 0;
  else {
    const scaled = value * tmp;
    r = Number.isFinite(scaled) ? whole(scaled) / tmp : value;
  }
  const decimals = Math.max(dec, 0);
  if (decimals >= 31) return r;
  // Past 2^53 MariaDB's fixed-point text of a double is not the exact value (1e300 prints as 1
  // and 300 zeros): not reproduced here.
  if (Math.abs(r) >= 2 ** 53) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `${mode.toUpperCase()}() of a double past 2^53 cannot be evaluated at the gateway`);
  return new ExactNumber((Object.is(r, -0) ? 0 : r).toFixed(decimals));
}

/** C's rint() in the default rounding mode: to the nearest integer, halves to even. */
function rint(x: number): number {
  if (Math.abs(x) >= 2 ** 52) return x;
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return r;
}
