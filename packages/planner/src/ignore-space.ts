/**
 * The client flag CLIENT_IGNORE_SPACE (mysql2 sets it by default): MariaDB then reads `count (*)`
 * as `count(*)`, skipping the blanks between a built-in function's name and its `(`. The gateway's
 * shard connections do not have it, so for such a client the blanks are taken out before the
 * statement is planned. Only for MariaDB's list of these names (sql/lex.h sql_functions), only
 * blanks (MariaDB does not skip a comment there), and not after a `.` (`db.sum (a)` names a table).
 * That also refuses `insert into sum (a)` as MariaDB refuses it under IGNORE_SPACE, since
 * `sum(` is the function on a connection without it too.
 */
import { tokenize, type Token } from './lexer.js';

const IGNORE_SPACE_FUNCTIONS: ReadonlySet<string> = new Set([
  'adddate', 'bit_and', 'bit_or', 'bit_xor', 'cast', 'count', 'cume_dist', 'curdate', 'curtime', 'date_add', 'date_sub', 'decode',
  'dense_rank', 'extract', 'first_value', 'group_concat', 'lag', 'lead', 'max', 'mid', 'min', 'now', 'nth_value', 'ntile', 'position',
  'percent_rank', 'rank', 'row_number', 'session_user', 'std', 'stddev', 'stddev_pop', 'stddev_samp', 'subdate', 'substr', 'substring',
  'sum', 'sysdate', 'system_user', 'trim', 'variance', 'var_pop', 'var_samp',
]);

/** Cheap screens before any tokenizing: most statements have no blank before a `(` at all. */
const BLANK_BEFORE_PAREN = /\s\(/;
const CANDIDATE = new RegExp(`(?:^|[^\\w$.\`])(?:${[...IGNORE_SPACE_FUNCTIONS].join('|')})\\s+\\(`, 'i');
const BLANKS = /^\s+$/;

/** `sql` as MariaDB reads it under IGNORE_SPACE: blanks between a built-in function name and `(` removed. */
export function ignoreSpaceBeforeCalls(sql: string): string {
  if (!BLANK_BEFORE_PAREN.test(sql) || !CANDIDATE.test(sql)) return sql;
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch {
    // Not lexable: the planner reports the error on the text as sent.
    return sql;
  }
  let out = '';
  let from = 0;
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1]!;
    if (t.kind !== 'ident' || next.text !== '(' || next.start === t.end || !IGNORE_SPACE_FUNCTIONS.has(t.lower)) continue;
    if (tokens[i - 1]?.text === '.' || !BLANKS.test(sql.slice(t.end, next.start))) continue;
    out += sql.slice(from, t.end);
    from = next.start;
  }
  return from === 0 ? sql : out + sql.slice(from);
}
