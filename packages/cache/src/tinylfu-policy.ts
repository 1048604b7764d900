import type { CacheEntry } from './cache-entry.js';
import { EntryList } from './entry-list.js';
import type { EvictionPolicy, StripeCapacity } from './eviction-policy.js';
import { FrequencySketch } from './frequency-sketch.js';
import { SlotTable } from './slot-table.js';

/**
 * W-TinyLFU (as in Caffeine and theine, which Vitess's plan cache adopted): new entries enter a small LRU window (1%
 * of capacity); the window's overflow becomes a candidate for the main space (segmented LRU: probation + protected,
 * 80% protected) and is admitted only if the frequency sketch estimates it more popular than the victim it would
 * push out. A scan of one-off keys therefore churns the window and never displaces the frequently used main space.
 * Frequencies: the sketch estimates keys that are not cached; a cached entry carries its own count (seeded from the
 * sketch on insert, written back to it on eviction, halved whenever the sketch is), so a hit does no hashing. The
 * reset walks the entries, O(entries) once per 10 × capacity accesses.
 */
export class TinyLfuPolicy<K, V> implements EvictionPolicy<K, V> {
  // Concurrency rule: see EvictionPolicy (touch/recordAccess are lock-free and synchronous; the rest runs under the
  // stripe lock). The three lists are only rearranged inside one synchronous call.
  private readonly slots = new SlotTable<K, V>();
  private readonly window = new EntryList<K, V>(this.slots);
  private readonly probation = new EntryList<K, V>(this.slots);
  private readonly protected = new EntryList<K, V>(this.slots);
  private readonly sketch: FrequencySketch;
  private readonly windowMaxEntries: number;
  private readonly windowMaxCost: number;
  private readonly protectedMaxEntries: number;
  private readonly protectedMaxCost: number;
  /** Accesses since the last aging, and the sketch's period (copied here: the hit path reads it). */
  private samples = 0;
  private samplePeriod: number;

  constructor(private readonly capacity: StripeCapacity) {
    const { maxEntries, maxCost } = capacity;
    this.windowMaxEntries = Math.max(1, Math.floor(maxEntries * WINDOW_SHARE));
    this.windowMaxCost = maxCost * WINDOW_SHARE;
    this.protectedMaxEntries = Math.floor((maxEntries - this.windowMaxEntries) * PROTECTED_SHARE);
    this.protectedMaxCost = (maxCost - this.windowMaxCost) * PROTECTED_SHARE;
    this.sketch = new FrequencySketch(Number.isFinite(maxEntries) ? maxEntries : 1024);
    this.samplePeriod = this.sketch.samplePeriod;
  }

  get size(): number {
    return this.window.length + this.probation.length + this.protected.length;
  }

  get cost(): number {
    return this.window.cost + this.probation.cost + this.protected.cost;
  }

  touch(entry: CacheEntry<K, V>): void {
    if (++this.samples >= this.samplePeriod) this.age();
    if (entry.frequency < 15) entry.frequency++;
    const list = entry.list!;
    if (list !== this.probation) {
      list.moveToHead(entry);
    } else {
      // Second use while on probation: promote, demoting the protected segment's LRU entries if it overflows.
      this.probation.unlink(entry);
      this.protected.pushHead(entry);
      while (this.protected.length > this.protectedMaxEntries || this.protected.cost > this.protectedMaxCost) {
        const demoted = this.protected.last!;
        this.protected.unlink(demoted);
        this.probation.pushHead(demoted);
      }
    }
  }

  recordAccess(hash: number): void {
    if (++this.samples >= this.samplePeriod) this.age();
    this.sketch.increment(hash);
  }

  fits(cost: number): boolean {
    return this.capacity.maxEntries >= 1 && cost <= this.capacity.maxCost;
  }

  add(entry: CacheEntry<K, V>): CacheEntry<K, V>[] {
    // From here on the entry counts its own accesses, starting from the sketch's estimate (which includes this one).
    entry.frequency = this.sketch.frequency(entry.hash);
    this.window.pushHead(entry);
    // The window's overflow moves to probation as candidates (pushed at its head, so they sit before older entries).
    let candidates = 0;
    while (this.window.length > this.windowMaxEntries || this.window.cost > this.windowMaxCost) {
      const moved = this.window.last!;
      if (moved === entry && this.window.length === 1) break;
      this.window.unlink(moved);
      this.probation.pushHead(moved);
      candidates++;
    }
    const evicted: CacheEntry<K, V>[] = [];
    const { maxEntries, maxCost } = this.capacity;
    while (this.size > maxEntries || this.cost > maxCost) {
      const victim = this.pickVictim(candidates);
      if (candidates > 0) {
        // The oldest candidate sits `candidates` entries from probation's head.
        let candidate = this.probation.first!;
        for (let i = 1; i < candidates; i++) candidate = this.probation.after(candidate)!;
        if (victim === undefined || candidate.frequency <= victim.frequency) {
          this.evict(candidate, evicted);
          candidates--;
        } else {
          this.evict(victim, evicted);
        }
      } else {
        this.evict(victim ?? this.window.last!, evicted);
      }
    }
    // Only an unbounded-entry cache outgrows the sketch it was built with (checked after eviction, not during).
    this.sketch.ensureCapacity(this.size);
    this.samplePeriod = this.sketch.samplePeriod;
    return evicted;
  }

  remove(entry: CacheEntry<K, V>): void {
    entry.list?.remove(entry);
    this.sketch.remember(entry.hash, entry.frequency);
  }

  clear(): void {
    this.window.clear();
    this.probation.clear();
    this.protected.clear();
  }

  /** The main space's least valuable non-candidate entry: probation's LRU, else protected's LRU. */
  private pickVictim(candidates: number): CacheEntry<K, V> | undefined {
    if (this.probation.length > candidates) return this.probation.last;
    return this.protected.last;
  }

  private evict(entry: CacheEntry<K, V>, evicted: CacheEntry<K, V>[]): void {
    entry.list!.remove(entry);
    this.sketch.remember(entry.hash, entry.frequency);
    evicted.push(entry);
  }

  /** TinyLFU's reset, once per sample period: halve the sketch and, the same way, every cached entry's own count. */
  private age(): void {
    this.samples = 0;
    this.sketch.age();
    for (const list of [this.window, this.probation, this.protected]) {
      for (let e = list.first; e !== undefined; e = list.after(e)) e.frequency >>>= 1;
    }
  }
}

const WINDOW_SHARE = 0.01;
const PROTECTED_SHARE = 0.8;
