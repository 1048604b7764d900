/**
 * The normalizer's fast path for the commonest statement of all, a point select
 * (`SELECT c FROM sbtest1 WHERE id=5`, `… WHERE id=?` from a prepared statement): one pass over
 * the char codes that yields the plan-cache shape and the one bind value, with no token objects
 * and no string per token (the token path costs ~4 µs and ~2 kB per such statement).
 *
 * It accepts only a narrow, canonical form, for which the token path's answer is known exactly:
 *
 *   SELECT item[, item]… FROM ref WHERE ref[ ]=[ ]literal
 *
 * - `item` is `*`, `name`, `name.name` or `name.*`; `ref` is `name` or `name.name`; `name` is an
 *   ASCII word starting with a letter or `_` (never `limit`, which would make the token path keep
 *   the literal) or a backtick name without a doubled backtick;
 * - `literal` is the last thing in the text: unsigned decimal digits, a single-quoted string with
 *   no backslash and no doubled quote, or `?` (when a param is there to fill it);
 * - separators are exactly one space (or none around `,` and `=`): no leading or trailing space,
 *   no tab or newline, no comment, no `;`.
 *
 * In that form every token is emitted as written and every separator is one space, so the token
 * path's normalized text is the statement up to the literal followed by `:v1`, and `v1` holds the
 * literal's value (literalValue's, or the param). Anything else returns null and goes the token
 * way; the planner tests compare both paths on generated statements around this form.
 */
import { CH_0, CH_9, CH_BACKTICK, CH_COMMA, CH_DOT, CH_QUESTION, CH_SPACE, CH_SQUOTE, CH_STAR, CH_UNDERSCORE } from './char-codes.js';
import { numberValue } from './literal-value.js';
import type { SqlValue } from './plan-types.js';
import type { NormalizedQuery } from './normalizer.js';

const CH_EQUALS = 61;

/** The normalized query of a canonical point select, or null for any other statement. */
export function normalizePointSelect(sql: string, params: readonly SqlValue[] | undefined): NormalizedQuery | null {
  const n = sql.length;
  if (n > 1024 || !keywordAt(sql, 0, 'select') || sql.charCodeAt(6) !== CH_SPACE) return null;
  let i = 7;
  // The select list: item, then `, ` / `,` / ` , ` / ` ,` before the next one, or ` FROM`.
  for (;;) {
    i = selectItemEnd(sql, i);
    if (i < 0) return null;
    let c = sql.charCodeAt(i);
    if (c === CH_SPACE) c = sql.charCodeAt(++i);
    if (c !== CH_COMMA) break;
    i++;
    if (sql.charCodeAt(i) === CH_SPACE) i++;
  }
  if (!keywordAt(sql, i, 'from') || sql.charCodeAt(i + 4) !== CH_SPACE) return null;
  i = refEnd(sql, i + 5);
  if (i < 0 || sql.charCodeAt(i) !== CH_SPACE || !keywordAt(sql, i + 1, 'where') || sql.charCodeAt(i + 6) !== CH_SPACE) return null;
  i = refEnd(sql, i + 7);
  if (i < 0) return null;
  if (sql.charCodeAt(i) === CH_SPACE) i++;
  if (sql.charCodeAt(i) !== CH_EQUALS) return null;
  i++;
  if (sql.charCodeAt(i) === CH_SPACE) i++;
  const litStart = i;
  const c = sql.charCodeAt(i);
  let value: SqlValue;
  let placeholders = 0;
  if (c >= CH_0 && c <= CH_9) {
    while (++i < n) {
      const d = sql.charCodeAt(i);
      if (d < CH_0 || d > CH_9) return null;
    }
    value = numberValue(sql.slice(litStart), false);
  } else if (c === CH_SQUOTE) {
    // The closing quote is the last character, and nothing in between is a quote or a backslash.
    if (i === n - 1 || sql.indexOf("'", i + 1) !== n - 1 || sql.indexOf('\\', i + 1) >= 0) return null;
    value = sql.slice(i + 1, n - 1);
  } else if (c === CH_QUESTION) {
    // Without a param the token path raises 1210: let it.
    if (i !== n - 1 || params === undefined || params.length === 0) return null;
    value = params[0]!;
    placeholders = 1;
  } else {
    return null;
  }
  return {
    normalized: sql.slice(0, litStart) + ':v1',
    bindVars: { v1: value },
    directives: {},
    directivesKey: '',
    kind: 'select',
    placeholders,
  };
}

/** True when `word` (lower case, letters only) is at `i` in any case, followed by no name character. */
function keywordAt(sql: string, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    // `| 0x20` lower-cases an ASCII letter; only the two cases of a letter become that letter.
    if ((sql.charCodeAt(i + k) | 0x20) !== word.charCodeAt(k)) return false;
  }
  return !isNameChar(sql.charCodeAt(i + word.length));
}

/** Characters the lexer continues a word with (non-ASCII included, so that such words are refused). */
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= CH_0 && c <= CH_9) || c === CH_UNDERSCORE || c === 36 || c >= 128;
}

/** End of a name at `i` (see the header), or -1. */
function nameEnd(sql: string, i: number): number {
  const c = sql.charCodeAt(i);
  if (c === CH_BACKTICK) {
    const close = sql.indexOf('`', i + 1);
    if (close < 0 || sql.charCodeAt(close + 1) === CH_BACKTICK) return -1;
    return close + 1;
  }
  if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === CH_UNDERSCORE)) return -1;
  let j = i + 1;
  let d = sql.charCodeAt(j);
  while (isNameChar(d)) {
    if (d >= 128) return -1;
    d = sql.charCodeAt(++j);
  }
  // `limit` would set the token path's clause to LIMIT, which keeps the literal in the text.
  if (j - i === 5 && keywordAt(sql, i, 'limit')) return -1;
  return j;
}

/** End of `name` or `name.name` at `i`, or -1. */
function refEnd(sql: string, i: number): number {
  const j = nameEnd(sql, i);
  if (j < 0 || sql.charCodeAt(j) !== CH_DOT) return j;
  return nameEnd(sql, j + 1);
}

/** End of a select item at `i`: `*`, `name`, `name.name` or `name.*`; or -1. */
function selectItemEnd(sql: string, i: number): number {
  if (sql.charCodeAt(i) === CH_STAR) return i + 1;
  const j = nameEnd(sql, i);
  if (j < 0 || sql.charCodeAt(j) !== CH_DOT) return j;
  if (sql.charCodeAt(j + 1) === CH_STAR) return j + 2;
  return nameEnd(sql, j + 1);
}

