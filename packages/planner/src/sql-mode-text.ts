/**
 * A statement written under sql_mode ANSI_QUOTES or PIPES_AS_CONCAT, as the gateway reads text
 * (the default quoting). Under ANSI_QUOTES `"x"` is an identifier, which the lexer would take for
 * a string: it becomes `` `x` ``, which names the same thing in either mode, so the planner, the
 * plan cache and the shards (which run in the session's sql_mode) all read the client's meaning.
 * Under PIPES_AS_CONCAT `a || b` is CONCAT(a, b), where the planner reads OR: such a statement is
 * refused (1235) rather than routed or evaluated as an OR.
 *
 * Strings keep their backslash escapes (NO_BACKSLASH_ESCAPES stays refused), comments are copied
 * as they are, and the SQL inside an executable comment (`/*! … *\/`, `/*M! … *\/`) is read as
 * SQL, as MariaDB runs it.
 */
import { PlanError } from './errors.js';

const SQUOTE = 39;
const DQUOTE = 34;
const BACKTICK = 96;
const BACKSLASH = 92;
const SLASH = 47;
const STAR = 42;
const HASH = 35;
const MINUS = 45;
const PIPE = 124;
const LF = 10;

/** Which of the lexical sql_mode flags a session has on. */
export interface LexicalSqlMode {
  readonly ansiQuotes: boolean;
  readonly pipesAsConcat: boolean;
}

/** `sql` in the default quoting; throws 1235 for `||` under PIPES_AS_CONCAT. */
export function withDefaultQuoting(sql: string, mode: LexicalSqlMode): string {
  if ((!mode.ansiQuotes || sql.indexOf('"') < 0) && (!mode.pipesAsConcat || sql.indexOf('||') < 0)) return sql;
  const n = sql.length;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === SQUOTE || (c === DQUOTE && !mode.ansiQuotes)) {
      i = stringEnd(sql, i, c);
    } else if (c === BACKTICK) {
      i = identifierEnd(sql, i, BACKTICK);
    } else if (c === DQUOTE) {
      const end = identifierEnd(sql, i, DQUOTE);
      // An unclosed one is left as it is: the planner reports the syntax error.
      if (end > n) break;
      const name = sql.slice(i + 1, end - 1).replace(/""/g, '"');
      out += sql.slice(from, i) + '`' + name.replace(/`/g, '``') + '`';
      from = end;
      i = end;
    } else if (c === HASH || (c === MINUS && sql.charCodeAt(i + 1) === MINUS && isCommentBlank(sql.charCodeAt(i + 2), i + 2 >= n))) {
      const lf = sql.indexOf('\n', i);
      i = lf < 0 ? n : lf;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const executable = sql.charCodeAt(i + 2) === 33 || (sql.charCodeAt(i + 2) === 77 && sql.charCodeAt(i + 3) === 33); // /*! or /*M!
      if (executable) {
        i += 2; // the SQL inside is read on; its `*/` is skipped below as two characters
      } else {
        const close = sql.indexOf('*/', i + 2);
        i = close < 0 ? n : close + 2;
      }
    } else if (c === PIPE && sql.charCodeAt(i + 1) === PIPE && mode.pipesAsConcat) {
      throw new PlanError(1235, '42000', "This version of shardgate doesn't yet support '|| under sql_mode PIPES_AS_CONCAT': write CONCAT(a, b)");
    } else {
      i++;
    }
  }
  return from === 0 ? sql : out + sql.slice(from);
}

function isCommentBlank(c: number, atEnd: boolean): boolean {
  return atEnd || c === 32 || c === 9 || c === LF || c === 13 || c < 32;
}

/** The position after the string opened by `quote` at `i` (backslash escapes, doubled quotes); past the end when unclosed. */
function stringEnd(sql: string, i: number, quote: number): number {
  const n = sql.length;
  for (let j = i + 1; j < n; j++) {
    const c = sql.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === quote) {
      if (sql.charCodeAt(j + 1) === quote) j++;
      else return j + 1;
    }
  }
  return n + 1;
}

/** The position after the identifier opened by `quote` at `i` (doubled quotes); past the end when unclosed. */
function identifierEnd(sql: string, i: number, quote: number): number {
  const n = sql.length;
  for (let j = i + 1; j < n; j++) {
    if (sql.charCodeAt(j) === quote) {
      if (sql.charCodeAt(j + 1) === quote) j++;
      else return j + 1;
    }
  }
  return n + 1;
}
