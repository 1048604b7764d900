/**
 * UNION that cannot run as one route: each part is planned on its own (with whatever gateway
 * operators it needs: its own LIMIT, aggregation, ORDER BY…), the parts are concatenated, a
 * Distinct removes duplicates where the UNION is not ALL, and the UNION's own ORDER BY / LIMIT
 * run at the gateway over the combined rows. A shard never applies a clause that needs the
 * rows of other shards.
 */
import type { OrderByKey, Primitive, ValueExpr } from './plan-types.js';
import type { PlanContext } from './plan-context.js';
import { columnName, isColumnRef, unionParts } from './ast-utils.js';
import type { Ast } from './sql-parser.js';
import { renderTokens } from './shard-sql.js';
import { kw } from './lexer.js';
import { notSupported, PlanError } from './errors.js';
import { limitValue } from './select-planner.js';

/** Whether the UNION has an ORDER BY or LIMIT of its own (not one inside a parenthesized part). */
export function unionHasTail(ast: Ast): boolean {
  const parts = unionParts(ast);
  const last = parts[parts.length - 1]!;
  return !!(ast._orderby || hasLimit(ast._limit) || (!last.parentheses_symbol && (last.orderby || hasLimit(last.limit))));
}

function hasLimit(l: Ast): boolean {
  return !!l && Array.isArray(l.value) && l.value.length > 0;
}

interface Segment {
  from: number;
  to: number;
  /** The set operator before this part: 'all' or 'distinct' (none for the first part). */
  op?: 'all' | 'distinct';
}

export function planUnionParts(ctx: PlanContext): Primitive {
  const p = ctx.parsed;
  const ast = p.ast;
  const toks = p.tokens;
  if (p.intoOutfile >= 0) throw notSupported('INTO OUTFILE on a UNION that needs several routes');
  const parts = unionParts(ast);
  // Every part must have as many columns as the first (MySQL's 1222), checked here because the
  // gateway, not a server, combines the rows.
  const widths = parts.map((s) => (Array.isArray(s.columns) && !s.columns.some((c: Ast) => isColumnRef(c.expr) && columnName(c.expr) === '*') ? s.columns.length : -1));
  if (widths.some((w) => w < 0)) throw notSupported("'*' in a UNION that needs several routes");
  if (widths.some((w) => w !== widths[0])) throw new PlanError(1222, '21000', 'The used SELECT statements have a different number of columns');

  // Split the tokens at top-level UNION keywords.
  const segments: Segment[] = [];
  let depth = 0;
  let start = 0;
  let op: Segment['op'];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && kw(t) === 'union') {
      segments.push({ from: start, to: i, ...(op ? { op } : {}) });
      const next = kw(toks[i + 1]);
      op = next === 'all' ? 'all' : 'distinct';
      start = next === 'all' || next === 'distinct' ? i + 2 : i + 1;
      i = start - 1;
    }
  }
  segments.push({ from: start, to: toks.length, ...(op ? { op } : {}) });
  if (segments.length !== parts.length) throw notSupported('UNION shape');
  // The UNION's own ORDER BY / LIMIT: after the last part's closing parenthesis, or at the top
  // level of an unparenthesized last part.
  const last = segments[segments.length - 1]!;
  let tailFrom = last.to;
  if (toks[last.from]?.text === '(') {
    const close = matchingParen(toks, last.from);
    tailFrom = close + 1;
  } else {
    let d = 0;
    for (let i = last.from; i < last.to; i++) {
      const t = toks[i]!;
      if (t.text === '(') d++;
      else if (t.text === ')') d--;
      else if (d === 0 && ((kw(t) === 'order' && kw(toks[i + 1]) === 'by') || kw(t) === 'limit')) {
        tailFrom = i;
        break;
      }
    }
  }
  for (let i = tailFrom; i < last.to; i++) {
    const k = kw(toks[i]);
    if (k === 'for' || k === 'lock' || k === 'into') throw notSupported(`${k.toUpperCase()} on a UNION that needs several routes`);
  }
  last.to = tailFrom;

  const inputs: Primitive[] = segments.map((s) => {
    let from = s.from;
    let to = s.to;
    if (toks[from]?.text === '(' && matchingParen(toks, from) === to - 1) {
      from++;
      to--;
    }
    return ctx.planText(renderTokens(toks, from, to, [])).instructions;
  });

  // A DISTINCT union removes the duplicates of every row to its left; later ALL parts append.
  const lastDistinct = segments.map((s) => s.op).lastIndexOf('distinct');
  let top: Primitive;
  if (lastDistinct < 0) top = { operator: 'Concatenate', inputs };
  else {
    const head: Primitive = { operator: 'Distinct', input: { operator: 'Concatenate', inputs: inputs.slice(0, lastDistinct + 1) } };
    top = lastDistinct === inputs.length - 1 ? head : { operator: 'Concatenate', inputs: [head, ...inputs.slice(lastDistinct + 1)] };
  }

  const lastPart = parts[parts.length - 1]!;
  const orderby: Ast[] | null = ast._orderby ?? (!lastPart.parentheses_symbol ? lastPart.orderby : null);
  const limit: Ast = ast._limit ?? (!lastPart.parentheses_symbol ? lastPart.limit : null);
  if (orderby && orderby.length > 0) {
    const first: Ast[] = parts[0]!.columns;
    const names = first.map((c) => (c.as ? String(c.as) : isColumnRef(c.expr) ? columnName(c.expr) : null)?.toLowerCase() ?? null);
    const keys: OrderByKey[] = orderby.map((o: Ast) => {
      const e = o.expr;
      let idx = -1;
      if (e?.type === 'number') idx = Number(e.value) - 1;
      else if (isColumnRef(e) && !e.table) idx = names.indexOf(columnName(e).toLowerCase());
      if (idx < 0 || idx >= first.length) throw notSupported('ORDER BY of a UNION on other than a result column name or position, across shards');
      if (names.indexOf(names[idx]!) !== idx && e?.type !== 'number') throw notSupported('ORDER BY an ambiguous UNION column name');
      return { column: idx, desc: String(o.type ?? 'ASC').toUpperCase() === 'DESC' };
    });
    top = { operator: 'Sort', input: top, orderBy: keys };
  }
  if (hasLimit(limit)) {
    const vals: Ast[] = limit.value;
    const sep = String(limit.seperator ?? '').toLowerCase();
    const count: ValueExpr = limitValue(vals.length === 1 ? vals[0] : sep === 'offset' ? vals[0] : vals[1]);
    const offsetNode = vals.length === 1 ? undefined : sep === 'offset' ? vals[1] : vals[0];
    top = offsetNode === undefined ? { operator: 'Limit', input: top, count } : { operator: 'Limit', input: top, count, offset: limitValue(offsetNode) };
  }
  return top;
}

function matchingParen(toks: readonly { text: string }[], open: number): number {
  let depth = 0;
  for (let i = open; i < toks.length; i++) {
    if (toks[i]!.text === '(') depth++;
    else if (toks[i]!.text === ')' && --depth === 0) return i;
  }
  throw notSupported('UNION shape');
}
