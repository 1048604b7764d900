import { describe, expect, it } from 'vitest';
import { MutexCache, ShardedCache } from '../src/index.js';
import { variants } from './support/cache-variants.js';

for (const variant of variants) {
  describe(`${variant.name} bounds`, () => {
    it('evicts by cost from a caller-supplied sizer and never caches a value larger than its share', async () => {
      const cache = variant.create<string, string>({ admission: 'lru', maxCost: 40, sizer: (v) => v.length });
      for (let i = 0; i < 20; i++) await cache.set(`k${i}`, 'x'.repeat(5));
      expect(cache.stats().cost).toBeLessThanOrEqual(40);
      expect(cache.stats().evictions).toBeGreaterThan(0);
      expect(await cache.getOrCompute('huge', () => 'y'.repeat(100))).toHaveLength(100);
      expect(cache.peek('huge')).toBeUndefined();
    });

    it('opts.cost overrides the sizer, and an invalid cost is a RangeError', async () => {
      const cache = variant.create<string, string>({ maxCost: 100, sizer: () => 1 });
      await cache.set('a', 'A', { cost: 7 });
      expect(cache.stats().cost).toBe(7);
      await expect(cache.set('b', 'B', { cost: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(cache.getOrCompute('c', () => 'C', { cost: Number.NaN })).rejects.toBeInstanceOf(RangeError);
      const badSizer = variant.create<string, string>({ sizer: () => Infinity });
      await expect(badSizer.getOrCompute('c', () => 'C')).rejects.toThrow(/sizer/);
      expect(badSizer.stats().inFlight).toBe(0);
    });

    it('peek touches recency: LRU evicts the entry not looked at', async () => {
      const cache = variant.create<string, number>({ admission: 'lru', maxEntries: 2, stripes: 1 });
      await cache.set('a', 1);
      await cache.set('b', 2);
      expect(cache.peek('a')).toBe(1);
      await cache.set('c', 3);
      expect(cache.peek('b')).toBeUndefined();
      expect(cache.peek('a')).toBe(1);
      expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, evictions: 1, entries: 2 });
    });

    it('W-TinyLFU keeps a hot working set through a one-off flood of distinct keys; LRU does not', async () => {
      const survivors = async (admission: 'lru' | 'tinylfu'): Promise<number> => {
        const cache = variant.create<string, number>({ admission, maxEntries: 400 });
        const hot = Array.from({ length: 200 }, (_, i) => `hot:${i}`);
        for (let round = 0; round < 5; round++) for (const key of hot) await cache.getOrCompute(key, () => round);
        for (let i = 0; i < 20_000; i++) await cache.getOrCompute(`import:${i}`, () => i); // the bulk import
        return hot.filter((key) => cache.peek(key) !== undefined).length;
      };
      expect(await survivors('tinylfu')).toBeGreaterThanOrEqual(190);
      expect(await survivors('lru')).toBe(0);
    });

    it('W-TinyLFU admits a new key that becomes popular', async () => {
      const cache = variant.create<string, number>({ maxEntries: 64 });
      for (let i = 0; i < 64; i++) for (let r = 0; r < 2; r++) await cache.getOrCompute(`old:${i}`, () => i);
      for (let r = 0; r < 10; r++) await cache.getOrCompute('rising', () => r);
      for (let i = 0; i < 200; i++) await cache.getOrCompute(`noise:${i}`, () => i);
      expect(cache.peek('rising')).toBe(0);
    });
  });
}

describe('ShardedCache striping', () => {
  it('splits maxEntries and maxCost over the stripes so the total bound holds exactly', async () => {
    const cache = new ShardedCache<number, number>({ admission: 'lru', stripes: 8, maxEntries: 100, maxCost: 1_000, sizer: (v) => v });
    for (let i = 0; i < 5_000; i++) await cache.set(i, 1 + (i % 20));
    const { entries, cost } = cache.stats();
    expect(entries).toBeLessThanOrEqual(100);
    expect(cost).toBeLessThanOrEqual(1_000);
    expect(entries).toBeGreaterThan(50); // every stripe holds its share
  });

  it('maps string and number keys to stable stripes, spread over all of them', () => {
    const cache = new ShardedCache<string | number, number>({ stripes: 16 });
    const used = new Set<number>();
    for (let i = 0; i < 1_000; i++) {
      used.add(cache.stripeOf(`select * from t where id = ${i}`));
      used.add(cache.stripeOf(i));
    }
    expect(used.size).toBe(16);
    expect(cache.stripeOf('users')).toBe(new ShardedCache<string, number>({ stripes: 16 }).stripeOf('users'));
    expect(cache.stripeCount).toBe(16);
  });

  it('uses no more stripes than maxEntries, so every stripe can hold an entry', async () => {
    const cache = new ShardedCache<string, number>({ stripes: 16, maxEntries: 3 });
    expect(cache.stripeCount).toBe(3);
    await cache.set('a', 1);
    expect(cache.peek('a')).toBe(1);
  });

  it('rejects nonsensical options with a message', () => {
    expect(() => new ShardedCache({ stripes: 0 })).toThrow(/stripes must be an integer >= 1/);
    expect(() => new MutexCache({ maxEntries: -1 })).toThrow(/maxEntries/);
    expect(() => new MutexCache({ maxCost: Number.NaN })).toThrow(/maxCost/);
    expect(() => new MutexCache({ admission: 'lfu' as never })).toThrow(/admission/);
  });
});
