import type { CacheEntry } from './cache-entry.js';

/** The capacity one stripe may hold. */
export interface StripeCapacity {
  readonly maxEntries: number;
  readonly maxCost: number;
}

/**
 * Decides which entries of one stripe to keep. The stripe's engine owns the key → entry map; the policy owns the order
 * and the accounting. Concurrency rule: every method is synchronous; `touch` and `recordAccess` run on the lock-free hit
 * path, all others only while the stripe's lock is held.
 */
export interface EvictionPolicy<K, V> {
  /** Entries and total cost currently held. */
  readonly size: number;
  readonly cost: number;
  /** A lookup found `entry`: record its use. */
  touch(entry: CacheEntry<K, V>): void;
  /** A lookup (or write) of a key with this hash happened; feeds frequency-based admission. */
  recordAccess(hash: number): void;
  /** Whether a value of this cost could be held at all. */
  fits(cost: number): boolean;
  /** Links a new entry and returns the entries evicted to stay within capacity (possibly `entry` itself). */
  add(entry: CacheEntry<K, V>): CacheEntry<K, V>[];
  /** Unlinks an entry removed by delete, replace or invalidate. */
  remove(entry: CacheEntry<K, V>): void;
  /** Unlinks every entry. */
  clear(): void;
}
