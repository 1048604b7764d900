/**
 * The node-sql-parser adapter, used only on a plan-cache miss.
 *
 * The planner parses a *parse text* derived from the normalized token stream, and maps AST
 * locations back to tokens (shard SQL is cut from the tokens, never from node-sql-parser's
 * sqlify, whose formatting differs from MySQL's). The parse text works around constructs that
 * node-sql-parser 5.4 (MySQL dialect, which parses Vitess's cases best) does not accept:
 * - `::list` bind vars become `(:list)`;
 * - `<=>` becomes `>=` (the parser lacks it); each such node gets its operator `<=>` back after
 *   the parse (restoreNullSafeEqual), so the planner sees what was written;
 * - `sum(distinct x)` (and min/max/avg) lose the DISTINCT; the call's offset is remembered;
 * - `BINARY x` becomes `CAST(x AS BINARY)`, `SUBSTRING(s FROM p FOR n)` becomes `SUBSTRING(s, p, n)`;
 * - index hints, some select options and VARIANCE(): see parse-text-substitutes.ts;
 * - a trailing `INTO OUTFILE|DUMPFILE …` is cut (the shard still gets it).
 */
import { createRequire } from 'node:module';
import { kw, matchingParen, type Token } from './lexer.js';
import { PlanError } from './errors.js';
import { blankRuns, expandRuns, findRepeatedRuns } from './repeated-terms.js';
import { parseTextSubstitutes } from './parse-text-substitutes.js';

// node-sql-parser ships CommonJS; createRequire keeps this file ESM without a default-import shim.
const require = createRequire(import.meta.url);

interface SqlParser {
  astify(sql: string, opt: object): unknown;
}

/**
 * Concurrency rule: the parser object is stateless between calls and used synchronously only.
 *
 * Loaded on the first parse, not with this module: with plan workers, the gateway's main thread
 * imports the planner but never parses, and the parser costs about 5 MB of heap once loaded.
 * `build/mysql` is node-sql-parser's MySQL-only bundle: the same grammar as the full bundle's
 * MySQL dialect (whose other 14 dialects we never use), a ninth of its size.
 */
let parser: SqlParser | null = null;

/** Loads the parser now (a plan worker does it before it reports ready). */
export function sqlParser(): SqlParser {
  if (parser === null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Parser } = require('node-sql-parser/build/mysql') as { Parser: new () => SqlParser };
    parser = new Parser();
  }
  return parser;
}
const PARSE_OPTIONS = { database: 'MySQL', parseOptions: { includeLocations: true } };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ast = any;

export interface ParsedStatement {
  readonly ast: Ast;
  /** The normalized tokens (the shard SQL is built from these). */
  readonly tokens: readonly Token[];
  /** The normalized text the tokens index into. */
  readonly text: string;
  /** Offset of each token in the parse text (parallel to `tokens`). */
  readonly parseOffsets: readonly number[];
  /** Parse-text offsets of aggregate calls whose DISTINCT was removed for the parser. */
  readonly distinctAggregates: ReadonlySet<number>;
  /**
   * True when a `<=>` of the statement could not be matched to its AST node (restoreNullSafeEqual):
   * then any `>=` node may be a `<=>`, and whatever would evaluate or reason about one refuses.
   */
  readonly nullSafeEqual: boolean;
  /** Index of the `into` token of a cut `INTO OUTFILE/DUMPFILE`, or -1. */
  readonly intoOutfile: number;
}

const DISTINCT_AGGREGATES = new Set(['sum', 'min', 'max', 'avg']);
const UTF8_INTRODUCERS = new Set(['_utf8mb4', '_utf8', '_utf8mb3']);

/**
 * The last token of the operand `BINARY` applies to when it starts at token i, or -1: a literal
 * or placeholder, a column (`c`, `t.c`, `db.t.c`), a function call (`lower(c)`) or a
 * parenthesized expression; BINARY binds tighter than any operator after it.
 */
function binaryOperandEnd(tokens: readonly Token[], i: number): number {
  const t = tokens[i];
  if (t === undefined) return -1;
  if (t.text === '(') return matchingParen(tokens, i);
  if (t.kind === 'string' || t.kind === 'number' || t.kind === 'bind' || t.kind === 'placeholder') return i;
  if (t.kind !== 'ident' && t.kind !== 'qident') return -1;
  if (tokens[i + 1]?.text === '(' && !tokens[i + 1]!.spaceBefore) return matchingParen(tokens, i + 1);
  let end = i;
  while (tokens[end + 1]?.text === '.' && (tokens[end + 2]?.kind === 'ident' || tokens[end + 2]?.kind === 'qident')) end += 2;
  return end;
}

/**
 * The `FROM` and `FOR` keywords of `SUBSTRING(s FROM pos [FOR len])` calls (also SUBSTR), at the
 * call's own level: the parser takes only the comma form, `SUBSTRING(s, pos, len)`, the same call.
 */
function substringFromWords(tokens: readonly Token[]): Set<number> | null {
  let found: Set<number> | null = null;
  for (let i = 0; i + 1 < tokens.length; i++) {
    const w = kw(tokens[i]);
    if ((w !== 'substring' && w !== 'substr') || tokens[i + 1]!.text !== '(') continue;
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j++) {
      const x = tokens[j]!.text;
      if (x === '(') depth++;
      else if (x === ')' && --depth === 0) break;
      else if (depth === 1 && (kw(tokens[j]) === 'from' || kw(tokens[j]) === 'for')) (found ??= new Set()).add(j);
    }
  }
  return found;
}

/** `BINARY` as a type (`CAST(x AS BINARY)`, `CHAR(10) BINARY`, a column type) rather than the operator. */
function isTypePosition(tokens: readonly Token[], i: number): boolean {
  const prev = kw(tokens[i - 1]);
  return prev === 'as' || prev === 'char' || prev === 'varchar' || prev === 'character' || prev === 'set' || prev === 'charset' || prev === 'using' || prev === 'collate' || tokens[i - 1]?.text === ')';
}

/** Parses normalized text (already tokenized) into an AST. Throws 1064 on a syntax error. */
export function parseStatement(text: string, tokens: readonly Token[]): ParsedStatement {
  let pt = '';
  const offsets: number[] = new Array(tokens.length);
  const distinctAggregates = new Set<number>();
  const nullSafeOffsets: number[] = [];
  let intoOutfile = -1;
  let depth = 0;
  let skip = -1;
  const binaryCastEnds = new Set<number>();
  const unionParens = redundantUnionParens(tokens);
  const convertsAsCasts = convertTypeCalls(tokens);
  const substringFroms = substringFromWords(tokens);
  const substitutes = parseTextSubstitutes(tokens);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    if (i > 0 && t.spaceBefore) pt += " ";
    // `--1` is two minus signs to MariaDB (a comment needs a space after `--`); the parser reads
    // `--` as a comment opener and fails: it sees the signs apart.
    else if (t.text === '-' && tokens[i - 1]?.text === '-') pt += ' ';
    offsets[i] = pt.length;
    if (i === skip || unionParens?.has(i) === true) continue;
    if (t.kind === 'listBind') {
      pt += '(:' + t.text.slice(2) + ')';
    } else if (t.kind === 'ident' && t.text.includes('$')) {
      // `$` belongs in an unquoted name (`a$b`, alias `$a`); the parser takes it only at the start
      // of a column name. Quoted, it is the same identifier (a name with `$` is never a keyword).
      pt += '`' + t.text + '`';
    } else if (convertsAsCasts?.has(i) === true) {
      // `CONVERT(expr, type)` as `CAST(expr AS type)`, the same conversion: the parser takes only
      // a column as CONVERT's first argument (MariaDB Connector/J converts a CASE).
      pt += t.text === ',' ? ' as' : 'cast';
    } else if (t.kind === 'ident' && UTF8_INTRODUCERS.has(kw(t)) && tokens[i + 1]?.kind === 'string' && !tokens[i + 1]!.spaceBefore) {
      // `_utf8mb4'x'`: the parser has no charset introducers; a UTF-8 one changes nothing for a
      // gateway whose clients speak utf8mb4, so the parser sees the bare literal (the shard SQL
      // keeps the introducer: it is rendered from the tokens). Other introducers (`_binary`,
      // `_latin1`) change comparisons and stay unparsable (1064).
    } else if (t.kind === 'ident' && kw(t) === 'std' && tokens[i + 1]?.text === '(') {
      // MariaDB's STD() is STDDEV_POP(); the parser only knows the latter.
      pt += 'stddev_pop';
    } else if (t.kind === 'ident' && kw(t) === 'binary' && !isTypePosition(tokens, i) && binaryOperandEnd(tokens, i + 1) > i) {
      // `BINARY x` (compare as bytes): the parser lacks the operator; CAST(x AS BINARY) is the
      // same expression. The shard SQL keeps `BINARY x` (rendered from the tokens).
      pt += 'cast(';
      binaryCastEnds.add(binaryOperandEnd(tokens, i + 1));
    } else if (substitutes?.has(i) === true) {
      // Syntax the parser lacks that changes nothing the planner decides (parse-text-substitutes.ts).
      pt += substitutes.get(i)!;
    } else if (substringFroms?.has(i) === true) {
      // `SUBSTRING(s FROM pos FOR len)` as `SUBSTRING(s, pos, len)` (see substringFromWords).
      pt += ',';
    } else if ((kw(t) === 'integer' || kw(t) === 'int') && (kw(tokens[i - 1]) === 'signed' || kw(tokens[i - 1]) === 'unsigned')) {
      // `CONVERT(x, UNSIGNED INTEGER)` (MariaDB Connector/J's metadata queries): the parser knows
      // only `UNSIGNED`, which means the same. The shard SQL keeps the word (rendered from tokens).
    } else if (t.kind === 'punct' && t.text === '<=>') {
      nullSafeOffsets.push(pt.length);
      pt += '>=';
    } else if (depth === 0 && kw(t) === 'into' && (kw(tokens[i + 1]) === 'outfile' || kw(tokens[i + 1]) === 'dumpfile') && tokens.slice(i).some((x) => kw(x) === 'union')) {
      throw syntaxErrorAt(text, t.start);
    } else if (depth === 0 && kw(t) === 'into' && (kw(tokens[i + 1]) === 'outfile' || kw(tokens[i + 1]) === 'dumpfile') && !tokens.slice(i).some((x) => kw(x) === 'from')) {
      intoOutfile = i;
      for (let j = i; j < tokens.length; j++) offsets[j] = pt.length;
      break;
    } else {
      if (t.text === '(' && DISTINCT_AGGREGATES.has(kw(tokens[i - 1])) && kw(tokens[i + 1]) === 'distinct') {
        distinctAggregates.add(offsets[i - 1]!);
        skip = i + 1;
      }
      pt += t.text;
    }
    if (binaryCastEnds.has(i)) pt += ' as binary)';
  }
  // Long runs of repeated terms reach the parser as their first term (see repeated-terms.ts).
  const runs = findRepeatedRuns(tokens);
  const blanked = runs.length > 0 ? blankRuns(pt, tokens, offsets, runs) : null;
  let ast: Ast | undefined;
  if (blanked !== null) {
    try {
      ast = astify(blanked);
      locateUnlocated(ast, tokens, offsets);
      flattenQualifiers(ast, 0);
      expandRuns(ast, tokens, offsets, runs);
    } catch (e) {
      // A syntax error is the full text's too (the blanked terms repeat the first), but it is
      // reported from the full text, as MariaDB reports it; so is anything else.
      if (e instanceof RangeError) throw e;
      ast = undefined;
    }
  }
  if (ast === undefined) {
    ast = astify(pt);
    locateUnlocated(ast, tokens, offsets);
    flattenQualifiers(ast, 0);
  }
  bitAggregatesAsAggregates(ast, 0);
  const nullSafeEqual = nullSafeOffsets.length > 0 && !restoreNullSafeEqual(ast, nullSafeOffsets);
  return { ast, tokens, text, parseOffsets: offsets, distinctAggregates, nullSafeEqual, intoOutfile };
}

const BIT_AGGREGATES = new Set(['bit_and', 'bit_or', 'bit_xor']);

/**
 * node-sql-parser gives BIT_AND/BIT_OR/BIT_XOR as plain function calls: each such call of one
 * argument, not a window function, becomes the aggregate node SUM or COUNT would be (same
 * location), so the planner treats them as the aggregates they are.
 */
function bitAggregatesAsAggregates(n: Ast, depth: number): void {
  if (n === null || typeof n !== 'object' || depth > 400) return;
  if (Array.isArray(n)) {
    for (const x of n) bitAggregatesAsAggregates(x, depth + 1);
    return;
  }
  for (const k of Object.keys(n)) if (k !== 'loc') bitAggregatesAsAggregates(n[k], depth + 1);
  if (n.type !== 'function' || n.over) return;
  const name = String(n.name?.name?.[0]?.value ?? '').toLowerCase();
  const args = n.args?.type === 'expr_list' ? n.args.value : null;
  if (!BIT_AGGREGATES.has(name) || !Array.isArray(args) || args.length !== 1) return;
  const loc = n.loc;
  for (const k of Object.keys(n)) delete n[k];
  Object.assign(n, { type: 'aggr_func', name: name.toUpperCase(), args: { expr: args[0] }, over: null, loc });
}

/** Words that give a SELECT its own ORDER BY, LIMIT or result target, or a union inside. */
const PART_OWN_CLAUSES = new Set(['order', 'limit', 'into', 'for', 'lock', 'procedure', 'union', 'intersect', 'except']);

/**
 * The parentheses around a UNION part that has no ORDER BY, LIMIT, INTO, locking or union of
 * its own (`… union all (select id from t)`): MariaDB reads the part the same with or without
 * them, and node-sql-parser rejects them, so the parser sees the part without them (the shard SQL
 * keeps them: it is rendered from the tokens). A part holding a union keeps its parentheses: with
 * UNION ALL and UNION DISTINCT mixed, they decide which rows are deduplicated.
 */
function redundantUnionParens(tokens: readonly Token[]): Set<number> | null {
  if (!tokens.some((t) => t.lower === 'union')) return null;
  const open: number[] = [];
  let found: Set<number> | null = null;
  for (let close = 0; close < tokens.length; close++) {
    const text = tokens[close]!.text;
    if (text === '(') open.push(close);
    if (text !== ')') continue;
    const start = open.pop();
    if (start === undefined || kw(tokens[start + 1]) !== 'select') continue;
    const before = kw(tokens[start - 1]);
    const unionBefore = before === 'union' || ((before === 'all' || before === 'distinct') && kw(tokens[start - 2]) === 'union');
    // A first part: at the start of the statement or of a parenthesized union (not `x IN (…) UNION`).
    const unionAfter = kw(tokens[close + 1]) === 'union' && (start === 0 || tokens[start - 1]!.text === '(');
    if (!unionBefore && !unionAfter) continue;
    let depth = 0;
    let plain = true;
    for (let j = start + 1; j < close && plain; j++) {
      const x = tokens[j]!;
      if (x.text === '(') depth++;
      else if (x.text === ')') depth--;
      else if (depth === 0 && PART_OWN_CLAUSES.has(kw(x))) plain = false;
    }
    if (plain) (found ??= new Set()).add(start).add(close);
  }
  return found;
}

/** Index of the first parse offset >= `offset` (tokenAt over bare offsets). */
function firstTokenAt(offsets: readonly number[], offset: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const UNARY_OPERATORS = new Set(['-', '+', '~', '!']);

/**
 * node-sql-parser 5.4 gives no location to a unary expression (`NOT x`, `-x`, `!x`, `~x`: its
 * createUnaryExpr omits the loc its createBinaryExpr adds), to a CASE expression nor to a CAST, so no range
 * of tokens could be cut for them (tokenRange). This derives their locations from the tokens
 * around their located parts, with the parser's conventions: the node's own parentheses are
 * outside its location. Children first, so `NOT NOT x` and a CASE holding one are located too.
 * A node whose anchor is not where expected keeps no location (the callers then refuse, as before).
 */
function locateUnlocated(ast: Ast, tokens: readonly Token[], offsets: readonly number[]): void {
  const setLoc = (n: Ast, first: number, last: number): void => {
    const s = offsets[first]!;
    const e = offsets[last]! + 1;
    n.loc = { start: { offset: s, line: 1, column: s + 1 }, end: { offset: e, line: 1, column: e + 1 } };
  };
  /** The token range of bind var `:name` when it occurs once (a param node has no location). */
  const uniqueBind = (name: unknown): [number, number] | null => {
    let at = -1;
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i]!.kind !== 'bind' || tokens[i]!.text !== `:${String(name)}`) continue;
      if (at >= 0) return null;
      at = i;
    }
    return at >= 0 ? [at, at + 1] : null;
  };
  /** Token range of the earliest- and latest-located descendants of `n` (itself included). */
  const extent = (n: Ast, depth: number): [number, number] | null => {
    if (n === null || typeof n !== 'object' || depth > 400) return null;
    if (!Array.isArray(n) && n.loc) return [firstTokenAt(offsets, n.loc.start.offset), firstTokenAt(offsets, n.loc.end.offset)];
    let out: [number, number] | null = null;
    for (const k of Array.isArray(n) ? n.keys() : Object.keys(n)) {
      if (k === 'loc') continue;
      const r = extent((n as Ast)[k], depth + 1);
      if (r) out = out ? [Math.min(out[0], r[0]), Math.max(out[1], r[1])] : r;
    }
    return out;
  };
  const visit = (n: Ast, depth: number): void => {
    if (n === null || typeof n !== 'object' || depth > 400) return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x, depth + 1);
      return;
    }
    for (const k of Object.keys(n)) if (k !== 'loc') visit(n[k], depth + 1);
    if (n.loc) return;
    if (n.type === 'unary_expr') {
      const operand = n.expr?.loc ? extent(n.expr, 0) : n.expr?.type === 'param' ? uniqueBind(n.expr.value) : null;
      if (!operand) return;
      // The operand's own parentheses lie outside its location: `NOT ((a = 1))`.
      let op = operand[0] - 1;
      let end = operand[1];
      while (tokens[op]?.text === '(') {
        if (matchingParen(tokens, op) !== end) return;
        op--;
        end++;
      }
      const t = tokens[op];
      const operator = String(n.operator).toLowerCase();
      if (t === undefined || !(operator === 'not' ? kw(t) === 'not' : UNARY_OPERATORS.has(operator) && t.text === operator)) return;
      setLoc(n, op, end - 1);
    } else if (n.type === 'case') {
      const inner = extent(n, 0);
      if (!inner) return;
      // `CASE [(]x WHEN …` / `CASE WHEN [(]c THEN …`: only `when` and `(` between CASE and its first located part.
      let c = inner[0] - 1;
      while (tokens[c]?.text === '(' || kw(tokens[c]) === 'when') c--;
      if (kw(tokens[c]) !== 'case') return;
      let level = 0;
      for (let j = c; j < tokens.length; j++) {
        const w = kw(tokens[j]);
        if (w === 'case') level++;
        else if (w === 'end' && --level === 0) {
          if (j >= inner[1]) setLoc(n, c, j);
          return;
        }
      }
    } else if (n.type === 'cast' && String(n.keyword).toLowerCase() === 'cast') {
      // `CAST([(]x AS type)`: only `(` between CAST's own parenthesis and the located operand,
      // and CAST's closing parenthesis after it.
      const inner = extent(n.expr, 0);
      if (!inner) return;
      let open = inner[0] - 1;
      while (tokens[open]?.text === '(' && kw(tokens[open - 1]) !== 'cast') open--;
      if (tokens[open]?.text !== '(' || kw(tokens[open - 1]) !== 'cast') return;
      const close = matchingParen(tokens, open);
      if (close >= inner[1]) setLoc(n, open - 1, close);
    }
  };
  visit(ast, 0);
}

/** One statement's AST from the parser. Throws 1064 on a syntax error, 1235 on several statements. */
function astify(pt: string): Ast {
  let ast: Ast;
  try {
    ast = sqlParser().astify(pt, PARSE_OPTIONS);
  } catch (e) {
    // Out of stack is no syntax error: the plan worker answers it with MariaDB's 1436.
    if (e instanceof RangeError) throw e;
    const err = e as { location?: { start?: { offset?: number } }; message?: string };
    const offset = err.location?.start?.offset ?? 0;
    throw syntaxErrorAt(pt, offset);
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) throw new PlanError(1235, '42000', 'This query is not supported by shardgate; not supported: multiple statements in one query');
    ast = ast[0];
  }
  return ast;
}

/**
 * Gives each `>=` node the parse text wrote for a `<=>` its operator back. The `>=` at parse
 * offset o belongs to the smallest `>=` node whose location holds o: an operand's own comparisons
 * lie inside the operand, which never holds its parent's operator. False when an offset is held
 * by no located node (then the statement keeps `nullSafeEqual`).
 */
function restoreNullSafeEqual(ast: Ast, offsets: readonly number[]): boolean {
  const nodes: Ast[] = [];
  const collect = (n: Ast, depth: number): void => {
    if (n === null || typeof n !== 'object' || depth > 400) return;
    if (Array.isArray(n)) {
      for (const x of n) collect(x, depth + 1);
      return;
    }
    if (n.type === 'binary_expr' && n.operator === '>=' && n.loc) nodes.push(n);
    for (const k of Object.keys(n)) if (k !== 'loc') collect(n[k], depth + 1);
  };
  collect(ast, 0);
  const owners: Ast[] = [];
  for (const o of offsets) {
    let best: Ast = null;
    for (const n of nodes) {
      const { start, end } = n.loc;
      if (start.offset <= o && o < end.offset && (best === null || end.offset - start.offset < best.loc.end.offset - best.loc.start.offset)) best = n;
    }
    if (best === null || owners.includes(best)) return false;
    owners.push(best);
  }
  for (const n of owners) n.operator = '<=>';
  return true;
}

/**
 * node-sql-parser gives a backtick-quoted qualifier (`` `t`.c ``) as an object: make every
 * `table`/`db` qualifier a plain string so the planner compares names.
 */
function flattenQualifiers(n: Ast, depth: number): void {
  if (n === null || typeof n !== 'object' || depth > 200) return;
  if (Array.isArray(n)) {
    for (const x of n) flattenQualifiers(x, depth + 1);
    return;
  }
  for (const k of ['table', 'db'] as const) {
    const q = n[k];
    if (q !== null && typeof q === 'object' && !Array.isArray(q) && 'value' in q && typeof q.value !== 'object') n[k] = String(q.value);
  }
  for (const k of Object.keys(n)) {
    if (k === 'loc') continue;
    const v = n[k];
    if (v !== null && typeof v === 'object') flattenQualifiers(v, depth + 1);
  }
}

function syntaxErrorAt(pt: string, offset: number): PlanError {
  const near = pt.slice(offset, offset + 80).trim();
  return new PlanError(
    1064,
    '42000',
    `You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '${near}' at line 1`,
  );
}

/** Index of the first token whose parse offset is >= `offset` (binary search). */
export function tokenAt(p: ParsedStatement, offset: number): number {
  return firstTokenAt(p.parseOffsets, offset);
}

/** Token range [start, end) covered by an AST node's location. */
export function tokenRange(p: ParsedStatement, node: Ast): [number, number] | null {
  const loc = node?.loc;
  if (!loc) return null;
  return [tokenAt(p, loc.start.offset), tokenAt(p, loc.end.offset)];
}

/** The first words of CONVERT's type argument (`CONVERT(x, UNSIGNED)`), as opposed to `CONVERT(x USING cs)`. */
const CONVERT_TYPES = new Set(['signed', 'unsigned', 'char', 'binary', 'date', 'datetime', 'time', 'decimal', 'double', 'float', 'integer', 'int', 'json', 'nchar', 'year']);

/**
 * Token indexes of each `CONVERT(expr, type)` call's `convert` word and its top-level comma, or
 * null when the statement has none (nearly all statements: one pass over the tokens).
 */
function convertTypeCalls(tokens: readonly Token[]): Set<number> | null {
  let found: Set<number> | null = null;
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (kw(tokens[i]) !== 'convert' || tokens[i + 1]!.text !== '(') continue;
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j++) {
      const x = tokens[j]!.text;
      if (x === '(') depth++;
      else if (x === ')' && --depth === 0) break;
      else if (x === ',' && depth === 1) {
        if (CONVERT_TYPES.has(kw(tokens[j + 1]))) (found ??= new Set()).add(i).add(j);
        break;
      }
    }
  }
  return found;
}
