import { VSchemaError, type VSchemaIssue } from './vschema-error.js';

/** A half-open range [start, end) of keyspace ids. An empty start or end is unbounded. */
export interface KeyRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** The range that covers every keyspace id. */
export const FULL_KEY_RANGE: KeyRange = Object.freeze({ start: EMPTY, end: EMPTY });

const HEX = '0123456789abcdef';

/** Lower-case hex, as Vitess prints keyspace ids and shard bounds. */
export function ksidToHex(ksid: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ksid.length; i++) {
    const b = ksid[i];
    s += HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}

/** Parse hex (either case, even length) into bytes; returns undefined for anything else. */
export function hexToBytes(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** Length of `id` once trailing zero bytes are dropped (Vitess's key.Normalize). */
function significantLength(id: Uint8Array): number {
  let n = id.length;
  while (n > 0 && id[n - 1] === 0) n--;
  return n;
}

/**
 * Compare two keyspace ids as Vitess's key.Compare does: trailing zero bytes are insignificant,
 * so "80" and "8000" are the same bound. Returns <0, 0 or >0.
 */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const la = significantLength(a);
  const lb = significantLength(b);
  const n = la < lb ? la : lb;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return la - lb;
}

export function keyRangeContains(kr: KeyRange, ksid: Uint8Array): boolean {
  if (kr.start.length > 0 && compareKeys(ksid, kr.start) < 0) return false;
  if (kr.end.length > 0 && compareKeys(ksid, kr.end) >= 0) return false;
  return true;
}

/** True when the range has no bounds ("-" or "0"). */
export function keyRangeIsComplete(kr: KeyRange): boolean {
  return significantLength(kr.start) === 0 && kr.end.length === 0;
}

/** Do two ranges share at least one keyspace id? */
export function keyRangesIntersect(a: KeyRange, b: KeyRange): boolean {
  // a.start < b.end && b.start < a.end, with empty ends meaning +infinity.
  const aBeforeBEnd = b.end.length === 0 || compareKeys(a.start, b.end) < 0;
  const bBeforeAEnd = a.end.length === 0 || compareKeys(b.start, a.end) < 0;
  return aBeforeBEnd && bBeforeAEnd;
}

/** "40-80", "-80", "80-", "-" (full range): the shard-name form Vitess uses. */
export function formatKeyRange(kr: KeyRange): string {
  return `${ksidToHex(kr.start)}-${ksidToHex(kr.end)}`;
}

/**
 * Parse a Vitess shard name into its key range: "-80", "80-", "40-80", "-" and "0" (the name of
 * the single shard of an unsharded keyspace, which covers everything). Throws VSchemaError on bad
 * hex or when start >= end.
 */
export function parseShardName(name: string): KeyRange {
  const problem = shardNameProblem(name);
  if (typeof problem === 'string') throw new VSchemaError([{ path: name, message: problem }], 'invalid shard name');
  return problem;
}

function shardNameProblem(name: string): KeyRange | string {
  if (name === '0' || name === '-') return FULL_KEY_RANGE;
  const parts = name.split('-');
  if (parts.length !== 2) {
    return `shard name must be "<start>-<end>" in hex (or "0" for an unsharded keyspace), got ${JSON.stringify(name)}`;
  }
  const start = hexToBytes(parts[0]);
  const end = hexToBytes(parts[1]);
  if (!start || !end) return `shard name ${JSON.stringify(name)} has a bound that is not even-length hex`;
  if (end.length > 0 && compareKeys(start, end) >= 0) {
    return `shard name ${JSON.stringify(name)}: start must be below end`;
  }
  return { start, end };
}

/**
 * Check that a keyspace's shard names parse and that their ranges tile the whole keyspace-id space
 * with no gap and no overlap. Each issue's path is the shard name concerned.
 */
export function validateShardNames(names: readonly string[]): VSchemaIssue[] {
  const issues: VSchemaIssue[] = [];
  const parsed: { name: string; kr: KeyRange }[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      issues.push({ path: name, message: 'shard listed twice' });
      continue;
    }
    seen.add(name);
    const r = shardNameProblem(name);
    if (typeof r === 'string') issues.push({ path: name, message: r });
    else parsed.push({ name, kr: r });
  }
  if (names.length === 0) {
    issues.push({ path: '', message: 'a keyspace needs at least one shard' });
    return issues;
  }
  parsed.sort((a, b) => compareKeys(a.kr.start, b.kr.start));
  for (let i = 1; i < parsed.length; i++) {
    const prev = parsed[i - 1];
    const cur = parsed[i];
    if (keyRangesIntersect(prev.kr, cur.kr)) {
      issues.push({ path: cur.name, message: `overlaps shard ${prev.name}` });
    } else if (compareKeys(prev.kr.end, cur.kr.start) !== 0) {
      issues.push({
        path: cur.name,
        message: `gap: keyspace ids ${ksidToHex(prev.kr.end)}..${ksidToHex(cur.kr.start)} belong to no shard (after ${prev.name})`,
      });
    }
  }
  if (parsed.length > 0 && issues.length === 0) {
    const first = parsed[0];
    const last = parsed[parsed.length - 1];
    if (significantLength(first.kr.start) !== 0) {
      issues.push({ path: first.name, message: `gap: keyspace ids below ${ksidToHex(first.kr.start)} belong to no shard` });
    }
    if (last.kr.end.length !== 0) {
      issues.push({ path: last.name, message: `gap: keyspace ids from ${ksidToHex(last.kr.end)} up belong to no shard` });
    }
  }
  return issues;
}

/**
 * The range of keyspace ids that start with `prefix`: [prefix, prefix+1). An empty prefix, or one of
 * all 0xff bytes, has no finite end. Used by multi-column and cfc vindexes for partial values.
 */
export function keyRangeFromPrefix(prefix: Uint8Array): KeyRange {
  if (prefix.length === 0) return FULL_KEY_RANGE;
  const end = Uint8Array.from(prefix);
  let i = end.length - 1;
  for (; i >= 0; i--) {
    if (end[i] < 255) {
      end[i]++;
      break;
    }
    end[i] = 0;
  }
  return { start: Uint8Array.from(prefix), end: i < 0 ? EMPTY : end };
}
