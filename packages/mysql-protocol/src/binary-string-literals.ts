import { isUtf8 } from 'node:buffer';

/**
 * Statement bytes with every `_binary` string literal that is not valid UTF-8 rewritten as a hex
 * literal of the bytes it denotes: `_binary'<raw 0xFF…>'` becomes `_binary X'FF…'`.
 *
 * Drivers that inline parameters into the text (MariaDB Connector/J's default client-side
 * prepared statements, PHP PDO's emulated prepares, mysqldump without --hex-blob) send a BLOB
 * value as the raw bytes of a quoted literal. MariaDB reads a statement as bytes and stores them
 * as written; the gateway reads statements as UTF-8 text, which such bytes are not. As a hex
 * literal the same bytes are plain ASCII, and MariaDB reads `_binary X'…'` as the same binary
 * string. A literal that is valid UTF-8, or has no `_binary` introducer, is left exactly as written.
 *
 * The scan follows MariaDB's default lexing (sql_mode without NO_BACKSLASH_ESCAPES or
 * ANSI_QUOTES, which the gateway refuses): `'…'` and `"…"` strings with backslash escapes and
 * doubled quotes, backtick identifiers, and `#`, `-- ` and `/* *\/` comments, which are skipped
 * (invalid bytes there, or in an identifier, stay invalid and the caller refuses the statement).
 *
 * Returns null when no literal needed rewriting (or a literal is unterminated: the caller then
 * refuses the text as before).
 */
export function nonUtf8LiteralsAsHex(bytes: Buffer): Buffer | null {
  const out: Buffer[] = [];
  let copiedTo = 0;
  let rewritten = false;
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b === QUOTE || b === DQUOTE) {
      const end = stringEnd(bytes, i);
      if (end < 0) return null;
      if (!isUtf8(bytes.subarray(i + 1, end - 1)) && afterBinaryIntroducer(bytes, i)) {
        out.push(bytes.subarray(copiedTo, i));
        // `_binary'…'` → `_binary X'…'`: the introducer must not run into the X.
        const hex = unescapedBytes(bytes, i + 1, end - 1, b).toString('hex').toUpperCase();
        out.push(Buffer.from(`${isSpace(bytes[i - 1]!) ? '' : ' '}X'${hex}'`, 'latin1'));
        copiedTo = end;
        rewritten = true;
      }
      i = end;
    } else if (b === BACKTICK) {
      const close = skipPast(bytes, i + 1, BACKTICK);
      if (close < 0) return null;
      i = close;
    } else if (b === HASH || (b === DASH && bytes[i + 1] === DASH && (i + 2 >= n || isSpace(bytes[i + 2]!)))) {
      const eol = bytes.indexOf(NEWLINE, i);
      i = eol < 0 ? n : eol + 1;
    } else if (b === SLASH && bytes[i + 1] === STAR) {
      const close = bytes.indexOf('*/', i + 2, 'latin1');
      if (close < 0) return null;
      i = close + 2;
    } else {
      i++;
    }
  }
  if (!rewritten) return null;
  out.push(bytes.subarray(copiedTo));
  return Buffer.concat(out);
}

const QUOTE = 0x27;
const DQUOTE = 0x22;
const BACKTICK = 0x60;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const NEWLINE = 0x0a;
const SPACE = 0x20;

/** The index just past the closing quote of the string opening at `start`, or -1. */
function stringEnd(bytes: Buffer, start: number): number {
  const q = bytes[start]!;
  let i = start + 1;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === BACKSLASH) i += 2;
    else if (b === q) {
      if (bytes[i + 1] === q) i += 2;
      else return i + 1;
    } else i++;
  }
  return -1;
}

/** The index just past the next unescaped `quote` (doubled means itself) from `i`, or -1. */
function skipPast(bytes: Buffer, i: number, quote: number): number {
  while (i < bytes.length) {
    if (bytes[i] === quote) {
      if (bytes[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return -1;
}

/**
 * The bytes a string literal's body denotes, as MariaDB unescapes it: `\0 \b \n \r \t \Z` are
 * control bytes, `\%` and `\_` keep their backslash (they are LIKE escapes), any other `\x` is x,
 * and a doubled quote is one.
 */
function unescapedBytes(bytes: Buffer, from: number, to: number, quote: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  let k = 0;
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (b === BACKSLASH && i + 1 < to) {
      const e = bytes[++i]!;
      if (e === 0x25 || e === 0x5f) {
        out[k++] = BACKSLASH;
        out[k++] = e;
      } else out[k++] = ESCAPES.get(e) ?? e;
    } else if (b === quote && bytes[i + 1] === quote) {
      out[k++] = quote;
      i++;
    } else out[k++] = b;
  }
  return out.subarray(0, k);
}

const ESCAPES = new Map<number, number>([
  [0x30, 0x00], // \0
  [0x62, 0x08], // \b
  [0x6e, 0x0a], // \n
  [0x72, 0x0d], // \r
  [0x74, 0x09], // \t
  [0x5a, 0x1a], // \Z
]);

const BINARY_INTRODUCER = '_binary';

/**
 * Whether the literal at `quoteAt` follows `_binary` (spaces allowed between). Only such a literal
 * is rewritten: its bytes are a binary string whatever the connection's character set. A plain
 * `'é'` sent as latin1 0xE9 stays refused (1300): as a hex literal it would compare and convert
 * as bytes where MariaDB reads a latin1 character, a silent difference.
 */
function afterBinaryIntroducer(bytes: Buffer, quoteAt: number): boolean {
  let i = quoteAt - 1;
  while (i >= 0 && isSpace(bytes[i]!)) i--;
  const start = i - BINARY_INTRODUCER.length + 1;
  if (start < 0 || bytes.subarray(start, i + 1).toString('latin1').toLowerCase() !== BINARY_INTRODUCER) return false;
  const before = start > 0 ? bytes[start - 1]! : SPACE;
  return !isWordByte(before);
}

function isWordByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x24 || b >= 0x80;
}

function isSpace(b: number): boolean {
  return b === SPACE || b === 0x09 || b === NEWLINE || b === 0x0d || b === 0x0c || b === 0x0b;
}
