/**
 * MariaDB syntax that node-sql-parser 5.4 rejects (1064) although it changes nothing the planner
 * decides, given to the parser in a form it takes: a token index → the text the parse text has
 * in its place ('' to leave it out). The shard SQL keeps what the client wrote: it is rendered
 * from the tokens, never from the parse text (see sql-parser.ts).
 * - Index hints (`USE|FORCE|IGNORE INDEX|KEY [FOR JOIN|ORDER BY|GROUP BY] (…)`) are left out:
 *   they choose an access path on the shard and never change which rows a query returns.
 * - Select options without a parser form (`HIGH_PRIORITY`, `STRAIGHT_JOIN`, `ALL` after SELECT)
 *   are left out; `DISTINCTROW` is DISTINCT.
 * - `VARIANCE(` is `VAR_POP(`, its synonym.
 * - `WAIT n` after FOR UPDATE or LOCK IN SHARE MODE (the shard's lock wait) is left out.
 * - UPDATE and DELETE modifiers (`LOW_PRIORITY`, `QUICK`, `IGNORE`) and an INSERT's or REPLACE's
 *   priority (`LOW_PRIORITY`, `DELAYED`, `HIGH_PRIORITY`) are left out.
 * Not here: MATCH … AGAINST, whose relevance each shard would compute from its own word
 * statistics (a scatter would rank and even filter otherwise than one MariaDB).
 */
import { kw, matchingParen, type Token } from './lexer.js';

const SELECT_OPTIONS = new Set(['all', 'distinct', 'distinctrow', 'high_priority', 'straight_join', 'sql_small_result', 'sql_big_result', 'sql_buffer_result', 'sql_cache', 'sql_no_cache', 'sql_calc_found_rows']);
const LEFT_OUT_OPTIONS = new Set(['all', 'high_priority', 'straight_join']);
const DML_MODIFIERS = new Set(['low_priority', 'quick', 'ignore']);
const INSERT_PRIORITIES = new Set(['low_priority', 'delayed', 'high_priority']);

/**
 * The index after the modifiers of an UPDATE (`LOW_PRIORITY`, `IGNORE`) or a DELETE (`QUICK`
 * too) that starts at token 0, or after the priority of an INSERT (`LOW_PRIORITY`, `DELAYED`,
 * `HIGH_PRIORITY`) or a REPLACE (not `HIGH_PRIORITY`), whose `IGNORE` the parser reads; 1 when
 * there are none, 0 for another statement.
 */
function dmlModifiersEnd(tokens: readonly Token[]): number {
  const dml = kw(tokens[0]);
  if (dml === 'insert' || dml === 'replace') {
    let i = 1;
    while (i < tokens.length && INSERT_PRIORITIES.has(kw(tokens[i])) && (dml === 'insert' || kw(tokens[i]) !== 'high_priority')) i++;
    return i;
  }
  if (dml !== 'update' && dml !== 'delete') return 0;
  let i = 1;
  while (i < tokens.length && DML_MODIFIERS.has(kw(tokens[i])) && (dml === 'delete' || kw(tokens[i]) !== 'quick')) i++;
  return i;
}

/** Whether an UPDATE or DELETE says IGNORE among its modifiers. */
export function dmlIgnores(tokens: readonly Token[]): boolean {
  const end = dmlModifiersEnd(tokens);
  for (let i = 1; i < end; i++) if (kw(tokens[i]) === 'ignore') return true;
  return false;
}

export function parseTextSubstitutes(tokens: readonly Token[]): Map<number, string> | null {
  let out: Map<number, string> | null = null;
  const put = (i: number, text: string): void => {
    (out ??= new Map()).set(i, text);
  };
  // `UPDATE [LOW_PRIORITY] [IGNORE]`, `DELETE [LOW_PRIORITY] [QUICK] [IGNORE]`,
  // `INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY]`: how the shard applies the write (IGNORE
  // makes its row errors warnings); the planner refuses IGNORE where the gateway itself keeps
  // rows in step (owned lookup vindexes, see dml-planner.ts).
  for (let i = 1, end = dmlModifiersEnd(tokens); i < end; i++) put(i, '');
  for (let i = 0; i < tokens.length; i++) {
    const w = kw(tokens[i]);
    if ((w === 'use' || w === 'force' || w === 'ignore') && (kw(tokens[i + 1]) === 'index' || kw(tokens[i + 1]) === 'key')) {
      const end = indexHintEnd(tokens, i + 2);
      if (end < 0) continue;
      for (let j = i; j <= end; j++) put(j, '');
      i = end;
    } else if (SELECT_OPTIONS.has(w) && afterSelect(tokens, i)) {
      if (LEFT_OUT_OPTIONS.has(w)) put(i, '');
      else if (w === 'distinctrow') put(i, 'distinct');
    } else if (w === 'variance' && tokens[i + 1]?.text === '(') {
      put(i, 'var_pop');
    } else if (w === 'wait' && (tokens[i + 1]?.kind === 'number' || tokens[i + 1]?.kind === 'bind') && (kw(tokens[i - 1]) === 'update' || kw(tokens[i - 1]) === 'mode')) {
      // `FOR UPDATE WAIT n`, `LOCK IN SHARE MODE WAIT n`: how long the shard waits for a lock.
      put(i, '');
      put(i + 1, '');
      i++;
    }
  }
  return out;
}

/** The index of the `)` that ends an index hint whose words after INDEX/KEY start at i, or -1. */
function indexHintEnd(tokens: readonly Token[], i: number): number {
  let j = i;
  if (kw(tokens[j]) === 'for') {
    j++;
    if (kw(tokens[j]) === 'join') j++;
    else if ((kw(tokens[j]) === 'order' || kw(tokens[j]) === 'group') && kw(tokens[j + 1]) === 'by') j += 2;
    else return -1;
  }
  if (tokens[j]?.text !== '(') return -1;
  return matchingParen(tokens, j);
}

/** Whether token i is among the options right after a SELECT (`select sql_no_cache distinct …`). */
function afterSelect(tokens: readonly Token[], i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const w = kw(tokens[j]);
    if (w === 'select') return true;
    if (!SELECT_OPTIONS.has(w)) return false;
  }
  return false;
}

/**
 * MariaDB syntax the parser lacks and the planner does not work around, named for the 1235 the
 * statement then gets instead of a syntax error (1064 would tell the client its SQL is wrong).
 * null when the statement has none of them.
 */
export function unreadableConstruct(tokens: readonly Token[]): string | null {
  for (let i = 0; i < tokens.length; i++) {
    const w = kw(tokens[i]);
    if (w === 'against' && tokens[i - 1]?.text === ')' && tokens[i + 1]?.text === '(') return 'MATCH … AGAINST in a sharded keyspace (each shard would rank rows by its own word statistics)';
    if (w === 'sounds' && kw(tokens[i + 1]) === 'like') return 'SOUNDS LIKE in a sharded keyspace; use soundex(a) = soundex(b)';
    if (w === 'natural' && (kw(tokens[i + 1]) === 'join' || kw(tokens[i + 2]) === 'join')) return 'NATURAL JOIN in a sharded keyspace; name the columns with JOIN … USING (…)';
  }
  return null;
}
