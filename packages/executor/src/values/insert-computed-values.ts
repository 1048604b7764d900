/**
 * INSERT values the gateway computes (InsertPrimitive.computedValues): a vindex or auto-increment
 * column given as an expression (`1 + 1`, `'7' + 0`, `5 / 2`, `concat('u', ?)`). Evaluated with
 * eval-expr.ts, node by node, so that every intermediate value can be checked against what
 * MariaDB would compute; what the gateway cannot reproduce exactly is refused with 1235:
 * - a string in arithmetic must be a plain number ('7', ' 2.5'): MariaDB reads any other as a
 *   DOUBLE with a warning, an error in a strict INSERT ('7abc' + 0);
 * - an integer result outside BIGINT (MariaDB: error 1690), a division by zero (1365 in strict
 *   mode, NULL otherwise), a non-finite double;
 * - a binary string, a double or a quotient turned into text (CONCAT, UPPER, CAST AS CHAR: MariaDB's text of
 *   those depends on the item's type), non-ASCII text through UPPER/LOWER (collation rules);
 * - IF/COALESCE/IFNULL over values of different types (MariaDB converts the chosen one to the
 *   aggregated type: IF(c, 2.5, 1) gives 1.0).
 *
 * The shard gets the value itself, typed as MariaDB types the expression (an integer, a DECIMAL
 * with MariaDB's digits, a DOUBLE literal `7e0`, a string), so it stores what one MariaDB storing
 * the expression would. The vindexes read the value as the column stores it: a number with a
 * fraction rounds into an integer column (DECIMAL half away from zero, DOUBLE half to even, as
 * MariaDB's Field_long/longlong store them) when the vschema declares the column's integer type;
 * without that, such a value has no keyspace id and the INSERT is refused.
 *
 * Concurrency: pure functions over one execution's own row copies.
 */
import { ExactNumber, type BindVars, type EvalExpr, type InsertComputedValue, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import { evalExpr, type EvalEnv } from './eval-expr.js';
import { literalOf } from './cell-codec.js';

const MIN_BIGINT = -(2n ** 63n);
const MAX_BIGINT = 2n ** 63n - 1n;
/** A string MariaDB reads as a number without a warning: optional spaces, sign, digits, fraction, exponent. */
const CLEAN_NUMBER = /^ *[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? *$/;
const ARITHMETIC = new Set(['+', '-', '*', '/', 'plus', 'minus', 'multiply', 'divide']);
/** Functions of a number that MariaDB computes as a DOUBLE when given a string: refused then. */
const NUMBER_FUNCTIONS = new Set(['abs', 'round', 'truncate', 'floor', 'ceil', 'ceiling']);
const TEXT_FUNCTIONS = new Set(['concat', 'upper', 'ucase', 'lower', 'lcase', 'cast_char']);
const CHOICE_FUNCTIONS = new Set(['if', 'coalesce', 'ifnull']);
const COMPARISONS = new Set(['=', '<=>', '!=', '<>', '<', '<=', '>', '>=']);

function refuse(column: string, why: string): ExecutorError {
  return new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: the value of column ${column} in INSERT: ${why}`);
}

/** Each row's computed values, written into the row at sendIndex and routeIndex. */
export function fillComputedValues(computed: readonly InsertComputedValue[], rows: SqlValue[][], perRowTemplates: boolean, bindVars: BindVars, divPrecisionIncrement: number): void {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const binds: Record<string, SqlValue> = {};
    for (let k = 0; k < row.length; k++) binds['$' + k] = row[k] ?? null;
    const env: EvalEnv = { row: [], fields: [], bindVars: { ...bindVars, ...binds } as BindVars, divPrecisionIncrement };
    for (const cv of computed) {
      const expr = perRowTemplates ? cv.exprs[i] : cv.exprs[0];
      if (expr === undefined) throw refuse(cv.column, 'the row has no expression for it');
      const v = checked(expr, env, cv.column);
      const sent = v.kind === 'double' ? doubleLiteral(v.value as number, cv.column) : v.value;
      row[cv.sendIndex] = sent;
      row[cv.routeIndex] = routedValue(v, cv);
    }
  }
}

/** After the sequence filled the auto-increment column's routed value: the shard gets the same id. */
export function copyGeneratedIds(computed: readonly InsertComputedValue[], rows: SqlValue[][]): void {
  for (const cv of computed) for (const r of rows) if (r[cv.sendIndex] === null && r[cv.routeIndex] !== null) r[cv.sendIndex] = r[cv.routeIndex]!;
}

type Kind = 'null' | 'int' | 'decimal' | 'double' | 'string';
interface Checked {
  readonly value: SqlValue;
  readonly kind: Kind;
  /** The value is (or is computed from) a quotient, whose digits MariaDB prints by the item's scale. */
  readonly quotient: boolean;
}

function kindOf(v: SqlValue, column: string): Kind {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (v instanceof ExactNumber) return v.isDouble() ? 'double' : 'decimal';
  if (typeof v === 'string') return 'string';
  throw refuse(column, 'a binary string or typed value (its conversions are not reproduced at the gateway)');
}

function checked(e: EvalExpr, env: EvalEnv, column: string): Checked {
  if (e.kind !== 'call') {
    const value = evalExpr(e, env);
    const kind = kindOf(value, column);
    // A DOUBLE literal (`1e0`) is evaluated as the double it names.
    return { value: kind === 'double' && value instanceof ExactNumber ? Number(value.text) : value, kind, quotient: false };
  }
  const fn = e.fn.toLowerCase();
  const args = e.args.map((a) => checked(a, env, column));
  const quotient = args.some((a) => a.quotient) || fn === '/' || fn === 'divide';
  const literalArgs: EvalExpr[] = args.map((a) => ({ kind: 'literal', value: a.value }));
  if (ARITHMETIC.has(fn)) {
    let double = false;
    for (const a of args) {
      if (a.kind === 'string') {
        if (!CLEAN_NUMBER.test(a.value as string)) throw refuse(column, `the string ${literalOf(a.value)} in arithmetic (MariaDB reads it as a DOUBLE with a warning, an error in a strict INSERT)`);
        double = true;
      }
      if (a.kind === 'double') double = true;
    }
    if ((fn === '/' || fn === 'divide') && args[1] && args[1].kind !== 'null' && Number(args[1].value!.toString()) === 0) {
      throw refuse(column, 'a division by zero (MariaDB: error 1365 in strict mode, NULL otherwise)');
    }
    if (double) {
      // MariaDB computes in DOUBLE when an operand is a string or a double, as JS does here.
      const nums: EvalExpr[] = args.map((a) => ({ kind: 'literal', value: a.value === null ? null : Number(String(a.value)) }));
      const value = evalExpr({ kind: 'call', fn, args: nums }, env);
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) throw refuse(column, 'a DOUBLE result out of range');
      return { value, kind: value === null ? 'null' : 'double', quotient };
    }
    const value = evalExpr({ kind: 'call', fn, args: literalArgs }, env);
    const kind = kindOf(value, column);
    if (kind === 'int' && ((value as bigint) < MIN_BIGINT || (value as bigint) > MAX_BIGINT)) {
      throw refuse(column, `an integer result out of BIGINT range (MariaDB: error 1690)`);
    }
    if (kind === 'decimal' && (value as ExactNumber).text.replace(/[^0-9]/g, '').length > 65) throw refuse(column, 'a DECIMAL result past 65 digits');
    return { value, kind, quotient };
  }
  if (TEXT_FUNCTIONS.has(fn)) {
    for (const a of args) {
      if (a.kind === 'double' || a.quotient) throw refuse(column, `a ${a.kind === 'double' ? 'DOUBLE' : 'quotient'} turned into text (its digits depend on MariaDB's type of the item)`);
    }
    if ((fn === 'upper' || fn === 'ucase' || fn === 'lower' || fn === 'lcase') && args.some((a) => a.kind === 'string' && /[^\x00-\x7f]/.test(a.value as string))) throw refuse(column, `${fn}() of non-ASCII text (its case rules are the collation's)`);
    const value = evalExpr({ kind: 'call', fn, args: literalArgs }, env);
    return { value, kind: kindOf(value, column), quotient: false };
  }
  if (NUMBER_FUNCTIONS.has(fn) && args.some((a) => a.kind === 'string')) throw refuse(column, `${fn}() of a string (MariaDB computes it as a DOUBLE)`);
  if (COMPARISONS.has(fn) && args.some((a) => a.kind !== 'string' && a.kind !== 'null')) {
    for (const a of args) if (a.kind === 'string' && !CLEAN_NUMBER.test(a.value as string)) throw refuse(column, `the string ${literalOf(a.value)} compared with a number (MariaDB reads it with a warning, an error in a strict INSERT)`);
  }
  if (CHOICE_FUNCTIONS.has(fn)) {
    const choices = fn === 'if' ? args.slice(1) : args;
    const kinds = new Set(choices.filter((a) => a.kind !== 'null').map((a) => (a.kind === 'decimal' ? `decimal:${scaleOf(a.value as ExactNumber)}:${a.quotient}` : a.kind)));
    if (kinds.size > 1) throw refuse(column, `${fn.toUpperCase()}() over values of different types (MariaDB converts the chosen one to their common type)`);
  }
  const value = evalExpr({ kind: 'call', fn, args: literalArgs }, env);
  const kind = kindOf(value, column);
  if (kind === 'int' && ((value as bigint) < MIN_BIGINT || (value as bigint) > MAX_BIGINT)) throw refuse(column, 'an integer result out of BIGINT range');
  return { value, kind, quotient };
}

function scaleOf(n: ExactNumber): number {
  const dot = n.text.indexOf('.');
  return dot < 0 ? 0 : n.text.length - dot - 1;
}

/** A double as a literal MariaDB reads as that same DOUBLE (`7e0`, `2.5e0`, `1e+21`). */
function doubleLiteral(x: number, column: string): ExactNumber {
  if (!Number.isFinite(x)) throw refuse(column, 'a DOUBLE result out of range');
  const s = String(x);
  return new ExactNumber(/e/.test(s) ? s : `${s}e0`);
}

/**
 * The value the vindexes read: the value as the column stores it. A number with a fraction has a
 * keyspace id only in an integer column whose type the vschema declares (rounded as MariaDB
 * stores it); elsewhere it stays as it is and maps to no keyspace id, so the INSERT is refused.
 */
function routedValue(v: Checked, cv: InsertComputedValue): SqlValue {
  if (v.value === null) return null;
  if (v.kind === 'double') {
    const x = v.value as number;
    if (Number.isInteger(x)) return Number.isSafeInteger(x) ? BigInt(x) : doubleLiteral(x, cv.column);
    return cv.integerColumn ? BigInt(rint(x)) : doubleLiteral(x, cv.column);
  }
  if (v.kind === 'decimal') {
    const text = (v.value as ExactNumber).text;
    const m = /^(-?)(\d*)\.(\d+)$/.exec(text);
    if (!m) return v.value;
    const whole = BigInt(m[2] || '0');
    if (/^0*$/.test(m[3]!)) return m[1] === '-' ? -whole : whole;
    if (!cv.integerColumn) return v.value;
    // Half away from zero, as MariaDB stores a DECIMAL into an integer column.
    const up = m[3]!.charCodeAt(0) >= 53 ? 1n : 0n;
    return m[1] === '-' ? -(whole + up) : whole + up;
  }
  return v.value;
}

/** C's rint() in the default rounding mode: to the nearest integer, halves to even. */
function rint(x: number): number {
  let r = Math.round(x);
  if (Math.abs(r - x) === 0.5 && r % 2 !== 0) r -= Math.sign(r - x);
  return r;
}
