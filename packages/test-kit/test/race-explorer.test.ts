import { describe, expect, it } from 'vitest';
import {
  explore,
  fakeShardStream,
  plantedBugs,
  raceYield,
  RaceFoundError,
  replay,
  StepLimitExceededError,
  type ExploreContext,
} from '../src/index.js';

const SEEDS = 1_000;

async function findRace(scenario: (ctx: ExploreContext) => Promise<void>): Promise<RaceFoundError> {
  const err = await explore(scenario, { seeds: SEEDS }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RaceFoundError);
  return err as RaceFoundError;
}

describe('explore() finds each planted bug within 1,000 seeds and passes each fix on every seed', () => {
  for (const [name, bug] of Object.entries(plantedBugs)) {
    it(`${name}: finds the bug, replays it, and the fix survives all seeds`, async () => {
      const found = await findRace(bug.buggyScenario());
      expect(found.message).toContain(`replay with seed ${found.seed}`);
      expect(found.cause).toBeInstanceOf(Error);
      // Replaying the reported seed fails the same way, every time.
      for (let i = 0; i < 3; i++) {
        const again = await replay(bug.buggyScenario(), found.seed).catch((e: unknown) => e);
        expect(again).toBeInstanceOf(RaceFoundError);
        expect((again as RaceFoundError).message).toBe(found.message);
      }
      await expect(explore(bug.fixedScenario(), { seeds: SEEDS })).resolves.toEqual({ seedsRun: SEEDS });
    });
  }

  it('the bugs are schedule-dependent: some seeds pass, some fail', async () => {
    for (const bug of Object.values(plantedBugs)) {
      let failing = 0;
      for (let seed = 1; seed <= 60; seed++) {
        if (await replay(bug.buggyScenario(), seed).then(() => false, () => true)) failing++;
      }
      expect(failing).toBeGreaterThan(0);
      expect(failing).toBeLessThan(60);
    }
  });
});

describe('schedules', () => {
  async function scheduleOf(seed: number): Promise<string> {
    let trace: readonly string[] = [];
    const order: string[] = [];
    await explore(
      async (ctx) => {
        await ctx.parallel(
          ['a', 'b', 'c', 'd'].map((name) => async () => {
            for (let i = 0; i < 3; i++) {
              await raceYield(`${name}${i}`);
              await Promise.resolve(); // uninstrumented await
              order.push(`${name}${i}`);
            }
          }),
        );
        trace = ctx.schedule();
      },
      { seeds: 1, firstSeed: seed },
    );
    return `${trace.join(',')} | ${order.join(',')}`;
  }

  it('same seed gives the same schedule; different seeds give different ones', async () => {
    const first = await scheduleOf(42);
    expect(await scheduleOf(42)).toBe(first);
    const others = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) others.add(await scheduleOf(seed));
    expect(others.size).toBeGreaterThan(10);
  });

  it('ctx.random() is seeded', async () => {
    const draw = async (seed: number) => {
      let values: number[] = [];
      await explore(
        async (ctx) => {
          values = [ctx.random(), ctx.random()];
        },
        { seeds: 1, firstSeed: seed },
      );
      return values;
    };
    expect(await draw(7)).toEqual(await draw(7));
    expect(await draw(7)).not.toEqual(await draw(8));
  });

  it('raceYield outside explore() just resolves', async () => {
    let after = false;
    const p = raceYield('outside').then(() => {
      after = true;
    });
    expect(after).toBe(false);
    await p;
    expect(after).toBe(true);
  });

  it('bounds the number of steps per seed', async () => {
    const err = await explore(
      async () => {
        for (;;) await raceYield('spin');
      },
      { seeds: 1, steps: 100 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RaceFoundError);
    expect((err as RaceFoundError).cause).toBeInstanceOf(StepLimitExceededError);
  });

  it('releases everything when all tasks are parked (no deadlock)', async () => {
    await expect(
      explore(
        async (ctx) => {
          await ctx.parallel(Array.from({ length: 8 }, (_, i) => () => raceYield(`t${i}`)));
        },
        { seeds: 50 },
      ),
    ).resolves.toEqual({ seedsRun: 50 });
  });

  it('fakeShardStream yields every chunk in order', async () => {
    const seen: number[][] = [];
    for await (const chunk of fakeShardStream([[1, 2], [3]])) seen.push([...chunk]);
    expect(seen).toEqual([[1, 2], [3]]);
  });

  it('reports a scenario error thrown on the first seed with that seed', async () => {
    const err = await explore(
      async () => {
        throw new Error('boom');
      },
      { seeds: 5, firstSeed: 9 },
    ).catch((e: unknown) => e);
    expect((err as RaceFoundError).seed).toBe(9);
    expect((err as Error).message).toMatch(/boom[\s\S]*replay with seed 9/);
  });
});
