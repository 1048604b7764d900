/**
 * MySQL's executable comments, applied before anything reads a statement. `/*! body *\/` and
 * `/*!NNNNN body *\/` hold SQL that a server runs as part of the statement when its version is at
 * least NNNNN (mysqldump opens every dump with `/*!40101 SET NAMES utf8mb4 *\/` and friends, and
 * writes `SELECT /*!40001 SQL_NO_CACHE *\/ …`). Kept as opaque comments, a statement made only of
 * one reached the parser as nothing (1064), and its SET never reached the session.
 *
 * The gateway announces MySQL 8.0.31, so a body with a version up to 80031 is SQL and anything
 * newer (or MariaDB's `/*M!…*\/`, which MySQL ignores) is an ordinary comment. The text is
 * rewritten in place, keeping every other character where it was (error positions stay true):
 * the opener and the closing `*\/` of a body that runs become spaces, and a comment that does not
 * run loses its `!`. Since the shards then see the same text, they run exactly what the gateway
 * planned, never a body the gateway skipped.
 */
import { CH_BACKTICK, CH_BANG, CH_DQUOTE, CH_HASH, CH_MINUS, CH_SLASH, CH_SQUOTE, CH_STAR } from './char-codes.js';
import { isDigit, scanQuoted } from './lexer.js';

/** The version the gateway's handshake announces (8.0.31), as an executable comment writes it. */
export const EXECUTABLE_COMMENT_VERSION = 80031;

/**
 * The statement with its executable comments applied (the same string when it has none). Throws
 * nothing: text it cannot follow (an unterminated string or comment) is left for the lexer, which
 * reports it.
 */
export function applyExecutableComments(sql: string): string {
  // Statements without one (nearly all) pay one native search.
  if (sql.indexOf('/*!') < 0) return sql;
  const n = sql.length;
  const out: string[] = [];
  let copied = 0;
  /** True inside the body of an executable comment that runs: its `*\/` ends it. */
  let inBody = false;
  let i = 0;
  const replace = (from: number, to: number, text: string) => {
    out.push(sql.slice(copied, from), text);
    copied = to;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === CH_SQUOTE || c === CH_DQUOTE || c === CH_BACKTICK) {
      try {
        i = scanQuoted(sql, i, c, c !== CH_BACKTICK);
      } catch {
        break;
      }
      continue;
    }
    if (c === CH_HASH || (c === CH_MINUS && sql.charCodeAt(i + 1) === CH_MINUS && (i + 2 >= n || sql.charCodeAt(i + 2) <= 32))) {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    if (inBody && c === CH_STAR && sql.charCodeAt(i + 1) === CH_SLASH) {
      replace(i, i + 2, '  ');
      inBody = false;
      i += 2;
      continue;
    }
    if (c === CH_SLASH && sql.charCodeAt(i + 1) === CH_STAR) {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) break;
      if (sql.charCodeAt(i + 2) === CH_BANG && !inBody) {
        let d = i + 3;
        while (d < n && d < i + 9 && isDigit(sql.charCodeAt(d))) d++;
        const digits = d - (i + 3);
        // Five digits are a version (Mmmrr); six are MariaDB's (MMmmrr), always newer than ours.
        const version = digits === 5 || digits === 6 ? Number(sql.slice(i + 3, d)) : 0;
        if (version <= EXECUTABLE_COMMENT_VERSION) {
          const bodyStart = digits === 5 ? d : i + 3;
          replace(i, bodyStart, ' '.repeat(bodyStart - i));
          inBody = true;
          i = bodyStart;
          continue;
        }
        // Too new for the version we announce: an ordinary comment.
        replace(i + 2, i + 3, ' ');
      }
      i = close + 2;
      continue;
    }
    i++;
  }
  if (copied === 0) return sql;
  out.push(sql.slice(copied));
  return out.join('');
}
