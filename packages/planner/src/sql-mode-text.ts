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
import { scanQuoted } from './lexer.js';

const SQUOTE = 39;
const DQUOTE = 34;
const BACKTICK = 96;
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
  try {
    return rewriteQuoting(sql, mode);
  } catch (err) {
    // An unclosed string or name (scanQuoted's 1064): the planner reports it on the text as sent.
    if (err instanceof PlanError && err.errno === 1064) return sql;
    throw err;
  }
}

function rewriteQuoting(sql: string, mode: LexicalSqlMode): string {
  const n = sql.length;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === SQUOTE || (c === DQUOTE && !mode.ansiQuotes)) {
      i = scanQuoted(sql, i, c, true);
    } else if (c === BACKTICK) {
      i = scanQuoted(sql, i, BACKTICK, false);
    } else if (c === DQUOTE) {
      const end = scanQuoted(sql, i, DQUOTE, false);
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
