import { Mutex, type MutexInterface } from 'async-mutex';
import type { AsyncCache, CacheOptions, CacheStats, GetOrComputeOptions, SetOptions } from './async-cache.js';
import type { CacheEntry } from './cache-entry.js';
import { CacheDisposedError } from './cache-errors.js';
import type { EvictionPolicy, StripeCapacity } from './eviction-policy.js';
import { InFlightCompute } from './in-flight-compute.js';
import { hashKey } from './key-hash.js';
import { LruPolicy } from './lru-policy.js';
import { TinyLfuPolicy } from './tinylfu-policy.js';

/**
 * The engine behind MutexCache (one stripe) and ShardedCache (N stripes). A stripe is a Mutex plus an eviction policy
 * holding its slice of the capacity; a key belongs to stripe `hashKey(key) % stripes`.
 *
 * The concurrency rules (each is attacked by test/interleaving.test.ts):
 *
 * 1. Hits take no lock and await nothing. `peek`, and `get`/`getOrCompute` on a present key, read the entry map and
 *    touch the policy in one synchronous step, then return (a resolved promise). Node runs that step to completion, so
 *    it can never observe a half-done mutation: every mutation below is itself synchronous between its awaits.
 *
 * 2. Single-flight. A miss checks the in-flight map and, if the key has no compute, registers one, with no await in
 *    between: under run-to-completion that check-and-register is atomic, so it needs no lock. This is deliberate: a
 *    stampede of 100k callers joins one shared promise instead of queueing 100k waiters on the mutex (async-mutex's
 *    queue costs 8-43 µs per waiter at that depth). `compute` runs outside every lock, so misses on different keys
 *    overlap. Its result goes to every caller that joined; a failure goes to every caller and caches nothing. A caller
 *    whose signal aborts stops waiting; the compute continues for the others.
 *
 * 3. Epochs. `invalidate()`/`clear()` bump the epoch and detach every in-flight compute (later callers start a fresh
 *    one). A compute may insert its result only if, at insert time under its stripe's lock, the epoch still equals the
 *    epoch at which it began and it is still attached (`delete`/`set` of its key detach it too). Otherwise the result
 *    is handed to its callers but never cached: a plan built on an old vschema cannot enter the cache.
 *
 * 4. Mutations are locked. The final insert of a compute, `set`, `delete` (the key's stripe lock) and `invalidate`/
 *    `clear` (every stripe lock, taken in index order, so two invalidations cannot deadlock and no other operation ever
 *    holds two) run their check and their act under the lock (see withLocks). Between a check and its act the state
 *    they depend on can change only under that same lock; the lock-free hit path only reorders recency. A free lock
 *    is taken synchronously and the section runs at once; only contended sections wait in the mutex's queue. A
 *    compute's final insert, the hottest of these, skips taking a free lock altogether: its section is synchronous,
 *    so while the lock is free nothing else can hold it or run before the section ends.
 *
 * 5. Bounded. Each stripe's policy evicts, inside the synchronous insert, until the stripe holds at most its share of
 *    `maxEntries` and `maxCost`; a value whose cost exceeds a stripe's share is returned but never cached.
 */
export abstract class StripedCache<K, V> implements AsyncCache<K, V> {
  // Concurrency rule: mutated only synchronously by the holder of the key's stripe lock (all locks for invalidate),
  // or by dispose(); read lock-free by the hit path.
  private readonly entries = new Map<K, CacheEntry<K, V>>();
  // Concurrency rule: registered lock-free (atomic check-and-register on a miss); removed by a compare-and-delete
  // (only the record that is still registered is removed) either synchronously on failure or under the stripe lock.
  private readonly inFlight = new Map<K, InFlightCompute<V>>();
  // Concurrency rule: every compute not yet settled, attached or not; changed only synchronously. Backs stats().inFlight.
  private readonly running = new Set<InFlightCompute<V>>();
  // Concurrency rule: changed only while every stripe lock is held (invalidate/clear), so a stripe-lock holder sees it stable.
  private currentEpoch = 0;
  // Concurrency rule: plain counters, incremented synchronously; exact because Node never runs two callers at once.
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private rejectedByEpoch = 0;
  private rejectedSuperseded = 0;
  private disposed = false;

  private readonly stripes: readonly Stripe<K, V>[];
  /** Every stripe's lock, in stripe order: what invalidate/clear hold. */
  private readonly allLocks: readonly MutexInterface[];
  private readonly sizer: ((value: V, key: K) => number) | undefined;
  private readonly yieldPoint: ((label: string) => Promise<void>) | undefined;
  /** Whether keys need a hash: to pick a stripe, or to feed TinyLFU's sketch. */
  private readonly needsHash: boolean;

  protected constructor(opts: CacheOptions<K, V>, stripeCount: number) {
    if (!Number.isInteger(stripeCount) || stripeCount < 1) {
      throw new RangeError(`stripes must be an integer >= 1, got ${stripeCount}`);
    }
    const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const maxCost = opts.maxCost ?? Infinity;
    if (!(maxEntries >= 0) || (maxEntries !== Infinity && !Number.isInteger(maxEntries))) {
      throw new RangeError(`maxEntries must be an integer >= 0 or Infinity, got ${maxEntries}`);
    }
    if (!(maxCost >= 0)) throw new RangeError(`maxCost must be a number >= 0 or Infinity, got ${maxCost}`);
    const admission = opts.admission ?? 'tinylfu';
    if (admission !== 'lru' && admission !== 'tinylfu') {
      throw new RangeError(`admission must be 'lru' or 'tinylfu', got ${String(admission)}`);
    }
    // Fewer entries than stripes would leave stripes that can hold nothing: use at most one stripe per entry.
    stripeCount = Math.max(1, Math.min(stripeCount, maxEntries));
    const createMutex = opts.testHooks?.createMutex ?? (() => new Mutex());
    const stripes: Stripe<K, V>[] = [];
    for (let index = 0; index < stripeCount; index++) {
      const capacity: StripeCapacity = {
        maxEntries: share(maxEntries, stripeCount, index),
        maxCost: share(maxCost, stripeCount, index),
      };
      const policy: EvictionPolicy<K, V> =
        admission === 'lru' ? new LruPolicy<K, V>(capacity) : new TinyLfuPolicy<K, V>(capacity);
      const mutex = createMutex();
      stripes.push({ index, mutex, locks: [mutex], policy, capacity });
    }
    this.stripes = stripes;
    this.allLocks = stripes.map((stripe) => stripe.mutex);
    this.sizer = opts.sizer;
    this.yieldPoint = opts.testHooks?.yieldPoint;
    this.needsHash = stripeCount > 1 || admission === 'tinylfu';
  }

  get epoch(): number {
    return this.currentEpoch;
  }

  /** Number of stripes (locks and capacity slices). */
  get stripeCount(): number {
    return this.stripes.length;
  }

  peek(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.hits++;
      entry.policy.touch(entry);
      return entry.value;
    }
    this.recordMiss(key);
    return undefined;
  }

  get(key: K): Promise<V | undefined> {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.hits++;
      entry.policy.touch(entry);
      return Promise.resolve(entry.value);
    }
    if (this.disposed) return Promise.reject(new CacheDisposedError());
    this.recordMiss(key);
    const flight = this.inFlight.get(key);
    if (flight === undefined) return Promise.resolve(undefined);
    return flight.wait(undefined).then(
      (value) => value,
      () => undefined,
    );
  }

  getOrCompute(
    key: K,
    compute: (signal: AbortSignal) => V | Promise<V>,
    opts?: GetOrComputeOptions,
  ): Promise<V> {
    // Rule 1: the hit path. No lock, no await.
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.hits++;
      entry.policy.touch(entry);
      return Promise.resolve(entry.value);
    }
    return this.miss(key, compute, opts);
  }

  async set(key: K, value: V, opts?: SetOptions): Promise<void> {
    this.assertLive();
    const cost = opts?.cost !== undefined ? checkCost(opts.cost) : this.costOf(value, key);
    const hash = this.hashOf(key);
    const stripe = this.stripeFor(hash);
    await this.withLocks(stripe.locks, 'set', noCheck, () => {
      this.assertLive();
      this.supersede(key);
      stripe.policy.recordAccess(hash);
      this.insertLocked(stripe, key, hash, value, cost);
    });
  }

  async delete(key: K): Promise<boolean> {
    this.assertLive();
    const stripe = this.stripeFor(this.hashOf(key));
    return this.withLocks(
      stripe.locks,
      'delete',
      () => this.entries.get(key),
      (existing) => {
        this.assertLive();
        this.supersede(key);
        if (existing === undefined) return false;
        this.entries.delete(key);
        stripe.policy.remove(existing);
        return true;
      },
    );
  }

  async invalidate(predicate?: (key: K, value: V) => boolean): Promise<number> {
    this.assertLive();
    return this.withLocks(
      this.allLocks,
      'invalidate',
      // Check: evaluate the predicate before changing anything, so a throwing predicate leaves the cache untouched.
      () => {
        if (predicate === undefined) return undefined;
        const doomed: CacheEntry<K, V>[] = [];
        for (const entry of this.entries.values()) if (predicate(entry.key, entry.value)) doomed.push(entry);
        return doomed;
      },
      // Act: bump the epoch, detach every compute (their inputs cannot be tested by the predicate), remove entries.
      (doomed) => {
        this.assertLive();
        this.currentEpoch++;
        for (const flight of this.inFlight.values()) flight.detach();
        this.inFlight.clear();
        if (doomed === undefined) {
          const removed = this.entries.size;
          this.entries.clear();
          for (const stripe of this.stripes) stripe.policy.clear();
          return removed;
        }
        for (const entry of doomed) {
          this.entries.delete(entry.key);
          this.stripes[entry.stripe].policy.remove(entry);
        }
        return doomed.length;
      },
    );
  }

  async clear(): Promise<void> {
    await this.invalidate();
  }

  stats(): CacheStats {
    let cost = 0;
    for (const stripe of this.stripes) cost += stripe.policy.cost;
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      rejectedByEpoch: this.rejectedByEpoch,
      rejectedSuperseded: this.rejectedSuperseded,
      inFlight: this.running.size,
      entries: this.entries.size,
      cost,
      epoch: this.currentEpoch,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const flight of this.inFlight.values()) flight.detach();
    this.inFlight.clear();
    for (const flight of this.running) flight.abort(new CacheDisposedError());
    this.entries.clear();
    for (const stripe of this.stripes) stripe.policy.clear();
  }

  /** The stripe that owns `key` (0 in a MutexCache). */
  protected stripeIndexOf(key: K): number {
    return this.stripeFor(hashKey(key)).index;
  }

  private miss(key: K, compute: (signal: AbortSignal) => V | Promise<V>, opts?: GetOrComputeOptions): Promise<V> {
    if (this.disposed) return Promise.reject(new CacheDisposedError());
    const signal = opts?.signal;
    this.misses++;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let flight = this.inFlight.get(key);
    if (flight !== undefined) {
      this.stripes[flight.stripe].policy.recordAccess(flight.hash);
      return flight.wait(signal);
    }
    // Rule 2: check (above) and register (below) with no await between them.
    let cost: number | undefined;
    try {
      cost = opts?.cost !== undefined ? checkCost(opts.cost) : undefined;
    } catch (error) {
      return Promise.reject(error);
    }
    const hash = this.hashOf(key);
    const stripe = this.stripeFor(hash);
    stripe.policy.recordAccess(hash);
    flight = new InFlightCompute<V>(hash, stripe.index, this.currentEpoch);
    this.inFlight.set(key, flight);
    this.running.add(flight);
    const waiting = flight.wait(signal);
    void this.runCompute(flight, key, stripe, compute, cost);
    return waiting;
  }

  private async runCompute(
    flight: InFlightCompute<V>,
    key: K,
    stripe: Stripe<K, V>,
    compute: (signal: AbortSignal) => V | Promise<V>,
    cost: number | undefined,
  ): Promise<void> {
    let value: V;
    try {
      if (this.yieldPoint !== undefined) await this.yieldPoint('compute');
      // A compute that declares no parameter cannot read its signal: skip building one (it costs microseconds).
      value = await compute(compute.length === 0 ? NEVER_ABORTED : flight.signal);
      // Outside the lock too: the sizer is caller code and may be slow.
      cost ??= this.costOf(value, key);
      const size = cost;
      // Rules 3 and 4: check the epoch and the record, then insert, under the stripe lock.
      const mutex = stripe.mutex;
      if (this.yieldPoint === undefined && !mutex.isLocked()) {
        // Uncontended: nobody holds the stripe lock, and this section is synchronous, so nothing can take the lock
        // or run in between until it returns; taking and releasing the free lock around it would change nothing but
        // cost (async-mutex's acquire() builds a promise and a releaser: about half of a miss's CPU). async-mutex
        // hands a released lock to its next waiter synchronously, so isLocked() is true while a waiter is pending.
        this.finishCompute(flight, key, stripe, value, size, flight.epoch !== this.currentEpoch, !flight.attached);
      } else {
        await this.withLocksQueued(
          stripe.locks,
          'insert',
          () => ({ staleEpoch: flight.epoch !== this.currentEpoch, superseded: !flight.attached }),
          ({ staleEpoch, superseded }) => this.finishCompute(flight, key, stripe, value, size, staleEpoch, superseded),
        );
      }
    } catch (error) {
      // Compare-and-delete, synchronous: only this record, if it is still the registered one.
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
      this.running.delete(flight);
      flight.reject(error);
      return;
    }
    this.running.delete(flight);
    flight.resolve(value);
  }

  /** The act of a compute's final insert, under the stripe lock. */
  private finishCompute(
    flight: InFlightCompute<V>,
    key: K,
    stripe: Stripe<K, V>,
    value: V,
    cost: number,
    staleEpoch: boolean,
    superseded: boolean,
  ): void {
    if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    if (staleEpoch) this.rejectedByEpoch++;
    else if (superseded) this.rejectedSuperseded++;
    else if (!this.disposed) this.insertLocked(stripe, key, flight.hash, value, cost);
  }

  /**
   * Runs `check`, then `act` with its result, while holding every lock in `locks` (taken in stripe order).
   * Uncontended fast path: async-mutex's acquire() takes a free lock synchronously, so when every lock is free and
   * there is no test hook, the whole section runs now, under the locks, and releases them before returning; no
   * promise is awaited. Otherwise the locks are awaited, and the test hook may run other callers at the yield points:
   * after the locks are held and between the check and the act.
   */
  private withLocks<C, R>(
    locks: readonly MutexInterface[],
    label: string,
    check: () => C,
    act: (checked: C) => R,
  ): R | Promise<R> {
    if (this.yieldPoint === undefined && locks.every(isFree)) {
      for (const lock of locks) void lock.acquire();
      try {
        return act(check());
      } finally {
        for (let i = locks.length - 1; i >= 0; i--) locks[i].release();
      }
    }
    return this.withLocksQueued(locks, label, check, act);
  }

  private async withLocksQueued<C, R>(
    locks: readonly MutexInterface[],
    label: string,
    check: () => C,
    act: (checked: C) => R,
  ): Promise<R> {
    const releases: MutexInterface.Releaser[] = [];
    try {
      for (const lock of locks) releases.push(await lock.acquire());
      if (this.yieldPoint !== undefined) await this.yieldPoint(`${label}:locked`);
      const checked = check();
      if (this.yieldPoint !== undefined) await this.yieldPoint(`${label}:act`);
      return act(checked);
    } finally {
      for (let i = releases.length - 1; i >= 0; i--) releases[i]();
    }
  }

  /** Runs under the stripe lock, synchronously: replace, insert, evict. */
  private insertLocked(stripe: Stripe<K, V>, key: K, hash: number, value: V, cost: number): void {
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      this.entries.delete(key);
      stripe.policy.remove(existing);
    }
    if (!stripe.policy.fits(cost)) return;
    const entry: CacheEntry<K, V> = {
      key,
      value,
      cost,
      hash,
      stripe: stripe.index,
      policy: stripe.policy,
      frequency: 0,
      slot: -1,
      list: undefined,
    };
    this.entries.set(key, entry);
    for (const victim of stripe.policy.add(entry)) {
      this.entries.delete(victim.key);
      this.evictions++;
    }
  }

  /** Detaches the key's in-flight compute, so its result (computed from older inputs) is never cached. */
  private supersede(key: K): void {
    const flight = this.inFlight.get(key);
    if (flight === undefined) return;
    this.inFlight.delete(key);
    flight.detach();
  }

  private recordMiss(key: K): void {
    this.misses++;
    if (this.needsHash) {
      const hash = hashKey(key);
      this.stripeFor(hash).policy.recordAccess(hash);
    }
  }

  private hashOf(key: K): number {
    return this.needsHash ? hashKey(key) : 0;
  }

  private stripeFor(hash: number): Stripe<K, V> {
    const stripes = this.stripes;
    return stripes.length === 1 ? stripes[0] : stripes[hash % stripes.length];
  }

  private costOf(value: V, key: K): number {
    return this.sizer === undefined ? 1 : checkCost(this.sizer(value, key));
  }

  private assertLive(): void {
    if (this.disposed) throw new CacheDisposedError();
  }
}

/** One lock and one slice of the capacity. */
interface Stripe<K, V> {
  readonly index: number;
  // Concurrency rule: guards every check-then-act on this stripe's keys (see rule 4); never held across a compute.
  readonly mutex: MutexInterface;
  /** `[mutex]`, allocated once for withLocks. */
  readonly locks: readonly MutexInterface[];
  readonly policy: EvictionPolicy<K, V>;
  readonly capacity: StripeCapacity;
}

const DEFAULT_MAX_ENTRIES = 10_000;

/** Handed to computes that declare no parameter (they cannot observe it); it never aborts. */
const NEVER_ABORTED = new AbortController().signal;

const isFree = (lock: MutexInterface): boolean => !lock.isLocked();
const noCheck = (): undefined => undefined;

/** Stripe `index`'s share of `total`; integer totals are split exactly, so the shares sum to the total. */
function share(total: number, parts: number, index: number): number {
  if (total === Infinity) return Infinity;
  if (!Number.isInteger(total)) return total / parts;
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function checkCost(cost: number): number {
  if (typeof cost !== 'number' || !(cost >= 0) || cost === Infinity) {
    throw new RangeError(`cache entry cost must be a finite number >= 0, got ${String(cost)}; check the sizer or opts.cost`);
  }
  return cost;
}
