/**
 * INSERT rows whose vindex or auto-increment column value is an expression, not a literal
 * (`values (1 + 1, 'x')`, `values (concat('u', ?), …)`). The gateway routes a row on that value,
 * so it evaluates the expression itself (the executor's eval-expr.ts, as Vitess's evalengine
 * does) and sends the shard the evaluated value in its place: the shard then stores exactly what
 * the row was routed on.
 *
 * Only a deterministic expression over the row's literals and `?` values is planned: a column of
 * the row, NOW(), RAND(), a subquery, or any function eval-expr.ts does not implement is refused
 * here (gateway-expr.ts); values the gateway cannot reproduce exactly (a string that is not a
 * clean number in arithmetic, an overflow, a division by zero…) are refused at execution.
 *
 * Concurrency: pure functions.
 */
import type { EvalExpr } from './plan-types.js';
import { toEvalExpr } from './gateway-expr.js';
import { ROW_BIND_PREFIX } from './literal-list-scanner.js';
import { notSupported, planFailure } from './errors.js';
import type { Token } from './lexer.js';
import type { Ast } from './sql-parser.js';

/** Token ranges [start, end) of each value of the row `( v0 , v1 , … )` at tokens [start, end). */
export function rowValueRanges(toks: readonly Token[], start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let from = start + 1;
  for (let i = start; i < end; i++) {
    const t = toks[i]!.text;
    if (t === '(') depth++;
    else if (t === ')') {
      depth--;
      if (depth === 0) out.push([from, i]);
    } else if (t === ',' && depth === 1) {
      out.push([from, i]);
      from = i + 1;
    }
  }
  return out;
}

/**
 * The value of column `column` in one row as an expression over the row's values (`$k`). `role`
 * names the column's part in routing, for the refusal message.
 */
export function insertValueExpr(node: Ast, column: string, role: string, nullSafeEqual: boolean): EvalExpr {
  const what = `the value of ${role} column ${column} in INSERT (the gateway routes the row on it: give a literal, or an expression over literals and ? values)`;
  return rowBinds(toEvalExpr(node, () => undefined, what, nullSafeEqual, true), what);
}

/** `__r3` (the normalizer's name of the row's fourth value) → `$3`, as row templates name it. */
function rowBinds(e: EvalExpr, what: string): EvalExpr {
  switch (e.kind) {
    case 'bind':
      if (!e.name.startsWith(ROW_BIND_PREFIX)) throw notSupported(`the bind value :${e.name} in ${what}`);
      return { kind: 'bind', name: '$' + e.name.slice(ROW_BIND_PREFIX.length) };
    case 'call':
      return { kind: 'call', fn: e.fn, args: e.args.map((a) => rowBinds(a, what)) };
    case 'column':
      throw planFailure(`a column in ${what}`);
    default:
      return e;
  }
}

/** Vitess's vschema column types of integers (`INT64`, `UINT32`…): MariaDB rounds a number stored in one. */
export function isIntegerColumnType(type: string | undefined): boolean {
  return type !== undefined && /^u?int(8|16|24|32|64)$/i.test(type);
}
