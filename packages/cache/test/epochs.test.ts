import { describe, expect, it } from 'vitest';
import { variants } from './support/cache-variants.js';

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

for (const variant of variants) {
  describe(`${variant.name} epochs`, () => {
    it('a compute that began before invalidate() is handed to its callers but never cached', async () => {
      const cache = variant.create<string, string>();
      const old = deferred<string>();
      const before = cache.getOrCompute('plan', () => old.promise);
      expect(await cache.invalidate()).toBe(0);
      expect(cache.epoch).toBe(1);
      // A caller after the invalidation does not join the old compute: it plans against the new vschema.
      const after = cache.getOrCompute('plan', () => 'plan@v1');
      old.resolve('plan@v0');
      expect(await before).toBe('plan@v0');
      expect(await after).toBe('plan@v1');
      expect(cache.peek('plan')).toBe('plan@v1');
      expect(cache.stats()).toMatchObject({ rejectedByEpoch: 1, inFlight: 0, epoch: 1 });
    });

    it('invalidate(predicate) removes matching entries, counts them and still rejects every older compute', async () => {
      const cache = variant.create<string, string>();
      for (const key of ['users:1', 'users:2', 'orders:1']) await cache.set(key, key);
      const old = deferred<string>();
      const pending = cache.getOrCompute('orders:2', () => old.promise);
      expect(await cache.invalidate((key) => key.startsWith('users:'))).toBe(2);
      expect(cache.peek('users:1')).toBeUndefined();
      expect(cache.peek('orders:1')).toBe('orders:1');
      old.resolve('orders:2@old');
      expect(await pending).toBe('orders:2@old');
      expect(cache.peek('orders:2')).toBeUndefined();
      expect(cache.stats().rejectedByEpoch).toBe(1);
    });

    it('a throwing predicate leaves the cache and the epoch untouched', async () => {
      const cache = variant.create<string, string>();
      await cache.set('a', 'A');
      await expect(
        cache.invalidate(() => {
          throw new Error('bad predicate');
        }),
      ).rejects.toThrow('bad predicate');
      expect(cache.epoch).toBe(0);
      expect(cache.peek('a')).toBe('A');
      // The locks were released.
      expect(await cache.invalidate()).toBe(1);
    });

    it('clear() bumps the epoch like invalidate()', async () => {
      const cache = variant.create<string, string>();
      const old = deferred<string>();
      const pending = cache.getOrCompute('k', () => old.promise);
      await cache.set('other', 'x');
      await cache.clear();
      old.resolve('old');
      await pending;
      expect(cache.stats()).toMatchObject({ entries: 0, epoch: 1, rejectedByEpoch: 1 });
    });

    it('set() during a compute wins: the compute result is not cached over it', async () => {
      const cache = variant.create<string, string>();
      const old = deferred<string>();
      const pending = cache.getOrCompute('k', () => old.promise);
      await cache.set('k', 'explicit');
      old.resolve('computed');
      expect(await pending).toBe('computed');
      expect(cache.peek('k')).toBe('explicit');
      expect(cache.stats().rejectedSuperseded).toBe(1);
    });

    it('delete() during a compute keeps its result out of the cache', async () => {
      const cache = variant.create<string, string>();
      const old = deferred<string>();
      const pending = cache.getOrCompute('k', () => old.promise);
      expect(await cache.delete('k')).toBe(false);
      old.resolve('computed');
      expect(await pending).toBe('computed');
      expect(cache.peek('k')).toBeUndefined();
    });
  });
}
