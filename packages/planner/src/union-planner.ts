/**
 * UNION that cannot run as one route: each part is planned on its own (with whatever gateway
 * operators it needs: its own LIMIT, aggregation, ORDER BY…), the parts are concatenated (the
 * Concatenate also removes duplicates where the UNION is not ALL), and the UNION's own ORDER BY / LIMIT
 * run at the gateway over the combined rows. A shard never applies a clause that needs the
 * rows of other shards.
 */
import type { EvalExpr, OrderByKey, Primitive } from './plan-types.js';
import { hasAggregate } from './select-analyzer.js';
import type { PlanContext } from './plan-context.js';
import { columnName, isColumnRef, subqueryOf, unionParts, walk } from './ast-utils.js';
import { tokenRange, type Ast } from './sql-parser.js';
import { renderTokens, type TokenEdit } from './shard-sql.js';
import { collationKeySql } from './collation-key-sql.js';
import { kw, type Token } from './lexer.js';
import { notSupported, PlanError } from './errors.js';
import { withGatewayLimit } from './select-planner.js';
import { PartPlanMemo } from './part-plan-memo.js';

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

  const lastPart = parts[parts.length - 1]!;
  const orderby: Ast[] | null = ast._orderby ?? (!lastPart.parentheses_symbol ? lastPart.orderby : null);
  const limit: Ast = ast._limit ?? (!lastPart.parentheses_symbol ? lastPart.limit : null);
  // Removing duplicates or sorting compares strings: every part then also returns its columns'
  // collation keys and the collations they were made in (see unionDistinctKeys).
  const width = widths[0]!;
  const keyed = segments.some((s) => s.op === 'distinct') || (orderby !== null && orderby.length > 0);
  const memo = new PartPlanMemo(toks);
  const inputs: Primitive[] = segments.map((s, k) => {
    let from = s.from;
    let to = s.to;
    if (toks[from]?.text === '(' && matchingParen(toks, from) === to - 1) {
      from++;
      to--;
    }
    if (!keyed) return memo.planPart(from, to, () => ctx.planText(renderTokens(toks, from, to, [])));
    const part = parts[k]!;
    let sel = from;
    while (toks[sel]?.text === '(') sel++;
    const simple = kw(toks[sel]) === 'select' && !part.distinct && !part.groupby && !part.having && !part.columns.some((c: Ast) => hasAggregate(c.expr));
    const texts = simple ? part.columns.map((c: Ast) => exprText(ctx, c.expr)) : [];
    if (!simple || texts.some((t: string | null) => t === null)) {
      // A part the gateway aggregates or deduplicates has no keys: its strings are refused by the
      // executor's collation check if they must be compared.
      const inner = ctx.planText(renderTokens(toks, from, to, [])).instructions;
      const nulls: EvalExpr[] = Array.from({ length: width + 1 }, () => ({ kind: 'literal', value: null }));
      return { operator: 'Projection', input: inner, expressions: [...Array.from({ length: width }, (_, i): EvalExpr => ({ kind: 'column', index: i })), ...nulls], columnNames: Array.from({ length: 2 * width + 1 }, () => '') };
    }
    const end = Math.min(selectListEndFrom(toks, sel + 1), to);
    const helpers = `, ${texts.map((x: string) => collationKeySql(x)).join(', ')}, concat_ws(',', ${texts.map((x: string) => `collation(${x})`).join(', ')})`;
    return ctx.planText(renderTokens(toks, from, end, []) + helpers + (end < to ? ' ' + renderTokens(toks, end, to, []) : '')).instructions;
  });
  const keys = keyed ? { weightStringColumns: Array.from({ length: width }, (_, i) => width + i), collationTagColumn: 2 * width } : null;

  // A DISTINCT union removes the duplicates of every row to its left; later ALL parts append.
  const lastDistinct = segments.map((s) => s.op).lastIndexOf('distinct');
  let top: Primitive;
  const divisions = parts.map((part) => Array.from({ length: width }, (_, i) => i).filter((i) => dividesOrAverages(part.columns[i]?.expr)));
  // One Concatenate for the whole chain, so that every part converts straight to the UNION's
  // column types (as MariaDB does) before duplicates are compared.
  top = {
    operator: 'Concatenate',
    inputs,
    ...(divisions.some((x) => x.length > 0) ? { divisionColumns: divisions } : {}),
    ...(lastDistinct >= 0 ? { distinct: { through: lastDistinct, ...(keys ?? {}) } } : {}),
    ...(keyed ? {} : { streamedUnionAll: true }),
  };

  if (orderby && orderby.length > 0) {
    const first: Ast[] = parts[0]!.columns;
    const names = first.map((c) => (c.as ? String(c.as) : isColumnRef(c.expr) ? columnName(c.expr) : null)?.toLowerCase() ?? null);
    const sortKeys: OrderByKey[] = orderby.map((o: Ast) => {
      const e = o.expr;
      let idx = -1;
      if (e?.type === 'number') idx = Number(e.value) - 1;
      else if (isColumnRef(e) && !e.table) idx = names.indexOf(columnName(e).toLowerCase());
      if (idx < 0 || idx >= first.length) throw notSupported('ORDER BY of a UNION on other than a result column name or position, across shards');
      if (names.indexOf(names[idx]!) !== idx && e?.type !== 'number') throw notSupported('ORDER BY an ambiguous UNION column name');
      return { column: idx, weightStringColumn: width + idx, desc: String(o.type ?? 'ASC').toUpperCase() === 'DESC' };
    });
    top = { operator: 'Sort', input: top, orderBy: sortKeys, collationTagColumn: 2 * width, resultColumns: width };
  } else if (keys) top = { operator: 'Projection', input: top, expressions: Array.from({ length: width }, (_, i): EvalExpr => ({ kind: 'column', index: i })), columnNames: Array.from({ length: width }, () => '') };
  return withGatewayLimit(limit, top);
}

/** Helper columns that let the gateway remove a UNION's duplicates as the server compares them. */
export interface UnionDistinctKeys {
  /** Appends the helper columns to every part's select list. */
  readonly edits: readonly TokenEdit[];
  readonly visible: number;
  /** Per result column: the helper column holding its collation key. */
  readonly weightStringColumns: readonly number[];
  /** The helper column naming, per result column, the collation its part's key was made in. */
  readonly collationTagColumn: number;
}

/**
 * A UNION (DISTINCT) sent whole to several shards: each shard removes its own duplicates, the
 * gateway those across shards. Every part gets the collation key of each of its columns (NULL for
 * numbers and dates, which compare by value) and one column listing the collations those keys were
 * made in: keys made in different collations cannot be compared, and the gateway refuses them.
 */
export function unionDistinctKeys(ctx: PlanContext): UnionDistinctKeys {
  const toks = ctx.parsed.tokens;
  const parts = unionParts(ctx.parsed.ast);
  const visible = Array.isArray(parts[0]!.columns) ? parts[0]!.columns.length : 0;
  const edits: TokenEdit[] = [];
  // Each part starts after a top-level UNION (or at the start), behind its own parentheses.
  const starts: number[] = [0];
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && kw(t) === 'union') starts.push(kw(toks[i + 1]) === 'all' || kw(toks[i + 1]) === 'distinct' ? i + 2 : i + 1);
  }
  if (starts.length !== parts.length) throw notSupported('UNION shape');
  let partIndex = 0;
  for (const start of starts) {
    let i = start;
    while (toks[i]?.text === '(') i++;
    if (kw(toks[i]) !== 'select') throw notSupported('UNION shape');
    const part = parts[partIndex++]!;
    const cols: Ast[] = Array.isArray(part.columns) ? part.columns : [];
    if (cols.length !== visible) throw new PlanError(1222, '21000', 'The used SELECT statements have a different number of columns');
    const texts = cols.map((c) => {
      if (isColumnRef(c.expr) && columnName(c.expr) === '*') throw notSupported("'*' in a UNION that removes duplicates across shards; list the columns");
      const text = renderExpr(ctx, c.expr);
      if (text === null) throw notSupported('UNION column expression across shards');
      return text;
    });
    const end = selectListEndFrom(toks, i + 1);
    edits.push({ from: end, to: end, text: `, ${texts.map((x) => collationKeySql(x)).join(', ')}, concat_ws(',', ${texts.map((x) => `collation(${x})`).join(', ')})` });
  }
  if (partIndex !== parts.length) throw notSupported('UNION shape');
  return { edits, visible, weightStringColumns: Array.from({ length: visible }, (_, i) => visible + i), collationTagColumn: 2 * visible };
}

/** Whether an expression divides (`/`) or averages, outside subqueries. */
function dividesOrAverages(e: Ast): boolean {
  let found = false;
  walk(e, (n) => {
    if (found || subqueryOf(n)) return false;
    if ((n.type === 'binary_expr' && n.operator === '/') || (n.type === 'aggr_func' && String(n.name).toLowerCase() === 'avg')) found = true;
    return !found;
  });
  return found;
}

/** An expression's text as the part's own statement has it (bind vars, no shard edits). */
function exprText(ctx: PlanContext, n: Ast): string | null {
  if (n?.type === 'param' && typeof n.value === 'string') return `:${n.value}`;
  const r = tokenRange(ctx.parsed, n);
  return r ? renderTokens(ctx.parsed.tokens, r[0], r[1], []) : null;
}

function renderExpr(ctx: PlanContext, n: Ast): string | null {
  if (n?.type === 'param' && typeof n.value === 'string') return `:${n.value}`;
  const r = tokenRange(ctx.parsed, n);
  return r ? renderTokens(ctx.parsed.tokens, r[0], r[1], ctx.edits) : null;
}

/** Index of the token ending the select list that starts at `from` (its FROM, WHERE…, `)` or UNION). */
function selectListEndFrom(toks: readonly Token[], from: number): number {
  const stops = new Set(['from', 'where', 'group', 'having', 'order', 'limit', 'into', 'window', 'for', 'lock', 'union', 'intersect', 'except']);
  let depth = 0;
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth < 0) return i;
    else if (depth === 0 && stops.has(kw(t))) return i;
  }
  return toks.length;
}

function matchingParen(toks: readonly { text: string }[], open: number): number {
  let depth = 0;
  for (let i = open; i < toks.length; i++) {
    if (toks[i]!.text === '(') depth++;
    else if (toks[i]!.text === ')' && --depth === 0) return i;
  }
  throw notSupported('UNION shape');
}
