import type { CacheEntry } from './cache-entry.js';

/**
 * The links of one policy's recency lists, kept in typed arrays indexed by an entry's slot rather than in pointers on
 * the entries: moving an entry on a hit then stores small integers only, which V8 does without the write barrier a
 * pointer store pays (that difference is most of the hit path's cost). Grows by doubling; frees slots for reuse.
 * Concurrency rule: owned by one stripe's policy; mutated only synchronously (see EvictionPolicy).
 */
export class SlotTable<K, V> {
  prev: Int32Array;
  next: Int32Array;
  private entries: (CacheEntry<K, V> | undefined)[];
  private readonly free: number[] = [];
  private used = 0;

  constructor(initialSlots = 16) {
    this.prev = new Int32Array(initialSlots);
    this.next = new Int32Array(initialSlots);
    this.entries = new Array<CacheEntry<K, V> | undefined>(initialSlots).fill(undefined);
  }

  entry(slot: number): CacheEntry<K, V> {
    return this.entries[slot]!;
  }

  allocate(entry: CacheEntry<K, V>): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.prev.length) this.grow();
      slot = this.used++;
    }
    this.entries[slot] = entry;
    return slot;
  }

  release(slot: number): void {
    this.entries[slot] = undefined;
    this.free.push(slot);
  }

  private grow(): void {
    const size = this.prev.length * 2;
    const prev = new Int32Array(size);
    prev.set(this.prev);
    const next = new Int32Array(size);
    next.set(this.next);
    this.prev = prev;
    this.next = next;
    for (let i = this.entries.length; i < size; i++) this.entries.push(undefined);
  }
}
