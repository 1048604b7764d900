import type { CacheOptions } from './async-cache.js';
import { StripedCache } from './striped-cache.js';

export interface ShardedCacheOptions<K, V> extends CacheOptions<K, V> {
  /**
   * Number of stripes, each with its own Mutex and its own share of maxEntries/maxCost (default 16). Capped at
   * maxEntries, so that every stripe can hold at least one entry; `stripeCount` tells the number in use.
   */
  readonly stripes?: number;
}

/**
 * N stripes, each with its own async-mutex Mutex and its own slice of the capacity; a key maps to its stripe by
 * `hashKey(key) % stripes` (string and number keys; see key-hash.ts). Mutations of keys in different stripes never
 * wait for each other. Hits take no lock. See striped-cache.ts for the concurrency rules.
 */
export class ShardedCache<K, V> extends StripedCache<K, V> {
  readonly variant = 'sharded' as const;

  constructor(opts: ShardedCacheOptions<K, V> = {}) {
    super(opts, opts.stripes ?? DEFAULT_STRIPES);
  }

  /** The stripe index `key` belongs to. */
  stripeOf(key: K): number {
    return this.stripeIndexOf(key);
  }
}

export const DEFAULT_STRIPES = 16;
