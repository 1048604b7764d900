/**
 * A MySQL lexer: enough of MySQL's tokenizer to find every literal, identifier, placeholder and
 * comment without parsing. It runs on every query (the hot path), so it works on char codes and
 * allocates one small object per token.
 */
import { syntaxError } from './errors.js';
import { CH_TAB, CH_LF, CH_CR, CH_SPACE, CH_BANG, CH_DQUOTE, CH_HASH, CH_DOLLAR, CH_SQUOTE, CH_STAR, CH_PLUS, CH_MINUS, CH_DOT, CH_SLASH, CH_0, CH_9, CH_COLON, CH_QUESTION, CH_AT, CH_BACKSLASH, CH_UNDERSCORE, CH_BACKTICK } from './char-codes.js';

export type TokenKind =
  /** bare word: keyword or identifier */
  | 'ident'
  /** `backtick` identifier; `value` holds the unquoted name */
  | 'qident'
  /** 'single' or "double" quoted string */
  | 'string'
  /** integer, decimal or float literal */
  | 'number'
  /** 0x0A or X'0A' */
  | 'hex'
  /** 0b101 or B'101' */
  | 'bit'
  /** `?` */
  | 'placeholder'
  /** `:name` */
  | 'bind'
  /** `::name` (a list bind var, Vitess style) */
  | 'listBind'
  /** `@@var`, `@@session.var`, `@@global.var` */
  | 'sysvar'
  /** `@var`, `@'var'`, `@`var`` */
  | 'uservar'
  /** operators and punctuation */
  | 'punct'
  /** `/*vt+ ... *\/`: Vitess query directives */
  | 'directive'
  /** `/*! ... *\/` (MySQL executable comment) or `/*+ ... *\/` (optimizer hint): kept verbatim */
  | 'verbatim';

export interface Token {
  readonly kind: TokenKind;
  /** The token's source text, exactly as written. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** True when whitespace or a comment separates this token from the previous one. */
  readonly spaceBefore: boolean;
  /** Lower-cased text of an `ident` token (keywords compare case-insensitively); '' otherwise. */
  readonly lower: string;
}

// Character classes of ASCII code units, one table lookup instead of a chain of comparisons in
// the scanning loops (the lexer runs on every query). Immutable after module load.
const CLASS_IDENT = 1;
const CLASS_DIGIT = 2;
const CLASS_SPACE = 4;
const CLASS_HEX = 8;
const CHAR_CLASS = new Uint8Array(128);
(function buildCharClasses(): void {
  for (let c = 0; c < 128; c++) {
    let k = 0;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= CH_0 && c <= CH_9) || c === CH_UNDERSCORE || c === CH_DOLLAR) k |= CLASS_IDENT;
    if (c >= CH_0 && c <= CH_9) k |= CLASS_DIGIT;
    if (c === CH_SPACE || c === CH_TAB || c === CH_LF || c === CH_CR || c === 11 || c === 12) k |= CLASS_SPACE;
    if ((c >= CH_0 && c <= CH_9) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)) k |= CLASS_HEX;
    CHAR_CLASS[c] = k;
  }
})();

// `c` may be NaN (charCodeAt past the end): every comparison with NaN is false, as before.
export function isDigit(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & CLASS_DIGIT) !== 0;
}

/** Identifier characters: ASCII letters, digits, `_`, `$` and anything non-ASCII. */
export function isIdentChar(c: number): boolean {
  return c >= 128 || (c >= 0 && (CHAR_CLASS[c]! & CLASS_IDENT) !== 0);
}

/** MySQL whitespace: space, tab, LF, CR, VT and FF. */
export function isSpace(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & CLASS_SPACE) !== 0;
}

function isHexDigit(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & CLASS_HEX) !== 0;
}

const THREE_CHAR_OPS = new Set(['<=>', '->>']);
const TWO_CHAR_OPS = new Set(['<=', '>=', '<>', '!=', ':=', '||', '&&', '<<', '>>', '->']);

/** Scans a quoted run starting at `i` (the opening quote); returns the index after the closing quote. */
export function scanQuoted(sql: string, i: number, quote: number, backslashEscapes: boolean): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (backslashEscapes && c === CH_BACKSLASH) {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (j + 1 < n && sql.charCodeAt(j + 1) === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  throw syntaxError(sql, i);
}

/**
 * Splits SQL into tokens. Whitespace and ordinary comments are dropped (recorded as
 * `spaceBefore`); `/*vt+` directives and `/*!`/`/*+` comments are tokens. Throws a 1064
 * PlanError for an unterminated string, identifier or comment.
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  tokenizeInto(sql, tokens, 0, 0);
  return tokens;
}

/** tokenizeInto stops after the first `VALUES`/`VALUE` word outside parentheses (only from 0). */
export const STOP_AT_VALUES = 1;
/** tokenizeInto stops after every `IN` word. */
export const STOP_AT_IN = 2;

/**
 * Appends the tokens of `sql` from position `from` to `tokens` and returns -1 once the text is
 * tokenized. `from` must be 0 or the end of the last token in `tokens`, and a resumed call must
 * not start right before `.` after a word (the one place where the lexer looks back, see
 * endsName): calls that meet there yield the same tokens as one call.
 *
 * `stops` (STOP_AT_VALUES, STOP_AT_IN) makes it return early, right after such a word, with the
 * position after it: the normalizer scans INSERT rows and IN lists from the text there, without a
 * token per value, then resumes after them.
 */
export function tokenizeInto(sql: string, tokens: Token[], from: number, stops: number): number {
  const n = sql.length;
  let i = from;
  let space = false;
  const stopAtValues = (stops & STOP_AT_VALUES) !== 0;
  const stopAtIn = (stops & STOP_AT_IN) !== 0;
  // Parenthesis depth, kept only for stopAtValues (which only a call from 0 uses, so it starts at 0).
  let depth = 0;
  // Position of the first backslash after the last string scanned (-1: none left; a position at or
  // before the current one: not searched yet).
  let nextBackslash = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      space = true;
      i++;
      continue;
    }
    const start = i;
    // Comments.
    if (c === CH_HASH || (c === CH_MINUS && sql.charCodeAt(i + 1) === CH_MINUS && (i + 2 >= n || isSpace(sql.charCodeAt(i + 2)) || sql.charCodeAt(i + 2) < 32))) {
      // A NUL ends it too, as in MariaDB's lexer; then, not being the text's end, it is a syntax
      // error (the client session takes a final NUL off before the text gets here).
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (d === CH_LF || d === 0) break;
        i++;
      }
      space = true;
      continue;
    }
    if (c === CH_SLASH && sql.charCodeAt(i + 1) === CH_STAR) {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw syntaxError(sql, i);
      const end = close + 2;
      const third = sql.charCodeAt(i + 2);
      if (third === CH_BANG || (third === CH_PLUS && i + 3 < n)) {
        tokens.push({ kind: 'verbatim', text: sql.slice(start, end), start, end, spaceBefore: space, lower: '' });
        space = false;
      } else if (sql.startsWith('vt+', i + 2)) {
        tokens.push({ kind: 'directive', text: sql.slice(start, end), start, end, spaceBefore: space, lower: '' });
        space = true;
      } else {
        space = true;
      }
      i = end;
      continue;
    }
    // Strings, hex X'..' and bit B'..' literals.
    if (c === CH_SQUOTE || c === CH_DQUOTE) {
      // Fast path (native searches instead of a loop per character): the next quote closes the
      // string when it is not doubled and no backslash comes before it.
      const close = sql.indexOf(c === CH_SQUOTE ? "'" : '"', i + 1);
      if (nextBackslash !== -1 && nextBackslash <= i) nextBackslash = sql.indexOf('\\', i + 1);
      if (close > 0 && sql.charCodeAt(close + 1) !== c && (nextBackslash === -1 || nextBackslash > close)) i = close + 1;
      else i = scanQuoted(sql, i, c, true);
      const prev = tokens[tokens.length - 1];
      if (prev !== undefined && prev.kind === 'string' && prev.end > from) {
        // Adjacent string literals are one literal (`'a' 'b'` is 'ab'): one token, re-quoted, so
        // that the normalizer, the parser and the shard SQL all see a single string.
        tokens[tokens.length - 1] = { kind: 'string', text: quoteConcatenated(prev.text, sql.slice(start, i)), start: prev.start, end: i, spaceBefore: prev.spaceBefore, lower: '' };
      } else tokens.push({ kind: 'string', text: sql.slice(start, i), start, end: i, spaceBefore: space, lower: '' });
      space = false;
      continue;
    }
    if ((c === 120 || c === 88 || c === 98 || c === 66) && sql.charCodeAt(i + 1) === CH_SQUOTE) {
      i = scanQuoted(sql, i + 1, CH_SQUOTE, false);
      tokens.push({ kind: c === 120 || c === 88 ? 'hex' : 'bit', text: sql.slice(start, i), start, end: i, spaceBefore: space, lower: '' });
      space = false;
      continue;
    }
    if (c === CH_BACKTICK) {
      i = scanQuoted(sql, i, CH_BACKTICK, false);
      tokens.push({ kind: 'qident', text: sql.slice(start, i), start, end: i, spaceBefore: space, lower: '' });
      space = false;
      continue;
    }
    // Numbers (and identifiers that start with digits, which MySQL allows: `1abc`).
    if (isDigit(c) || (c === CH_DOT && isDigit(sql.charCodeAt(i + 1)) && !(tokens.length > 0 && !space && endsName(tokens[tokens.length - 1]!)))) {
      if (c === CH_0 && (sql.charCodeAt(i + 1) === 120 || sql.charCodeAt(i + 1) === 98)) {
        const isHex = sql.charCodeAt(i + 1) === 120;
        let j = i + 2;
        while (j < n && (isHex ? isHexDigit(sql.charCodeAt(j)) : sql.charCodeAt(j) === CH_0 || sql.charCodeAt(j) === 49)) j++;
        if (j > i + 2 && !(j < n && isIdentChar(sql.charCodeAt(j)))) {
          tokens.push({ kind: isHex ? 'hex' : 'bit', text: sql.slice(start, j), start, end: j, spaceBefore: space, lower: '' });
          space = false;
          i = j;
          continue;
        }
      }
      let j = i;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      let isNumber = true;
      if (j < n && isIdentChar(sql.charCodeAt(j)) && !(sql.charCodeAt(j) === 101 || sql.charCodeAt(j) === 69)) {
        isNumber = false;
      }
      if (isNumber) {
        if (sql.charCodeAt(j) === CH_DOT) {
          j++;
          while (j < n && isDigit(sql.charCodeAt(j))) j++;
        }
        const e = sql.charCodeAt(j);
        if (e === 101 || e === 69) {
          let k = j + 1;
          const sign = sql.charCodeAt(k);
          if (sign === CH_PLUS || sign === CH_MINUS) k++;
          if (isDigit(sql.charCodeAt(k))) {
            while (k < n && isDigit(sql.charCodeAt(k))) k++;
            j = k;
          } else if (j > i && !sql.slice(i, j).includes('.')) {
            isNumber = false; // `1e` / `1ea` is an identifier
          }
        }
        if (isNumber && !(j < n && isIdentChar(sql.charCodeAt(j)))) {
          tokens.push({ kind: 'number', text: sql.slice(start, j), start, end: j, spaceBefore: space, lower: '' });
          space = false;
          i = j;
          continue;
        }
      }
      // Falls through to identifier scanning.
    }
    if (isIdentChar(c)) {
      let j = i + 1;
      // Most SQL is written in lower case: lower-case only words that need it (saves a scan and
      // a string per word).
      let needsLower = (c >= 65 && c <= 90) || c >= 128;
      for (; j < n; j++) {
        const d = sql.charCodeAt(j);
        if (!isIdentChar(d)) break;
        if ((d >= 65 && d <= 90) || d >= 128) needsLower = true;
      }
      const text = sql.slice(start, j);
      const lower = needsLower ? text.toLowerCase() : text;
      tokens.push({ kind: 'ident', text, start, end: j, spaceBefore: space, lower });
      space = false;
      i = j;
      if (stops !== 0) {
        const len = j - start;
        if (stopAtIn && len === 2 && lower === 'in') return j;
        if (stopAtValues && depth === 0 && (len === 6 || len === 5) && (lower === 'values' || lower === 'value')) return j;
      }
      continue;
    }
    if (c === CH_QUESTION) {
      tokens.push({ kind: 'placeholder', text: '?', start, end: i + 1, spaceBefore: space, lower: '' });
      space = false;
      i++;
      continue;
    }
    if (c === CH_COLON) {
      const list = sql.charCodeAt(i + 1) === CH_COLON;
      let j = i + (list ? 2 : 1);
      const nameStart = j;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      if (j > nameStart) {
        tokens.push({ kind: list ? 'listBind' : 'bind', text: sql.slice(start, j), start, end: j, spaceBefore: space, lower: '' });
        space = false;
        i = j;
        continue;
      }
    }
    if (c === CH_AT) {
      if (sql.charCodeAt(i + 1) === CH_AT) {
        let j = i + 2;
        for (;;) {
          const q = sql.charCodeAt(j);
          if (q === CH_BACKTICK) {
            j = scanQuoted(sql, j, CH_BACKTICK, false);
          } else {
            while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
          }
          if (sql.charCodeAt(j) === CH_DOT && (isIdentChar(sql.charCodeAt(j + 1)) || sql.charCodeAt(j + 1) === CH_BACKTICK)) {
            j++;
            continue;
          }
          break;
        }
        tokens.push({ kind: 'sysvar', text: sql.slice(start, j), start, end: j, spaceBefore: space, lower: '' });
      } else {
        const q = sql.charCodeAt(i + 1);
        let j: number;
        if (q === CH_SQUOTE || q === CH_DQUOTE || q === CH_BACKTICK) {
          j = scanQuoted(sql, i + 1, q, q !== CH_BACKTICK);
        } else {
          j = i + 1;
          while (j < n && (isIdentChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === CH_DOT)) j++;
        }
        tokens.push({ kind: 'uservar', text: sql.slice(start, j), start, end: j, spaceBefore: space, lower: '' });
        i = j;
        space = false;
        continue;
      }
      i = tokens[tokens.length - 1]!.end;
      space = false;
      continue;
    }
    // Operators. Only these first characters start a multi-character operator.
    let len = 1;
    if (c === 60 || c === 62 || c === CH_BANG || c === CH_COLON || c === 124 || c === 38 || c === CH_MINUS) {
      if (THREE_CHAR_OPS.has(sql.slice(i, i + 3))) len = 3;
      else if (TWO_CHAR_OPS.has(sql.slice(i, i + 2))) len = 2;
    }
    if (stopAtValues) {
      if (c === 40) depth++;
      else if (c === 41 && depth > 0) depth--;
    }
    tokens.push({ kind: 'punct', text: len === 1 ? sql[i]! : sql.slice(i, i + len), start, end: i + len, spaceBefore: space, lower: '' });
    i += len;
    space = false;
  }
  return -1;
}

/** One single-quoted literal holding the value of two adjacent string literals. */
function quoteConcatenated(a: string, b: string): string {
  return `'${(decodeString(a) + decodeString(b)).replace(/[\\']/g, (ch) => `\\${ch}`)}'`;
}

/** True when a token can be followed by `.name` (so `.5` after it is a qualifier, not a number). */
function endsName(t: Token): boolean {
  return t.kind === 'ident' || t.kind === 'qident';
}

/** Decodes a quoted string token's text to its value, applying MySQL's escape rules. */
export function decodeString(text: string): string {
  const quote = text.charCodeAt(0);
  const body = text.slice(1, -1);
  // The common case: no escapes and no doubled quotes (two native searches).
  if (text.indexOf('\\') < 0 && text.indexOf(text[0]!, 1) === text.length - 1) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === CH_BACKSLASH && i + 1 < body.length) {
      const e = body[++i]!;
      switch (e) {
        case '0':
          out += '\0';
          break;
        case 'b':
          out += '\b';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'Z':
          out += '\x1a';
          break;
        // MySQL keeps the backslash for \% and \_ so that LIKE patterns keep their escapes.
        case '%':
          out += '\\%';
          break;
        case '_':
          out += '\\_';
          break;
        default:
          out += e;
      }
    } else if (c === quote && body.charCodeAt(i + 1) === quote) {
      out += body[i]!;
      i++;
    } else {
      out += body[i]!;
    }
  }
  return out;
}

/** Decodes a backtick identifier (`a``b` → a`b); bare identifiers are returned as is. */
export function identName(t: Token): string {
  if (t.kind === 'qident') return t.text.slice(1, -1).replace(/``/g, '`');
  return t.text;
}

/** Decodes `0x0a`, `X'0a'` into bytes. */
export function decodeHex(text: string): Uint8Array {
  let digits = text.startsWith('0x') ? text.slice(2) : text.slice(2, -1);
  if (digits.length % 2 === 1) digits = '0' + digits;
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.substr(i * 2, 2), 16);
  return out;
}

/** Decodes `0b101`, `B'101'` into bytes (big-endian, left-padded to whole bytes, as MySQL does). */
export function decodeBits(text: string): Uint8Array {
  const digits = text.startsWith('0b') ? text.slice(2) : text.slice(2, -1);
  const byteCount = Math.max(1, Math.ceil(digits.length / 8));
  const out = new Uint8Array(byteCount);
  let bit = 0;
  for (let i = digits.length - 1; i >= 0; i--, bit++) {
    if (digits.charCodeAt(i) === 49) out[byteCount - 1 - (bit >> 3)]! |= 1 << (bit & 7);
  }
  return out;
}

/** Lower-cased text of an ident token (keywords are compared case-insensitively). */
export function kw(t: Token | undefined): string {
  return t !== undefined ? t.lower : '';
}

/** Index of the `)` matching the `(` at `open`, or -1 when it is not closed. */
export function matchingParen(tokens: readonly { readonly text: string }[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const x = tokens[j]!.text;
    if (x === '(') depth++;
    else if (x === ')' && --depth === 0) return j;
  }
  return -1;
}
