export type {
  AdmissionPolicyName,
  AsyncCache,
  CacheOptions,
  CacheStats,
  CacheTestHooks,
  CacheVariant,
  GetOrComputeOptions,
  SetOptions,
} from './async-cache.js';
export { CacheDisposedError } from './cache-errors.js';
export { createCache, type CreateCacheOptions } from './create-cache.js';
export { hashKey } from './key-hash.js';
export { MutexCache } from './mutex-cache.js';
export { parseByteSize } from './parse-byte-size.js';
export { DEFAULT_STRIPES, ShardedCache, type ShardedCacheOptions } from './sharded-cache.js';
export { StripedCache } from './striped-cache.js';
