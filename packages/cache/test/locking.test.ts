import { Mutex } from 'async-mutex';
import { describe, expect, it } from 'vitest';
import { variants } from './support/cache-variants.js';

describe('stripe locks', () => {
  it('async-mutex takes a free Mutex synchronously (the uncontended fast path relies on it)', () => {
    const mutex = new Mutex();
    void mutex.acquire();
    expect(mutex.isLocked()).toBe(true);
    mutex.release();
    expect(mutex.isLocked()).toBe(false);
  });

  for (const variant of variants) {
    it(`${variant.name}: a mutation started from inside a locked section waits for it (no re-entry)`, async () => {
      const cache = variant.create<string, number>();
      await cache.set('a', 1);
      await cache.set('b', 2);
      let nested: Promise<void> | undefined;
      const removed = await cache.invalidate((key) => {
        // Caller code running inside invalidate's section: its set must not run inside the section.
        nested ??= cache.set('late', 3);
        expect(cache.peek('late')).toBeUndefined();
        return key === 'a';
      });
      expect(removed).toBe(1);
      await nested;
      expect(cache.peek('late')).toBe(3);
      expect(cache.peek('b')).toBe(2);
      expect(cache.peek('a')).toBeUndefined();
    });

    it(`${variant.name}: LRU order stays exact while the slot table grows and reuses slots`, async () => {
      const cache = variant.create<number, number>({ admission: 'lru', maxEntries: 100, stripes: 1 });
      for (let i = 0; i < 1_000; i++) await cache.set(i, i);
      for (let i = 0; i < 1_000; i++) expect(cache.peek(i)).toBe(i >= 900 ? i : undefined);
      expect(cache.stats()).toMatchObject({ entries: 100, evictions: 900 });
    });
  }
});
