import {
  compareKeys,
  keyRangeContains,
  keyRangesIntersect,
  parseShardName,
  validateShardNames,
  type KeyRange,
} from './key-range.js';
import { VSchemaError } from './vschema-error.js';

/**
 * Sorted shard lookup for one keyspace: keyspace id -> shard name by binary search over the shard
 * start bounds.
 *
 * Concurrency rule: immutable after construction (all arrays are filled in the constructor and never
 * written again), so one instance is shared by every session and needs no locking. Build a new
 * ShardMap when the shard list changes and swap the reference.
 */
export class ShardMap {
  /** Shard names in key order. */
  readonly shards: readonly string[];
  /** Key ranges, parallel to `shards`. */
  readonly ranges: readonly KeyRange[];
  // Starts as two big-endian u32 words (bytes 0-3, 4-7, zero padded). Exact when every start is at
  // most 8 bytes long (the `wide` flag is false), which covers every real shard layout; the
  // comparison then reads only the first 8 bytes of the keyspace id and allocates nothing.
  private readonly startHi: Uint32Array;
  private readonly startLo: Uint32Array;
  private readonly wide: boolean;

  constructor(shardNames: readonly string[]) {
    const issues = validateShardNames(shardNames);
    if (issues.length > 0) throw new VSchemaError(issues, 'invalid shard set');
    const entries = shardNames
      .map((name) => ({ name, kr: parseShardName(name) }))
      .sort((a, b) => compareKeys(a.kr.start, b.kr.start));
    this.shards = Object.freeze(entries.map((e) => e.name));
    this.ranges = Object.freeze(entries.map((e) => e.kr));
    this.startHi = new Uint32Array(entries.length);
    this.startLo = new Uint32Array(entries.length);
    let wide = false;
    entries.forEach((e, i) => {
      const s = e.kr.start;
      let sig = s.length;
      while (sig > 0 && s[sig - 1] === 0) sig--;
      if (sig > 8) wide = true;
      this.startHi[i] = word(s, 0);
      this.startLo[i] = word(s, 4);
    });
    this.wide = wide;
  }

  /** The shard whose range holds `ksid`. Total: a ShardMap always covers every keyspace id. */
  shardFor(ksid: Uint8Array): string {
    if (this.wide) return this.shards[this.slowIndexFor(ksid)];
    const hi = word(ksid, 0);
    const lo = word(ksid, 4);
    const startHi = this.startHi;
    const startLo = this.startLo;
    // Largest i with start[i] <= ksid. start[0] is always the empty key, so i >= 0.
    let lo_i = 0;
    let hi_i = startHi.length - 1;
    while (lo_i < hi_i) {
      const mid = (lo_i + hi_i + 1) >>> 1;
      const sh = startHi[mid];
      if (sh < hi || (sh === hi && startLo[mid] <= lo)) lo_i = mid;
      else hi_i = mid - 1;
    }
    return this.shards[lo_i];
  }

  /** Index form of shardFor, for callers that keep per-shard arrays. */
  indexFor(ksid: Uint8Array): number {
    if (this.wide) return this.slowIndexFor(ksid);
    return this.shards.indexOf(this.shardFor(ksid));
  }

  /** Every shard whose range intersects `kr`, in key order. */
  shardsForRange(kr: KeyRange): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.ranges.length; i++) {
      if (keyRangesIntersect(this.ranges[i], kr)) out.push(this.shards[i]);
    }
    return out;
  }

  private slowIndexFor(ksid: Uint8Array): number {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (compareKeys(this.ranges[mid].start, ksid) <= 0) lo = mid;
      else hi = mid - 1;
    }
    // Defensive: the constructor guarantees coverage, so this always holds.
    if (!keyRangeContains(this.ranges[lo], ksid)) throw new Error('ShardMap invariant broken');
    return lo;
  }
}

/** Big-endian u32 at `off`, reading missing bytes as zero. */
function word(b: Uint8Array, off: number): number {
  const n = b.length;
  if (n >= off + 4) return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
  let w = 0;
  for (let i = 0; i < 4; i++) w = (w << 8) | (off + i < n ? b[off + i] : 0);
  return w >>> 0;
}
