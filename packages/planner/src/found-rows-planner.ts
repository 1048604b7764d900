/**
 * `SELECT SQL_CALC_FOUND_ROWS … LIMIT n`: the client gets the rows of the statement without the
 * option (it changes nothing else), and the session keeps, for the next FOUND_ROWS(), the number
 * of rows the statement returns without its LIMIT. The gateway gets that number from a second
 * plan, as Vitess does:
 * - a statement without aggregation, GROUP BY, HAVING, DISTINCT or window function returns one
 *   row per row of its FROM/WHERE, so the count is `select count(*)` over the same FROM and WHERE
 *   (one row, planned as any count(*) is: summed over the shards of a scatter);
 * - any other statement runs again without ORDER BY and LIMIT (neither changes how many rows
 *   there are), and the gateway counts its rows as they stream by, holding none.
 * Refused over a UNION, and with FOR UPDATE / LOCK IN SHARE MODE / INTO (the count would read
 * without the locks, or there is no result set).
 */
import type { CalcFoundRowsPrimitive } from './plan-types.js';
import type { PlanContext } from './plan-context.js';
import { hasAggregate } from './select-analyzer.js';
import { renderTokens } from './shard-sql.js';
import { kw } from './lexer.js';
import { notSupported } from './errors.js';
import { selectListEnd, statementHasWindow } from './select-planner.js';
import type { Ast } from './sql-parser.js';

/** Top-level clause keywords after which the statement's tail cannot be cut as a plain LIMIT. */
const LOCKING_OR_INTO = new Set(['for', 'lock', 'into', 'procedure']);

/** The plan of a statement whose token 1 is SQL_CALC_FOUND_ROWS and that has a top-level LIMIT. */
export function planCalcFoundRows(ctx: PlanContext): CalcFoundRowsPrimitive {
  const p = ctx.parsed;
  const sel = p.ast;
  if (sel._next) throw notSupported('SQL_CALC_FOUND_ROWS with LIMIT over a UNION');
  const toks = p.tokens;
  let from = -1;
  let order = -1;
  let limit = -1;
  let depth = 0;
  for (let i = 2; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0) {
      const k = kw(t);
      if (k === 'from' && from < 0) from = i;
      else if (k === 'order' && kw(toks[i + 1]) === 'by' && order < 0) order = i;
      else if (k === 'limit') limit = i;
      else if (LOCKING_OR_INTO.has(k)) throw notSupported(`SQL_CALC_FOUND_ROWS with LIMIT and ${k.toUpperCase()}`);
    }
  }
  if (limit < 0) throw notSupported('SQL_CALC_FOUND_ROWS with a LIMIT inside parentheses');
  // Its plans are planned apart (planText): a LAST_INSERT_ID(expr) column would not reach the session.
  if (toks.some((t, i) => kw(t) === 'last_insert_id' && toks[i + 1]?.text === '(' && toks[i + 2]?.text !== ')')) throw notSupported('LAST_INSERT_ID(expr) with SQL_CALC_FOUND_ROWS and LIMIT');
  const cut = order >= 0 && order < limit ? order : limit;
  const withoutOption = { from: 1, to: 2, text: '' };
  const limitQuery = ctx.planText(renderTokens(toks, 0, toks.length, [withoutOption]));
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  const oneRowPerRow = !sel.distinct && !sel.having && (sel.groupby?.columns ?? []).length === 0 && !columns.some((c) => hasAggregate(c.expr)) && !statementHasWindow(ctx);
  if (oneRowPerRow) {
    const listEnd = selectListEnd(ctx);
    const tail = renderTokens(toks, from >= 0 && from < cut ? from : Math.min(listEnd, cut), cut, []);
    const countQuery = ctx.planText(`select count(*) ${tail}`);
    return { operator: 'SQLCalcFoundRows', limitQuery: limitQuery.instructions, countQuery: countQuery.instructions, countIsScalar: true };
  }
  const countQuery = ctx.planText(renderTokens(toks, 0, cut, [withoutOption]));
  return { operator: 'SQLCalcFoundRows', limitQuery: limitQuery.instructions, countQuery: countQuery.instructions, countIsScalar: false };
}
