import { describe, expect, it } from 'vitest';
import {
  ConcurrentMapWriteError,
  createCheckThenActCache,
  createRacySessionConnections,
  createSessionConnections,
  createSingleFlightCache,
  explore,
  FakeShardPool,
  plantedBugs,
  raceCheckedMap,
  RaceFoundError,
  runInRaceContext,
  type MapFactory,
} from '../src/index.js';

const checked: MapFactory = (name) => raceCheckedMap(name);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('raceCheckedMap', () => {
  it('catches planted bug 1 (check-then-act cache) deterministically, without explore()', async () => {
    for (let i = 0; i < 20; i++) {
      const cache = createCheckThenActCache(async (key) => {
        await tick();
        return key.toUpperCase();
      }, checked);
      const results = await Promise.allSettled([runInRaceContext(() => cache.get('k')), runInRaceContext(() => cache.get('k'))]);
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      const reason = (rejected[0] as PromiseRejectedResult).reason as ConcurrentMapWriteError;
      expect(reason).toBeInstanceOf(ConcurrentMapWriteError);
      expect(reason.message).toContain('concurrent map writes');
      expect(reason.errno).toBe(1105);
      expect(reason.sqlState).toBe('HY000');
    }
  });

  it('catches planted bug 3 (two connections reserved for one shard) deterministically', async () => {
    for (let i = 0; i < 20; i++) {
      const pool = new FakeShardPool();
      const session = createRacySessionConnections(pool, checked);
      const results = await Promise.allSettled([
        runInRaceContext(() => session.connectionFor('-80')),
        runInRaceContext(() => session.connectionFor('-80')),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(
        /concurrent map writes on session-connections: key "-80"/,
      );
    }
  });

  it('stays quiet for the fixed versions', async () => {
    const cache = createSingleFlightCache(async (key) => {
      await tick();
      return key;
    }, checked);
    const pool = new FakeShardPool();
    const session = createSessionConnections(pool, checked);
    const values = await Promise.all([
      ...Array.from({ length: 5 }, () => runInRaceContext(() => cache.get('k'))),
      ...Array.from({ length: 5 }, () => runInRaceContext(async () => (await session.connectionFor('-80')).id)),
    ]);
    expect(values.slice(0, 5)).toEqual(['k', 'k', 'k', 'k', 'k']);
    expect(new Set(values.slice(5)).size).toBe(1);
    expect(pool.reserved.get('-80')).toBe(1);
  });

  it('under explore(), flags bugs 1 and 3 with a concurrent-map-writes cause and passes the fixes on every seed', async () => {
    for (const bug of [plantedBugs.checkThenActCache, plantedBugs.sessionConnectionReservation]) {
      const err = await explore(bug.buggyScenario(checked), { seeds: 1_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RaceFoundError);
      expect((err as RaceFoundError).cause).toBeInstanceOf(ConcurrentMapWriteError);
      await expect(explore(bug.fixedScenario(checked), { seeds: 1_000 })).resolves.toEqual({ seedsRun: 1_000 });
    }
  });

  it('does not flag a miss whose context has finished, nor sequential fills', async () => {
    const map = raceCheckedMap<string, number>('m');
    await runInRaceContext(async () => {
      expect(map.get('a')).toBeUndefined(); // looks, never fills, then ends
    });
    await runInRaceContext(async () => {
      map.set('a', 1);
    });
    // Same context: miss, await, fill — fine.
    await runInRaceContext(async () => {
      if (!map.has('b')) {
        await tick();
        map.set('b', 2);
      }
    });
    expect([...map.entries()]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('ignores code outside any race context and behaves as a Map', () => {
    const map = raceCheckedMap<string, number>();
    expect(map.has('x')).toBe(false);
    map.set('x', 1);
    expect(map.get('x')).toBe(1);
    expect(map.size).toBe(1);
    expect(map instanceof Map).toBe(true);
    map.delete('x');
    expect(map.size).toBe(0);
  });
});
