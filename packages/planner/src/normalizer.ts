/**
 * The normalizer turns a query into its plan-cache shape: literal values become bind vars
 * (`:v1`, `::v2` for IN lists, `:__r0`… for INSERT rows) and the values are returned as bind vars.
 * It runs on every query, before the cache lookup, and never calls the SQL parser.
 *
 * Literals that are NOT normalized, because their value changes the plan or the grammar needs a
 * constant there:
 * - `LIMIT n`, `LIMIT m, n`, `OFFSET n` (the plan's Limit primitive and pushed-down limits use the
 *   count; a `?` there is inlined into the text, so each distinct limit gets its own plan);
 * - positional `ORDER BY 1` / `GROUP BY 2`;
 * - constant sub-expressions, where a literal is compared or combined with another literal
 *   (`1 = 0`, `5 + 5`, `1 in ('a', 'b')`): the planner folds them, as Vitess does before routing;
 * - `IN (x)` with a single element stays a scalar bind (`IN (:v1)`), planned as `= x`;
 * - `INTERVAL n unit`, type lengths (`char(10)`, `decimal(10, 2)`), `ESCAPE 'c'`, JSON paths after
 *   `->`/`->>`, column aliases (`as 'name'`), strings with a charset introducer (`_utf8mb4'x'`,
 *   `N'x'`), and everything after `INTO OUTFILE`/`DUMPFILE`;
 * - `NULL`, `TRUE`, `FALSE` (they decide routes: `id = NULL` matches no shard);
 * - bit literals (`b'1010'`, `B'1010'`, `0b1010`) and `0x0a` hex literals outside INSERT rows:
 *   a bind var would render their bytes as a hex string (`X'0a'`), which MariaDB compares as a
 *   string, not as the number these literals are in a numeric context (`id = 0x03` matches 3;
 *   INSERT rows keep binding them: stored into a BIT or binary column, the bytes are the same);
 * - whole statements other than SELECT/INSERT/REPLACE/UPDATE/DELETE (SET, SHOW, USE, DDL…):
 *   their text is kept, only whitespace and comments are normalized.
 *
 * Identical literals in one query share one bind var (as in Vitess), so `id = 5 or id = 5` stays
 * recognizably one value. `?` placeholders each get their own bind var, filled from `params`.
 *
 * User variables live in the gateway session, not on the (pooled, shared) shard connections:
 * - in SELECT/INSERT/REPLACE/UPDATE/DELETE each `@name` read becomes a bind var holding the
 *   session's value (NULL when unset; one bind var per variable), so the plan, and the cache key,
 *   do not depend on the value, and routing sees it (`id = @x` is a single-shard route);
 * - in SET, a `@name` read on the right of `=` is inlined as a literal (SET keeps its literals in
 *   its text, and the session applies it; a SET never reaches a shard with a user variable in it);
 * - any statement that would assign a user variable on a shard connection (`@x := expr`,
 *   `SELECT … INTO @x`, the same inside `/*! … *\/`) is refused (1235): the assignment would
 *   stay on the pooled connection, where the next unrelated client would see it.
 *
 * INSERT … VALUES rows whose shapes are identical collapse into one row template over `:__r0`,
 * `:__r1`… with the values of every row in the `__rows` bind var: a 1-row and a 500-row insert
 * share one plan (Vitess issues #7304 and #8804 were out-of-memory errors from a plan per count).
 */
import { ExactNumber, type BindVars, type RouteOptions, type SqlValue } from './plan-types.js';
import { decodeString, kw, STOP_AT_IN, STOP_AT_VALUES, tokenize, tokenizeInto, type Token } from './lexer.js';
import { notSupported, parseError, PlanError, planFailure, syntaxError } from './errors.js';
import { encodeSqlValue } from './query-template.js';
import { literalValue } from './literal-value.js';
import { normalizePointSelect } from './point-select-normalizer.js';
import { CH_SPACE } from './char-codes.js';
import { fillListParams, fillRowParams, rowBindName, scanInList, scanInsertRows, UnclosedListError, type ScannedList, type ScannedRows } from './literal-list-scanner.js';

export { ROW_BIND_PREFIX } from './literal-list-scanner.js';

const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** Name of the bind var that holds the INSERT rows (`SqlValue[][]`). */
export const ROWS_BIND = '__rows';

export type StatementKind =
  | 'select'
  | 'insert'
  | 'replace'
  | 'update'
  | 'delete'
  | 'ddl'
  | 'set'
  | 'use'
  | 'show'
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'explain'
  | 'other';

export interface NormalizedQuery {
  /** The query's shape: the cache key (with the keyspace, directives and vschema epoch). */
  readonly normalized: string;
  /** Values extracted from the literals and `?` params. */
  readonly bindVars: BindVars;
  /** `/*vt+ ... *\/` directives. */
  readonly directives: RouteOptions;
  /** A canonical text of the directives, empty when there are none (part of the cache key). */
  readonly directivesKey: string;
  readonly kind: StatementKind;
  /** Number of `?` placeholders in the query. */
  readonly placeholders: number;
}

// A Map, not an object: looking up a fresh (non-internalized) string as a property name costs a
// string-table probe per query.
const FIRST_KEYWORD: ReadonlyMap<string, StatementKind> = new Map(Object.entries({
  select: 'select',
  with: 'select',
  insert: 'insert',
  replace: 'replace',
  update: 'update',
  delete: 'delete',
  create: 'ddl',
  alter: 'ddl',
  drop: 'ddl',
  truncate: 'ddl',
  rename: 'ddl',
  set: 'set',
  use: 'use',
  show: 'show',
  begin: 'begin',
  start: 'begin',
  commit: 'commit',
  rollback: 'rollback',
  explain: 'explain',
  vexplain: 'explain',
  describe: 'explain',
  desc: 'explain',
} satisfies Record<string, StatementKind>));

/** Statement kinds whose literals are turned into bind vars. */
const NORMALIZED_KINDS = new Set<StatementKind>(['select', 'insert', 'replace', 'update', 'delete']);

/** Keywords after which `-` is a sign, not a subtraction. */
const SIGN_CONTEXT = new Set([
  'select', 'where', 'and', 'or', 'not', 'xor', 'when', 'then', 'else', 'in', 'like', 'between',
  'by', 'having', 'on', 'set', 'values', 'value', 'is', 'distinct', 'all', 'any', 'some',
  'case', 'return', 'div', 'mod', 'regexp', 'rlike', 'interval', 'limit', 'offset',
]);
const BINARY_OPS = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '<=>', '+', '-', '*', '/', '%', 'div', 'mod']);
/** Words after which a string literal is part of the syntax, not a value: `date '…'`, `separator '…'`. */
const TYPED_LITERAL_WORDS = new Set(['date', 'time', 'timestamp', 'separator']);

const TYPE_WORDS = new Set([
  'char', 'varchar', 'binary', 'varbinary', 'decimal', 'numeric', 'dec', 'float', 'double', 'real',
  'datetime', 'time', 'timestamp', 'nchar', 'int', 'integer', 'bigint', 'smallint', 'tinyint', 'mediumint', 'bit',
]);
/**
 * Keywords that start a clause. Dispatches on the first letter, so that most words cost one
 * string comparison (a plain string switch compares a fresh string against every case).
 */
function isClauseKeyword(k: string): boolean {
  switch (k.charCodeAt(0)) {
    case 102: // f
      return k === 'from' || k === 'for';
    case 104: // h
      return k === 'having';
    case 105: // i
      return k === 'into';
    case 106: // j
      return k === 'join';
    case 108: // l
      return k === 'lock';
    case 111: // o
      return k === 'on';
    case 115: // s
      return k === 'select' || k === 'set';
    case 117: // u
      return k === 'union';
    case 118: // v
      return k === 'values';
    case 119: // w
      return k === 'where' || k === 'window';
    default:
      return false;
  }
}
const CHARSET_INTRODUCER = /^_[a-z0-9]+$/i;

/**
 * A literal after a charset introducer (`_binary'…'`, `_binary 'x'`, `_binary X'FF'`,
 * `_utf8mb4 0x41`) or `N'x'`: the grammar takes a literal there, never a bind var (`_binary :v1`
 * was 1064; MariaDB Connector/J writes every byte[] parameter as `_binary'…'`). A word that only
 * looks like an introducer (`select _col 'alias'`) keeps its literal too, which changes nothing
 * but the plan-cache shape.
 */
function isIntroduced(prev: Token | undefined, lit: Token): boolean {
  if (prev === undefined || prev.kind !== 'ident') return false;
  if (CHARSET_INTRODUCER.test(prev.text)) return lit.kind === 'string' || lit.kind === 'hex' || lit.kind === 'bit';
  return lit.kind === 'string' && !lit.spaceBefore && (prev.text === 'N' || prev.text === 'n');
}

function isLiteral(t: Token | undefined): boolean {
  if (t === undefined) return false;
  const k = t.kind;
  return k === 'string' || k === 'number' || k === 'hex' || k === 'bit' || k === 'placeholder';
}

/**
 * Bit literals (`b'1010'`, `0b1010`) and `0x0a` hex literals: in a numeric context MariaDB reads
 * them as numbers (`id = 0x03` matches 3), but a bind var holds their bytes and renders them as
 * `X'03'`, a string (which matches nothing there). So they stay in the text outside INSERT rows;
 * `X'03'` itself is a string literal and is bound as one.
 */
function isNumericBitsLiteral(t: Token): boolean {
  return t.kind === 'bit' || (t.kind === 'hex' && t.text.charCodeAt(0) === 48);
}

/**
 * The session's user variables, by canonical name (see userVariableName). Read-only here: the
 * session writes it between statements, never while one of its statements is being normalized.
 */
export type UserVariables = ReadonlyMap<string, SqlValue>;

/**
 * The canonical name of a user variable from its token text (`@x`, `@'a b'`, `@"q"`, `` @`b` ``):
 * unquoted and lower-cased, since MariaDB compares user variable names case-insensitively.
 */
export function userVariableName(text: string): string {
  const q = text.charCodeAt(1);
  let name: string;
  if (q === 39 || q === 34) name = decodeString(text.slice(1));
  else if (q === 96) name = text.slice(2, -1).replace(/``/g, '`');
  else name = text.slice(1);
  return name.toLowerCase();
}

/** Statement kind from the first keyword (`(select …)` is a select). */
export function statementKind(tokens: readonly Token[]): StatementKind {
  let i = 0;
  while (i < tokens.length && (tokens[i]!.text === '(' || tokens[i]!.kind === 'directive' || tokens[i]!.kind === 'verbatim')) i++;
  if (i > 0 && i < tokens.length && tokens[i - 1]!.text === '(') return 'select';
  const k = kw(tokens[i]);
  // The usual statements first, without hashing the word.
  if (k === 'select') return 'select';
  if (k === 'insert') return 'insert';
  if (k === 'update') return 'update';
  if (k === 'delete') return 'delete';
  return FIRST_KEYWORD.get(k) ?? 'other';
}

/** Parses `/*vt+ QUERY_TIMEOUT_MS=1000 SCATTER_ERRORS_AS_WARNINGS *\/` directives. */
export function parseDirectives(text: string, into: { queryTimeoutMs?: number; scatterErrorsAsWarnings?: boolean }): void {
  const body = text.slice(5, -2);
  for (const m of body.matchAll(/([A-Za-z_]+)(?:\s*=\s*('[^']*'|"[^"]*"|[^\s]+))?/g)) {
    const name = m[1]!.toUpperCase();
    const raw = m[2]?.replace(/^['"]|['"]$/g, '');
    if (name === 'QUERY_TIMEOUT_MS' && raw !== undefined && /^\d+$/.test(raw)) into.queryTimeoutMs = Number(raw);
    else if (name === 'SCATTER_ERRORS_AS_WARNINGS') into.scatterErrorsAsWarnings = raw === undefined || !/^(0|false|off)$/i.test(raw);
  }
}

/** Counts the `?` placeholders of a statement (for COM_STMT_PREPARE). */
export function countPlaceholders(sql: string): number {
  let count = 0;
  for (const t of tokenize(sql)) if (t.kind === 'placeholder') count++;
  return count;
}

/** Renders a param inlined into text (a `?` where a constant is required, such as LIMIT). */
function inlineParam(v: SqlValue | undefined): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  if (v instanceof ExactNumber && /^\d+$/.test(v.text)) return v.text;
  throw new PlanError(1210, 'HY000', 'Incorrect arguments to LIMIT: a placeholder there must be a non-negative integer');
}

/**
 * Per-call normalizer state (a class rather than closures, so that a call allocates one object).
 * Concurrency rule: one instance per normalize() call, never shared.
 */
class NormalizeState {
  out = '';
  placeholders = 0;
  private counter = 0;
  constructor(
    private readonly taken: ReadonlySet<string> | undefined,
    private readonly params: readonly SqlValue[] | undefined,
    private readonly userVariables: UserVariables | undefined,
  ) {}

  /** The session's value of the user variable a `uservar` token names (NULL when unset). */
  userValue(t: Token): SqlValue {
    return this.userVariables?.get(userVariableName(t.text)) ?? null;
  }

  nextName(): string {
    let name: string;
    do name = 'v' + ++this.counter;
    while (this.taken !== undefined && this.taken.has(name));
    return name;
  }

  paramValue(): SqlValue {
    const idx = this.placeholders++;
    if (this.params === undefined || idx >= this.params.length) {
      throw new PlanError(1210, 'HY000', `Incorrect arguments to mysqld_stmt_execute: placeholder ${idx + 1} has no value`);
    }
    return this.params[idx]!;
  }

  emit(text: string, spaceBefore: boolean): void {
    if (this.out.length > 0 && spaceBefore) this.out += ' ';
    this.out += text;
  }
}

interface ParenFrame {
  /** 'orderby' after ORDER BY / GROUP BY, 'limit' after LIMIT, 'other' otherwise. */
  clause: 'orderby' | 'limit' | 'other';
  /** The parenthesis belongs to a type (`char(10)`): keep numbers. */
  typeArgs: boolean;
  /**
   * Token index of this frame's `(` (-1 for the statement itself), so that a list element finds
   * its list's `(` in O(1): walking back per element made long (or unclosed) lists quadratic.
   */
  open: number;
}

/**
 * Normalizes one statement. `params` fill `?` placeholders in order; a missing one is an error
 * (1210), extra ones are ignored by design (the gateway checks counts at COM_STMT_EXECUTE).
 */
export function normalize(sql: string, params?: readonly SqlValue[], userVariables?: UserVariables): NormalizedQuery {
  // A canonical point select needs no tokens (same answer as the token path, see its header).
  const pointSelect = normalizePointSelect(sql, params);
  if (pointSelect !== null) return pointSelect;
  const tokens: Token[] = [];
  let stop = tokenizeInto(sql, tokens, 0, STOP_AT_VALUES | STOP_AT_IN);
  if (stop < 0) return normalizeTokens(sql, tokens, params, null, userVariables);
  // The lexer stopped after VALUES or IN: from here on, INSERT rows and IN lists of plain literals
  // are scanned from the text (no token per value) and the lexer resumes after them.
  const kind = statementKind(tokens);
  const scans: TextScans = { rows: null, valuesIndex: -1, lists: [] };
  let stops = 0;
  let atIn = false;
  if (kind === 'insert' || kind === 'replace') {
    // Rows first, and IN lists only after them, so that the token path for rows never meets a
    // scanned list.
    if (isValuesWord(tokens[tokens.length - 1]!)) {
      scans.rows = scanInsertRows(sql, stop);
      if (scans.rows !== null) {
        scans.valuesIndex = tokens.length - 1;
        stop = scans.rows.end;
        stops = STOP_AT_IN;
      }
    }
  } else if (NORMALIZED_KINDS.has(kind)) {
    stops = STOP_AT_IN;
    atIn = !isValuesWord(tokens[tokens.length - 1]!);
  }
  if (stops === 0) {
    tokenizeInto(sql, tokens, stop, 0);
    return normalizeTokens(sql, tokens, params, null, userVariables, kind);
  }
  try {
    for (;;) {
      if (atIn) {
        const list = scanInList(sql, stop);
        if (list !== null) {
          tokens.push({ kind: 'punct', text: SCANNED_LIST_TEXT, start: list.start, end: list.end, spaceBefore: list.spaceBefore, lower: '' });
          scans.lists.push(list);
          stop = list.end;
        }
      }
      stop = tokenizeInto(sql, tokens, stop, stops);
      if (stop < 0) break;
      atIn = true;
    }
    return normalizeTokens(sql, tokens, params, scans, userVariables, kind);
  } catch (err) {
    if (err instanceof UnclosedListError) throw err;
    // Whatever other error, the token path decides it (and raises it exactly as it would have).
    return normalizeTokens(sql, tokenize(sql), params, null, userVariables, kind);
  }
}

/**
 * MariaDB's limit on nested SELECTs (MAX_SELECT_NESTING): a SELECT holding this many levels of
 * `(SELECT` inside it fails with 1473.
 */
const MAX_NESTED_SELECTS = 64;

/**
 * Deepest parenthesis nesting a statement may have. node-sql-parser takes time growing with the
 * cube of the depth to reject a syntax error nested deep inside parentheses (`select ((((1 +))))`):
 * 0.15 s at 512 levels, 0.7 s at 1,000, 5.6 s at 2,000 in a plan worker, so four clients sending
 * one held both plan workers and made every other client's uncached statement wait out
 * planTimeoutMs, where MariaDB answers 1064 at once. A valid statement that deep parses fast, but
 * it cannot be told from an invalid one without parsing. MariaDB 10.11 parses up to 9,999 levels
 * of bare parentheses, yet with its default thread_stack it cannot evaluate an expression nested
 * past ~590 levels (`1+(1+(…` answers 1436). Parentheses around nothing but a literal, however
 * many (`((((3))))`, MariaDB parses 9,999), are not counted: the parser rejects an error next to
 * 3,000 of them in 0.2 s. (Timings: load average ~24 on 2 cores.)
 */
export const MAX_PARENTHESIS_DEPTH = 600;

/**
 * How deep MariaDB's parser stack goes: a statement with more nested parentheses, or a longer run
 * of parentheses and prefix operators (`- - - 1`, `!!!1`, `not not 1`, `-(-(1))`), fails there with
 * 1064 "memory exhausted" at once (10.11: 30,000 parentheses around a literal or 30,000 unary
 * minuses parse, 32,000 do not). Those around a literal are not counted in MAX_PARENTHESIS_DEPTH,
 * and node-sql-parser takes 0.8 s for 20,000 of them and more than planTimeoutMs for 200,000: a
 * few clients sending such statements held every plan worker, and every other client's uncached
 * statement waited out the deadline, where MariaDB answers at once.
 */
export const MARIADB_PARSER_STACK = 32_000;

/** A punct token of prefix operators only (`-`, `+`, `!`, `~`; the lexer may join several). */
function isPrefixOperatorText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 45 && c !== 43 && c !== 33 && c !== 126) return false;
  }
  return true;
}

/** Tokens that are a whole value: parentheses around one (`((((3))))`) are not counted in the depth. */
const LITERAL_KINDS: ReadonlySet<string> = new Set(['number', 'string', 'hex', 'bit']);

/**
 * A statement whose parentheses do not pair up is a syntax error, whatever else it holds (no
 * MariaDB statement has an unpaired parenthesis outside strings, identifiers and comments). It is
 * refused here, in one pass over the tokens, rather than by the parser: node-sql-parser
 * backtracks through every open parenthesis before it gives up, so 3,000 unclosed `(` held a plan
 * worker until planTimeoutMs (a few such statements at once made every other client's uncached
 * statement wait out the deadline too), where MariaDB answers at once. The error is MariaDB's:
 * 1064 near the first unpaired `)` (or near '' for one never closed), or 1473 when the `(SELECT`
 * nesting passed MariaDB's limit before that point (it stops there). Balanced parentheses nested
 * deeper than MAX_PARENTHESIS_DEPTH are refused too (1064).
 *
 * An executable comment (`/*! ... *\/`) can hold parentheses the tokens do not show; a statement
 * with one in it is left to the parser.
 */
function refuseUnbalancedParentheses(sql: string, tokens: readonly Token[], end: number, kind: StatementKind): void {
  let depth = 0;
  // The open parentheses that start a subquery, as depths (innermost last).
  const selectDepths: number[] = [];
  let nestingExceededAt = -1;
  // Per open parenthesis (innermost last): its token index; the deepest nesting counted inside it
  // so far; and where the wrapper pair directly inside it closes (-1: none), see wrapsLiteral.
  const opens: number[] = [];
  const innerDepths: number[] = [];
  const wrapperCloses: number[] = [];
  // Where the counted nesting first went deeper than MAX_PARENTHESIS_DEPTH.
  let tooDeepAt = -1;
  // Consecutive parentheses and prefix operators, each a level of MariaDB's parser stack.
  let prefixRun = 0;
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    if (t.kind === 'verbatim' && (t.text.includes('(') || t.text.includes(')'))) return;
    const prefix = t.kind === 'punct' ? (t.text === '(' || isPrefixOperatorText(t.text) ? t.text.length : 0) : t.lower === 'not' ? 1 : 0;
    prefixRun = prefix > 0 ? prefixRun + prefix : 0;
    if (prefixRun > MARIADB_PARSER_STACK || (depth >= MARIADB_PARSER_STACK && t.kind === 'punct' && t.text === '(')) throw parseError('memory exhausted', sql, t.start);
    if (t.kind !== 'punct') continue;
    if (t.text === '(') {
      depth++;
      opens.push(i);
      innerDepths.push(0);
      wrapperCloses.push(-1);
      if (tokens[i + 1]?.lower === 'select') {
        selectDepths.push(depth);
        if (selectDepths.length >= MAX_NESTED_SELECTS && nestingExceededAt < 0) nestingExceededAt = t.start;
      }
    } else if (t.text === ')') {
      if (depth === 0) {
        if (kind === 'select' && nestingExceededAt >= 0) throw tooDeeplyNested();
        throw syntaxError(sql, t.start);
      }
      if (selectDepths[selectDepths.length - 1] === depth) selectDepths.pop();
      depth--;
      const open = opens.pop()!;
      const inner = innerDepths.pop()!;
      const wrapperClose = wrapperCloses.pop()!;
      // A pair around nothing but a literal, or around such a pair, adds no depth that costs the
      // parser anything.
      const wrapsLiteral = (i === open + 2 && LITERAL_KINDS.has(tokens[open + 1]!.kind)) || (wrapperClose === i - 1 && tokens[open + 1]!.text === '(');
      const counted = inner + (wrapsLiteral ? 0 : 1);
      if (counted > MAX_PARENTHESIS_DEPTH && tooDeepAt < 0) tooDeepAt = tokens[open]!.start;
      if (depth > 0) {
        innerDepths[depth - 1] = Math.max(innerDepths[depth - 1]!, counted);
        if (wrapsLiteral && open === opens[depth - 1]! + 1) wrapperCloses[depth - 1] = i;
      }
    }
  }
  if (depth === 0) {
    if (tooDeepAt >= 0) throw parenthesesTooDeep(sql, tooDeepAt);
    return;
  }
  if (kind === 'select' && nestingExceededAt >= 0) throw tooDeeplyNested();
  throw syntaxError(sql, sql.length);
}

/**
 * 1064 for parentheses nested deeper than MAX_PARENTHESIS_DEPTH, near the outermost one of the
 * first MAX_PARENTHESIS_DEPTH + 1 levels,
 * worded like MariaDB's own "memory exhausted near …" for nesting past its parser stack.
 */
function parenthesesTooDeep(sql: string, offset: number): PlanError {
  return parseError(`Parentheses nested more than ${MAX_PARENTHESIS_DEPTH} deep (shardgate's limit)`, sql, offset);
}

/**
 * A text query (no params: COM_QUERY, not COM_STMT_EXECUTE) with a `?` is a syntax error near it,
 * as MariaDB answers; it is not a statement missing a parameter (1210, which names
 * mysqld_stmt_execute).
 */
function refusePlaceholders(sql: string, tokens: readonly Token[], end: number, scans: TextScans | null): void {
  let at = -1;
  for (let i = 0; i < end && at < 0; i++) if (tokens[i]!.kind === 'placeholder') at = tokens[i]!.start;
  for (const list of scans?.lists ?? []) if (list.params !== null) at = firstOf(at, sql.indexOf('?', list.start));
  const rows = scans?.rows;
  if (rows != null && rows.params !== null) at = firstOf(at, sql.indexOf('?', tokens[scans!.valuesIndex]!.end));
  if (at >= 0) throw syntaxError(sql, at);
}

function firstOf(a: number, b: number): number {
  return a < 0 ? b : b < 0 ? a : Math.min(a, b);
}

function tooDeeplyNested(): PlanError {
  return new PlanError(1473, 'HY000', 'Too high level of nesting for select');
}

/** The token path alone, without the text scans (tests compare the two). */
export function normalizeByTokens(sql: string, params?: readonly SqlValue[], userVariables?: UserVariables): NormalizedQuery {
  return normalizeTokens(sql, tokenize(sql), params, null, userVariables);
}

/** What normalize() scanned from the text instead of lexing. */
interface TextScans {
  /** The INSERT rows, which replace the tokens after the VALUES token at valuesIndex. */
  rows: ScannedRows | null;
  valuesIndex: number;
  /** The IN lists, in text order; each stands as one SCANNED_LIST_TEXT token after its IN. */
  readonly lists: ScannedList[];
}

/**
 * The text of the token that stands for a scanned IN list. The lexer never makes it: its punct
 * tokens are one to three characters long.
 */
const SCANNED_LIST_TEXT = '\u0000(list)';

function isValuesWord(t: Token): boolean {
  return t.lower === 'values' || t.lower === 'value';
}

/**
 * The token path. With `scans`, the tokens stop at the VALUES keyword at `scans.valuesIndex` and
 * go on after the rows, and each scanned IN list is one token; where the token path would not
 * have used a scan the same way, this throws and normalize() redoes the statement by tokens alone.
 */
function normalizeTokens(
  sql: string,
  tokens: readonly Token[],
  params: readonly SqlValue[] | undefined,
  scans: TextScans | null,
  userVariables: UserVariables | undefined,
  // normalize() already knows it (it looks at the first tokens only, which a resumed lexing keeps).
  kind: StatementKind = statementKind(tokens),
): NormalizedQuery {
  // A trailing `;` is harmless; anything after it is a second statement.
  let end = tokens.length;
  while (end > 0 && tokens[end - 1]!.text === ';') end--;

  if (end === 0) throw new PlanError(1065, '42000', 'Query was empty');
  refuseUnbalancedParentheses(sql, tokens, end, kind);
  if (params === undefined) refusePlaceholders(sql, tokens, end, scans);
  const normalizeLiterals = NORMALIZED_KINDS.has(kind);

  const bindVars: BindVars = {};
  const directives: { queryTimeoutMs?: number; scatterErrorsAsWarnings?: boolean } = {};
  let directivesKey = '';
  // Literal (kind, text) → its bind name, created on the first literal. Plain unsigned numbers are
  // keyed by their text alone (no \u0000 in it, so no clash with the composite keys).
  let reuse: Map<string, string> | undefined;
  // Bind names the query already uses (`:v1` written by hand) are never reused for literals.
  let taken: Set<string> | undefined;
  let userVars = false;
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    if (t.kind === 'bind') (taken ??= new Set()).add(t.text.slice(1));
    else if (t.kind === 'listBind') (taken ??= new Set()).add(t.text.slice(2));
    else if (t.kind === 'punct' && t.text === ';') throw new PlanError(1235, '42000', 'This query is not supported by shardgate; not supported: multiple statements in one query');
    else if (t.kind === 'uservar' || (t.kind === 'verbatim' && t.text.includes('@'))) userVars = true;
  }
  // SET assigns user variables in the session (the loop below checks its right-hand sides), and so
  // does a SELECT's top-level `INTO @a, @b` (the session runs it, see planSelectInto).
  const intoTargets = userVars && kind === 'select' ? selectIntoTargets(tokens, end) : null;
  if (userVars && kind !== 'set') refuseUserVariableAssignments(tokens, end, intoTargets);
  const st = new NormalizeState(taken, params, userVariables);
  // User variables a SET assigns, in order (a later read of one of them is refused, see below).
  let setTargets: Set<string> | undefined;
  let pendingSetTarget: string | undefined;
  let setDepth = 0;

  const frames: ParenFrame[] = [{ clause: 'other', typeArgs: false, open: -1 }];
  let noMoreLiterals = false; // after INTO OUTFILE / DUMPFILE
  let insertValuesDone = false;
  let scannedRowsUsed = false;
  let listsUsed = 0;
  let prev: Token | undefined; // previous significant token of the source
  let prevPrev: Token | undefined;
  // The select list of a SELECT's first SELECT: an item the shard would name otherwise than
  // MariaDB (it reads a user variable or a `?`, or is written unlike the shard SQL) gets its
  // source text as alias (see selectItemAlias). -1: not reached yet; -2: done or off.
  let listDepth = kind === 'select' ? -1 : -2;
  let itemStart = 0;

  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    if (t.kind === 'directive') {
      parseDirectives(t.text, directives);
      directivesKey += t.text.replace(/\s+/g, ' ');
      continue;
    }
    const frame = frames[frames.length - 1]!;
    const k = kw(t);

    if (listDepth !== -2) {
      if (listDepth === -1) {
        if (k === 'select') {
          listDepth = frames.length;
          itemStart = i + 1;
        }
      } else if (frames.length === listDepth && (t.text === ',' || t.text === ')' || SELECT_LIST_END.has(k))) {
        st.out += selectItemAlias(sql, tokens, itemStart, i);
        if (t.text === ',') itemStart = i + 1;
        else listDepth = -2;
      }
    }

    if (!normalizeLiterals) {
      if (t.kind === 'placeholder') {
        st.emit(inlineParamAsLiteral(st.paramValue()), t.spaceBefore);
      } else if (kind === 'set' && t.kind === 'punct' && (t.text === '(' || t.text === ')' || t.text === ',')) {
        if (t.text === '(') setDepth++;
        else if (t.text === ')') setDepth--;
        else if (setDepth === 0 && pendingSetTarget !== undefined) {
          // The previous assignment is complete: later ones read its new value.
          (setTargets ??= new Set()).add(pendingSetTarget);
          pendingSetTarget = undefined;
        }
        st.emit(t.text, t.spaceBefore);
      } else if (t.kind === 'uservar' && kind === 'set') {
        const next = tokens[i + 1]?.text;
        const before = i > 0 ? tokens[i - 1]! : undefined;
        const name = userVariableName(t.text);
        if ((next === '=' || next === ':=') && (before?.text === ',' || SET_TARGET_AFTER.has(kw(before)))) {
          // `SET @x = …`: the session assigns it. Its own right-hand side reads the old value
          // (`SET @n = @n + 1`), so it counts as assigned only from the next assignment on.
          pendingSetTarget = name;
          st.emit(t.text, t.spaceBefore);
        } else if (next === ':=') {
          throw notSupported(`assignment to the user variable ${t.text} (:=) inside an expression`);
        } else if (setTargets?.has(name) === true) {
          // MariaDB assigns left to right (`SET @a = 1, @b = @a` sets @b to 1); the value inlined
          // here is the one from before the statement.
          throw notSupported(`SET that reads the user variable ${t.text} after assigning it in the same statement`);
        } else {
          const value = st.userValue(t);
          if (value instanceof ExactNumber && !value.isDouble() && computesWithUserVariable(tokens, i, innermostOpen(tokens, i))) {
            throw notSupported(`the DECIMAL user variable ${t.text} in arithmetic or as a function argument (MariaDB computes a DECIMAL user variable at scale 38); CAST it to the DECIMAL(p, s) you mean`);
          }
          st.emit(encodeSqlValue(value), t.spaceBefore);
        }
      } else {
        st.emit(t.text, t.spaceBefore);
      }
      continue;
    }

    // Clause tracking (for LIMIT and positional ORDER BY / GROUP BY).
    if (k !== '') {
      if (k === 'by' && (kw(prev) === 'order' || kw(prev) === 'group')) frame.clause = 'orderby';
      else if (k === 'limit') frame.clause = 'limit';
      else if (isClauseKeyword(k)) frame.clause = 'other';
      if ((k === 'outfile' || k === 'dumpfile') && kw(prev) === 'into') noMoreLiterals = true;
    }

    // INSERT/REPLACE … VALUES rows.
    if ((kind === 'insert' || kind === 'replace') && !insertValuesDone && frames.length === 1 && (k === 'values' || k === 'value')) {
      insertValuesDone = true;
      if (scans !== null && i === scans.valuesIndex) {
        const rows = scans.rows!;
        fillRowParams(rows, () => st.paramValue());
        bindVars[ROWS_BIND] = rows.rows;
        st.emit(t.text, t.spaceBefore);
        st.out += ' ' + rows.text;
        scannedRowsUsed = true;
        prevPrev = prev;
        prev = CLOSE_PAREN;
        continue;
      }
      const consumed = normalizeInsertRows(tokens, i + 1, end, bindVars, st);
      if (consumed !== null) {
        st.emit(t.text, t.spaceBefore);
        st.out += ' ' + consumed.text;
        i = consumed.next - 1;
        prevPrev = prev;
        prev = tokens[i];
        continue;
      }
    }

    if (t.text === SCANNED_LIST_TEXT) {
      // A scanned IN list: bound as the token path's IN collapse would (see tryCollapseInList).
      const list = scans!.lists[listsUsed++]!;
      if (kw(prev) !== 'in' || isLiteral(prevPrev) || noMoreLiterals) throw planFailure('scanned IN list where the token path keeps literals');
      fillListParams(list, () => st.paramValue());
      const name = st.nextName();
      bindVars[name] = list.values;
      st.emit('::' + name, t.spaceBefore);
      prevPrev = prev;
      prev = CLOSE_PAREN;
      continue;
    }
    if (t.text === '(') {
      frames.push({ clause: 'other', typeArgs: prev !== undefined && prev.kind === 'ident' && TYPE_WORDS.has(prev.lower), open: i });
      // IN (lit, lit, …) → ::list
      if ((kw(prev) === 'in') && !isLiteral(prevPrev) && !noMoreLiterals) {
        const list = tryCollapseInList(tokens, i, end, st);
        if (list !== null) {
          const name = st.nextName();
          bindVars[name] = list.values;
          st.emit('::' + name, t.spaceBefore);
          frames.pop();
          i = list.next - 1;
          prevPrev = prev;
          prev = tokens[i];
          continue;
        }
      }
      st.emit(t.text, t.spaceBefore);
      prevPrev = prev;
      prev = t;
      continue;
    }
    if (t.text === ')') {
      if (frames.length > 1) frames.pop();
      st.emit(t.text, t.spaceBefore);
      prevPrev = prev;
      prev = t;
      continue;
    }

    // A sign merged into the number that follows it.
    let negative = false;
    let lit: Token = t;
    let spaceBefore = t.spaceBefore;
    if (t.text === '-' && tokens[i + 1]?.kind === 'number' && i + 1 < end && isSignContext(prev)) {
      negative = true;
      lit = tokens[i + 1]!;
    }

    if (t.kind === 'uservar' && !noMoreLiterals && frame.clause !== 'limit' && !(intoTargets !== null && i >= intoTargets.from && i < intoTargets.to)) {
      // A user variable read: the session's value as a bind var (one per variable).
      const key = '@\u0000' + userVariableName(t.text);
      let name = reuse?.get(key);
      if (name === undefined) {
        name = st.nextName();
        (reuse ??= new Map()).set(key, name);
        bindVars[name] = st.userValue(t);
      }
      if (bindVars[name] instanceof ExactNumber && !(bindVars[name] as ExactNumber).isDouble() && computesWithUserVariable(tokens, i, frame.open)) {
        throw notSupported(`the DECIMAL user variable ${t.text} in arithmetic or as a function argument (MariaDB computes a DECIMAL user variable at scale 38, its value's own scale shows only where it is read as it is); CAST it to the DECIMAL(p, s) you mean`);
      }
      const v = bindVars[name];
      if (listDepth >= 0 && frames.length >= listDepth && typeof v === 'bigint' && v >= BIGINT_MIN && v <= BIGINT_MAX) {
        // In the select list: MariaDB types an integer user variable BIGINT, and so its column
        // (`select @a`, `@a + 1`); the literal the value becomes is an INT below 10 digits.
        // COALESCE with BIGINT's smallest value is the same value, typed BIGINT. Elsewhere the
        // type shows nowhere and the bare bind keeps routing on it (`where id = @a`).
        st.emit(`coalesce(:${name}, -9223372036854775808)`, t.spaceBefore);
      } else {
        st.emit(':' + name, t.spaceBefore);
      }
      prevPrev = prev;
      prev = t;
      continue;
    }

    if (isLiteral(lit) && !isNumericBitsLiteral(lit) && !noMoreLiterals && keepsLiteral(tokens, i, negative ? i + 1 : i, end, prev, prevPrev, frame) === false) {
      let name: string;
      if (lit.kind === 'placeholder') {
        name = st.nextName();
        bindVars[name] = st.paramValue();
      } else {
        const key = !negative && lit.kind === 'number' ? lit.text : (negative ? '-' : '') + lit.kind + '\u0000' + lit.text;
        const existing = reuse?.get(key);
        if (existing !== undefined) {
          name = existing;
        } else {
          name = st.nextName();
          (reuse ??= new Map()).set(key, name);
          bindVars[name] = literalValue(lit, negative);
        }
      }
      st.emit(':' + name, spaceBefore);
      if (negative) i++;
      prevPrev = prev;
      prev = lit;
      continue;
    }
    if (lit.kind === 'placeholder') {
      // A `?` where a constant is required (LIMIT): inline it.
      if (negative) {
        st.emit('-', spaceBefore);
        spaceBefore = false;
        i++;
      }
      st.emit(frame.clause === 'limit' ? inlineParam(st.paramValue()) : inlineParamAsLiteral(st.paramValue()), spaceBefore);
      prevPrev = prev;
      prev = lit;
      continue;
    }
    st.emit(t.text, spaceBefore);
    prevPrev = prev;
    prev = t;
  }

  if (listDepth >= 0) st.out += selectItemAlias(sql, tokens, itemStart, end);

  // The scanned rows replace the tokens of the rows; if the loop did not take them at VALUES, the
  // caller redoes the statement on all its tokens.
  if (scans !== null && ((scans.rows !== null && !scannedRowsUsed) || listsUsed !== scans.lists.length)) throw planFailure('scanned INSERT rows or IN lists not taken');

  return {
    normalized: st.out,
    bindVars,
    directives,
    directivesKey,
    kind,
    placeholders: st.placeholders,
  };
}

/** Words that end a select list (at its own parenthesis depth). */
const SELECT_LIST_END = new Set(['from', 'into', 'where', 'group', 'having', 'order', 'limit', 'union', 'intersect', 'except', 'for', 'lock', 'window', 'procedure']);
/** Words that may open a select list before its first item. */
const SELECT_MODIFIERS = new Set([
  'all', 'distinct', 'distinctrow', 'high_priority', 'straight_join', 'sql_small_result', 'sql_big_result', 'sql_buffer_result',
  'sql_cache', 'sql_no_cache', 'sql_calc_found_rows',
]);

/**
 * ` as `<item text>`` for the select-list item `tokens[from, to)` when it has no alias and the
 * shard would name its column otherwise than MariaDB does; '' otherwise. MariaDB names such a
 * column by the item's text as written, while the shard names it by the text it gets: the value
 * of a `?` or a user variable (`select ?` came back named `5e0`), literals as the gateway writes
 * them (`x'41'` is `X'41'`, `- 1` is `-1`, `'it''s'` is `'it\'s'`), and the spacing of
 * renderTokens (one space where the text has blanks or a comment, none before a comma). Items
 * spelled that way already (`count(1)`, `c + 1`, `concat('a', 'b')`) get no alias, so texts that
 * differ only in such literals still share a plan; the others do not (the alias is part of the
 * normalized text, and so of the plan-cache key).
 *
 * Left alone: a lone string (MariaDB names it by its value, as the shard does), `*`, an item that
 * may already end in an alias (`@x total`, `@x 'n'`, see mayEndInAlias: a second alias would be a
 * syntax error), and a text over 256 characters (MariaDB refuses such an alias).
 */
function selectItemAlias(sql: string, tokens: readonly Token[], from: number, to: number): string {
  while (from < to && (SELECT_MODIFIERS.has(kw(tokens[from])) || tokens[from]!.kind === 'directive' || tokens[from]!.kind === 'verbatim')) from++;
  if (from >= to) return '';
  const last = tokens[to - 1]!;
  if (last.text === '*' || mayEndInAlias(last, to - 1 > from ? tokens[to - 2] : undefined)) return '';
  if (last.kind === 'string' && (to - from === 1 || (to - from === 2 && isIntroduced(tokens[from], last)))) return '';
  let depth = 0;
  for (let j = from; j < to; j++) {
    const x = tokens[j]!;
    if (x.text === '(') depth++;
    else if (x.text === ')') depth--;
    else if (depth === 0 && x.lower === 'as') return '';
  }
  if (writtenAsShardGetsIt(sql, tokens, from, to)) return '';
  const text = sql.slice(tokens[from]!.start, last.end);
  if (text.length > 256) return '';
  return ' as `' + text.replace(/`/g, '``') + '`';
}

/**
 * Whether the shard gets tokens[from, to) of `sql` as written (see selectItemAlias): no `?` or
 * user variable, every literal as it is rendered (writtenAsRendered), a folded sign without
 * blanks, and renderTokens' spacing. An IN list the normalizer scanned instead of lexing is
 * lexed here, so that the answer is the token path's.
 */
function writtenAsShardGetsIt(sql: string, tokens: readonly Token[], from: number, to: number): boolean {
  for (let j = from; j < to; j++) {
    const x = tokens[j]!;
    if (x.kind === 'uservar' || x.kind === 'placeholder' || !writtenAsRendered(x)) return false;
    // The session's values the planner writes in (`upper(database())` reached the shard as
    // `upper('main')`; see select-planner's rewrites).
    if (x.kind === 'ident' && SESSION_VALUE_CALLS.has(x.lower) && j + 2 < to && tokens[j + 1]!.text === '(' && tokens[j + 2]!.text === ')') return false;
    // Likewise the system variables it writes in, within a larger item (`@@autocommit + 0` reached
    // the shard as `if(1, 1, @@autocommit) + 0`, `@@version_comment is not null` as `'…' is not
    // null`); a whole item keeps its name there (addSessionVariableEdits).
    if (x.kind === 'sysvar' && to - from > 1 && SESSION_VALUE_VARIABLES.has(sysvarName(x.text))) return false;
    if (x.text === SCANNED_LIST_TEXT) {
      const list = sql.slice(x.start, x.end);
      const listTokens = tokenize(list);
      if (!writtenAsShardGetsIt(list, listTokens, 0, listTokens.length)) return false;
    }
    if (j === from) continue;
    const before = tokens[j - 1]!;
    const gap = x.start - before.end;
    if (x.spaceBefore && x.text !== ',' ? gap !== 1 || sql.charCodeAt(x.start - 1) !== CH_SPACE : gap !== 0) return false;
    // A sign folded into its number loses the blanks between them (`- 1` is bound as -1).
    if (x.spaceBefore && x.kind === 'number' && (before.text === '-' || before.text === '+') && isSignContext(j - 1 > from ? tokens[j - 2] : undefined)) return false;
  }
  return true;
}

/** System variables the planner replaces by the session's (or the gateway's) value: select-planner's SESSION_VARIABLE_TEXT. */
const SESSION_VALUE_VARIABLES = new Set(['autocommit', 'last_insert_id', 'identity', 'version', 'version_comment']);

/** The variable a `sysvar` token names, without scope or quotes (`@@session.\`autocommit\`` is autocommit). */
function sysvarName(text: string): string {
  const parts = text.slice(2).replace(/`/g, '').toLowerCase().split('.');
  return parts[parts.length - 1]!;
}

/** Calls without arguments the planner replaces by the session's value (a literal or a bind var). */
const SESSION_VALUE_CALLS = new Set(['database', 'schema', 'version', 'user', 'session_user', 'system_user', 'current_user', 'connection_id', 'last_insert_id']);

/**
 * Whether a token reaches the shard as written when it is a literal the normalizer binds: a
 * number without leading zeros (`007` is rendered 7), a single-quoted string with no quote or
 * backslash inside and not joined from adjacent strings (`'it''s'`, `"s"` and `'a' 'b'` are
 * rendered otherwise), a hex literal other than `x'…'` (rendered `X'…'`). Other tokens are.
 */
function writtenAsRendered(t: Token): boolean {
  const text = t.text;
  switch (t.kind) {
    case 'number':
      return !(text.charCodeAt(0) === 48 && text.length > 1 && text.charCodeAt(1) >= 48 && text.charCodeAt(1) <= 57);
    case 'string':
      return text.charCodeAt(0) === 39 && text.length === t.end - t.start && text.indexOf("'", 1) === text.length - 1 && text.indexOf('\\') < 0;
    case 'hex':
      return text.charCodeAt(0) !== 120; // x'41'
    default:
      return true;
  }
}

/** Words that end an operand (`@x is null`, `case … end`): never an alias. */
const OPERAND_END_WORDS = new Set(['null', 'true', 'false', 'unknown', 'end']);
/** Words after which an operand follows (`@s like 'h%'`, `@x is not null`): what follows is no alias. */
const OPERATOR_WORDS = new Set(['is', 'not', 'like', 'and', 'or', 'xor', 'between', 'regexp', 'rlike', 'then', 'else', 'when', 'case', 'div', 'mod', 'escape', 'in', 'collate', 'interval', 'binary', 'sounds']);

/**
 * Whether the select-list item's last token may be an alias written without AS (`@x total`,
 * `@x 'n'`): a word or string right after something that ends an expression. Comments are
 * counted as possible aliases too (no alias is added then: a second one is a syntax error).
 */
function mayEndInAlias(last: Token, before: Token | undefined): boolean {
  if (last.kind === 'directive' || last.kind === 'verbatim') return true;
  if (last.kind !== 'ident' && last.kind !== 'qident' && last.kind !== 'string') return false;
  if (last.kind === 'ident' && OPERAND_END_WORDS.has(last.lower)) return false;
  if (before === undefined) return false;
  if (before.kind === 'punct') return before.text === ')' || before.text === SCANNED_LIST_TEXT; // a scanned IN list ends in `)`
  if (before.kind === 'ident') return !OPERATOR_WORDS.has(before.lower);
  return true;
}

/**
 * The tokens of a SELECT's top-level `INTO @a [, @b …]` clause (`into` included), or null: at
 * parenthesis depth 0, user variables only. Other INTO forms (OUTFILE, a local variable) are not.
 */
export function selectIntoTargets(tokens: readonly Token[], end: number): { from: number; to: number } | null {
  let depth = 0;
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'ident' && t.lower === 'into' && tokens[i + 1]?.kind === 'uservar') {
      let j = i + 2;
      while (j + 1 < end && tokens[j]!.text === ',' && tokens[j + 1]!.kind === 'uservar') j += 2;
      return { from: i, to: j };
    }
  }
  return null;
}

/** Words after which a user variable followed by `=` is the target of a SET assignment. */
const SET_TARGET_AFTER = new Set(['set', 'session', 'local', 'global', 'persist']);

/**
 * Refuses (1235) a statement that would assign a user variable on a shard connection: `@x := …`
 * anywhere, `… INTO @x`, and either inside a `/*! … *\/` comment (which MariaDB executes).
 */
function refuseUserVariableAssignments(tokens: readonly Token[], end: number, intoTargets: { readonly from: number; readonly to: number } | null = null): void {
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!;
    if (intoTargets !== null && i >= intoTargets.from && i < intoTargets.to) continue;
    if (t.kind === 'uservar') {
      if (tokens[i + 1]?.text === ':=') throw notSupported(`assignment to the user variable ${t.text} (:=) in a statement sent to shards; use SET ${t.text} = …`);
      if (i > 0 && kw(tokens[i - 1]) === 'into') throw notSupported(`SELECT … INTO ${t.text} (assigning user variables from a query)`);
    } else if (t.kind === 'verbatim' && t.text.startsWith('/*!') && t.text.includes('@')) {
      // The comment's body, without `/*!`, the optional version number and `*/`.
      const body = t.text.slice(3, -2).replace(/^\d{5,6}/, '');
      let inner: Token[];
      try {
        inner = tokenize(body);
      } catch {
        throw notSupported('a user variable in an executable comment (/*! … */) that shardgate cannot read');
      }
      refuseUserVariableAssignments(inner, inner.length);
    }
  }
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%', 'div', 'mod', '^', '&', '|', '<<', '>>', '~']);
/**
 * Words before `(` that open a list or a subquery, not a function's arguments; CAST/CONVERT, whose
 * result type is the one they name; and string functions.
 */
const NOT_A_FUNCTION = new Set([
  'cast', 'convert',
  // String functions read the variable's text, which is its value as it is ('790.00').
  'concat', 'concat_ws', 'length', 'char_length', 'character_length', 'octet_length', 'upper', 'lower', 'ucase', 'lcase', 'hex', 'md5', 'sha1', 'sha2',
  'quote', 'reverse', 'lpad', 'rpad', 'left', 'right', 'substring', 'substr', 'trim', 'ltrim', 'rtrim', 'replace', 'instr', 'locate',
  'in', 'values', 'value', 'exists', 'any', 'some', 'all', 'using', 'on', 'and', 'or', 'not', 'xor', 'where', 'having', 'select', 'from', 'join', 'as', 'when', 'then', 'else', 'case', 'set', 'by', 'into', 'is', 'like', 'between', 'union', 'with', 'return', 'returning', 'limit', 'offset', 'key']);

/**
 * Whether the user variable read at tokens[i] is computed with rather than read as it is: an
 * operand of arithmetic, or an argument of a function (the innermost `(` at tokens[open] follows
 * a function's name). There MariaDB types a DECIMAL variable at scale 38 (`@t * 2` with
 * @t = 790.00 is 1580.000…0, 38 digits), which no literal reproduces; a comparison, an IN list,
 * an INSERT value or a plain select item sees the value as it is.
 */
function computesWithUserVariable(tokens: readonly Token[], i: number, open: number): boolean {
  const prev = tokens[i - 1];
  const next = tokens[i + 1];
  if ((prev !== undefined && ARITHMETIC.has(kw(prev) || prev.text)) || (next !== undefined && ARITHMETIC.has(kw(next) || next.text))) return true;
  if (open < 1) return false;
  const before = tokens[open - 1]!;
  return (before.kind === 'ident' || before.kind === 'qident') && !NOT_A_FUNCTION.has(kw(before));
}

/** Index of the innermost `(` still open at tokens[i], or -1 (SET statements only: they are short). */
function innermostOpen(tokens: readonly Token[], i: number): number {
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const x = tokens[j]!.text;
    if (x === ')') depth++;
    else if (x === '(' && depth-- === 0) return j;
  }
  return -1;
}

/** Stands in for the last row's `)` (as the previous token) when rows were scanned from the text. */
const CLOSE_PAREN: Token = { kind: 'punct', text: ')', start: -1, end: -1, spaceBefore: false, lower: '' };

/** A `?` param inlined as a literal where a bind var cannot go. */
function inlineParamAsLiteral(v: SqlValue): string {
  return encodeSqlValue(v);
}

function isSignContext(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === 'punct') return prev.text !== ')';
  if (prev.kind === 'ident') return SIGN_CONTEXT.has(prev.lower);
  return false;
}

/**
 * Decides whether the literal at `litIdx` (its sign, if any, at `i`) stays in the text.
 * Returns false to normalize it.
 */
function keepsLiteral(
  tokens: readonly Token[],
  i: number,
  litIdx: number,
  end: number,
  prev: Token | undefined,
  prevPrev: Token | undefined,
  frame: ParenFrame,
): boolean {
  const lit = tokens[litIdx]!;
  const pk = kw(prev);
  if (frame.clause === 'limit') return true;
  if (frame.typeArgs && lit.kind === 'number') return true;
  if (frame.clause === 'orderby' && lit.kind === 'number' && (pk === 'by' || prev?.text === ',')) return true;
  if (pk === 'interval' || pk === 'escape' || pk === 'as' || pk === 'against') return true;
  // node-sql-parser takes a literal after [NOT] REGEXP / RLIKE, not a bind var (`name regexp :v1`
  // was 1064 for a statement MariaDB runs); a `?` there is inlined as its literal.
  if (pk === 'regexp' || pk === 'rlike') return true;
  if (prev !== undefined && (prev.text === '->' || prev.text === '->>')) return true;
  if (isIntroduced(prev, lit)) return true;
  if (lit.kind === 'string' && (pk === 'outfile' || pk === 'dumpfile' || pk === 'collate' || pk === 'charset')) return true;
  // Typed literals (`date '2020-01-01'`) and GROUP_CONCAT's separator take a string literal only.
  if (lit.kind === 'string' && TYPED_LITERAL_WORDS.has(pk)) return true;
  // Constant sub-expressions: literal OP literal, and literal [NOT] IN (…).
  const next = tokens[litIdx + 1];
  if (prev !== undefined && BINARY_OPS.has(prev.kind === 'punct' ? prev.text : pk) && isLiteral(prevPrev) && prevPrev?.kind !== 'placeholder') {
    return lit.kind !== 'placeholder';
  }
  if (litIdx + 2 < end && next !== undefined && BINARY_OPS.has(next.kind === 'punct' ? next.text : kw(next))) {
    const after = tokens[litIdx + 2]!;
    if (isLiteral(after) && after.kind !== 'placeholder') return lit.kind !== 'placeholder';
    if (after.text === '-' && isLiteral(tokens[litIdx + 3]) && tokens[litIdx + 3]!.kind !== 'placeholder') return lit.kind !== 'placeholder';
  }
  if (next !== undefined && (kw(next) === 'in' || (kw(next) === 'not' && kw(tokens[litIdx + 2]) === 'in'))) return lit.kind !== 'placeholder';
  // The elements of a list whose left operand is a literal (`1 in ('a', 'b')`).
  if ((prev?.text === '(' || prev?.text === ',') && lit.kind !== 'placeholder') {
    const open = frame.open;
    if (open > 0 && kw(tokens[open - 1]) === 'in') {
      let before = tokens[open - 2];
      if (kw(before) === 'not') before = tokens[open - 3];
      if (isLiteral(before) && before?.kind !== 'placeholder') return true;
    }
  }
  void i;
  return false;
}

/**
 * `IN (lit, lit, …)` where every element is a literal (no NULL, no expression): returns the
 * values and the index after `)`; otherwise null.
 */
function tryCollapseInList(
  tokens: readonly Token[],
  open: number,
  end: number,
  st: NormalizeState,
): { values: SqlValue[]; next: number } | null {
  // First pass: check the shape without consuming params (and without allocating).
  let j = open + 1;
  let count = 0;
  for (;;) {
    let t = tokens[j];
    if (t !== undefined && t.text === '-' && tokens[j + 1]?.kind === 'number') {
      j++;
      t = tokens[j];
    }
    // Bit and 0x literals stay in the text (see the header), so a list with one is not collapsed.
    if (t === undefined || j >= end || !isLiteral(t) || isNumericBitsLiteral(t)) return null;
    count++;
    j++;
    const sep = tokens[j];
    if (sep === undefined || j >= end) return null;
    if (sep.text === ')') break;
    if (sep.text !== ',') return null;
    j++;
  }
  // `IN (x)` stays a scalar bind: the planner treats it as `= x` (a single-shard route), as Vitess.
  if (count < 2) return null;
  // Second pass over the same tokens: item, `,`, item, … `)`.
  const values: SqlValue[] = new Array(count);
  let k = open + 1;
  for (let v = 0; v < count; v++) {
    let t = tokens[k]!;
    let negative = false;
    if (t.text === '-' && tokens[k + 1]?.kind === 'number') {
      negative = true;
      k++;
      t = tokens[k]!;
    }
    values[v] = t.kind === 'placeholder' ? st.paramValue() : literalValue(t, negative);
    k += 2;
  }
  return { values, next: j + 1 };
}

/**
 * Normalizes `(row), (row), …` after VALUES. Returns the normalized text of the rows and the
 * index after them, or null when the rows are not a plain list of parenthesized rows.
 */
function normalizeInsertRows(
  tokens: readonly Token[],
  start: number,
  end: number,
  bindVars: BindVars,
  st: NormalizeState,
): { text: string; next: number } | null {
  const rows: { shape: string; values: SqlValue[] }[] = [];
  let j = start;
  // Rows after the first are compared token by token with it (no shape string), the common case.
  let firstStart = -1;
  let firstLen = 0;
  let slots: boolean[] | null = null;
  for (;;) {
    if (tokens[j]?.text !== '(' || j >= end) return null;
    if (slots !== null) {
      const values = sameShapeRow(tokens, j, end, firstStart, firstLen, slots, st);
      if (values !== null) {
        rows.push({ shape: rows[0]!.shape, values });
        j += firstLen;
        if (j < end && tokens[j]!.text === ',') {
          j++;
          continue;
        }
        break;
      }
    }
    const rowStart = j;
    const rowSlots: boolean[] = [];
    let hasSign = false;
    let depth = 0;
    let shape = '';
    const values: SqlValue[] = [];
    let prev: Token | undefined;
    // Inside a type's arguments (`cast(x as decimal(4, 1))`, `char(3)`): its numbers are part of
    // the type, not values (as the token path's typeArgs frames keep them).
    let typeArgsDepth = -1;
    for (;;) {
      const t = tokens[j];
      if (t === undefined || j >= end) throw syntaxError(tokens.map((x) => x.text).join(' '), 0);
      if (t.text === '(') {
        depth++;
        if (typeArgsDepth < 0 && prev !== undefined && prev.kind === 'ident' && TYPE_WORDS.has(prev.lower)) typeArgsDepth = depth;
      } else if (t.text === ')') {
        depth--;
        if (depth < typeArgsDepth) typeArgsDepth = -1;
      }
      let negative = false;
      let lit = t;
      if (t.text === '-' && tokens[j + 1]?.kind === 'number' && isSignContext(prev)) {
        negative = true;
        hasSign = true;
        lit = tokens[j + 1]!;
      }
      if (lit.lower === 'null' && depth === 1) {
        // NULL in a row is a row value, so that an auto-increment NULL can be replaced.
        const k = values.length;
        values.push(null);
        shape += (shape.length > 0 && t.spaceBefore ? ' ' : '') + rowBindName(k);
        rowSlots.push(true);
        prev = lit;
        j++;
        continue;
      }
      if (t.kind === 'uservar') {
        // A user variable read in a row: a row value, as a literal is.
        const k = values.length;
        values.push(st.userValue(t));
        shape += (shape.length > 0 && t.spaceBefore ? ' ' : '') + rowBindName(k);
        rowSlots.push(true);
        prev = t;
        j++;
        continue;
      }
      if (typeArgsDepth < 0 && isLiteral(lit) && !isIntroduced(prev, lit) && !(prev !== undefined && (TYPE_WORDS.has(kw(prev)) || (lit.kind === 'string' && TYPED_LITERAL_WORDS.has(kw(prev)))))) {
        const k = values.length;
        values.push(lit.kind === 'placeholder' ? st.paramValue() : literalValue(lit, negative));
        shape += (shape.length > 0 && t.spaceBefore ? ' ' : '') + rowBindName(k);
        rowSlots.push(true);
        if (negative) {
          rowSlots.push(true);
          j++;
        }
        prev = lit;
        j++;
        continue;
      }
      shape += (shape.length > 0 && t.spaceBefore ? ' ' : '') + t.text;
      rowSlots.push(false);
      prev = t;
      j++;
      if (depth === 0) break;
    }
    rows.push({ shape, values });
    if (rows.length === 1 && !hasSign) {
      firstStart = rowStart;
      firstLen = j - rowStart;
      slots = rowSlots;
    }
    if (j < end && tokens[j]!.text === ',') {
      j++;
      continue;
    }
    break;
  }
  const all: SqlValue[][] = new Array(rows.length);
  let same = true;
  const first = rows[0]!.shape;
  for (let r = 0; r < rows.length; r++) {
    all[r] = rows[r]!.values;
    if (rows[r]!.shape !== first) same = false;
  }
  bindVars[ROWS_BIND] = all;
  const text = same ? first : rows.map((r) => r.shape).join(', ');
  return { text, next: j };
}


/**
 * The values of the row at `j` when its tokens match the first row's token for token (same
 * punctuation, spacing and literal slots); null when they do not (the caller then builds the row's
 * shape the slow way, with the same result).
 */
function sameShapeRow(tokens: readonly Token[], j: number, end: number, firstStart: number, len: number, slots: readonly boolean[], st: NormalizeState): SqlValue[] | null {
  if (j + len > end) return null;
  const values: SqlValue[] = [];
  const placeholdersAtStart = st.placeholders;
  // No inner closure for the failure exit: a per-call closure costs an allocation (and, under tsx,
  // a __name() call) on every row of every INSERT.
  let m = 0;
  for (; m < len; m++) {
    const t = tokens[j + m]!;
    const f = tokens[firstStart + m]!;
    if (t.spaceBefore !== f.spaceBefore) break;
    if (slots[m]) {
      if (t.lower === 'null') values.push(null);
      else if (t.kind === 'placeholder') values.push(st.paramValue());
      else if (t.kind === 'string' || t.kind === 'number' || t.kind === 'hex' || t.kind === 'bit') values.push(literalValue(t));
      else if (t.kind === 'uservar') values.push(st.userValue(t));
      else break;
    } else if (t.text !== f.text || t.kind !== f.kind) {
      break;
    }
  }
  if (m === len) return values;
  st.placeholders = placeholdersAtStart; // the slow path consumes this row's params again
  return null;
}
