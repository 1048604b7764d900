import type { CacheEntry } from './cache-entry.js';
import { EntryList } from './entry-list.js';
import type { EvictionPolicy, StripeCapacity } from './eviction-policy.js';
import { SlotTable } from './slot-table.js';

/** Least-recently-used: every new entry is admitted, the least recently used ones leave first. */
export class LruPolicy<K, V> implements EvictionPolicy<K, V> {
  // Concurrency rule: see EvictionPolicy (touch is lock-free and synchronous; the rest runs under the stripe lock).
  private readonly list = new EntryList<K, V>(new SlotTable<K, V>());

  constructor(private readonly capacity: StripeCapacity) {}

  get size(): number {
    return this.list.length;
  }

  get cost(): number {
    return this.list.cost;
  }

  touch(entry: CacheEntry<K, V>): void {
    this.list.moveToHead(entry);
  }

  recordAccess(): void {}

  fits(cost: number): boolean {
    return this.capacity.maxEntries >= 1 && cost <= this.capacity.maxCost;
  }

  add(entry: CacheEntry<K, V>): CacheEntry<K, V>[] {
    this.list.pushHead(entry);
    const evicted: CacheEntry<K, V>[] = [];
    const { maxEntries, maxCost } = this.capacity;
    while (this.list.length > maxEntries || this.list.cost > maxCost) {
      const victim = this.list.last!;
      this.list.remove(victim);
      evicted.push(victim);
    }
    return evicted;
  }

  remove(entry: CacheEntry<K, V>): void {
    this.list.remove(entry);
  }

  clear(): void {
    this.list.clear();
  }
}
