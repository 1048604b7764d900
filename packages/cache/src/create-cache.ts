import type { AsyncCache, CacheOptions, CacheVariant } from './async-cache.js';
import { MutexCache } from './mutex-cache.js';
import { ShardedCache } from './sharded-cache.js';

export interface CreateCacheOptions<K, V> extends CacheOptions<K, V> {
  readonly variant: CacheVariant;
  /** Only for the sharded variant (default 16). */
  readonly stripes?: number;
}

/** Builds the variant a configuration names, e.g. the gateway's `planCache: { variant: sharded, stripes: 16 }`. */
export function createCache<K, V>(opts: CreateCacheOptions<K, V>): AsyncCache<K, V> {
  const { variant, stripes, ...rest } = opts;
  if (variant === 'mutex') return new MutexCache<K, V>(rest);
  if (variant === 'sharded') return new ShardedCache<K, V>({ ...rest, stripes });
  throw new RangeError(`cache variant must be 'mutex' or 'sharded', got ${String(variant)}`);
}
