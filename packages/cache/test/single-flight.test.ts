import { describe, expect, it } from 'vitest';
import { CacheDisposedError } from '../src/index.js';
import { variants } from './support/cache-variants.js';

/** A promise plus the functions that settle it, so a test decides when a compute finishes. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

for (const variant of variants) {
  describe(`${variant.name} single-flight`, () => {
    it('100,000 concurrent callers on one cold key run exactly one compute', async () => {
      const cache = variant.create<string, object>();
      let computes = 0;
      const result = {};
      const callers = Array.from({ length: 100_000 }, () =>
        cache.getOrCompute('cold', async () => {
          computes++;
          await new Promise((resolve) => setImmediate(resolve));
          return result;
        }),
      );
      expect(cache.stats().inFlight).toBe(1);
      const results = await Promise.all(callers);
      expect(computes).toBe(1);
      expect(results.every((r) => r === result)).toBe(true);
      expect(cache.stats()).toMatchObject({ misses: 100_000, hits: 0, entries: 1, inFlight: 0 });
    });

    it('a synchronous compute is still shared by callers that arrive before its insert', async () => {
      const cache = variant.create<string, number>();
      let computes = 0;
      const results = await Promise.all([1, 2, 3].map(() => cache.getOrCompute('k', () => ++computes)));
      expect(results).toEqual([1, 1, 1]);
      expect(await cache.getOrCompute('k', () => ++computes)).toBe(1);
      expect(cache.stats()).toMatchObject({ hits: 1, misses: 3 });
    });

    it('a failed compute rejects every waiting caller with its error and caches nothing', async () => {
      const cache = variant.create<string, number>();
      const gate = deferred<number>();
      let computes = 0;
      const callers = [1, 2, 3].map(() =>
        cache.getOrCompute('k', () => {
          computes++;
          return gate.promise;
        }),
      );
      const failure = new Error('planner failed');
      gate.reject(failure);
      for (const caller of callers) await expect(caller).rejects.toBe(failure);
      expect(computes).toBe(1);
      expect(cache.peek('k')).toBeUndefined();
      expect(cache.stats()).toMatchObject({ entries: 0, inFlight: 0 });
      // The next caller computes again.
      expect(await cache.getOrCompute('k', () => 7)).toBe(7);
    });

    it('a synchronously throwing compute rejects its callers', async () => {
      const cache = variant.create<string, number>();
      await expect(
        cache.getOrCompute('k', () => {
          throw new Error('sync throw');
        }),
      ).rejects.toThrow('sync throw');
      expect(cache.stats().inFlight).toBe(0);
    });

    it('an aborted caller stops waiting without cancelling the compute the others wait for', async () => {
      const cache = variant.create<string, string>();
      const gate = deferred<string>();
      let computeSignal: AbortSignal | undefined;
      const controller = new AbortController();
      const patient = cache.getOrCompute('k', (signal) => {
        computeSignal = signal;
        return gate.promise;
      });
      const impatient = cache.getOrCompute('k', () => 'never', { signal: controller.signal });
      const reason = new Error('client disconnected');
      controller.abort(reason);
      await expect(impatient).rejects.toBe(reason);
      expect(computeSignal!.aborted).toBe(false);
      gate.resolve('plan');
      expect(await patient).toBe('plan');
      expect(cache.peek('k')).toBe('plan');
    });

    it('a caller whose signal is already aborted is rejected at once and starts no compute', async () => {
      const cache = variant.create<string, string>();
      let computes = 0;
      const reason = new Error('gone');
      await expect(
        cache.getOrCompute('k', () => String(++computes), { signal: AbortSignal.abort(reason) }),
      ).rejects.toBe(reason);
      expect(computes).toBe(0);
      expect(cache.stats().inFlight).toBe(0);
    });

    it("aborts compute's signal once its result is unusable: superseded and every caller gone", async () => {
      const cache = variant.create<string, string>();
      const gate = deferred<string>();
      let computeSignal: AbortSignal | undefined;
      const controller = new AbortController();
      const caller = cache.getOrCompute(
        'k',
        (signal) => {
          computeSignal = signal;
          return gate.promise;
        },
        { signal: controller.signal },
      );
      controller.abort(new Error('gone'));
      await expect(caller).rejects.toThrow('gone');
      expect(computeSignal!.aborted).toBe(false); // still cacheable: the next caller may want it
      await cache.delete('k');
      expect(computeSignal!.aborted).toBe(true);
      gate.resolve('late');
      await new Promise((resolve) => setImmediate(resolve));
      expect(cache.peek('k')).toBeUndefined();
      expect(cache.stats()).toMatchObject({ inFlight: 0, rejectedSuperseded: 1 });
    });

    it('get() joins a compute in flight and resolves undefined if it fails', async () => {
      const cache = variant.create<string, string>();
      const ok = deferred<string>();
      void cache.getOrCompute('a', () => ok.promise);
      const got = cache.get('a');
      ok.resolve('A');
      expect(await got).toBe('A');
      const bad = deferred<string>();
      const failing = cache.getOrCompute('b', () => bad.promise).catch(() => 'failed');
      const gotB = cache.get('b');
      bad.reject(new Error('x'));
      expect(await gotB).toBeUndefined();
      expect(await failing).toBe('failed');
      expect(await cache.get('missing')).toBeUndefined();
    });

    it('misses on different keys compute concurrently (computes run outside the lock)', async () => {
      const cache = variant.create<string, string>();
      const gates = ['a', 'b', 'c'].map(() => deferred<string>());
      let running = 0;
      let maxRunning = 0;
      const callers = ['a', 'b', 'c'].map((key, i) =>
        cache.getOrCompute(key, async () => {
          maxRunning = Math.max(maxRunning, ++running);
          const v = await gates[i].promise;
          running--;
          return v;
        }),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(maxRunning).toBe(3);
      expect(cache.stats().inFlight).toBe(3);
      gates.forEach((g, i) => g.resolve(String(i)));
      expect(await Promise.all(callers)).toEqual(['0', '1', '2']);
    });

    it('dispose() aborts running computes and makes further calls reject with errno 1105', async () => {
      const cache = variant.create<string, string>();
      await cache.set('x', 'X');
      let computeSignal: AbortSignal | undefined;
      const running = cache.getOrCompute('k', (signal) => {
        computeSignal = signal;
        return new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      });
      cache.dispose();
      expect(computeSignal!.aborted).toBe(true);
      await expect(running).rejects.toBeInstanceOf(CacheDisposedError);
      expect(cache.peek('x')).toBeUndefined();
      const error = await cache.getOrCompute('k', () => 'v').catch((e: unknown) => e);
      expect(error).toMatchObject({ errno: 1105, sqlState: 'HY000' });
      await expect(cache.set('k', 'v')).rejects.toBeInstanceOf(CacheDisposedError);
      await expect(cache.invalidate()).rejects.toBeInstanceOf(CacheDisposedError);
      expect(cache.stats().entries).toBe(0);
    });
  });
}
