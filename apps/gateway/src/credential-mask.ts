/**
 * Masks credentials in text bound for a log line or the status page: the password of a URL
 * (`mysql://user:secret@host`), of a `-p`/`--password=` command-line flag, and of a
 * `password=`/`password:` setting.
 *
 * Hand-written scans, not regular expressions: the text is often a client's (an error message
 * naming its identifier, a slow statement), and the regexes this replaces backtracked from every
 * position of a long run of letters (`[a-z][a-z0-9+.-]*:\/\/` tried at each one), so one error
 * naming a 100 KB identifier held the event loop for 40 s. Each scan below reads every character
 * a bounded number of times. They mask exactly what those regexes masked (the unit test compares
 * them on random text):
 *   /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi                     → '$1***@'
 *   /(^|\s)(-p|--password=)('[^']*'|"[^"]*"|\S+)/g                     → '$1$2***'
 *   /(password\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s,;]+)/gi                 → '$1***'
 */

/** `mysql://user:secret@host` → `mysql://user:***@host` (any scheme). */
export function maskCredentials(text: string): string {
  return maskPasswordSettings(maskPasswordFlags(maskUrlPasswords(text)));
}

const WHITESPACE = /\s/;

function isSpace(ch: string): boolean {
  return WHITESPACE.test(ch);
}

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** [a-z0-9+.-], case-insensitive. */
function isSchemeChar(code: number): boolean {
  return isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x2b || code === 0x2e || code === 0x2d;
}

/**
 * The first index at or after `from` whose character satisfies `stop`, remembered so that scans
 * starting at increasing positions read each character once (a scan that starts before the last
 * hit reuses it).
 */
class ForwardSearch {
  /** The last scan started here and stopped at `hit` (text.length: no such character). */
  private from = 0;
  private hit = -1;
  constructor(
    private readonly text: string,
    private readonly stop: (ch: string) => boolean,
  ) {}

  find(from: number): number {
    if (from >= this.from && from <= this.hit) return this.hit;
    let i = from;
    while (i < this.text.length && !this.stop(this.text[i]!)) i++;
    this.from = from;
    this.hit = i;
    return i;
  }
}

/** The password of `scheme://user:password@`: from the user's ':' to the first '@' before whitespace. */
function maskUrlPasswords(text: string): string {
  let out = '';
  let copied = 0;
  // A match may not begin inside the previous one (the g flag's lastIndex).
  let matchFloor = 0;
  const passwordEnd = new ForwardSearch(text, (ch) => ch === '@' || isSpace(ch));
  for (let sep = text.indexOf('://'); sep >= 0; sep = text.indexOf('://', sep + 1)) {
    // A scheme: a run of [a-z0-9+.-] ending at the '://' that holds a letter to start from.
    let hasStart = false;
    for (let i = sep - 1; i >= matchFloor && isSchemeChar(text.charCodeAt(i)); i--) {
      if (isLetter(text.charCodeAt(i))) {
        hasStart = true;
        break;
      }
    }
    if (!hasStart) continue;
    // The user: up to the first ':', '/', '@' or whitespace, which must be ':'.
    let colon = sep + 3;
    while (colon < text.length && !':/@'.includes(text[colon]!) && !isSpace(text[colon]!)) colon++;
    if (text[colon] !== ':') continue;
    const at = passwordEnd.find(colon + 1);
    if (text[at] !== '@') continue;
    out += text.slice(copied, colon + 1) + '***';
    copied = at;
    matchFloor = at + 1;
    sep = at;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * The value after a quote: through the closing quote when there is one, else `fallback` (the
 * regexes' last alternative). `closers` finds the next quote of each kind.
 */
function quotedValueEnd(text: string, start: number, closers: Record<string, ForwardSearch>, fallback: (start: number) => number): number {
  const quote = text[start]!;
  const closer = closers[quote];
  if (closer !== undefined) {
    const close = closer.find(start + 1);
    if (close < text.length) return close + 1;
  }
  return fallback(start);
}

/** ` -psecret`, ` --password=secret`: at the start or after whitespace, a quoted value or a word. */
function maskPasswordFlags(text: string): string {
  const closers = { "'": new ForwardSearch(text, (ch) => ch === "'"), '"': new ForwardSearch(text, (ch) => ch === '"') };
  const wordEnd = new ForwardSearch(text, isSpace);
  let out = '';
  let copied = 0;
  let floor = 0;
  for (let i = text.indexOf('-'); i >= 0; i = text.indexOf('-', i + 1)) {
    // (^|\s): the string's start, or a whitespace character not inside the previous match.
    if (!(i === 0 || (i - 1 >= floor && isSpace(text[i - 1]!)))) continue;
    const flag = text.startsWith('-p', i) ? 2 : text.startsWith('--password=', i) ? 11 : 0;
    if (flag === 0) continue;
    const start = i + flag;
    if (start >= text.length || isSpace(text[start]!)) continue; // \S+ needs a character
    const end = quotedValueEnd(text, start, closers, (s) => wordEnd.find(s));
    out += text.slice(copied, start) + '***';
    copied = end;
    floor = end;
    i = end - 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** `password=secret`, `password: "x y"` (any case): a quoted value or a run of [^\s,;]. */
function maskPasswordSettings(text: string): string {
  const closers = { "'": new ForwardSearch(text, (ch) => ch === "'"), '"': new ForwardSearch(text, (ch) => ch === '"') };
  const valueEnd = new ForwardSearch(text, (ch) => ch === ',' || ch === ';' || isSpace(ch));
  const word = /password/gi;
  let out = '';
  let copied = 0;
  for (let m = word.exec(text); m !== null; m = word.exec(text)) {
    let i = m.index + 8;
    while (i < text.length && isSpace(text[i]!)) i++;
    if (text[i] !== '=' && text[i] !== ':') {
      word.lastIndex = m.index + 1;
      continue;
    }
    i++;
    while (i < text.length && isSpace(text[i]!)) i++;
    if (i >= text.length || text[i] === ',' || text[i] === ';') {
      word.lastIndex = m.index + 1;
      continue;
    }
    const end = quotedValueEnd(text, i, closers, (s) => valueEnd.find(s));
    out += text.slice(copied, i) + '***';
    copied = end;
    word.lastIndex = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
