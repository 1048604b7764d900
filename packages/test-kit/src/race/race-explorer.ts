import { currentScheduler, runInRaceContext, runWithScheduler } from './race-context.js';
import { EventLoopFuzzer, installFuzzedTimers, realTimers } from './event-loop-fuzzer.js';
import { RaceScheduler } from './race-scheduler.js';
import { deriveSeed, seededRandom } from './seeded-random.js';

/** Handed to each explore() scenario run. */
export interface ExploreContext {
  readonly seed: number;
  /** Seeded randomness for the scenario itself (independent of the schedule's stream). */
  random(): number;
  /** A scheduling point of this run (same as raceYield inside the run). */
  yield(label?: string): Promise<void>;
  /** Runs fn as its own task (own race-context id), starting after a scheduling point. */
  spawn<T>(fn: () => Promise<T>): Promise<T>;
  /** spawn() for each function; resolves like Promise.all. */
  parallel<T>(fns: readonly (() => Promise<T>)[]): Promise<T[]>;
  /** Labels of the scheduling points resumed so far, in order (first 200). */
  schedule(): readonly string[];
}

export type RaceScenario = (ctx: ExploreContext) => Promise<void>;

export interface ExploreOptions {
  /** How many seeds to try, sequentially. */
  seeds: number;
  /** First seed (default 1); seeds are firstSeed, firstSeed + 1, ... */
  firstSeed?: number;
  /** Scheduling-point budget per seed (default 10,000); beyond it the run fails with StepLimitExceededError. */
  steps?: number;
  /**
   * Put the run's setImmediate/setTimeout/setInterval/queueMicrotask callbacks under the seed's
   * control (default true; see EventLoopFuzzer). false leaves them to Node: only raceYield points
   * and the turns between them are seeded.
   */
  eventLoop?: boolean;
}

const DEFAULT_STEPS = 10_000;

/** A seed whose schedule made the scenario fail. `cause` is what the scenario threw. */
export class RaceFoundError extends Error {
  override readonly name = 'RaceFoundError';
  constructor(
    readonly seed: number,
    override readonly cause: unknown,
    readonly schedule: readonly string[],
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `race found with seed ${seed}: ${why}\n` +
        `replay with seed ${seed}: replay(scenario, ${seed})\n` +
        `schedule: ${schedule.slice(0, 40).join(' → ')}${schedule.length > 40 ? ' → …' : ''}`,
      { cause },
    );
  }
}

/**
 * A scheduling point. Inside an explore() run the caller is parked and resumed in a seeded order
 * relative to every other parked caller; outside, it resolves after a microtask.
 */
export function raceYield(label?: string): Promise<void> {
  const scheduler = currentScheduler();
  return scheduler === undefined ? Promise.resolve() : scheduler.yieldPoint(label);
}

/**
 * Runs the scenario once per seed, sequentially, each under its own seeded schedule: the order in
 * which raceYield points resume, and (unless `eventLoop: false`) the timing of the run's
 * setImmediate/setTimeout/setInterval/queueMicrotask callbacks (see EventLoopFuzzer), so plain
 * awaits interleave in orders Node's own scheduling never produces. Rejects with
 * RaceFoundError for the first seed whose run throws. Build fresh state inside the scenario: leftover
 * state from an earlier seed would make failures depend on seed order.
 */
export async function explore(scenario: RaceScenario, opts: ExploreOptions): Promise<{ seedsRun: number }> {
  const first = opts.firstSeed ?? 1;
  for (let i = 0; i < opts.seeds; i++) {
    const failure = await runSeed(scenario, first + i, opts.steps ?? DEFAULT_STEPS, opts.eventLoop ?? true);
    if (failure !== undefined) throw failure;
  }
  return { seedsRun: opts.seeds };
}

/** Runs one seed's schedule again; rejects with RaceFoundError if the scenario fails under it. */
export async function replay(scenario: RaceScenario, seed: number, opts: { steps?: number; eventLoop?: boolean } = {}): Promise<void> {
  const failure = await runSeed(scenario, seed, opts.steps ?? DEFAULT_STEPS, opts.eventLoop ?? true);
  if (failure !== undefined) throw failure;
}

/** Event-loop callbacks a run may make per scheduling step of its budget. */
const CALLBACKS_PER_STEP = 10;

async function runSeed(scenario: RaceScenario, seed: number, steps: number, fuzzEventLoop: boolean): Promise<RaceFoundError | undefined> {
  const scheduler = new RaceScheduler(seededRandom(deriveSeed(seed, 0)), steps);
  const loop = new EventLoopFuzzer(seededRandom(deriveSeed(seed, 2)), steps * CALLBACKS_PER_STEP);
  if (fuzzEventLoop) scheduler.loop = loop;
  const scenarioRandom = seededRandom(deriveSeed(seed, 1));
  const ctx: ExploreContext = {
    seed,
    random: scenarioRandom,
    yield: (label) => scheduler.yieldPoint(label),
    spawn: (fn) =>
      runInRaceContext(async () => {
        await scheduler.yieldPoint('spawn');
        return fn();
      }),
    parallel: (fns) => Promise.all(fns.map((fn) => ctx.spawn(fn))),
    schedule: () => [...scheduler.trace],
  };
  // Restored in `finally`, whether the scenario passed, threw or exceeded a budget.
  const uninstall = fuzzEventLoop ? installFuzzedTimers(() => currentScheduler()?.loop) : () => {};
  try {
    // A callback that threw (an uncaught exception in Node) or a callback budget overrun ends the run.
    await Promise.race([runWithScheduler(scheduler, () => scenario(ctx)), loop.failed]);
    if (loop.errors.length > 0) throw loop.errors[0];
    return undefined;
  } catch (cause) {
    return new RaceFoundError(seed, cause, [...scheduler.trace]);
  } finally {
    scheduler.finish();
    loop.finish();
    uninstall();
    // Let work the scenario left behind (e.g. the losers of a rejected Promise.all) run out
    // before the next seed starts, so it cannot perturb that seed's schedule.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => realTimers.setImmediate(resolve));
  }
}

/**
 * A stand-in for one shard's streaming result: yields each chunk after a scheduling point, so
 * several of them consumed concurrently interleave differently under each seed.
 */
export async function* fakeShardStream<T>(
  chunks: readonly (readonly T[])[],
  opts: { label?: string } = {},
): AsyncGenerator<readonly T[], void, undefined> {
  for (const chunk of chunks) {
    await raceYield(opts.label ?? 'shard-stream');
    yield chunk;
  }
}
