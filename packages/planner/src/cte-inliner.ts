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
import type { VSchema } from '@shardgate/vschema';
import { identName, kw, matchingParen, tokenize, type Token } from './lexer.js';
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

function renderRange(tokens: readonly Token[], sql: string, from: number, to: number): string {
  if (from >= to) return '';
  return sql.slice(tokens[from]!.start, tokens[to - 1]!.end);
}

/** A table reference in a FROM clause: tokens [at, end), `qualifier.name` or `name`. */
interface TableRef {
  readonly at: number;
  readonly end: number;
  readonly qualifier: string | null;
  readonly name: string;
}

/** The table references of tokens [from, to): names after FROM, JOIN, or a comma of the table list. */
function tableReferences(tokens: readonly Token[], from: number, to: number): TableRef[] {
  const found: TableRef[] = [];
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
    const startsRef = k === 'from' || k === 'join' || k === 'straight_join' || (t.text === ',' && inFrom[depth] === true);
    if (!startsRef || tokens[j - 1]?.text === '.') continue;
    const first = tokens[j + 1];
    if (first === undefined || (first.kind !== 'ident' && first.kind !== 'qident')) continue;
    const second = tokens[j + 3];
    if (tokens[j + 2]?.text === '.') {
      if (second === undefined || (second.kind !== 'ident' && second.kind !== 'qident') || j + 3 >= to) continue;
      found.push({ at: j + 1, end: j + 4, qualifier: identName(first), name: identName(second) });
    } else {
      found.push({ at: j + 1, end: j + 2, qualifier: null, name: identName(first) });
    }
  }
  return found;
}

function referencesTable(tokens: readonly Token[], from: number, to: number, name: string): boolean {
  return tableReferences(tokens, from, to).some((r) => r.qualifier === null && r.name === name);
}

/** The text of tokens [from, to) with each reference to a CTE replaced by its derived table. */
function substitute(tokens: readonly Token[], sql: string, from: number, to: number, ctes: readonly Cte[]): string {
  return replaceReferences(tokens, sql, from, to, (r) => (r.qualifier === null ? ctes.find((c) => c.name === r.name)?.body : undefined));
}

/**
 * The text of tokens [from, to) with each table reference that `bodyOf` names a SELECT for
 * replaced by `(select …) as name` (the reference's own alias, if any, is kept instead).
 */
function replaceReferences(tokens: readonly Token[], sql: string, from: number, to: number, bodyOf: (r: TableRef) => string | undefined): string {
  if (from >= to) return '';
  let out = '';
  let pos = tokens[from]!.start;
  for (const r of tableReferences(tokens, from, to)) {
    const body = bodyOf(r);
    if (body === undefined) continue;
    out += sql.slice(pos, tokens[r.at]!.start);
    // Without an alias of its own, the derived table takes the CTE's (or view's) name.
    const next = tokens[r.end];
    const aliased = r.end < to && (kw(next) === 'as' || (next !== undefined && (next.kind === 'qident' || (next.kind === 'ident' && !ALIAS_STOP.has(kw(next))))));
    out += `(${body})` + (aliased ? '' : ' as ' + quote(r.name));
    pos = tokens[r.end - 1]!.end;
  }
  return out + sql.slice(pos, tokens[to - 1]!.end);
}

/** Views nest at most this deep (a view reading a view …); MariaDB refuses a cycle at CREATE VIEW. */
const MAX_VIEW_DEPTH = 16;

/**
 * The statement with each reference to a vschema view replaced by its SELECT as a derived table,
 * or null when it names none. A view is looked up in its qualifier's keyspace, or the default
 * one; its SELECT is planned in the statement's keyspace, so a view of another keyspace than the
 * default is refused (its unqualified tables would be looked up in the wrong keyspace).
 */
export function inlineViews(tokens: readonly Token[], sql: string, vschema: VSchema, defaultKeyspace: string | null, depth = 0): string | null {
  let any = false;
  const bodyOf = (r: TableRef): string | undefined => {
    const ksName = r.qualifier ?? defaultKeyspace;
    const ks = ksName === null ? undefined : vschema.keyspace(ksName);
    const body = ks?.views?.get(r.name);
    if (body === undefined) return undefined;
    if (ksName !== defaultKeyspace) throw notSupported(`the view ${ksName}.${r.name} from a session whose keyspace is not ${ksName} (USE ${ksName} first)`);
    if (depth >= MAX_VIEW_DEPTH) throw notSupported(`views nested more than ${MAX_VIEW_DEPTH} deep`);
    any = true;
    const bodyTokens = tokenize(body);
    return inlineViews(bodyTokens, body, vschema, defaultKeyspace, depth + 1) ?? body;
  };
  const out = replaceReferences(tokens, sql, 0, tokens.length, bodyOf);
  return any ? out : null;
}

/** Words that may follow a table name and are not its alias. */
const ALIAS_STOP = new Set([
  'where', 'group', 'having', 'order', 'limit', 'union', 'intersect', 'except', 'window', 'for', 'lock', 'into', 'procedure',
  'join', 'inner', 'cross', 'left', 'right', 'natural', 'straight_join', 'on', 'using', 'use', 'ignore', 'force', 'partition',
]);

function quote(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
