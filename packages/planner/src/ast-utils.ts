/**
 * Helpers over node-sql-parser's MySQL AST (which is untyped in practice: shapes vary by node).
 */
import { ExactNumber, type SqlValue } from './plan-types.js';
import type { Ast } from './sql-parser.js';

/** A select statement node (possibly the head of a UNION chain via `_next`). */
export function isSelectNode(n: Ast): boolean {
  return n !== null && typeof n === 'object' && n.type === 'select';
}

/** A parenthesized subquery in expression position: `{ ast: {type:'select'} }`. */
export function subqueryOf(n: Ast): Ast | null {
  if (n !== null && typeof n === 'object' && n.ast && isSelectNode(n.ast)) return n.ast;
  return null;
}

/** Splits a predicate into its AND-ed parts. */
export function conjuncts(e: Ast): Ast[] {
  if (!e) return [];
  return operands(e, (n) => n?.type === 'binary_expr' && String(n.operator).toUpperCase() === 'AND');
}

/**
 * The operands of a chain of one binary operator (`a OR b OR c`: the parser makes a tree as deep
 * as the chain is long), left to right. Iterative and linear: spreading each level's operands
 * into the next made a 20,000-term OR chain take a minute, and recursion overflowed the stack.
 */
export function operands(e: Ast, isOperator: (n: Ast) => boolean): Ast[] {
  const out: Ast[] = [];
  const pending: Ast[] = [e];
  while (pending.length > 0) {
    const n = pending.pop();
    if (isOperator(n)) pending.push(n.right, n.left);
    else out.push(n);
  }
  return out;
}

/** Lower-cased function name of a `function` node. */
export function functionName(n: Ast): string {
  if (!n || n.type !== 'function') return '';
  const name = n.name;
  if (typeof name === 'string') return name.toLowerCase();
  const parts = name?.name;
  if (Array.isArray(parts) && parts.length > 0) return String(parts[parts.length - 1].value).toLowerCase();
  return '';
}

/** Arguments of a `function` node. */
export function functionArgs(n: Ast): Ast[] {
  const a = n?.args;
  if (!a) return [];
  if (Array.isArray(a.value)) return a.value;
  if (Array.isArray(a)) return a;
  return [];
}

/** The column name of a column_ref (`*` for stars). */
export function columnName(n: Ast): string {
  const c = n.column;
  if (typeof c === 'string') return c;
  if (c && typeof c === 'object') {
    if (c.expr && c.expr.value !== undefined) return String(c.expr.value);
    if (c.value !== undefined) return String(c.value);
  }
  return String(c);
}

export function isColumnRef(n: Ast): boolean {
  return n !== null && typeof n === 'object' && n.type === 'column_ref';
}

const STRING_TYPES = new Set(['single_quote_string', 'double_quote_string', 'string', 'natural_string', 'var_string', 'backticks_quote_string']);

/**
 * The value of a literal node that the normalizer kept in the text (constants the planner folds),
 * `undefined` when the node is not a literal. NULL is `null`.
 */
export function literalNodeValue(n: Ast): SqlValue | undefined {
  if (!n || typeof n !== 'object') return undefined;
  switch (n.type) {
    case 'number': {
      const v = n.value;
      if (typeof v === 'bigint') return v;
      if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : new ExactNumber(String(v));
      if (typeof v === 'string') return /^-?\d+$/.test(v) ? BigInt(v) : new ExactNumber(v);
      return undefined;
    }
    case 'bool':
    case 'boolean':
      return n.value ? 1n : 0n;
    case 'null':
      return null;
    default:
      if (STRING_TYPES.has(n.type)) return String(n.value);
      return undefined;
  }
}

/** Visits every object inside `n` (depth first), skipping location info. Return false to prune. */
export function walk(n: Ast, visit: (node: Ast, parentKey: string) => boolean | void, key = ''): void {
  if (n === null || typeof n !== 'object') return;
  if (Array.isArray(n)) {
    for (const x of n) walk(x, visit, key);
    return;
  }
  if (visit(n, key) === false) return;
  for (const k of Object.keys(n)) {
    if (k === 'loc' || k === 'tableList' || k === 'columnList') continue;
    const v = n[k];
    if (v !== null && typeof v === 'object') walk(v, visit, k);
  }
}

/** The UNION chain of a select: [head, next, next…]. */
export function unionParts(s: Ast): Ast[] {
  const parts: Ast[] = [];
  for (let cur = s; cur; cur = cur._next) parts.push(cur);
  return parts;
}

/** Compares two numeric/string constant values as MySQL would for `=` (enough for folding). */
export function compareConstants(a: SqlValue, b: SqlValue): number | null {
  if (a === null || b === null) return null;
  const na = toNumber(a);
  const nb = toNumber(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (na === undefined || nb === undefined) return null;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** MySQL's numeric reading of a constant ('12abc' → 12, 'aa' → 0). */
export function toNumber(v: SqlValue): number | undefined {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (v instanceof ExactNumber) return Number(v.text);
  if (typeof v === 'string') {
    const m = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(v);
    return m ? Number(m[0]) : 0;
  }
  return undefined;
}

/** Folds a constant expression (literals and arithmetic/comparison/logic over them). */
export function foldConstant(n: Ast): SqlValue | undefined {
  const lit = literalNodeValue(n);
  if (lit !== undefined) return lit;
  if (!n || typeof n !== 'object') return undefined;
  if (n.type === 'unary_expr') {
    const v = foldConstant(n.expr);
    if (v === undefined) return undefined;
    const op = String(n.operator).toUpperCase();
    if (op === '-') {
      if (v === null) return null;
      if (typeof v === 'bigint') return -v;
      const x = toNumber(v);
      return x === undefined ? undefined : new ExactNumber(String(-x));
    }
    if (op === 'NOT' || op === '!') {
      if (v === null) return null;
      return toNumber(v) === 0 ? 1n : 0n;
    }
    return undefined;
  }
  if (n.type === 'binary_expr') {
    const op = String(n.operator).toUpperCase();
    if (op === 'IN' || op === 'NOT IN') {
      const l = foldConstant(n.left);
      const items = n.right?.type === 'expr_list' ? (n.right.value as Ast[]) : null;
      if (l === undefined || items === null) return undefined;
      if (l === null) return null;
      let sawNull = false;
      for (const it of items) {
        const v = foldConstant(it);
        if (v === undefined) return undefined;
        if (v === null) {
          sawNull = true;
          continue;
        }
        if (compareConstants(l, v) === 0) return op === 'IN' ? 1n : 0n;
      }
      if (sawNull) return null;
      return op === 'IN' ? 0n : 1n;
    }
    const l = foldConstant(n.left);
    const r = foldConstant(n.right);
    if (op === 'AND' || op === 'OR' || op === '&&' || op === '||') {
      const lt = truth(l);
      const rt = truth(r);
      if (op === 'AND' || op === '&&') {
        if (lt === false || rt === false) return 0n;
        if (lt === true && rt === true) return 1n;
        return lt === undefined || rt === undefined ? undefined : null;
      }
      if (lt === true || rt === true) return 1n;
      if (lt === false && rt === false) return 0n;
      return lt === undefined || rt === undefined ? undefined : null;
    }
    if (l === undefined || r === undefined) return undefined;
    if (op === '<=>') {
      // NULL-safe: NULL <=> NULL is 1, NULL <=> a value is 0, never NULL.
      if (l === null || r === null) return l === null && r === null ? 1n : 0n;
      const c = compareConstants(l, r);
      return c === null ? undefined : c === 0 ? 1n : 0n;
    }
    if (l === null || r === null) return null;
    switch (op) {
      case '=':
      case '!=':
      case '<>':
      case '<':
      case '>':
      case '<=':
      case '>=': {
        const c = compareConstants(l, r);
        if (c === null) return undefined;
        const res = op === '=' ? c === 0 : op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : op === '>=' ? c >= 0 : c !== 0;
        return res ? 1n : 0n;
      }
      case '+':
      case '-':
      case '*': {
        if (typeof l === 'bigint' && typeof r === 'bigint') return op === '+' ? l + r : op === '-' ? l - r : l * r;
        return undefined;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}

/** SQL truthiness of a folded constant: true, false, null (unknown at runtime → undefined). */
export function truth(v: SqlValue | undefined): boolean | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  const x = toNumber(v);
  if (x === undefined) return undefined;
  return x !== 0;
}
