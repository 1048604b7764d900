import type { MutexInterface } from 'async-mutex';

/** Counters and gauges of one cache. Counters only grow; gauges describe the cache now. */
export interface CacheStats {
  /** Lookups (`peek`, `get`, `getOrCompute`) that found a value. */
  readonly hits: number;
  /** Lookups that found no value (including callers that joined a compute already in flight). */
  readonly misses: number;
  /** Entries removed to respect `maxEntries`/`maxCost`, or refused by the admission policy. */
  readonly evictions: number;
  /** Computed values handed to their callers but not cached, because `invalidate()`/`clear()` bumped the epoch after the compute began. */
  readonly rejectedByEpoch: number;
  /** Computed values not cached because a `set()` or `delete()` of the same key happened while the compute ran. */
  readonly rejectedSuperseded: number;
  /** Computes currently running (each is shared by all of its callers). */
  readonly inFlight: number;
  /** Entries currently cached. */
  readonly entries: number;
  /** Sum of the cost of the cached entries. */
  readonly cost: number;
  /** Current epoch; starts at 0, bumped by `invalidate()` and `clear()`. */
  readonly epoch: number;
}

export interface GetOrComputeOptions {
  /** Cost of the computed value; overrides the cache's `sizer`. */
  readonly cost?: number;
  /** Aborting stops this caller's wait (it rejects with `signal.reason`); the shared compute keeps running for the others. */
  readonly signal?: AbortSignal;
}

export interface SetOptions {
  /** Cost of the value; overrides the cache's `sizer`. */
  readonly cost?: number;
}

/**
 * An async cache whose operations may be called concurrently from any number of async callers.
 * The concurrency rules every implementation holds are written in README.md and striped-cache.ts.
 */
export interface AsyncCache<K, V> {
  /** The cached value, or the result of one shared `compute` for all concurrent callers of a missing key. */
  getOrCompute(key: K, compute: (signal: AbortSignal) => V | Promise<V>, opts?: GetOrComputeOptions): Promise<V>;
  /** The cached value; if absent but a compute for `key` is in flight, its result (or `undefined` if it fails). */
  get(key: K): Promise<V | undefined>;
  /** The cached value, synchronously: no lock, no await. Counts as a hit or miss and touches recency. */
  peek(key: K): V | undefined;
  /** Caches `value`; a compute of the same key already in flight will not overwrite it. */
  set(key: K, value: V, opts?: SetOptions): Promise<void>;
  /** Removes `key`; a compute of it already in flight will not re-insert it. Resolves true if an entry was removed. */
  delete(key: K): Promise<boolean>;
  /**
   * Bumps the epoch and removes the entries matching `predicate` (all entries without one). No compute that began
   * before the call can insert its result afterwards. Resolves with the number of entries removed.
   */
  invalidate(predicate?: (key: K, value: V) => boolean): Promise<number>;
  /** `invalidate()` of every entry. */
  clear(): Promise<void>;
  stats(): CacheStats;
  readonly epoch: number;
  /** Drops every entry, aborts the signals of running computes and makes further async calls reject. */
  dispose(): void;
}

export type AdmissionPolicyName = 'lru' | 'tinylfu';

export interface CacheOptions<K, V> {
  /** Most entries held at once (default 10,000). In a ShardedCache each stripe holds its share. */
  readonly maxEntries?: number;
  /** Most total cost held at once (default unbounded). In a ShardedCache each stripe holds its share. */
  readonly maxCost?: number;
  /** Cost of a value, typically its size in bytes. Default: every entry costs 1. */
  readonly sizer?: (value: V, key: K) => number;
  /** 'tinylfu' (default): W-TinyLFU, resists scans. 'lru': plain least-recently-used. */
  readonly admission?: AdmissionPolicyName;
  /** Test seams; not for production use. */
  readonly testHooks?: CacheTestHooks;
}

/**
 * Seams for interleaving tests. `yieldPoint` is awaited inside every locked section between its check and its act,
 * so a race explorer can run other callers there; `createMutex` swaps the lock (a no-op lock proves the lock matters).
 */
export interface CacheTestHooks {
  readonly yieldPoint?: (label: string) => Promise<void>;
  readonly createMutex?: () => MutexInterface;
}

export type CacheVariant = 'mutex' | 'sharded';
