import { describe, expect, it } from 'vitest';
import {
  CallbackLimitExceededError,
  explore,
  FuzzedTimer,
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

describe('bugs hidden from natural scheduling (no raceYield, only awaits on setImmediate)', () => {
  const hidden = Object.entries(plantedBugs).filter(([, bug]) => 'hiddenFromNaturalScheduling' in bug && bug.hiddenFromNaturalScheduling);

  it('the shared-cursor lost update is among them', () => {
    expect(hidden.map(([name]) => name)).toContain('sharedCursorLostUpdate');
  });

  for (const [name, bug] of hidden) {
    it(`${name}: passes 300 times under Node's own scheduling, and under explore() with the event loop left to Node`, async () => {
      for (let i = 0; i < 300; i++) await bug.buggyScenario()({} as ExploreContext);
      await expect(explore(bug.buggyScenario(), { seeds: SEEDS, eventLoop: false })).resolves.toEqual({ seedsRun: SEEDS });
    });
  }
});

describe('the event loop inside explore()', () => {
  const realGlobals = () => [setImmediate, clearImmediate, setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask];

  it('restores every timer global after each run, also when the run throws', async () => {
    const before = realGlobals();
    let inside: unknown[] = [];
    await explore(
      async () => {
        inside = realGlobals();
      },
      { seeds: 3 },
    );
    expect(inside).not.toEqual(before);
    expect(realGlobals()).toEqual(before);
    const err = await explore(
      async () => {
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('boom');
      },
      { seeds: 1 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RaceFoundError);
    expect(realGlobals()).toEqual(before);
  });

  it('concurrent explore() calls each fuzz their own runs and restore the globals when the last ends', async () => {
    const before = realGlobals();
    const bug = plantedBugs.sharedCursorLostUpdate;
    const [found, fixed] = await Promise.all([
      explore(bug.buggyScenario(), { seeds: SEEDS }).catch((e: unknown) => e),
      explore(bug.fixedScenario(), { seeds: 200 }),
    ]);
    expect(found).toBeInstanceOf(RaceFoundError);
    expect(fixed).toEqual({ seedsRun: 200 });
    expect(realGlobals()).toEqual(before);
  });

  it('fuzzes only the run: timers made outside its async context stay Node timers', async () => {
    let outside: unknown;
    let insideTimer: unknown;
    const elsewhere = new Promise<void>((resolve) => {
      // A callback that runs while the run is in progress, but outside its context.
      const poll = (): void => {
        if (insideTimer === undefined) {
          setImmediate(poll);
          return;
        }
        outside = setTimeout(() => undefined, 0);
        resolve();
      };
      setImmediate(poll);
    });
    await explore(
      async () => {
        insideTimer = setTimeout(() => undefined, 0);
        await elsewhere;
      },
      { seeds: 1 },
    );
    expect(insideTimer).toBeInstanceOf(FuzzedTimer);
    expect(outside).not.toBeInstanceOf(FuzzedTimer);
    clearTimeout(outside as NodeJS.Timeout);
  });

  it('timers keep their order of due time, clear, repeat and never fire early', async () => {
    await explore(
      async () => {
        const fired: string[] = [];
        const done = new Promise<void>((resolve) => {
          setTimeout(() => fired.push('t5'), 5);
          setTimeout(() => fired.push('t1'), 1);
          setTimeout(() => fired.push('t1b'), 1);
          const cancelled = setTimeout(() => fired.push('cancelled'), 2);
          clearTimeout(cancelled);
          let n = 0;
          const interval = setInterval(() => {
            fired.push(`i${++n}`);
            if (n === 3) clearInterval(interval);
          }, 2);
          setTimeout(resolve, 50);
        });
        await done;
        const timers = fired.filter((f) => f.startsWith('t'));
        expect(timers).toEqual(['t1', 't1b', 't5']);
        expect(fired.filter((f) => f.startsWith('i'))).toEqual(['i1', 'i2', 'i3']);
        // The interval at 2, 4, 6 ms around the timers at 1 and 5 ms.
        expect(fired).toEqual(['t1', 't1b', 'i1', 'i2', 't5', 'i3']);
      },
      { seeds: 200 },
    );
  });

  it('queueMicrotask callbacks all run, before the next macrotask, in a seeded order', async () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      await explore(
        async () => {
          const ran: number[] = [];
          const macrotask = new Promise<number>((resolve) => setImmediate(() => resolve(ran.length)));
          for (let i = 0; i < 4; i++) queueMicrotask(() => ran.push(i));
          expect(await macrotask).toBe(4);
          orders.add(ran.join());
        },
        { seeds: 1, firstSeed: seed },
      );
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('a callback that throws fails the run with its error (Node would report it uncaught)', async () => {
    const err = await explore(
      async () => {
        setImmediate(() => {
          throw new Error('thrown in a callback');
        });
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      { seeds: 1 },
    ).catch((e: unknown) => e);
    expect((err as RaceFoundError).cause).toEqual(new Error('thrown in a callback'));
  });

  it('callbacks left pending when the run ends still run, on Node\'s loop; intervals stop', async () => {
    let late = false;
    let ticks = 0;
    await explore(
      async () => {
        setTimeout(() => (late = true), 20);
        setInterval(() => ticks++, 1);
      },
      { seeds: 1 },
    );
    const ticksAtEnd = ticks;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(late).toBe(true);
    expect(ticks).toBe(ticksAtEnd);
  });

  it('bounds the callbacks of a run (a setImmediate loop that never ends) and stops it', async () => {
    let spins = 0;
    const err = await explore(
      async () => {
        const spin = (): void => {
          spins++;
          setImmediate(spin);
        };
        spin();
        await new Promise((resolve) => setTimeout(resolve, 1_000_000));
      },
      { seeds: 1, steps: 100 },
    ).catch((e: unknown) => e);
    expect((err as RaceFoundError).cause).toBeInstanceOf(CallbackLimitExceededError);
    const atEnd = spins;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spins).toBe(atEnd);
  });

  it('interleaves plain awaits of two tasks differently per seed, and the same way for the same seed', async () => {
    const orderOf = async (seed: number): Promise<string> => {
      const order: string[] = [];
      await explore(
        async () => {
          const task = async (name: string) => {
            for (let i = 0; i < 3; i++) {
              await new Promise((resolve) => setImmediate(resolve));
              order.push(`${name}${i}`);
              await Promise.resolve();
              order.push(`${name}${i}'`);
            }
          };
          await Promise.all([task('a'), task('b')]);
        },
        { seeds: 1, firstSeed: seed },
      );
      return order.join(',');
    };
    expect(await orderOf(3)).toBe(await orderOf(3));
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) seen.add(await orderOf(seed));
    expect(seen.size).toBeGreaterThan(5);
    // Some seed runs the two tasks' continuations between each other's plain awaits.
    expect([...seen].some((o) => /a(\d),b\d,a\1'/.test(o) || /b(\d),a\d,b\1'/.test(o))).toBe(true);
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
