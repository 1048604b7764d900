import { MutexCache, ShardedCache, type CacheOptions, type StripedCache } from '../../src/index.js';

/** Both variants, built the same way, so every behavioural test runs against each (`stripes` is ignored by MutexCache). */
export const variants = [
  {
    name: 'MutexCache',
    create: <K, V>(opts: CacheOptions<K, V> & { stripes?: number } = {}): StripedCache<K, V> => new MutexCache<K, V>(opts),
  },
  {
    name: 'ShardedCache',
    create: <K, V>(opts: CacheOptions<K, V> & { stripes?: number } = {}): StripedCache<K, V> =>
      new ShardedCache<K, V>({ stripes: 4, ...opts }),
  },
] as const;

/** Stripe `index`'s capacity, restated independently of the implementation for the reference model. */
export function stripeCapacities(stripes: number, maxEntries: number, maxCost: number): { maxEntries: number; maxCost: number }[] {
  const split = (total: number, i: number): number =>
    total === Infinity ? Infinity : Math.floor(total / stripes) + (i < total % stripes ? 1 : 0);
  return Array.from({ length: stripes }, (_, i) => ({ maxEntries: split(maxEntries, i), maxCost: split(maxCost, i) }));
}

export function stripeOf<K, V>(cache: StripedCache<K, V>): (key: K) => number {
  return cache instanceof ShardedCache ? (key) => (cache as ShardedCache<K, V>).stripeOf(key) : () => 0;
}
