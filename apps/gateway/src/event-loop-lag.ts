import { createHash } from 'node:crypto';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Lag above this is logged as a warning: every other client waited at least this long. */
export const LAG_WARNING_MS = 100;

export interface EventLoopLag {
  /** Worst lag seen since the last resetWindow(), in ms. */
  readonly maxMs: number;
  /** 99th percentile lag of the current window, in ms. */
  readonly p99Ms: number;
  /** Mean lag of the current window, in ms. */
  readonly meanMs: number;
}

/**
 * Measures how long the event loop was blocked, for /metrics and the status page, and warns
 * when one stall exceeds LAG_WARNING_MS. A stall is detected by a timer that fires late: the
 * warning names `describeRunning()`, what was last running when the timer finally ran.
 *
 * Concurrency rule: every field is touched only from the event loop (timer callback and
 * synchronous getters); the histogram itself is filled by Node's native timer.
 */
export class EventLoopLagMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private lastTick = performance.now();

  constructor(
    private readonly warn: (message: string) => void,
    private readonly describeRunning: () => string | undefined,
    private readonly intervalMs = 20,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    // unref: the monitor alone never keeps the process alive.
    this.timer = setInterval(() => this.tick(), intervalMs).unref();
  }

  /** Current window's lag figures (ms). */
  snapshot(): EventLoopLag {
    const h = this.histogram;
    const ms = (ns: number): number => (Number.isFinite(ns) ? ns / 1e6 : 0);
    return { maxMs: ms(h.max), p99Ms: ms(h.percentile(99)), meanMs: ms(h.mean) };
  }

  /** Starts a new measurement window (a scraper calls it after reading). */
  resetWindow(): void {
    this.histogram.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private tick(): void {
    const now = performance.now();
    const lag = now - this.lastTick - this.intervalMs;
    this.lastTick = now;
    if (lag > LAG_WARNING_MS) {
      const running = this.describeRunning();
      this.warn(`event loop blocked for ${Math.round(lag)} ms${running ? ` (statement digest ${running})` : ''}`);
    }
  }
}

/** Statement text hashed for a digest: a bounded prefix, so that digesting a 1 GiB statement costs no more than a short one. */
const DIGEST_PREFIX_CHARS = 1024;

/**
 * Remembers the statement most recently started on the event loop and digests it on demand
 * (only when a stall is reported, never on the hot path). The digest is the first 16 hex digits
 * of SHA-256 over the statement's length and its first DIGEST_PREFIX_CHARS characters: stable
 * for one statement text, so a warning can be matched with the client's logs.
 *
 * Concurrency rule: `last` is replaced synchronously by whichever session starts a statement;
 * the event loop runs one of them at a time, so the stalled statement is the last one started
 * before the stall unless another started during it (which a stall prevents).
 */
export class LastStatement {
  private last: string | null = null;

  readonly started = (sql: string): void => {
    this.last = sql;
  };

  digest(): string | undefined {
    const sql = this.last;
    if (sql === null) return undefined;
    return createHash('sha256').update(`${sql.length}:`).update(sql.slice(0, DIGEST_PREFIX_CHARS)).digest('hex').slice(0, 16);
  }
}
