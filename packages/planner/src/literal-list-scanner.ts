/**
 * Fast paths of the normalizer for the two places where queries carry many literals in a row:
 * INSERT rows after VALUES, `(v, v, …), (v, v, …)`, and `IN (v, v, …)` lists. They are scanned
 * straight from the text, without a lexer token per value: at two or more tokens per value, the
 * token objects were most of the cost of normalizing such queries.
 *
 * The contract is narrow on purpose: a scan must give exactly what the token path of
 * normalizer.ts makes of the same text, so a scanner gives up (returns null) on anything but plain
 * literals (numbers, quoted strings, `?`, and NULL in rows): an expression, a comment, a hex or bit
 * literal, a charset introducer, a sign with a space after it, rows spaced unlike the first. The
 * caller then lexes that part and takes the token path. test/literal-list-scanner.test.ts compares
 * the two paths on generated statements.
 *
 * Concurrency: every function here is pure; a ListCursor lives for one scan.
 */
import { decodeString, isDigit, isIdentChar, isSpace, scanQuoted } from './lexer.js';
import { numberValue } from './literal-value.js';
import { CH_COMMA, CH_DOT, CH_DQUOTE, CH_LPAREN, CH_MINUS, CH_QUESTION, CH_RPAREN, CH_SEMICOLON, CH_SQUOTE } from './char-codes.js';
import type { SqlValue } from './plan-types.js';
import { PlanError, syntaxError } from './errors.js';

/**
 * An IN list that runs to the end of the text without its `)`: no parser could accept the
 * statement, and MariaDB answers 1064 "near ''" (the end of the text). normalize() throws it as
 * it is, instead of lexing the whole list again for the parser to reject: a megabyte of unclosed
 * `IN (1,1,…` once cost seconds of the event loop that way.
 */
export class UnclosedListError extends PlanError {}

/** Prefix of the per-row positional binds in normalized INSERT text (`:__r0`). */
export const ROW_BIND_PREFIX = '__r';

const ROW_BIND_NAMES: string[] = Array.from({ length: 64 }, (_, k) => `:${ROW_BIND_PREFIX}${k}`);

/** `:__r<k>`, the text of a row's k-th value in the normalized row template. */
export function rowBindName(k: number): string {
  return k < ROW_BIND_NAMES.length ? ROW_BIND_NAMES[k]! : `:${ROW_BIND_PREFIX}${k}`;
}

export interface ScannedRows {
  /** The rows' normalized text: the first row's template (every row is spaced alike). */
  readonly text: string;
  /** Each row's values; a `?` holds null until fillRowParams. */
  readonly rows: SqlValue[][];
  /** Row and column of each `?`, in text order (pairs), or null when there is none. */
  readonly params: number[] | null;
  /** Position right after the last row's `)`. */
  readonly end: number;
}

export interface ScannedList {
  /** The values; a `?` holds null until fillListParams. */
  readonly values: SqlValue[];
  /** Index of each `?` in values, in text order, or null when there is none. */
  readonly params: number[] | null;
  /** Position of the `(` and right after the `)`. */
  readonly start: number;
  readonly end: number;
  /** Whether whitespace comes between IN and the `(`. */
  readonly spaceBefore: boolean;
}


function isAsciiLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** `NULL` in any case, as a whole word, at `i`. */
function isNullWord(sql: string, i: number): boolean {
  return (
    (sql.charCodeAt(i) | 32) === 110 &&
    (sql.charCodeAt(i + 1) | 32) === 117 &&
    (sql.charCodeAt(i + 2) | 32) === 108 &&
    (sql.charCodeAt(i + 3) | 32) === 108 &&
    !isIdentChar(sql.charCodeAt(i + 4))
  );
}

/** What an item scan found. */
const ITEM_NONE = 0;
const ITEM_VALUE = 1;
const ITEM_PARAM = 2;

/** A position in the text and the value of the last item scanned there. */
class ListCursor {
  pos: number;
  value: SqlValue = null;
  // Position of the next backslash at or after the current string (-1: none), searched once per
  // string that starts past it, as the lexer does, so that a long statement is not searched again
  // per string.
  private nextBackslash = 0;

  constructor(private readonly sql: string, pos: number) {
    this.pos = pos;
  }

  /** Skips whitespace; returns whether there was any. */
  skipSpace(): boolean {
    const sql = this.sql;
    let i = this.pos;
    while (isSpace(sql.charCodeAt(i))) i++;
    const skipped = i > this.pos;
    this.pos = i;
    return skipped;
  }

  char(): number {
    return this.sql.charCodeAt(this.pos);
  }

  /**
   * Scans one plain literal at pos: a number, a quoted string, `?`, or NULL when `nullAllowed`.
   * Returns ITEM_NONE (pos unchanged) for anything else. Throws the lexer's error for an
   * unterminated string, as the token path would.
   */
  item(nullAllowed: boolean): number {
    const sql = this.sql;
    let i = this.pos;
    let c = sql.charCodeAt(i);
    if (c === CH_QUESTION) {
      this.pos = i + 1;
      this.value = null;
      return ITEM_PARAM;
    }
    if (c === CH_SQUOTE || c === CH_DQUOTE) {
      const close = sql.indexOf(c === CH_SQUOTE ? "'" : '"', i + 1);
      if (this.nextBackslash !== -1 && this.nextBackslash <= i) this.nextBackslash = sql.indexOf('\\', i + 1);
      if (close > 0 && sql.charCodeAt(close + 1) !== c && (this.nextBackslash === -1 || this.nextBackslash > close)) {
        this.value = sql.slice(i + 1, close);
        this.pos = close + 1;
      } else {
        const end = scanQuoted(sql, i, c, true);
        this.value = decodeString(sql.slice(i, end));
        this.pos = end;
      }
      return ITEM_VALUE;
    }
    if (isDigit(c) || (c === CH_MINUS && isDigit(sql.charCodeAt(i + 1)))) {
      // A sign directly before the digits belongs to the number (after `(` or `,` a `-` is always
      // a sign). The lexer's other number forms (0x…, 1e5, .5) fail the caller's check that a
      // separator follows.
      const negative = c === CH_MINUS;
      if (negative) c = sql.charCodeAt(++i);
      const digitsStart = i;
      let acc = 0;
      while (isDigit(c)) {
        acc = acc * 10 + (c - 48);
        c = sql.charCodeAt(++i);
      }
      if (c === CH_DOT) {
        c = sql.charCodeAt(++i);
        while (isDigit(c)) c = sql.charCodeAt(++i);
        this.value = numberValue(sql.slice(digitsStart, i), negative);
      } else if (i - digitsStart <= 15) {
        // Fewer than 16 digits are exact in a double (the same shortcut as numberValue's).
        this.value = BigInt(negative ? -acc : acc);
      } else {
        this.value = numberValue(sql.slice(digitsStart, i), negative);
      }
      this.pos = i;
      return ITEM_VALUE;
    }
    if (nullAllowed && isNullWord(sql, i)) {
      this.value = null;
      this.pos = i + 4;
      return ITEM_VALUE;
    }
    return ITEM_NONE;
  }
}

/**
 * Scans the rows that start at `from` (just after the VALUES keyword). Returns null whenever the
 * rows are not the plain form described above, or when what follows the last row could make the
 * lexer see it differently (only whitespace, `;`, the end, or a word may follow).
 */
export function scanInsertRows(sql: string, from: number): ScannedRows | null {
  const cur = new ListCursor(sql, from);
  cur.skipSpace();
  const rows: SqlValue[][] = [];
  let params: number[] | null = null;
  // The first row's spacing: for each token after its `(` (items, commas and the `)`), whether
  // whitespace comes before it. Later rows must match it, so the first row's template is every
  // row's template.
  const spacing: boolean[] = [];
  let text = '(';
  let width = -1;

  for (;;) {
    if (cur.char() !== CH_LPAREN) return null;
    cur.pos++;
    const first = width < 0;
    const values: SqlValue[] = [];
    let m = 0; // index of the token after `(` within the row
    for (;;) {
      let space = cur.skipSpace();
      if (first) {
        spacing.push(space);
        text += (space ? ' ' : '') + rowBindName(values.length);
      } else if (spacing[m] !== space) {
        return null;
      }
      m++;
      const found = cur.item(true);
      if (found === ITEM_NONE) return null;
      if (found === ITEM_PARAM) (params ??= []).push(rows.length, values.length);
      values.push(cur.value);
      // The separator after the item: `,` or `)`.
      space = cur.skipSpace();
      const separator = cur.char();
      if (separator !== CH_COMMA && separator !== CH_RPAREN) return null;
      if (first) {
        spacing.push(space);
        text += (space ? ' ' : '') + (separator === CH_COMMA ? ',' : ')');
      } else if (spacing[m] !== space) {
        return null;
      }
      m++;
      cur.pos++;
      if (separator === CH_RPAREN) break;
    }
    if (first) width = values.length;
    else if (values.length !== width) return null;
    rows.push(values);

    const rowEnd = cur.pos;
    cur.skipSpace();
    const c = cur.char();
    if (c === CH_COMMA) {
      cur.pos++;
      cur.skipSpace();
      continue;
    }
    // The rows end here; what follows is lexed from rowEnd on. A `.` right after `)` is the one
    // place where the lexer looks back at the previous token, and the lexer skips a comment
    // between rows (`(1) /* x */, (2)` is two rows), so anything but a word, `;` or the end goes
    // to the token path.
    if (cur.pos >= sql.length || c === CH_SEMICOLON || isAsciiLetter(c)) return { text, rows, params, end: rowEnd };
    return null;
  }
}

/**
 * Scans `(v, v, …)` at `from` (just after an IN keyword): two or more plain literals, NULL not
 * included (the token path does not collapse a list with NULL either). Returns null otherwise.
 */
export function scanInList(sql: string, from: number): ScannedList | null {
  const cur = new ListCursor(sql, from);
  const spaceBefore = cur.skipSpace();
  const start = cur.pos;
  if (cur.char() !== CH_LPAREN) return null;
  cur.pos++;
  const values: SqlValue[] = [];
  let params: number[] | null = null;
  for (;;) {
    cur.skipSpace();
    const found = cur.item(false);
    if (found === ITEM_NONE) return cur.pos >= sql.length ? unclosedAtEnd(sql) : null;
    if (found === ITEM_PARAM) (params ??= []).push(values.length);
    values.push(cur.value);
    cur.skipSpace();
    if (cur.pos >= sql.length) return unclosedAtEnd(sql);
    const separator = cur.char();
    cur.pos++;
    if (separator === CH_RPAREN) break;
    if (separator !== CH_COMMA) return null;
  }
  // `IN (x)` stays a scalar bind (the token path plans it as `= x`).
  if (values.length < 2) return null;
  return { values, params, start, end: cur.pos, spaceBefore };
}

function unclosedAtEnd(sql: string): never {
  const e = syntaxError(sql, sql.length);
  throw new UnclosedListError(e.errno, e.sqlState, e.message);
}

/** Replaces each `?` of scanned rows with its param (`next` returns them in text order). */
export function fillRowParams(scanned: ScannedRows, next: () => SqlValue): void {
  const p = scanned.params;
  if (p === null) return;
  for (let k = 0; k < p.length; k += 2) scanned.rows[p[k]!]![p[k + 1]!] = next();
}

/** Replaces each `?` of a scanned list with its param (`next` returns them in text order). */
export function fillListParams(scanned: ScannedList, next: () => SqlValue): void {
  const p = scanned.params;
  if (p === null) return;
  for (let k = 0; k < p.length; k++) scanned.values[p[k]!] = next();
}
