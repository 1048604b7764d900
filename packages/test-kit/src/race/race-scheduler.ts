import type { EventLoopFuzzer } from './event-loop-fuzzer.js';
import { realTimers } from './event-loop-fuzzer.js';

/** Thrown (as the cause of a RaceFoundError) when a run exceeds its scheduling-step budget. */
export class StepLimitExceededError extends Error {
  override readonly name = 'StepLimitExceededError';
  constructor(steps: number, label: string | undefined) {
    super(
      `scenario did not finish within ${steps} scheduling steps (last point: ${label ?? 'unlabelled'}); ` +
        'a livelock, an unbounded loop around raceYield(), or raise opts.steps',
    );
  }
}

interface Waiter {
  resolve(): void;
  label: string;
}

const TRACE_LIMIT = 200;
const MACRO_TURNS = [0, 0, 1, 1, 1, 2, 3, 5] as const;

// Node's own setImmediate: inside a run the global one is the run's fuzzed loop (see EventLoopFuzzer).
const nextMacrotask = (): Promise<void> => new Promise((resolve) => realTimers.setImmediate(resolve));

/**
 * The schedule of one explore() seed. Pending raceYield() points are parked here and resumed one
 * (sometimes a few) at a time in a seeded order. Between releases it lets a seeded number of
 * macrotask and microtask turns pass, so code that never calls raceYield (plain awaits, I/O
 * callbacks) also progresses by different amounts relative to the released task.
 *
 * Deadlock guard: the scheduler never waits for "more" waiters to arrive; every pump step releases
 * somebody after a bounded number of turns, so if all work is parked it is released in seeded order.
 *
 * Concurrency rule: `waiting` is only touched synchronously (push in yieldPoint, splice in pump), and
 * a single pump loop runs at a time (`pumping` is set before the loop's first await).
 */
export class RaceScheduler {
  private readonly waiting: Waiter[] = [];
  private pumping = false;
  private finished = false;
  private steps = 0;
  /** Labels in the order they were resumed (bounded): the schedule, for error messages and tests. */
  readonly trace: string[] = [];
  /** The run's event-loop fuzzer: timer callbacks of code inside the run go through it. */
  loop: EventLoopFuzzer | undefined = undefined;

  constructor(
    private readonly random: () => number,
    private readonly maxSteps: number,
  ) {}

  yieldPoint(label = 'yield'): Promise<void> {
    if (this.finished) return Promise.resolve();
    if (this.steps >= this.maxSteps) return Promise.reject(new StepLimitExceededError(this.maxSteps, label));
    this.steps++;
    return new Promise<void>((resolve) => {
      this.waiting.push({ resolve, label });
      if (!this.pumping) {
        this.pumping = true;
        void this.pump();
      }
    });
  }

  /** The run is over: release everything still parked (in seeded order) and stop interfering. */
  finish(): void {
    this.finished = true;
    while (this.waiting.length > 0) this.releaseOne();
  }

  private async pump(): Promise<void> {
    try {
      while (!this.finished && this.waiting.length > 0) {
        await this.letOthersRun();
        if (this.finished || this.waiting.length === 0) break;
        // Mostly one at a time; sometimes a burst, whose continuations then run back to back.
        const burst = this.random() < 0.15 ? 1 + Math.floor(this.random() * this.waiting.length) : 1;
        for (let i = 0; i < burst && this.waiting.length > 0; i++) this.releaseOne();
      }
    } finally {
      this.pumping = false;
    }
  }

  private releaseOne(): void {
    const index = Math.floor(this.random() * this.waiting.length);
    const [waiter] = this.waiting.splice(index, 1);
    if (this.trace.length < TRACE_LIMIT) this.trace.push(waiter.label);
    waiter.resolve();
  }

  private async letOthersRun(): Promise<void> {
    const macro = MACRO_TURNS[Math.floor(this.random() * MACRO_TURNS.length)];
    for (let i = 0; i < macro; i++) await nextMacrotask();
    const micro = Math.floor(this.random() * 8);
    for (let i = 0; i < micro; i++) await Promise.resolve();
  }
}
