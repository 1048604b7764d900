import type { EntryList } from './entry-list.js';
import type { EvictionPolicy } from './eviction-policy.js';

/**
 * One cached value, also a node (by its slot) of the list its eviction policy keeps it in.
 * Concurrency rule: fields are read and written only in synchronous code (no await between a read and the write that
 * depends on it), so no other caller can observe an entry half-moved between lists.
 */
export interface CacheEntry<K, V> {
  readonly key: K;
  readonly value: V;
  readonly cost: number;
  readonly hash: number;
  /** Index of the stripe that owns this entry (always 0 in a MutexCache). */
  readonly stripe: number;
  /** That stripe's policy, so the hit path touches it without looking the stripe up. */
  readonly policy: EvictionPolicy<K, V>;
  /** W-TinyLFU: the entry's own access count (0-15), halved with the sketch; unused by LRU. */
  frequency: number;
  /** The entry's slot in its policy's SlotTable, or -1 while it is in no list. */
  slot: number;
  /** The list the entry is linked into, or undefined once removed. */
  list: EntryList<K, V> | undefined;
}
