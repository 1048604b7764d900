import { explore, raceYield, RaceFoundError, replay, type ExploreContext, type RaceScenario } from '@shardgate/test-kit';
import type { MutexInterface } from 'async-mutex';
import { describe, expect, it } from 'vitest';
import { MutexCache, ShardedCache, type AsyncCache, type CacheOptions } from '../src/index.js';
import { NaiveMapCache } from './support/naive-map-cache.js';

/**
 * Interleaving tests: each scenario runs concurrent getOrCompute / set / delete / invalidate / eviction on the same
 * and on different keys under the @shardgate/test-kit race explorer, which resumes every scheduling point (inside the
 * computes, between operations, and between the check and the act of every locked section of the cache, through the
 * `yieldPoint` test hook) in a seeded order. 10,000 seeds per variant; a failing seed is printed and replays with
 * `CACHE_RACE_SEED=<seed> pnpm --filter @shardgate/cache test interleaving`.
 * The same scenarios must catch the deliberately naive Map cache and a MutexCache whose lock is a no-op.
 */
interface Versioned {
  readonly key: string;
  readonly version: number;
  readonly cost: number;
}

type MakeCache = (opts: CacheOptions<string, Versioned>) => AsyncCache<string, Versioned>;

/** What the explored schedules actually exercised, summed over seeds (so a test can show the races were reached). */
interface Coverage {
  rejectedByEpoch: number;
  rejectedSuperseded: number;
  evictions: number;
  seeds: number;
}

function record(coverage: Coverage | undefined, cache: AsyncCache<string, Versioned>): void {
  if (coverage === undefined) return;
  const stats = cache.stats();
  coverage.rejectedByEpoch += stats.rejectedByEpoch;
  coverage.rejectedSuperseded += stats.rejectedSuperseded;
  coverage.evictions += stats.evictions;
  coverage.seeds++;
}

const hooks = { yieldPoint: raceYield };
const subjects: { name: string; make: MakeCache }[] = [
  { name: 'MutexCache', make: (opts) => new MutexCache({ ...opts, testHooks: hooks }) },
  { name: 'ShardedCache', make: (opts) => new ShardedCache({ ...opts, stripes: 4, testHooks: hooks }) },
];

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** Concurrent misses on one key run compute once; everyone gets that result; an aborted caller only stops waiting. */
function singleFlight(make: MakeCache, coverage?: Coverage): RaceScenario {
  return async (ctx) => {
    const cache = make({ maxEntries: 8 });
    const computes = new Map<string, number>();
    const compute = (key: string) => async (): Promise<Versioned> => {
      computes.set(key, (computes.get(key) ?? 0) + 1);
      await raceYield(`compute ${key}`);
      await raceYield(`compute ${key}`);
      return { key, version: 0, cost: 1 };
    };
    const abort = new AbortController();
    const later = async <T>(fn: () => Promise<T>): Promise<T> => {
      const turns = Math.floor(ctx.random() * 4);
      for (let i = 0; i < turns; i++) await ctx.yield('caller waits');
      return fn();
    };
    const [a1, a2, a3, aborted, b1, b2] = await ctx.parallel<unknown>([
      () => cache.getOrCompute('a', compute('a')),
      () => later(() => cache.getOrCompute('a', compute('a'))),
      () => later(() => cache.get('a')),
      () => later(() => cache.getOrCompute('a', compute('a'), { signal: abort.signal }).catch((e: unknown) => e)),
      () => cache.getOrCompute('b', compute('b')),
      () => later(() => cache.getOrCompute('b', compute('b'))),
      () => later(async () => abort.abort(new Error('caller went away'))),
      () => later(async () => cache.peek('a')),
    ]);
    check(computes.get('a') === 1, `compute of 'a' ran ${computes.get('a')} times; single-flight allows 1`);
    check(computes.get('b') === 1, `compute of 'b' ran ${computes.get('b')} times; single-flight allows 1`);
    check(a1 === a2 && b1 === b2, 'callers of one key received different results');
    check(a3 === undefined || a3 === a1, 'get() returned a value other than the computed one');
    check(aborted === a1 || (aborted instanceof Error && aborted.message === 'caller went away'), 'aborted caller got neither the value nor its abort reason');
    check(cache.peek('a') === a1 && cache.peek('b') === b1, 'computed values were not cached');
    check(cache.stats().inFlight === 0, 'a compute is still counted in flight');
    record(coverage, cache);
  };
}

/** A compute that began before invalidate() must not insert afterwards; callers after it see the new version. */
function epochs(make: MakeCache, coverage?: Coverage): RaceScenario {
  return async (ctx) => {
    const cache = make({ maxEntries: 8 });
    let version = 0;
    const onlyA = ctx.random() < 0.5;
    const compute = (key: string) => async (): Promise<Versioned> => {
      const seen = version; // the "vschema" this compute plans against
      await raceYield(`compute ${key}`);
      await raceYield(`compute ${key}`);
      return { key, version: seen, cost: 1 };
    };
    await ctx.parallel<unknown>([
      () => cache.getOrCompute('a', compute('a')),
      () => cache.getOrCompute('a', compute('a')),
      () => cache.getOrCompute('b', compute('b')),
      async () => {
        await ctx.yield('vschema changes');
        const mine = ++version;
        await cache.invalidate(onlyA ? (key) => key === 'a' : undefined);
        for (const key of onlyA ? ['a'] : ['a', 'b']) {
          const cached = cache.peek(key);
          check(cached === undefined || cached.version >= mine, `stale '${key}' (v${cached?.version}) cached after invalidate of v${mine}`);
        }
        const fresh = await cache.getOrCompute('a', compute('a'));
        check(fresh.version >= mine, `caller after invalidate of v${mine} got a plan of v${fresh.version}`);
      },
      async () => {
        await ctx.yield('late caller');
        await ctx.yield('late caller');
        return cache.getOrCompute('a', compute('a'));
      },
      async () => {
        await ctx.yield('late caller');
        return cache.getOrCompute('b', compute('b'));
      },
    ]);
    for (const key of onlyA ? ['a'] : ['a', 'b']) {
      const cached = cache.peek(key);
      check(cached === undefined || cached.version === version, `stale '${key}' (v${cached?.version}) cached at v${version}`);
    }
    check(cache.stats().inFlight === 0, 'a compute is still counted in flight');
    record(coverage, cache);
  };
}

/** Random getOrCompute/set/delete/invalidate/peek on a few keys in a cache small enough to evict constantly. */
function mixedWithEviction(make: MakeCache, coverage?: Coverage): RaceScenario {
  return async (ctx) => {
    const maxEntries = 3;
    const maxCost = 6;
    const keys = ['a', 'b', 'c', 'd'];
    const cache = make({ maxEntries, maxCost, sizer: (v) => v.cost });
    let version = 0;
    let invalidated = 0; // newest version whose invalidate() has resolved
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(ctx.random() * xs.length)];
    const checkBounds = (): void => {
      const { entries, cost } = cache.stats();
      check(entries <= maxEntries && cost <= maxCost, `bounds exceeded: ${entries} entries, cost ${cost}`);
    };
    const checkValue = (key: string, v: Versioned | undefined): void => {
      check(v === undefined || v.key === key, `key '${key}' returned the value of '${v?.key}'`);
    };
    const compute = (key: string, cost: number) => async (): Promise<Versioned> => {
      const seen = version;
      await raceYield(`compute ${key}`);
      checkBounds();
      return { key, version: seen, cost };
    };
    const op = (): (() => Promise<void>) => {
      const key = pick(keys);
      const cost = 1 + Math.floor(ctx.random() * 3);
      switch (pick(['getOrCompute', 'getOrCompute', 'set', 'delete', 'invalidate', 'peek'])) {
        case 'getOrCompute':
          return async () => checkValue(key, await cache.getOrCompute(key, compute(key, cost)));
        case 'set':
          return () => cache.set(key, { key, version, cost });
        case 'delete':
          return async () => void (await cache.delete(key));
        case 'invalidate':
          return async () => {
            const mine = ++version;
            await cache.invalidate();
            invalidated = Math.max(invalidated, mine);
          };
        default:
          return async () => checkValue(key, cache.peek(key));
      }
    };
    const tasks = Array.from({ length: 5 }, () => {
      const ops = [op(), op(), op()];
      return async () => {
        for (const run of ops) {
          await run();
          checkBounds();
          await ctx.yield('next op');
        }
      };
    });
    await ctx.parallel(tasks);
    const entries = cache.stats().entries;
    let present = 0;
    for (const key of keys) {
      const v = cache.peek(key);
      checkValue(key, v);
      if (v === undefined) continue;
      present++;
      check(v.version >= invalidated, `stale '${key}' (v${v.version}) survived the invalidate of v${invalidated}`);
    }
    check(present === entries, `stats say ${entries} entries, ${present} are reachable`);
    check(cache.stats().inFlight === 0, 'a compute is still counted in flight');
    record(coverage, cache);
  };
}

const scenarios: {
  name: string;
  build: (make: MakeCache, coverage?: Coverage) => RaceScenario;
  seeds: number;
  /** Counters that some explored schedule must have driven above zero. */
  reaches: (keyof Coverage)[];
}[] = [
  { name: 'single-flight on the same and on different keys', build: singleFlight, seeds: 3_500, reaches: [] },
  { name: 'epochs: invalidate racing computes', build: epochs, seeds: 3_500, reaches: ['rejectedByEpoch'] },
  {
    name: 'getOrCompute/set/delete/invalidate/evict mixed',
    build: mixedWithEviction,
    seeds: 3_000,
    reaches: ['rejectedByEpoch', 'rejectedSuperseded', 'evictions'],
  },
];

/** Explores `seeds` schedules, or replays the one in CACHE_RACE_SEED; prints any failing seed. */
async function exploreOrReplay(name: string, scenario: RaceScenario, seeds: number): Promise<number> {
  const only = process.env.CACHE_RACE_SEED;
  try {
    if (only !== undefined) {
      await replay(scenario, Number(only));
      return 1;
    }
    return (await explore(scenario, { seeds })).seedsRun;
  } catch (error) {
    if (error instanceof RaceFoundError) {
      console.error(`${name}: failing seed ${error.seed}; replay with CACHE_RACE_SEED=${error.seed}\n${error.message}`);
    }
    throw error;
  }
}

for (const subject of subjects) {
  describe(`${subject.name} under the race explorer`, () => {
    let total = 0;
    for (const scenario of scenarios) {
      it(`${scenario.name} (${scenario.seeds} seeds)`, async () => {
        const coverage: Coverage = { rejectedByEpoch: 0, rejectedSuperseded: 0, evictions: 0, seeds: 0 };
        const run = scenario.build(subject.make, coverage);
        total += await exploreOrReplay(`${subject.name} ${scenario.name}`, run, scenario.seeds);
        if (process.env.CACHE_RACE_SEED !== undefined) return;
        for (const counter of scenario.reaches) expect(coverage[counter], counter).toBeGreaterThan(0);
      });
    }
    it('ran at least 10,000 seeded schedules', () => {
      if (process.env.CACHE_RACE_SEED === undefined) expect(total).toBeGreaterThanOrEqual(10_000);
    });
  });
}

/** A Mutex that does not exclude anything: the cache with it must fail, which proves the real lock is load-bearing. */
function noopMutex(): MutexInterface {
  const release = (): void => {};
  return {
    acquire: async () => release,
    runExclusive: async (worker) => worker(),
    waitForUnlock: async () => {},
    isLocked: () => false,
    release,
    cancel: () => {},
  };
}

const brokenSubjects: { name: string; make: MakeCache; catches: string[] }[] = [
  { name: 'the naive Map cache (check-then-act across an await)', make: (opts) => new NaiveMapCache(opts.maxEntries), catches: ['single-flight', 'epochs'] },
  {
    name: 'MutexCache with a no-op lock',
    make: (opts) => new MutexCache({ ...opts, testHooks: { yieldPoint: raceYield, createMutex: noopMutex } }),
    catches: ['epochs', 'getOrCompute/set'],
  },
];

describe('the same scenarios catch broken caches', () => {
  for (const broken of brokenSubjects) {
    for (const scenario of scenarios.filter((s) => broken.catches.some((c) => s.name.startsWith(c)))) {
      it(`${broken.name}: ${scenario.name}`, async () => {
        const run = scenario.build(broken.make);
        const found = await explore(run, { seeds: 2_000 }).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(found).toBeInstanceOf(RaceFoundError);
        const { seed, cause } = found as RaceFoundError;
        console.info(`${broken.name}, ${scenario.name}: caught at seed ${seed}: ${(cause as Error).message}`);
        // Replayable: the same seed fails the same way again.
        await expect(replay(run, seed)).rejects.toMatchObject({ seed, cause: { message: (cause as Error).message } });
      });
    }
  }
});

export type { ExploreContext };
