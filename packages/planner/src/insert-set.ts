/**
 * `INSERT … SET a = 1, b = 2` as `INSERT … (a, b) VALUES (1, 2)`: MariaDB's other spelling of a
 * one-row INSERT (REPLACE too), common in PHP applications. The two are the same statement: an
 * expression may read a column set before it in either (`SET a = 1, b = a + 1` is
 * `(a, b) VALUES (1, a + 1)`), and what follows the assignments (ON DUPLICATE KEY UPDATE, or
 * RETURNING) is kept as written. The planner plans the VALUES form (the shards get it too);
 * applied to the text before it is normalized, so the plan cache holds one form.
 */
import { kw, tokenize, type Token } from './lexer.js';

// Statements that are not INSERT/REPLACE … SET (nearly all) pay these two regex tests only.
const INSERT_START = /^\s*(?:insert|replace)\b/i;
const SET_WORD = /\bset\b/i;
const INSERT_OPTIONS = new Set(['low_priority', 'delayed', 'high_priority', 'ignore']);

/** The statement in the VALUES form when it is an INSERT/REPLACE … SET, else `sql` itself. */
export function insertSetAsValues(sql: string): string {
  // A statement starting with another letter (every SELECT) is not one: no regex at all.
  const first = sql.charCodeAt(0) | 0x20;
  if (first !== 0x69 && first !== 0x72 && first > 0x20 + 0x20) return sql;
  if (!INSERT_START.test(sql) || !SET_WORD.test(sql)) return sql;
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch {
    return sql; // the lexer's error is reported when the statement is planned
  }
  let i = 1;
  while (INSERT_OPTIONS.has(kw(tokens[i]))) i++;
  if (kw(tokens[i]) === 'into') i++;
  // The table: `t`, `` `t` `` or `ks.t`, then an optional PARTITION (…).
  if (!isName(tokens[i])) return sql;
  i++;
  if (tokens[i]?.text === '.' && isName(tokens[i + 1])) i += 2;
  if (kw(tokens[i]) === 'partition' && tokens[i + 1]?.text === '(') {
    i += 2;
    for (let depth = 1; i < tokens.length && depth > 0; i++) {
      if (tokens[i]!.text === '(') depth++;
      else if (tokens[i]!.text === ')') depth--;
    }
  }
  if (kw(tokens[i]) !== 'set') return sql;
  const setAt = i;
  const columns: string[] = [];
  const values: string[] = [];
  i++;
  for (;;) {
    // `col` or `t.col`, then `=` (or `:=`).
    const nameStart = i;
    if (!isName(tokens[i])) return sql;
    i++;
    while (tokens[i]?.text === '.' && isName(tokens[i + 1])) i += 2;
    if (tokens[i]?.text !== '=' && tokens[i]?.text !== ':=') return sql;
    const column = sql.slice(tokens[nameStart]!.start, tokens[i - 1]!.end);
    i++;
    // The expression: up to a `,` or the end of the assignments at depth 0.
    const exprStart = i;
    let depth = 0;
    for (; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.text === '(') depth++;
      else if (t.text === ')') depth--;
      else if (depth === 0 && (t.text === ',' || t.text === ';' || endsAssignments(tokens, i))) break;
    }
    if (i === exprStart || depth !== 0) return sql;
    columns.push(column);
    values.push(sql.slice(tokens[exprStart]!.start, tokens[i - 1]!.end));
    if (tokens[i]?.text !== ',') break;
    i++;
  }
  const before = sql.slice(0, tokens[setAt]!.start);
  const after = i < tokens.length ? ' ' + sql.slice(tokens[i]!.start) : '';
  return `${before}(${columns.join(', ')}) VALUES (${values.join(', ')})${after}`;
}

function isName(t: Token | undefined): boolean {
  return t !== undefined && (t.kind === 'ident' || t.kind === 'qident');
}

/** `ON DUPLICATE KEY UPDATE` or `RETURNING` at token i: the assignments end before it. */
function endsAssignments(tokens: readonly Token[], i: number): boolean {
  const w = kw(tokens[i]);
  return (w === 'on' && kw(tokens[i + 1]) === 'duplicate') || w === 'returning';
}
