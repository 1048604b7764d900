/**
 * Gateway-side evaluation of the planner's EvalExpr (Projection, Filter) with MySQL semantics:
 * NULL propagates, integer and decimal arithmetic is exact, comparisons follow the operand types.
 */
import { ExactNumber, type BindVars, type EvalExpr, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from '../errors.js';
import type { FieldInfo, Row } from '../types.js';
import { cellToSqlValue } from './cell-codec.js';
import { compareBytes, foldGeneralCi } from './cell-compare.js';
import { valueClassOf } from './column-types.js';
import { addDecimal, compareDecimal, divideDecimalUnrounded, formatDecimal, multiplyDecimal, parseDecimal, type Decimal } from './decimal.js';

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
      return v as SqlValue;
    }
    case 'call':
      return callFunction(expr.fn.toLowerCase(), expr.args, env);
  }
}

/** The number MySQL reads from a string: its longest numeric prefix ('12abc' is 12, 'abc' is 0). */
function numericPrefix(s: string): string {
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(s);
  return m ? m[1] : '0';
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

function isNumeric(v: SqlValue): boolean {
  return typeof v === 'bigint' || typeof v === 'number' || v instanceof ExactNumber;
}

function isFloat(v: SqlValue): boolean {
  return typeof v === 'number' || (v instanceof ExactNumber && /e/i.test(v.text));
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
      const x = Number(a.toString());
      const y = Number(b.toString());
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return compareDecimal(toDecimal(a)!, toDecimal(b)!);
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

export function truthy(v: SqlValue): boolean | null {
  if (v === null) return null;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  const n = Number(v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v.toString());
  return Number.isNaN(n) ? false : n !== 0;
}

function bool(b: boolean | null): SqlValue {
  return b === null ? null : b ? 1n : 0n;
}

function text(v: SqlValue): string | null {
  if (v === null) return null;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return v.toString();
}

function callFunction(fn: string, args: readonly EvalExpr[], env: EvalEnv): SqlValue {
  const arg = (i: number) => evalExpr(args[i], env);
  switch (fn) {
    case '+':
    case 'plus':
    case '-':
    case 'minus':
    case '*':
    case 'multiply':
    case '/':
    case 'divide': {
      const op = fn === 'plus' ? '+' : fn === 'minus' ? '-' : fn === 'multiply' ? '*' : fn === 'divide' ? '/' : fn;
      if (args.length === 1 && op === '-') return arithmetic('-', 0n, arg(0), env);
      return arithmetic(op, arg(0), arg(1), env);
    }
    case '=':
    case '!=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      let a = arg(0);
      let b = arg(1);
      if (isNumeric(b)) a = temporalAsNumber(args[0], a, env);
      if (isNumeric(a)) b = temporalAsNumber(args[1], b, env);
      const c = compareValues(a, b);
      if (c === null) return null;
      const r = fn === '=' ? c === 0 : fn === '<' ? c < 0 : fn === '<=' ? c <= 0 : fn === '>' ? c > 0 : fn === '>=' ? c >= 0 : c !== 0;
      return bool(r);
    }
    case '<=>': {
      const a = arg(0);
      const b = arg(1);
      if (a === null || b === null) return bool(a === null && b === null);
      return bool(compareValues(a, b) === 0);
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
    case 'concat': {
      let s = '';
      for (const a of args) {
        const t = text(evalExpr(a, env));
        if (t === null) return null;
        s += t;
      }
      return s;
    }
    case 'upper':
    case 'ucase': {
      const t = text(arg(0));
      return t === null ? null : t.toUpperCase();
    }
    case 'lower':
    case 'lcase': {
      const t = text(arg(0));
      return t === null ? null : t.toLowerCase();
    }
    case 'abs': {
      const v = arg(0);
      if (v === null) return null;
      if (isFloat(v)) return Math.abs(Number(v.toString()));
      const d = toDecimal(v)!;
      return decimalValue({ units: d.units < 0n ? -d.units : d.units, scale: d.scale });
    }
    default:
      throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `function ${fn} cannot be evaluated at the gateway (unsupported in cross-shard projections)`);
  }
}
