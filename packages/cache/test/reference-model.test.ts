import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StripedCache } from '../src/index.js';
import { stripeCapacities, stripeOf, variants } from './support/cache-variants.js';
import { ReferenceModel } from './support/reference-model.js';

/**
 * Random operation sequences, run one at a time against each variant and against the sequential reference model.
 * With LRU admission the cache must match the model exactly (values, removals, stats); with W-TinyLFU, which keeps a
 * different set of entries by design, every value it returns must be the key's latest value and the bounds must hold.
 */
type Key = string | number;
interface Value {
  readonly key: Key;
  readonly serial: number;
  readonly cost: number;
}

type Op =
  | { op: 'getOrCompute'; key: Key; cost: number; fails: boolean }
  | { op: 'get' | 'peek' | 'delete'; key: Key }
  | { op: 'set'; key: Key; cost: number }
  | { op: 'invalidate'; matching: Key[] | undefined }
  | { op: 'clear' };

const keyArb = fc.oneof(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), fc.integer({ min: 0, max: 6 }));
const costArb = fc.integer({ min: 0, max: 5 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('getOrCompute' as const), key: keyArb, cost: costArb, fails: fc.boolean() }).map((o) => ({ ...o, fails: o.fails && o.cost === 0 })) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'peek' as const, 'delete' as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, cost: costArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidate' as const), matching: fc.option(fc.array(keyArb, { maxLength: 4 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);
const configArb = fc.record({
  maxEntries: fc.integer({ min: 1, max: 8 }),
  maxCost: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 16 })),
  sized: fc.boolean(),
});

const allKeys: Key[] = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 0, 1, 2, 3, 4, 5, 6];

for (const variant of variants) {
  describe(`${variant.name} against the reference model`, () => {
    it('matches the sequential LRU model exactly', async () => {
      await fc.assert(
        fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 60 }), async (config, ops) => {
          const cache = variant.create<Key, Value>({
            admission: 'lru',
            maxEntries: config.maxEntries,
            maxCost: config.maxCost,
            sizer: config.sized ? (v) => v.cost : undefined,
          });
          const model = new ReferenceModel<Key, Value>(
            stripeCapacities(cache.stripeCount, config.maxEntries, config.maxCost),
            stripeOf(cache),
          );
          let serial = 0;
          for (const op of ops) {
            const value = { key: 'key' in op ? op.key : '', serial: ++serial, cost: 'cost' in op ? op.cost : 0 };
            const cost = config.sized ? value.cost : 1;
            switch (op.op) {
              case 'getOrCompute': {
                const expected = model.getOrCompute(op.key, value, cost, op.fails);
                const actual = await cache
                  .getOrCompute(op.key, async () => {
                    if (op.fails) throw new Error('compute failed');
                    return value;
                  })
                  .catch(() => 'error' as const);
                expect(actual).toEqual(expected === 'error' ? 'error' : expected.value);
                break;
              }
              case 'get':
                expect(await cache.get(op.key)).toEqual(model.lookup(op.key));
                break;
              case 'peek':
                expect(cache.peek(op.key)).toEqual(model.lookup(op.key));
                break;
              case 'set':
                model.set(op.key, value, cost);
                await cache.set(op.key, value);
                break;
              case 'delete':
                expect(await cache.delete(op.key)).toBe(model.delete(op.key));
                break;
              case 'invalidate': {
                const predicate = op.matching && ((k: Key) => op.matching!.includes(k));
                expect(await cache.invalidate(predicate)).toBe(model.invalidate(predicate));
                break;
              }
              case 'clear':
                model.invalidate();
                await cache.clear();
                break;
            }
            expect(cache.stats()).toEqual({
              hits: model.hits,
              misses: model.misses,
              evictions: model.evictions,
              rejectedByEpoch: 0,
              rejectedSuperseded: 0,
              inFlight: 0,
              entries: model.entries,
              cost: model.cost,
              epoch: model.epoch,
            });
          }
          for (const key of allKeys) expect(cache.peek(key)).toEqual(model.lookup(key));
        }),
        { numRuns: 300 },
      );
    });

    it('with W-TinyLFU, returns only the latest value of a key and stays within bounds', async () => {
      await fc.assert(
        fc.asyncProperty(configArb, fc.array(opArb, { maxLength: 80 }), async (config, ops) => {
          const cache: StripedCache<Key, Value> = variant.create<Key, Value>({
            admission: 'tinylfu',
            maxEntries: config.maxEntries,
            maxCost: config.maxCost,
            sizer: config.sized ? (v) => v.cost : undefined,
          });
          // The latest value written for each key; the cache may hold it or nothing, never anything else.
          const latest = new Map<Key, Value>();
          let serial = 0;
          let lookups = 0;
          const checkHit = (key: Key, got: Value | undefined): void => {
            if (got !== undefined) expect(got).toBe(latest.get(key));
          };
          for (const op of ops) {
            const value = { key: 'key' in op ? op.key : '', serial: ++serial, cost: 'cost' in op ? op.cost : 0 };
            switch (op.op) {
              case 'getOrCompute': {
                lookups++;
                let computed = false;
                const got = await cache
                  .getOrCompute(op.key, () => {
                    computed = true;
                    if (op.fails) throw new Error('compute failed');
                    return value;
                  })
                  .catch(() => undefined);
                if (computed) {
                  expect(got).toBe(op.fails ? undefined : value);
                  if (op.fails) latest.delete(op.key);
                  else latest.set(op.key, value);
                } else {
                  checkHit(op.key, got);
                }
                break;
              }
              case 'get':
                lookups++;
                checkHit(op.key, await cache.get(op.key));
                break;
              case 'peek':
                lookups++;
                checkHit(op.key, cache.peek(op.key));
                break;
              case 'set':
                latest.set(op.key, value);
                await cache.set(op.key, value);
                break;
              case 'delete':
                latest.delete(op.key);
                await cache.delete(op.key);
                break;
              case 'invalidate': {
                const predicate = op.matching && ((k: Key) => op.matching!.includes(k));
                for (const key of [...latest.keys()]) if (!predicate || predicate(key)) latest.delete(key);
                await cache.invalidate(predicate);
                break;
              }
              case 'clear':
                latest.clear();
                await cache.clear();
                break;
            }
            const stats = cache.stats();
            expect(stats.entries).toBeLessThanOrEqual(config.maxEntries);
            expect(stats.cost).toBeLessThanOrEqual(config.maxCost);
            expect(stats.hits + stats.misses).toBe(lookups);
            expect(stats.inFlight).toBe(0);
          }
          for (const key of allKeys) checkHit(key, cache.peek(key));
        }),
        { numRuns: 300 },
      );
    });
  });
}
