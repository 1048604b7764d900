/**
 * TinyLFU's frequency estimate for keys that are not cached: a count-min sketch of counters saturating at 15 (4 rows,
 * laid out as in Caffeine in 16-byte blocks so that one key's counters share a cache line) behind a doorkeeper bloom
 * filter. The doorkeeper absorbs the first access of every key, so a one-off flood of distinct keys (a bulk import,
 * a scan) barely touches the counters that protect the hot working set. `age()` halves every counter and empties the
 * doorkeeper; the policy calls it once per sample period, so popularity fades.
 * Concurrency rule: synchronous methods only; owned by one stripe's policy.
 */
export class FrequencySketch {
  private counters!: Uint8Array;
  private doorkeeper!: Uint32Array;
  private blocks = 0;
  private mask = 0;
  private doorkeeperMask = 0;
  /** Accesses between two agings: 10 per block, i.e. 10 × the entries the sketch was sized for. */
  samplePeriod = 0;

  constructor(expectedEntries: number) {
    this.allocate(expectedEntries);
  }

  /** Grows the sketch (forgetting counts) when the cache holds more entries than it was sized for. */
  ensureCapacity(entries: number): void {
    if (entries > this.blocks && this.blocks < MAX_BLOCKS) this.allocate(entries * 2);
  }

  /** Records one access of a key; its first access since the last aging only marks the doorkeeper. */
  increment(hash: number): void {
    if (!this.doorkeeperAdd(hash)) return;
    const c = this.counters;
    const base = (hash & this.mask) << 4;
    const h2 = Math.imul(hash, 0x9e3779b9);
    let i = base + (h2 & 3);
    if (c[i] < 15) c[i]++;
    i = base + 4 + ((h2 >>> 8) & 3);
    if (c[i] < 15) c[i]++;
    i = base + 8 + ((h2 >>> 16) & 3);
    if (c[i] < 15) c[i]++;
    i = base + 12 + ((h2 >>> 24) & 3);
    if (c[i] < 15) c[i]++;
  }

  /** Raises a key's counters to `frequency`: a cached key's own count, folded back in when it leaves the cache. */
  remember(hash: number, frequency: number): void {
    this.doorkeeperAdd(hash);
    const f = Math.min(15, frequency);
    const c = this.counters;
    const base = (hash & this.mask) << 4;
    const h2 = Math.imul(hash, 0x9e3779b9);
    let i = base + (h2 & 3);
    if (c[i] < f) c[i] = f;
    i = base + 4 + ((h2 >>> 8) & 3);
    if (c[i] < f) c[i] = f;
    i = base + 8 + ((h2 >>> 16) & 3);
    if (c[i] < f) c[i] = f;
    i = base + 12 + ((h2 >>> 24) & 3);
    if (c[i] < f) c[i] = f;
  }

  /** Estimated accesses of a key since about one sample period ago, at most 16. */
  frequency(hash: number): number {
    // Each of the 4 rows owns 4 bytes of the key's 16-byte block; a second hash picks one byte per row.
    const c = this.counters;
    const base = (hash & this.mask) << 4;
    const h2 = Math.imul(hash, 0x9e3779b9);
    let min = c[base + (h2 & 3)];
    const b = c[base + 4 + ((h2 >>> 8) & 3)];
    if (b < min) min = b;
    const d = c[base + 8 + ((h2 >>> 16) & 3)];
    if (d < min) min = d;
    const e = c[base + 12 + ((h2 >>> 24) & 3)];
    if (e < min) min = e;
    return min + (this.doorkeeperHas(hash) ? 1 : 0);
  }

  /** TinyLFU's reset: halves every counter and empties the doorkeeper, so frequencies track the recent past. */
  age(): void {
    const c = this.counters;
    for (let i = 0; i < c.length; i++) c[i] >>>= 1;
    this.doorkeeper.fill(0);
  }

  private allocate(expectedEntries: number): void {
    // As in Caffeine: one 16-counter block per expected entry (4 counters per row per entry).
    const blocks = nextPowerOfTwo(Math.max(MIN_BLOCKS, Math.min(expectedEntries, MAX_BLOCKS)));
    this.counters = new Uint8Array(blocks * 16);
    this.blocks = blocks;
    this.mask = blocks - 1;
    // 32 doorkeeper bits per block: ~1% false positives at `blocks` distinct keys.
    this.doorkeeper = new Uint32Array(blocks);
    this.doorkeeperMask = blocks * 32 - 1;
    this.samplePeriod = blocks * 10;
  }

  /** Sets the key's doorkeeper bits; true if they were all set already (the key was seen since the last aging). */
  private doorkeeperAdd(hash: number): boolean {
    const a = hash & this.doorkeeperMask;
    const b = ((hash >>> 11) ^ Math.imul(hash, 0x27d4eb2d)) & this.doorkeeperMask;
    const d = this.doorkeeper;
    const wa = a >>> 5;
    const ba = 1 << (a & 31);
    const wb = b >>> 5;
    const bb = 1 << (b & 31);
    const seen = (d[wa] & ba) !== 0 && (d[wb] & bb) !== 0;
    d[wa] |= ba;
    d[wb] |= bb;
    return seen;
  }

  private doorkeeperHas(hash: number): boolean {
    const a = hash & this.doorkeeperMask;
    const b = ((hash >>> 11) ^ Math.imul(hash, 0x27d4eb2d)) & this.doorkeeperMask;
    const d = this.doorkeeper;
    return (d[a >>> 5] & (1 << (a & 31))) !== 0 && (d[b >>> 5] & (1 << (b & 31))) !== 0;
  }
}

const MIN_BLOCKS = 16;
const MAX_BLOCKS = 1 << 20;

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
