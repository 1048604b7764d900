/**
 * Non-recursive common table expressions (`WITH c AS (q) SELECT … FROM c`), planned as the derived
 * tables they are equivalent to: each reference to a CTE in a FROM clause becomes `(q) AS c`, and
 * the statement is planned again (derived tables merge into one route where that is exact, and
 * are refused clearly where not). A CTE that names an earlier one gets that one inlined first.
 *
 * Exactness: a non-recursive CTE is a named derived table (MariaDB itself merges or materializes it
 * per reference), so inlining it gives the same rows. Not inlined: recursive CTEs, left as written
 * for one unsharded route (across shards each iteration would need every shard's rows of the
 * previous one). Refused with 1235: column lists
 * (`WITH c (a, b) AS …`, which MariaDB's derived tables have no syntax for) and a WITH nested in a
 * subquery.
 */
import { identName, kw, type Token } from './lexer.js';
import { notSupported, PlanError, syntaxError } from './errors.js';

interface Cte {
  readonly name: string;
  /** The body's text with earlier CTEs already inlined, without its parentheses. */
  readonly body: string;
}

/** Words that end a FROM clause's table list at their own parenthesis depth. */
const FROM_END = new Set(['where', 'group', 'having', 'order', 'limit', 'union', 'intersect', 'except', 'window', 'for', 'lock', 'into', 'procedure', 'select']);

/**
 * The statement with its top-level WITH inlined, or null when it has none or it is recursive. `tokens` are the
 * statement's tokens (normalized text), `sql` the text they index.
 */
export function inlineCtes(tokens: readonly Token[], sql: string): string | null {
  let i = 0;
  while (i < tokens.length && (tokens[i]!.kind === 'directive' || tokens[i]!.kind === 'verbatim')) i++;
  if (kw(tokens[i]) !== 'with') return null;
  const head = renderRange(tokens, sql, 0, i);
  i++;
  if (kw(tokens[i]) === 'recursive') i++;
  const recursive = kw(tokens[i - 1]) === 'recursive';
  const ctes: Cte[] = [];
  for (;;) {
    const nameTok = tokens[i];
    if (nameTok === undefined || (nameTok.kind !== 'ident' && nameTok.kind !== 'qident')) throw syntaxError(sql, nameTok?.start ?? sql.length);
    const name = identName(nameTok);
    i++;
    if (tokens[i]?.text === '(') throw notSupported(`a column list on the common table expression '${name}'`);
    if (kw(tokens[i]) !== 'as' || tokens[i + 1]?.text !== '(') throw syntaxError(sql, tokens[i]?.start ?? sql.length);
    const open = i + 1;
    const close = matchingParen(tokens, open);
    if (close < 0) throw syntaxError(sql, tokens[open]!.start);
    // A recursive one is left as written: it plans only where the whole statement goes to one
    // unsharded route (see planSelectOrRefuseCte).
    if (recursive && referencesTable(tokens, open + 1, close, name)) return null;
    if (ctes.some((c) => c.name === name)) throw new PlanError(4004, 'HY000', `Duplicate query name \`${name}\` in WITH clause`);
    ctes.push({ name, body: substitute(tokens, sql, open + 1, close, ctes) });
    i = close + 1;
    if (tokens[i]?.text === ',') {
      i++;
      continue;
    }
    break;
  }
  if (i >= tokens.length) throw syntaxError(sql, sql.length);
  for (let j = i; j < tokens.length; j++) if (kw(tokens[j]) === 'with' && tokens[j - 1]?.text === '(') throw notSupported('WITH inside a subquery or derived table');
  return (head === '' ? '' : head + ' ') + substitute(tokens, sql, i, tokens.length, ctes);
}

function matchingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j]!.text;
    if (t === '(') depth++;
    else if (t === ')' && --depth === 0) return j;
  }
  return -1;
}

function renderRange(tokens: readonly Token[], sql: string, from: number, to: number): string {
  if (from >= to) return '';
  return sql.slice(tokens[from]!.start, tokens[to - 1]!.end);
}

/**
 * Indexes of the tokens in [from, to) that name a table in a FROM clause (after FROM, JOIN, or a
 * comma of the table list), unqualified: `c`, not `ks.c` nor `c.col`.
 */
function tableReferences(tokens: readonly Token[], from: number, to: number): number[] {
  const found: number[] = [];
  // Per parenthesis depth: whether a comma there separates table references.
  const inFrom: boolean[] = [false];
  for (let j = from; j < to; j++) {
    const t = tokens[j]!;
    const k = kw(t);
    const depth = inFrom.length - 1;
    if (t.text === '(') {
      inFrom.push(false);
      continue;
    }
    if (t.text === ')') {
      if (inFrom.length > 1) inFrom.pop();
      continue;
    }
    if (k === 'from') inFrom[depth] = true;
    else if (FROM_END.has(k)) inFrom[depth] = false;
    const prev = tokens[j - 1];
    const startsRef = k === 'from' || k === 'join' || (t.text === ',' && inFrom[depth] === true) || k === 'straight_join';
    if (!startsRef) continue;
    const next = tokens[j + 1];
    if (next === undefined || (next.kind !== 'ident' && next.kind !== 'qident') || tokens[j + 2]?.text === '.') continue;
    // `delete a from …` and friends are not SELECTs; `prev` only guards `x.from` oddities.
    if (prev?.text === '.') continue;
    found.push(j + 1);
  }
  return found;
}

function referencesTable(tokens: readonly Token[], from: number, to: number, name: string): boolean {
  return tableReferences(tokens, from, to).some((j) => identName(tokens[j]!) === name);
}

/** The text of tokens [from, to) with each reference to a CTE replaced by its derived table. */
function substitute(tokens: readonly Token[], sql: string, from: number, to: number, ctes: readonly Cte[]): string {
  if (from >= to) return '';
  const refs = tableReferences(tokens, from, to);
  let out = '';
  let pos = tokens[from]!.start;
  for (const j of refs) {
    const t = tokens[j]!;
    const cte = ctes.find((c) => c.name === identName(t));
    if (cte === undefined) continue;
    out += sql.slice(pos, t.start);
    // Without an alias of its own, the derived table takes the CTE's name.
    const next = tokens[j + 1];
    const aliased = kw(next) === 'as' || (next !== undefined && (next.kind === 'qident' || (next.kind === 'ident' && !ALIAS_STOP.has(kw(next)))));
    out += `(${cte.body})` + (aliased ? '' : ' as ' + quote(cte.name));
    pos = t.end;
  }
  return out + sql.slice(pos, tokens[to - 1]!.end);
}

/** Words that may follow a table name and are not its alias. */
const ALIAS_STOP = new Set([
  'where', 'group', 'having', 'order', 'limit', 'union', 'intersect', 'except', 'window', 'for', 'lock', 'into', 'procedure',
  'join', 'inner', 'cross', 'left', 'right', 'natural', 'straight_join', 'on', 'using', 'use', 'ignore', 'force', 'partition',
]);

function quote(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
