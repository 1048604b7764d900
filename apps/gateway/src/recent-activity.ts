/**
 * The last minutes of traffic for the status page's charts (statements per second and mean
 * latency, in 5-second buckets) and the most recent errors.
 *
 * Concurrency rule: updated synchronously on the event loop (`statement`, `error`); readers copy.
 */
import { maskCredentials } from './credential-mask.js';
import { normalizedText } from './query-plan-stats.js';

export const BUCKET_SECONDS = 5;
const BUCKETS = 120; // 10 minutes
const MAX_ERRORS = 50;

export interface ActivityBucket {
  /** Bucket start, ms since the epoch. */
  readonly at: number;
  readonly statements: number;
  readonly seconds: number;
  /** Seconds the bucket covers so far: BUCKET_SECONDS, less for the current one (at least 1). */
  readonly span: number;
}

export interface RecentError {
  readonly at: number;
  readonly errno: number;
  readonly message: string;
  /** Normalized statement text: literal values are not kept. */
  readonly query: string;
}

export class RecentActivity {
  /** Ring of buckets indexed by bucket number modulo BUCKETS; a stale slot is reset on reuse. */
  private readonly ring: { n: number; statements: number; seconds: number }[] = Array.from({ length: BUCKETS }, () => ({ n: -1, statements: 0, seconds: 0 }));
  private readonly errors: RecentError[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  statement(seconds: number): void {
    const slot = this.slot(Math.floor(this.now() / 1000 / BUCKET_SECONDS));
    slot.statements++;
    slot.seconds += seconds;
  }

  error(errno: number, message: string, sql: string): void {
    this.errors.push({ at: this.now(), errno, message: maskCredentials(message).slice(0, 500), query: normalizedText(sql).slice(0, 500) });
    if (this.errors.length > MAX_ERRORS) this.errors.shift();
  }

  /** Oldest first, every bucket of the window (empty ones included), the current one last. */
  buckets(): ActivityBucket[] {
    const now = this.now();
    const current = Math.floor(now / 1000 / BUCKET_SECONDS);
    const out: ActivityBucket[] = [];
    for (let n = current - BUCKETS + 1; n <= current; n++) {
      const s = this.ring[((n % BUCKETS) + BUCKETS) % BUCKETS]!;
      const at = n * BUCKET_SECONDS * 1000;
      const span = n === current ? Math.max(1, (now - at) / 1000) : BUCKET_SECONDS;
      out.push({ at, statements: s.n === n ? s.statements : 0, seconds: s.n === n ? s.seconds : 0, span });
    }
    return out;
  }

  /** Newest first. */
  recentErrors(): RecentError[] {
    return [...this.errors].reverse();
  }

  private slot(n: number): { n: number; statements: number; seconds: number } {
    const s = this.ring[((n % BUCKETS) + BUCKETS) % BUCKETS]!;
    if (s.n !== n) {
      s.n = n;
      s.statements = 0;
      s.seconds = 0;
    }
    return s;
  }
}
