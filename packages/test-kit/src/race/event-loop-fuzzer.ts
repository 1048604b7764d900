/**
 * The event-loop half of an explore() run, after Node.fz (Davis, Thekumparampil and Lee, "Node.fz:
 * Fuzzing the Server-Side Event-Driven Architecture", EuroSys 2017): callbacks that code inside the
 * run hands to setImmediate, setTimeout, setInterval and queueMicrotask are not given to Node
 * directly. They wait in the run's own queue, and a seeded schedule decides
 *
 * - deferral: how many extra event-loop turns a ready callback waits (the latency a real socket,
 *   disk or shard adds), so a callback can run after ones scheduled later;
 * - grouping: sometimes several ready callbacks run back to back in one turn, without a microtask
 *   checkpoint between them, so the `await` continuations they resume interleave statement by
 *   statement, as the continuations of one socket's burst of events do. This is how two tasks'
 *   plain `await`s of already-resolved promises come to interleave;
 * - microtask hops: a queueMicrotask callback may run a few microtasks later.
 *
 * Timers run on a virtual clock: when nothing else is ready, the clock jumps to the next timer
 * that is due. Timers still fire in order of due time (then of creation), as Node guarantees,
 * and never early. Everything is decided by the seed, so a failing schedule replays exactly,
 * provided the scenario does no real I/O (which keeps its own timing).
 *
 * Only calls made inside the run's async context are fuzzed (the run's scheduler is found through
 * AsyncLocalStorage): the test runner's own timers, and other code, keep Node's.
 */
import { AsyncResource } from 'node:async_hooks';
import { promisify } from 'node:util';

/** Node's timer functions, as they were when this module loaded (the explorer's own ticks use these). */
export const realTimers = {
  setImmediate: globalThis.setImmediate,
  clearImmediate: globalThis.clearImmediate,
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  queueMicrotask: globalThis.queueMicrotask,
};

/** Thrown (as the cause of a RaceFoundError) when a run's callbacks never stop (e.g. an interval nobody clears). */
export class CallbackLimitExceededError extends Error {
  override readonly name = 'CallbackLimitExceededError';
  constructor(limit: number) {
    super(`scenario ran more than ${limit} event-loop callbacks; an interval or a setImmediate loop that never ends?`);
  }
}

type Kind = 'immediate' | 'timeout' | 'interval';

/** A callback waiting in the run's queue. */
interface Entry {
  readonly handle: FuzzedTimer;
  /** Extra turns to wait before it may run. */
  delay: number;
}

let nextTimerId = 1;

/**
 * What setImmediate/setTimeout/setInterval return inside a run: clearImmediate/clearTimeout/
 * clearInterval (also after the run) and the usual ref/unref/refresh calls work on it.
 */
export class FuzzedTimer {
  readonly id = nextTimerId++;
  cancelled = false;
  /** Virtual due time (timers). */
  due = 0;
  /** Creation order, the tiebreaker among timers due at the same time. */
  readonly seq: number;
  /** Once the run is over, a leftover callback is handed to a real timer; clearing cancels it too. */
  real: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private referenced = true;

  constructor(
    readonly kind: Kind,
    readonly run: () => void,
    readonly ms: number,
    seq: number,
  ) {
    this.seq = seq;
  }

  cancel(): void {
    this.cancelled = true;
    if (this.real !== null) {
      if (this.kind === 'immediate') realTimers.clearImmediate(this.real as NodeJS.Immediate);
      else realTimers.clearTimeout(this.real as NodeJS.Timeout);
      this.real = null;
    }
  }

  ref(): this {
    this.referenced = true;
    this.real?.ref();
    return this;
  }

  unref(): this {
    this.referenced = false;
    this.real?.unref();
    return this;
  }

  hasRef(): boolean {
    return this.referenced;
  }

  refresh(): this {
    return this;
  }

  close(): this {
    this.cancel();
    return this;
  }

  [Symbol.toPrimitive](): number {
    return this.id;
  }

  [Symbol.dispose](): void {
    this.cancel();
  }
}

/** The fuzzer that owns the calling async context, if any (installed by the race explorer). */
export type FuzzerLookup = () => EventLoopFuzzer | undefined;

/**
 * One run's queue of callbacks and its seeded schedule.
 * Concurrency rule: all state is touched synchronously, from the patched timer functions (called
 * by the run's code) and from turn(), which runs in a real setImmediate; at most one turn is armed
 * at a time (`armed`).
 */
export class EventLoopFuzzer {
  private ready: Entry[] = [];
  /** Timers not yet due, in no particular order (few at a time). */
  private timers: FuzzedTimer[] = [];
  private now = 0;
  private seq = 0;
  private armed = false;
  private finished = false;
  private callbacks = 0;
  /** Errors thrown by callbacks (in Node they would be uncaught exceptions); the first fails the run. */
  readonly errors: unknown[] = [];
  /**
   * Rejects with the first callback error or with CallbackLimitExceededError: the run ends there,
   * as a Node process would on an uncaught exception (its scenario may never settle otherwise).
   */
  readonly failed: Promise<never>;
  private fail!: (err: unknown) => void;

  constructor(
    private readonly random: () => number,
    private readonly maxCallbacks: number,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.failed.catch(() => undefined);
  }

  setImmediate(callback: (...args: unknown[]) => void, args: unknown[]): FuzzedTimer {
    const handle = new FuzzedTimer('immediate', bound(callback, args), 0, this.seq++);
    if (this.finished) return this.handOver(handle);
    this.ready.push({ handle, delay: this.drawDelay() });
    this.arm();
    return handle;
  }

  setTimer(kind: 'timeout' | 'interval', callback: (...args: unknown[]) => void, ms: unknown, args: unknown[]): FuzzedTimer {
    // Node's rule: anything but a number in [1, 2^31 - 1] means 1 ms.
    const delay = typeof ms === 'number' && ms >= 1 && ms <= 0x7fffffff ? Math.floor(ms) : 1;
    const handle = new FuzzedTimer(kind, bound(callback, args), delay, this.seq++);
    if (this.finished) return this.handOver(handle);
    handle.due = this.now + delay;
    this.timers.push(handle);
    this.arm();
    return handle;
  }

  /** queueMicrotask: sometimes a few microtasks later (still before the next macrotask). */
  queueMicrotask(callback: () => void): void {
    const run = AsyncResource.bind(callback);
    if (this.finished) return realTimers.queueMicrotask(run);
    let hops = this.random() < 0.3 ? 1 + Math.floor(this.random() * 3) : 0;
    const step = (): void => {
      if (hops-- > 0) realTimers.queueMicrotask(step);
      else this.invoke(run);
    };
    realTimers.queueMicrotask(step);
  }

  /**
   * The run is over: stop fuzzing. Leftover immediates and timeouts go to Node's own loop (their
   * awaiters settle, their handles still clear them); leftover intervals are cancelled, since
   * nothing would ever stop them. After a failed run (a callback threw, or the callback budget
   * ran out, e.g. a setImmediate loop) nothing of it runs any more: every leftover is cancelled.
   */
  finish(): void {
    this.finished = true;
    const leftovers = [...this.ready.map((e) => e.handle), ...this.timers.sort(byDue)];
    this.ready = [];
    this.timers = [];
    const failed = this.errors.length > 0;
    for (const h of leftovers) {
      if (h.cancelled) continue;
      if (failed || h.kind === 'interval') h.cancel();
      else this.handOver(h, Math.max(0, h.due - this.now));
    }
  }

  private handOver(h: FuzzedTimer, ms = h.ms): FuzzedTimer {
    const run = (): void => {
      h.real = null;
      if (!h.cancelled) h.run();
    };
    if (h.kind === 'immediate') h.real = realTimers.setImmediate(run);
    else if (h.kind === 'timeout') h.real = realTimers.setTimeout(run, ms);
    else h.real = realTimers.setInterval(h.run, h.ms);
    if (!h.hasRef()) h.real.unref();
    return h;
  }

  /** Mostly no extra wait; sometimes one to three turns (seeded). */
  private drawDelay(): number {
    return this.random() < 0.3 ? 1 + Math.floor(this.random() * 3) : 0;
  }

  private arm(): void {
    if (this.armed || this.finished) return;
    this.armed = true;
    realTimers.setImmediate(() => this.turn());
  }

  /** One event-loop turn of the run: runs one seeded group of ready callbacks. */
  private turn(): void {
    this.armed = false;
    if (this.finished) return;
    this.ready = this.ready.filter((e) => !e.handle.cancelled);
    this.timers = this.timers.filter((t) => !t.cancelled);
    if (this.ready.length === 0 && this.timers.length > 0) this.advanceClock();
    const eligible = this.ready.filter((e) => e.delay === 0 && !this.waitsForEarlierTimer(e));
    for (const e of this.ready) if (e.delay > 0) e.delay--;
    if (eligible.length > 0) {
      // Mostly one callback per turn, as Node runs them; sometimes two or three back to back.
      const size = this.random() < 0.3 ? Math.min(eligible.length, 2 + Math.floor(this.random() * 2)) : 1;
      for (let i = 0; i < size; i++) {
        // Mostly the oldest (Node's order), otherwise a seeded pick among the ready ones.
        const pick = this.random() < 0.5 ? 0 : Math.floor(this.random() * eligible.length);
        const [entry] = eligible.splice(pick, 1);
        this.ready.splice(this.ready.indexOf(entry), 1);
        this.fire(entry.handle);
      }
    }
    if (this.ready.length > 0 || this.timers.length > 0) this.arm();
  }

  /** Timers fire in order of due time: one is held back while an earlier timer is still queued. */
  private waitsForEarlierTimer(e: Entry): boolean {
    if (e.handle.kind === 'immediate') return false;
    return this.ready.some((o) => o !== e && o.handle.kind !== 'immediate' && byDue(o.handle, e.handle) < 0);
  }

  /** Nothing else to run: the virtual clock jumps to the next due timer, and every timer due by then becomes ready. */
  private advanceClock(): void {
    this.timers.sort(byDue);
    this.now = Math.max(this.now, this.timers[0].due);
    while (this.timers.length > 0 && this.timers[0].due <= this.now) {
      const handle = this.timers.shift()!;
      this.ready.push({ handle, delay: this.drawDelay() });
    }
  }

  private fire(h: FuzzedTimer): void {
    if (h.cancelled) return;
    if (h.kind === 'interval') {
      h.due = this.now + h.ms;
      this.timers.push(h);
    }
    this.invoke(h.run);
  }

  private invoke(run: () => void): void {
    if (this.errors.length > 0) return; // the run has failed: nothing more of it runs
    if (++this.callbacks > this.maxCallbacks) {
      this.errors.push(new CallbackLimitExceededError(this.maxCallbacks));
      this.fail(this.errors[0]);
      return;
    }
    try {
      run();
    } catch (err) {
      this.errors.push(err);
      this.fail(err);
    }
  }
}

function byDue(a: FuzzedTimer, b: FuzzedTimer): number {
  return a.due - b.due || a.seq - b.seq;
}

/** The callback with its arguments, bound to the async context it was scheduled from. */
function bound(callback: (...args: unknown[]) => void, args: unknown[]): () => void {
  if (typeof callback !== 'function') {
    throw Object.assign(new TypeError(`The "callback" argument must be of type function. Received ${typeof callback}`), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  return AsyncResource.bind(() => callback(...args));
}

// ---- installing the patched globals -----------------------------------------------------------

let installs = 0;

/**
 * Replaces the global timer functions with ones that hand calls made inside a run to that run's
 * fuzzer (found with `lookup`) and pass every other call to Node. Reference-counted: concurrent
 * explore() runs share one installation; the last uninstall restores Node's functions.
 */
export function installFuzzedTimers(lookup: FuzzerLookup): () => void {
  if (installs++ === 0) {
    const g = globalThis as unknown as Record<string, unknown>;
    g.setImmediate = Object.assign(
      function setImmediate(callback: (...args: unknown[]) => void, ...args: unknown[]) {
        const f = lookup();
        return f === undefined ? realTimers.setImmediate(callback, ...args) : f.setImmediate(callback, args);
      },
      // util.promisify(setImmediate) keeps working (as Node's, not fuzzed).
      { [promisify.custom]: (realTimers.setImmediate as unknown as Record<symbol, unknown>)[promisify.custom] },
    );
    g.setTimeout = Object.assign(
      function setTimeout(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
        const f = lookup();
        return f === undefined ? realTimers.setTimeout(callback, ms, ...args) : f.setTimer('timeout', callback, ms, args);
      },
      { [promisify.custom]: (realTimers.setTimeout as unknown as Record<symbol, unknown>)[promisify.custom] },
    );
    g.setInterval = function setInterval(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
      const f = lookup();
      return f === undefined ? realTimers.setInterval(callback, ms, ...args) : f.setTimer('interval', callback, ms, args);
    };
    g.queueMicrotask = function queueMicrotask(callback: () => void) {
      const f = lookup();
      if (f === undefined) realTimers.queueMicrotask(callback);
      else f.queueMicrotask(callback);
    };
    g.clearImmediate = clearFuzzed(realTimers.clearImmediate as (h: unknown) => void);
    g.clearTimeout = clearFuzzed(realTimers.clearTimeout as (h: unknown) => void);
    g.clearInterval = clearFuzzed(realTimers.clearInterval as (h: unknown) => void);
  }
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--installs === 0) {
      // Handles created in a run may still be cleared later: FuzzedTimer.cancel works without the patch.
      Object.assign(globalThis, realTimers);
    }
  };
}

function clearFuzzed(real: (h: unknown) => void): (h: unknown) => void {
  return function clear(h: unknown) {
    if (h instanceof FuzzedTimer) h.cancel();
    else real(h);
  };
}
