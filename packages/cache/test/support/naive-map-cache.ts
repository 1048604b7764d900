import type { AsyncCache, CacheStats } from '../../src/index.js';

/**
 * DELIBERATELY BROKEN test fixture: a plain Map used with check-then-act across an await, the way caches are usually
 * first written. Concurrent misses each run `compute` (no single-flight, so stampedes), and a compute that began
 * before `invalidate()` inserts its stale result afterwards (no epoch). The interleaving tests must catch both.
 * Concurrency rule: none, on purpose.
 */
export class NaiveMapCache<K, V> implements AsyncCache<K, V> {
  private readonly map = new Map<K, V>();
  private counts = { hits: 0, misses: 0, evictions: 0 };
  epoch = 0;

  constructor(private readonly maxEntries = Infinity) {}

  async getOrCompute(key: K, compute: (signal: AbortSignal) => V | Promise<V>): Promise<V> {
    if (this.map.has(key)) {
      this.counts.hits++;
      return this.map.get(key)!; // check ...
    }
    this.counts.misses++;
    const value = await compute(new AbortController().signal); // ... await (others interleave here) ...
    this.insert(key, value); // ... act on a stale check
    return value;
  }

  async get(key: K): Promise<V | undefined> {
    return this.peek(key);
  }

  peek(key: K): V | undefined {
    if (this.map.has(key)) this.counts.hits++;
    else this.counts.misses++;
    return this.map.get(key);
  }

  async set(key: K, value: V): Promise<void> {
    this.insert(key, value);
  }

  async delete(key: K): Promise<boolean> {
    return this.map.delete(key);
  }

  async invalidate(predicate?: (key: K, value: V) => boolean): Promise<number> {
    this.epoch++;
    let removed = 0;
    for (const [key, value] of this.map) {
      if (predicate === undefined || predicate(key, value)) {
        this.map.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async clear(): Promise<void> {
    await this.invalidate();
  }

  stats(): CacheStats {
    return {
      ...this.counts,
      rejectedByEpoch: 0,
      rejectedSuperseded: 0,
      inFlight: 0,
      entries: this.map.size,
      cost: this.map.size,
      epoch: this.epoch,
    };
  }

  dispose(): void {
    this.map.clear();
  }

  private insert(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) {
      this.map.delete(this.map.keys().next().value as K);
      this.counts.evictions++;
    }
  }
}
