/**
 * Turns an AST expression into an EvalExpr that the gateway evaluates per row (Filter for HAVING,
 * Projection for expressions over aggregates, Sort keys). Only what the executor's evaluator
 * implements with MySQL semantics is accepted; anything else is refused with 1235, so a query is
 * never answered with an expression the gateway would get wrong.
 */
import type { EvalExpr } from './plan-types.js';
import { functionArgs, functionName, isColumnRef, literalNodeValue } from './ast-utils.js';
import { notSupported } from './errors.js';
import type { Ast } from './sql-parser.js';

/** Operators and functions the executor's eval-expr.ts implements. */
const BINARY_OPS = new Set(['+', '-', '*', '/', '%', 'mod', 'div', '=', '!=', '<>', '<', '<=', '>', '>=', '<=>', 'and', 'or', '&&', '||']);
const FUNCTIONS = new Set(['coalesce', 'ifnull', 'if', 'concat', 'upper', 'ucase', 'lower', 'lcase', 'abs', 'greatest', 'least', 'floor', 'ceil', 'ceiling']);

/**
 * `leaf` maps a sub-expression the gateway reads from its input (an aggregate, a column, a group
 * key) to an input column index, or returns undefined to let the converter look inside it.
 * `nullSafeEqual`: the statement has a `<=>` the parser adapter could not give back to its node
 * (see sql-parser.ts); then no `>=` can be told from a `<=>`, and both are refused here rather
 * than evaluated as `>=`. A restored `<=>` node is evaluated as NULL-safe equality.
 */
export function toEvalExpr(e: Ast, leaf: (n: Ast) => number | undefined, what: string, nullSafeEqual: boolean, allowCast = false): EvalExpr {
  const conv = (n: Ast): EvalExpr => {
    const col = leaf(n);
    if (col !== undefined) return { kind: 'column', index: col };
    if (n?.type === 'param') return { kind: 'bind', name: String(n.value) };
    if (n?.type === 'null') return { kind: 'literal', value: null };
    const lit = n && !isColumnRef(n) && n.type !== 'function' && n.type !== 'binary_expr' && n.type !== 'unary_expr' ? literalNodeValue(n) : undefined;
    if (lit !== undefined) return { kind: 'literal', value: lit };
    if (n?.type === 'binary_expr') {
      const op = String(n.operator).toLowerCase();
      if (op === 'is' && n.right?.type === 'bool' && n.right.value === true) return { kind: 'call', fn: 'istrue', args: [conv(n.left)] };
      if (op === 'is' || op === 'is not') {
        if (n.right?.type !== 'null') throw notSupported(`IS ${String(n.right?.value ?? '')} in ${what}`);
        return { kind: 'call', fn: op === 'is' ? 'isnull' : 'isnotnull', args: [conv(n.left)] };
      }
      if ((op === 'between' || op === 'not between') && n.right?.type === 'expr_list' && n.right.value?.length === 2) {
        // `x BETWEEN a AND b` is `a <= x AND x <= b` (MySQL compares each pair by its types;
        // the evaluator refuses the pairs it cannot compare exactly, such as two strings).
        const x = conv(n.left);
        const within: EvalExpr = { kind: 'call', fn: 'and', args: [{ kind: 'call', fn: '>=', args: [x, conv(n.right.value[0])] }, { kind: 'call', fn: '<=', args: [x, conv(n.right.value[1])] }] };
        return op === 'between' ? within : { kind: 'call', fn: 'not', args: [within] };
      }
      if (!BINARY_OPS.has(op)) throw notSupported(`operator ${String(n.operator)} in ${what}`);
      if (op === '>=' && nullSafeEqual) throw notSupported(`<=> in ${what}`);
      const fn = op === '&&' ? 'and' : op === '||' ? 'or' : op === 'mod' ? '%' : op;
      return { kind: 'call', fn, args: [conv(n.left), conv(n.right)] };
    }
    if (n?.type === 'unary_expr') {
      const op = String(n.operator).toLowerCase();
      if (op === '-') return { kind: 'call', fn: '-', args: [conv(n.expr)] };
      if (op === 'not' || op === '!') return { kind: 'call', fn: 'not', args: [conv(n.expr)] };
      throw notSupported(`operator ${String(n.operator)} in ${what}`);
    }
    if (allowCast && n?.type === 'cast' && String(n.keyword ?? 'cast').toLowerCase() === 'cast' && Array.isArray(n.target) && n.target.length === 1) {
      // CAST(x AS SIGNED | UNSIGNED | CHAR): the conversions eval-expr.ts reproduces (a CHAR
      // with a length, DECIMAL(p, s), dates… are not). Only where the caller asks for it (INSERT
      // values): a Projection would also need the result column's type.
      const t = n.target[0];
      const type = String(t?.dataType ?? '').toLowerCase();
      const fn = type === 'signed' || type === 'signed integer' ? 'cast_signed' : type === 'unsigned' || type === 'unsigned integer' ? 'cast_unsigned' : type === 'char' && t.length === undefined ? 'cast_char' : undefined;
      if (fn === undefined) throw notSupported(`CAST(… AS ${String(t?.dataType ?? '?')}) in ${what}`);
      return { kind: 'call', fn, args: [conv(n.expr)] };
    }
    if (n?.type === 'case' && (n.expr === null || n.expr === undefined)) {
      // CASE WHEN c1 THEN r1 … [ELSE e] END is IF(c1, r1, IF(…, e)): the same truth test and NULL
      // when no branch holds; its result type, like IF's, is the column's the shards computed.
      // `CASE x WHEN v …` compares x with every v by a type aggregated over all of them, which
      // `=` pair by pair would not follow: refused below.
      const branches: Ast[] = Array.isArray(n.args) ? n.args : [];
      const otherwise = branches.find((b) => b?.type === 'else');
      let out: EvalExpr = otherwise ? conv(otherwise.result) : { kind: 'literal', value: null };
      const whens = branches.filter((b) => b?.type === 'when');
      if (whens.length === 0 || whens.length + (otherwise ? 1 : 0) !== branches.length) throw notSupported(`case in ${what}`);
      for (let i = whens.length - 1; i >= 0; i--) out = { kind: 'call', fn: 'if', args: [conv(whens[i].cond), conv(whens[i].result), out] };
      return out;
    }
    if (n?.type === 'function') {
      const name = functionName(n);
      if (name === 'round' || name === 'truncate') {
        // ROUND(x[, d]) and TRUNCATE(x, d) with a constant d: MariaDB's result type depends on d
        // only when d is a constant, which is what the executor reproduces.
        const args = functionArgs(n);
        if (args.length < (name === 'truncate' ? 2 : 1) || args.length > 2) throw notSupported(`${name}() with ${args.length} arguments in ${what}`);
        const d = args[1];
        const constant = (x: Ast): boolean => x?.type === 'param' || x?.type === 'number' || (x?.type === 'unary_expr' && x.operator === '-' && constant(x.expr));
        if (d !== undefined && !constant(d)) throw notSupported(`${name}() with a number of decimals that is not a constant in ${what}`);
        return { kind: 'call', fn: name, args: args.map(conv) };
      }
      if (name === 'mod' && functionArgs(n).length === 2) return { kind: 'call', fn: '%', args: functionArgs(n).map(conv) };
      if (!FUNCTIONS.has(name)) throw notSupported(`function ${name}() in ${what}`);
      return { kind: 'call', fn: name, args: functionArgs(n).map(conv) };
    }
    throw notSupported(`${isColumnRef(n) ? 'column' : String(n?.type ?? 'expression')} in ${what}`);
  };
  return conv(e);
}
