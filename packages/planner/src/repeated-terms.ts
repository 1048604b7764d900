/**
 * Long runs of repeated terms, found in the token stream before parsing, so that node-sql-parser
 * sees one term of each run (issue 11). The parser costs tens of microseconds per term: a
 * 50,000-term OR chain took seconds and 2,000 UNION ALL parts over a second, far past what the
 * rest of planning costs.
 *
 * A run is a sequence of at least MIN_RUN consecutive terms of one chain whose tokens are
 * identical except for the names of their bind vars (`id = :v1 OR id = :v2 …`, or
 * `select … where id = :v7 UNION ALL select … where id = :v8 …`). The chains are
 * - the operands of a flat OR chain, or of a flat AND chain, in a WHERE or HAVING clause or a
 *   parenthesized expression;
 * - the parts of a top-level UNION ALL chain.
 * The parser is given the text with every term of a run but the first replaced by spaces (so every
 * parse offset stays that of the full text), and expandRuns() then puts the missing terms into the
 * AST as copies of the first term's subtree with their own bind names and locations: the AST the
 * parser would have built, with an OR/AND chain as a balanced tree rather than a deep one (OR and
 * AND are associative, and the planner flattens chains whatever their shape). The shard SQL never
 * comes from the AST (it is cut from the tokens), so it is the client's text as before.
 */
import { kw, type Token } from './lexer.js';
import type { Ast } from './sql-parser.js';

/** Fewest terms a run needs: shorter chains cost the parser little, and are parsed as written. */
export const MIN_RUN = 64;

export interface RepeatedRun {
  readonly kind: 'or' | 'and' | 'union';
  /** Token index where each term starts; the terms are consecutive in the chain. */
  readonly starts: readonly number[];
  /** One past each term's last token. */
  readonly ends: readonly number[];
  /** For a UNION run: the index of its first term among the parts of the chain. */
  readonly partIndex: number;
}

/** Keywords that end a WHERE or HAVING expression at its own parenthesis level. */
const CLAUSE_ENDS = new Set(['group', 'having', 'order', 'limit', 'window', 'for', 'lock', 'into', 'union', 'intersect', 'except', 'procedure', 'returning']);
/** Level tokens that make a region something other than one boolean expression: no split there. */
const NOT_AN_EXPRESSION = new Set(['select', 'from', 'where', 'with', 'values', 'set', 'join', 'on', 'using', 'as', ',', ':=', ';', 'when', 'then', 'else']);
/** Level tokens the scan records (the rest never decide a split). */
const RECORDED = new Set([...CLAUSE_ENDS, ...NOT_AN_EXPRESSION, 'or', 'and', 'xor', 'between', '||', 'all', 'distinct', 'minus']);

interface Frame {
  /** Index of the first token inside the frame. */
  readonly from: number;
  readonly kind: 'top' | 'paren' | 'case';
  /** Indices of the recorded tokens at this frame's own level. */
  readonly level: number[];
}

/**
 * The runs of a statement's tokens, left to right, none inside another (an outer run wins: its
 * first term is parsed as written). Linear in the number of tokens.
 */
export function findRepeatedRuns(tokens: readonly Token[]): RepeatedRun[] {
  const runs: RepeatedRun[] = [];
  const stack: Frame[] = [{ from: 0, kind: 'top', level: [] }];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const word = t.kind === 'ident' ? t.lower : t.kind === 'punct' ? t.text : '';
    if (word === '(') {
      stack.push({ from: i + 1, kind: 'paren', level: [] });
      continue;
    }
    if (word === 'case') {
      stack.push({ from: i + 1, kind: 'case', level: [] });
      continue;
    }
    const top = stack[stack.length - 1]!;
    if ((word === ')' && top.kind === 'paren') || (word === 'end' && top.kind === 'case')) {
      stack.pop();
      if (top.kind === 'paren') analyzeFrame(tokens, top, i, runs);
      continue;
    }
    if (RECORDED.has(word)) top.level.push(i);
  }
  // Unbalanced parentheses: the parser reports the syntax error; no run is worth finding.
  if (stack.length !== 1) return [];
  analyzeFrame(tokens, stack[0]!, tokens.length, runs);
  runs.sort((a, b) => a.starts[0]! - b.starts[0]! || b.ends[b.ends.length - 1]! - a.ends[a.ends.length - 1]!);
  const kept: RepeatedRun[] = [];
  let coveredTo = -1;
  for (const r of runs) {
    if (r.starts[0]! < coveredTo) continue;
    kept.push(r);
    coveredTo = r.ends[r.ends.length - 1]!;
  }
  return kept;
}

/** Finds the runs of one closed frame (tokens [frame.from, to)). */
function analyzeFrame(tokens: readonly Token[], frame: Frame, to: number, runs: RepeatedRun[]): void {
  const level = frame.level;
  if (level.length === 0) return;
  const word = (i: number): string => {
    const t = tokens[i]!;
    return t.kind === 'ident' ? t.lower : t.text;
  };
  if (frame.kind === 'top') unionRuns(tokens, level, word, to, runs);
  // Boolean regions: after WHERE / HAVING up to the clause's end, or a whole parenthesized
  // expression (no SELECT, comma or clause keyword at its level).
  const isExpressionGroup = frame.kind === 'paren' && !level.some((i) => NOT_AN_EXPRESSION.has(word(i)) || CLAUSE_ENDS.has(word(i)));
  if (isExpressionGroup) booleanRuns(tokens, level, 0, level.length, frame.from, to, word, runs);
  for (let k = 0; k < level.length; k++) {
    const w = word(level[k]!);
    if (w !== 'where' && w !== 'having') continue;
    let end = k + 1;
    while (end < level.length && !CLAUSE_ENDS.has(word(level[end]!))) end++;
    const regionTo = end < level.length ? level[end]! : to;
    booleanRuns(tokens, level, k + 1, end, level[k]! + 1, regionTo, word, runs);
  }
}

/**
 * Runs among the operands of the boolean expression in tokens [from, to), whose level tokens are
 * level[a..b).
 */
function booleanRuns(tokens: readonly Token[], level: readonly number[], a: number, b: number, from: number, to: number, word: (i: number) => string, runs: RepeatedRun[]): void {
  let ors = 0;
  let ands = 0;
  for (let k = a; k < b; k++) {
    const w = word(level[k]!);
    if (NOT_AN_EXPRESSION.has(w)) return;
    if (w === 'or') ors++;
    else if (w === 'and') ands++;
  }
  // OR binds loosest (nothing at this level can bind looser once `:=` is excluded). AND is the
  // chain's operator only when no OR, XOR or `||` sits at its level, and its operands are
  // ambiguous next to BETWEEN … AND.
  let op: 'or' | 'and';
  if (ors >= MIN_RUN - 1) op = 'or';
  else if (ors === 0 && ands >= MIN_RUN - 1) {
    for (let k = a; k < b; k++) {
      const w = word(level[k]!);
      if (w === 'xor' || w === '||' || w === 'between') return;
    }
    op = 'and';
  } else return;
  const starts: number[] = [from];
  const ends: number[] = [];
  for (let k = a; k < b; k++) {
    const i = level[k]!;
    if (word(i) !== op) continue;
    ends.push(i);
    starts.push(i + 1);
  }
  ends.push(to);
  collectRuns(tokens, op, starts, ends, runs);
}

/** Runs among the parts of a top-level UNION ALL chain (every UNION at the level must be ALL). */
function unionRuns(tokens: readonly Token[], level: readonly number[], word: (i: number) => string, to: number, runs: RepeatedRun[]): void {
  // expandRuns finds the parts along the chain from the AST's root: a SELECT's chain only.
  if (kw(tokens[0]) !== 'select' && tokens[0]?.text !== '(') return;
  const starts: number[] = [0];
  const ends: number[] = [];
  for (let k = 0; k < level.length; k++) {
    const w = word(level[k]!);
    if (w === 'intersect' || w === 'except' || w === 'minus') return;
    if (w !== 'union') continue;
    const i = level[k]!;
    if (kw(tokens[i + 1]) !== 'all') return;
    ends.push(i);
    starts.push(i + 2);
  }
  if (starts.length < MIN_RUN) return;
  ends.push(to);
  // A part whose ORDER BY, LIMIT, INTO or locking clause is not inside its own parentheses is
  // the chain's tail, or invalid (MariaDB's 1221) anywhere but last: never in a run.
  const tails = new Set<number>();
  let part = 0;
  for (const i of level) {
    while (part < ends.length && i >= ends[part]!) part++;
    const w = word(i);
    if (w === 'order' || w === 'limit' || w === 'into' || w === 'for' || w === 'lock' || w === 'procedure' || w === 'with') tails.add(part);
  }
  collectRuns(tokens, 'union', starts, ends, runs, tails);
}

/** Groups consecutive identical terms into runs of at least MIN_RUN. */
function collectRuns(tokens: readonly Token[], kind: RepeatedRun['kind'], starts: readonly number[], ends: readonly number[], runs: RepeatedRun[], excluded?: ReadonlySet<number>): void {
  let first = 0;
  const flush = (end: number): void => {
    if (end - first >= MIN_RUN) runs.push({ kind, starts: starts.slice(first, end), ends: ends.slice(first, end), partIndex: first });
  };
  for (let k = 1; k <= starts.length; k++) {
    const same = k < starts.length && !excluded?.has(k) && !excluded?.has(first) && sameShape(tokens, starts[first]!, ends[first]!, starts[k]!, ends[k]!);
    if (same) continue;
    flush(k);
    first = k;
  }
}

/** Whether two token ranges are identical but for the names of their bind vars. */
function sameShape(tokens: readonly Token[], a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b || aEnd === a) return false;
  for (let i = 0; i < aEnd - a; i++) {
    const x = tokens[a + i]!;
    const y = tokens[b + i]!;
    if (x.kind !== y.kind) return false;
    if (x.kind !== 'bind' && x.text !== y.text) return false;
  }
  return true;
}

/**
 * The parse text with every term of each run but the first replaced by spaces. Null when a run's
 * tokens are not copied verbatim into the parse text (parseStatement rewrites a few constructs),
 * since its locations could then not be mapped term to term: such a statement is parsed whole.
 */
export function blankRuns(pt: string, tokens: readonly Token[], offsets: readonly number[], runs: readonly RepeatedRun[]): string | null {
  let out = '';
  let at = 0;
  for (const r of runs) {
    const first = r.starts[0]!;
    const last = r.ends[r.ends.length - 1]!;
    for (let i = first; i < last; i++) {
      if (pt.slice(offsets[i]!, offsets[i]! + tokens[i]!.text.length) !== tokens[i]!.text) return null;
      if (i + 1 < last && offsets[i + 1]! !== offsets[i]! + tokens[i]!.text.length + (tokens[i + 1]!.spaceBefore ? 1 : 0)) return null;
    }
    const from = endOffset(tokens, offsets, r.ends[0]! - 1);
    const to = endOffset(tokens, offsets, last - 1);
    out += pt.slice(at, from) + ' '.repeat(to - from);
    at = to;
  }
  return out + pt.slice(at);
}

function endOffset(tokens: readonly Token[], offsets: readonly number[], i: number): number {
  return offsets[i]! + tokens[i]!.text.length;
}

/** Thrown when the parsed AST does not have the shape a run needs: the caller parses the full text. */
export class RunExpansionFailed extends Error {}

/**
 * Puts every run's missing terms into the AST parsed from blankRuns' text (in place). Throws
 * RunExpansionFailed when a run's first term cannot be found or mapped.
 */
export function expandRuns(ast: Ast, tokens: readonly Token[], offsets: readonly number[], runs: readonly RepeatedRun[]): void {
  const bool = runs.filter((r) => r.kind !== 'union');
  if (bool.length > 0) {
    // The node of each run's first term: the outermost typed node spanning exactly its tokens.
    // Its location may end in the blanked text after it (the parser's locations take in the
    // whitespace that follows a node), up to the next token after the run.
    const byStart = new Map<number, { run: RepeatedRun; end: number; endBy: number }>();
    for (const r of bool) {
      const [s, e] = unparenthesized(tokens, r.starts[0]!, r.ends[0]!);
      const after = r.ends[r.ends.length - 1]!;
      byStart.set(offsets[s]!, { run: r, end: endOffset(tokens, offsets, e - 1), endBy: after < tokens.length ? offsets[after]! : Number.MAX_SAFE_INTEGER });
    }
    let found = 0;
    const chains = new Set<Ast>();
    // Where each run's first term ends and its last term ends, in run order.
    const gaps = bool.map((r): [number, number] => [endOffset(tokens, offsets, r.ends[0]! - 1), endOffset(tokens, offsets, r.ends[r.ends.length - 1]! - 1)]);
    const pending: { holder: Ast; key: string | number }[] = [{ holder: { root: ast }, key: 'root' }];
    while (pending.length > 0) {
      const { holder, key } = pending.pop()!;
      const n = holder[key];
      if (n === null || typeof n !== 'object') continue;
      if (!Array.isArray(n) && typeof n.type === 'string' && n.loc) {
        const hit = byStart.get(n.loc.start.offset);
        if (hit !== undefined && n.loc.end.offset >= hit.end && n.loc.end.offset <= hit.endBy) {
          byStart.delete(n.loc.start.offset);
          // Like the parser, which gives every operator node of a chain the whole chain's span
          // (parentheses of its first and last terms included).
          const r = hit.run;
          const span = { start: offsets[r.starts[0]!]!, end: endOffset(tokens, offsets, r.ends[r.ends.length - 1]! - 1) };
          const chain = balancedChain(r.kind === 'or' ? 'OR' : 'AND', termCopies(n, r, tokens, offsets), span);
          holder[key] = chain;
          chains.add(chain);
          found++;
          continue;
        }
      }
      if (Array.isArray(n)) for (let k = n.length - 1; k >= 0; k--) pending.push({ holder: n, key: k });
      else for (const k of Object.keys(n)) if (k !== 'loc' && n[k] !== null && typeof n[k] === 'object') pending.push({ holder: n, key: k });
    }
    if (found !== bool.length) throw new RunExpansionFailed('a repeated term was not found in the AST');
    extendEnclosingLocations(ast, chains, gaps);
  }
  // UNION runs, last first, so that the part indices of earlier runs are still those of the
  // compressed chain.
  const unions = runs.filter((r) => r.kind === 'union');
  let removedBefore = 0;
  const compressedIndex = unions.map((r) => {
    const idx = r.partIndex - removedBefore;
    removedBefore += r.starts.length - 1;
    return idx;
  });
  for (let u = unions.length - 1; u >= 0; u--) {
    const r = unions[u]!;
    let node = ast;
    for (let k = 0; k < compressedIndex[u]! && node; k++) node = node._next;
    if (!node || node.type !== 'select') throw new RunExpansionFailed('a repeated UNION part was not found in the AST');
    const copies = termCopies(node, r, tokens, offsets);
    const next = node._next;
    const op = node.set_op;
    for (let k = 0; k < copies.length - 1; k++) {
      copies[k]._next = copies[k + 1];
      copies[k].set_op = 'union all';
    }
    const last = copies[copies.length - 1];
    if (next === undefined) delete last._next;
    else last._next = next;
    if (op === undefined) delete last.set_op;
    else last.set_op = op;
  }
}

/**
 * A node that encloses a run's first term and ended with it in the parsed text ends with the
 * run's last term in the full text: its location is moved there (the chains are left alone).
 */
function extendEnclosingLocations(ast: Ast, chains: ReadonlySet<Ast>, gaps: readonly [number, number][]): void {
  const gapEnd = (o: number): number | undefined => {
    let lo = 0;
    let hi = gaps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (gaps[mid]![0] <= o) lo = mid + 1;
      else hi = mid;
    }
    const g = gaps[lo - 1];
    return g !== undefined && o < g[1] ? g[1] : undefined;
  };
  const pending: Ast[] = [ast];
  while (pending.length > 0) {
    const n = pending.pop();
    if (n === null || typeof n !== 'object' || chains.has(n)) continue;
    if (Array.isArray(n)) {
      for (const x of n) pending.push(x);
      continue;
    }
    for (const k of Object.keys(n)) {
      const v = n[k];
      if (k === 'loc' && v) {
        const e = gapEnd(v.end.offset);
        if (e !== undefined) n.loc = { start: v.start, end: { offset: e, line: 1, column: e + 1 } };
      } else if (v !== null && typeof v === 'object') pending.push(v);
    }
  }
}

/** A term's tokens without parentheses that enclose all of it (the parser's loc excludes them). */
function unparenthesized(tokens: readonly Token[], s: number, e: number): [number, number] {
  while (e - s >= 2 && tokens[s]!.text === '(' && tokens[e - 1]!.text === ')' && closes(tokens, s) === e - 1) {
    s++;
    e--;
  }
  return [s, e];
}

function closes(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]!.text === '(') depth++;
    else if (tokens[i]!.text === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The first term's node (kept) followed by a copy for every other term of the run. */
function termCopies(first: Ast, run: RepeatedRun, tokens: readonly Token[], offsets: readonly number[]): Ast[] {
  const out: Ast[] = [first];
  const s0 = run.starts[0]!;
  const e0 = run.ends[0]!;
  const names0: string[] = [];
  for (let i = s0; i < e0; i++) if (tokens[i]!.kind === 'bind') names0.push(tokens[i]!.text.slice(1));
  // Offsets of term 0's token starts, to map a location to term k. A location may also end in
  // the whitespace after a token (the parser's FROM items do): it maps to the same place after
  // term k's token, within the whitespace term k has there.
  const len = e0 - s0;
  const startAt = new Map<number, number>();
  for (let j = 0; j < len; j++) startAt.set(offsets[s0 + j]!, j);
  for (let k = 0; k < run.starts.length; k++) {
    const sk = run.starts[k]!;
    const rename = new Map<string, string>();
    let b = 0;
    for (let i = sk; i < run.ends[k]!; i++) {
      if (tokens[i]!.kind !== 'bind') continue;
      const from = names0[b++]!;
      const to = tokens[i]!.text.slice(1);
      if (rename.has(from) && rename.get(from) !== to) throw new RunExpansionFailed('a bind var repeats in one term but not in another');
      rename.set(from, to);
    }
    const mapOffset = (o: number): number => {
      const j = startAt.get(o);
      if (j !== undefined) return offsets[sk + j]!;
      // The last token of term 0 that ends at or before o.
      let lo = 0;
      let hi = len;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (endOffset(tokens, offsets, s0 + mid) <= o) lo = mid + 1;
        else hi = mid;
      }
      const t = lo - 1;
      if (t < 0 || (t + 1 < len && o >= offsets[s0 + t + 1]!)) throw new RunExpansionFailed('a location inside a token');
      const end = endOffset(tokens, offsets, sk + t);
      const next = sk + t + 1 < tokens.length ? offsets[sk + t + 1]! : end;
      return end + Math.min(o - endOffset(tokens, offsets, s0 + t), Math.max(0, next - end));
    };
    // Term 0's own locations may reach into the blanked terms after it: they are moved back to
    // its own tokens (in place; the node stays where the parser put it).
    if (k === 0) relocate(first, mapOffset);
    else out.push(copyTerm(first, rename, mapOffset));
  }
  return out;
}

/** Deep copy of a term's subtree with its bind names and locations moved to another term. */
function copyTerm(n: Ast, rename: ReadonlyMap<string, string>, mapOffset: (o: number) => number): Ast {
  if (n === null || typeof n !== 'object') return n;
  if (Array.isArray(n)) return n.map((x) => copyTerm(x, rename, mapOffset));
  const out: Ast = {};
  for (const k of Object.keys(n)) {
    // A UNION part's link to the next part is set by the caller, never copied.
    if (k === '_next' || k === 'set_op') continue;
    const v = n[k];
    if (k === 'loc' && v) {
      const s = mapOffset(v.start.offset);
      const e = mapOffset(v.end.offset);
      out.loc = { start: { offset: s, line: 1, column: s + 1 }, end: { offset: e, line: 1, column: e + 1 } };
    } else out[k] = copyTerm(v, rename, mapOffset);
  }
  if (n.type === 'param' && typeof n.value === 'string' && rename.has(n.value)) out.value = rename.get(n.value);
  return out;
}

/** Moves every location in a term's subtree (its next UNION parts excluded) through mapOffset. */
function relocate(n: Ast, mapOffset: (o: number) => number): void {
  if (n === null || typeof n !== 'object') return;
  if (Array.isArray(n)) {
    for (const x of n) relocate(x, mapOffset);
    return;
  }
  for (const k of Object.keys(n)) {
    if (k === '_next') continue;
    const v = n[k];
    if (k === 'loc' && v) {
      const s = mapOffset(v.start.offset);
      const e = mapOffset(v.end.offset);
      n.loc = { start: { offset: s, line: 1, column: s + 1 }, end: { offset: e, line: 1, column: e + 1 } };
    } else relocate(v, mapOffset);
  }
}

/** A balanced tree of one associative operator over the terms, left to right. */
function balancedChain(operator: 'OR' | 'AND', terms: Ast[], span: { start: number; end: number }): Ast {
  if (terms.length === 1) return terms[0];
  const mid = terms.length >> 1;
  const left = balancedChain(operator, terms.slice(0, mid), span);
  const right = balancedChain(operator, terms.slice(mid), span);
  const loc = { start: { offset: span.start, line: 1, column: span.start + 1 }, end: { offset: span.end, line: 1, column: span.end + 1 } };
  return { type: 'binary_expr', operator, left, right, loc };
}
