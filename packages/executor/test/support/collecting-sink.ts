/** A ResultSink for tests: records everything; can simulate a slow client and a disconnect. */
import type { ExecutorSession, FieldInfo, ResultSink } from '../../src/index.js';

export class CollectingSink implements ResultSink {
  fields: readonly FieldInfo[] | null = null;
  readonly rows: (string | null)[][] = [];
  okInfo: { affectedRows?: number | bigint; lastInsertId?: number | bigint; warnings?: number; info?: string } | null = null;
  endInfo: { warnings?: number } | null = null;
  readonly controller = new AbortController();
  /** When set, row() returns false every `every` rows and drain() waits for `release()`. */
  private pausedEvery = 0;
  private waiters: (() => void)[] = [];
  drains = 0;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  slowClient(every: number): this {
    this.pausedEvery = every;
    return this;
  }

  columns(defs: readonly FieldInfo[]): void {
    if (this.fields) throw new Error('columns() called twice');
    this.fields = defs;
  }
  row(values: readonly (Uint8Array | string | null)[]): boolean {
    if (!this.fields) throw new Error('row() before columns()');
    this.rows.push(values.map((v) => (v === null ? null : typeof v === 'string' ? v : Buffer.from(v).toString('utf8'))));
    return !(this.pausedEvery > 0 && this.rows.length % this.pausedEvery === 0);
  }
  drain(): Promise<void> {
    this.drains++;
    if (this.pausedEvery === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  /** Lets a paused client read again. */
  release(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  get waiting(): number {
    return this.waiters.length;
  }
  end(info?: { warnings?: number }): void {
    this.endInfo = info ?? {};
  }
  ok(info?: { affectedRows?: number | bigint; lastInsertId?: number | bigint; warnings?: number; info?: string }): void {
    this.okInfo = info ?? {};
  }
  get names(): string[] {
    return (this.fields ?? []).map((f) => f.name);
  }
}

/** Runs one statement on the session and returns what the client would have seen. */
export async function executeCollecting(session: ExecutorSession, sql: string): Promise<CollectingSink> {
  const sink = new CollectingSink();
  await session.execute(sql, sink);
  return sink;
}

/** The MySQL error a statement failed with (null when it succeeded), for toEqual/toMatchObject. */
export function mysqlErrorOf(p: Promise<unknown>): Promise<{ errno: number; sqlState: string; message: string } | null> {
  return p.then(
    () => null,
    (e: { errno: number; sqlState: string; message: string }) => ({ errno: e.errno, sqlState: e.sqlState, message: e.message }),
  );
}
