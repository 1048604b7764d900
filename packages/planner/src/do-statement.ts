/**
 * `DO expr, …` as `SELECT expr, …`: MariaDB evaluates DO's expressions as a SELECT would (named
 * locks, SLEEP, user functions, their errors and warnings) and returns an OK instead of rows. The
 * executor runs the SELECT and answers OK (see the session). A DO with a clause of a SELECT's at
 * its top level (`DO 1 FROM t`) is no DO in MariaDB's grammar (1064): it is left as written, and
 * the planner refuses it.
 */
import { kw, tokenize, type Token } from './lexer.js';

const DO_START = /^\s*do(?![\w$])/i;
/** Words that would make the SELECT more than DO's expression list. */
const SELECT_CLAUSES = new Set(['from', 'where', 'group', 'having', 'order', 'limit', 'into', 'union', 'intersect', 'except', 'for', 'lock', 'window', 'procedure']);

/** The SELECT of a DO statement's expressions, or null when `sql` is no DO statement. */
export function doAsSelect(sql: string): string | null {
  // Nearly every statement starts with another letter: no regex at all.
  const first = sql.charCodeAt(0) | 0x20;
  if (first !== 0x64 && first > 0x20 + 0x20) return null;
  if (!DO_START.test(sql)) return null;
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch {
    return null; // the lexer's error is reported when the statement is planned
  }
  const head = tokens[0];
  if (head === undefined || kw(head) !== 'do' || tokens.length < 2) return null;
  let depth = 0;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && SELECT_CLAUSES.has(kw(t))) return null;
  }
  return sql.slice(0, head.start) + 'select' + sql.slice(head.end);
}
