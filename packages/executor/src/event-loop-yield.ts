/**
 * Long per-value loops of one statement (the keyspace ids of a 100,000-value IN list, the shards
 * and SQL text of a 10,000-row INSERT) run in slices with a turn of the event loop between them,
 * so that one large statement never holds every other client's statement for long: about 2,000
 * values take a few milliseconds, and a short statement (one slice) never yields at all.
 */

/** Values handled between two yields. */
export const VALUES_PER_SLICE = 2048;

/** Lets the event loop run I/O and other sessions' statements (setImmediate: after pending I/O). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A turn of the event loop, then `check` (the statement's abort, which may reject it). */
export function yieldThen(check: () => void): Promise<void> {
  return yieldToEventLoop().then(check);
}

/**
 * `values.map(f)`, yielding between slices of VALUES_PER_SLICE; `check` (the statement's abort,
 * which may throw) runs after each turn.
 */
export async function mapInSlices<T, U>(values: readonly T[], f: (v: T, i: number) => U, check?: () => void): Promise<U[]> {
  const out: U[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (i > 0 && i % VALUES_PER_SLICE === 0) await (check === undefined ? yieldToEventLoop() : yieldThen(check));
    out[i] = f(values[i]!, i);
  }
  return out;
}

/**
 * Work of one statement on rows it already holds (a join building joined rows: a cross join
 * multiplies them), counted in rows: every VALUES_PER_SLICE of them, a turn of the event loop.
 * Without one such a loop is a chain of microtasks (each `await` of a receiver that took its
 * chunk at once), which no socket, timer or other session's statement can interrupt: a
 * cross-shard cross join of eight 8-row tables held every client of the gateway for seconds, and
 * its own query timeout and client disconnect only took effect once it had finished.
 * Concurrency rule: `done` is read and written synchronously in spend(); concurrent callers of
 * one statement (sibling chunks) share the count.
 */
export class RowSlices {
  private done = 0;

  /**
   * Counts `rows`; a promise to await when a slice is full (the event loop's turn, then `check`:
   * the statement's abort, which may reject it), else undefined.
   */
  spend(rows: number, check?: () => void): Promise<void> | undefined {
    this.done += rows;
    if (this.done < VALUES_PER_SLICE) return undefined;
    this.done = 0;
    return check === undefined ? yieldToEventLoop() : yieldThen(check);
  }
}

/**
 * Hands `rows` to `take` in chunks of `chunkRows`, calling `check` (the statement's abort) before
 * each chunk and giving the event loop a turn every VALUES_PER_SLICE rows. A statement's rows held
 * at the gateway (a sort's, an aggregate's groups) otherwise leave as a chain of microtasks when
 * the receiver takes each chunk at once: 150,000 rows encoded for the client with no socket,
 * timer or other session's statement served in between.
 */
export async function handOnInSlices<T>(rows: readonly T[], chunkRows: number, take: (chunk: T[]) => Promise<void> | void, check: () => void): Promise<void> {
  let sinceTurn = 0;
  for (let i = 0; i < rows.length; i += chunkRows) {
    if (sinceTurn >= VALUES_PER_SLICE) {
      sinceTurn = 0;
      await yieldToEventLoop();
    }
    check();
    await take(rows.slice(i, i + chunkRows));
    sinceTurn += chunkRows;
  }
}
