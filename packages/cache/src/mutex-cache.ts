import type { CacheOptions } from './async-cache.js';
import { StripedCache } from './striped-cache.js';

/**
 * One async-mutex Mutex guards every mutation of the whole cache; eviction order is global. Hits take no lock.
 * See striped-cache.ts for the concurrency rules.
 */
export class MutexCache<K, V> extends StripedCache<K, V> {
  readonly variant = 'mutex' as const;

  constructor(opts: CacheOptions<K, V> = {}) {
    super(opts, 1);
  }
}
