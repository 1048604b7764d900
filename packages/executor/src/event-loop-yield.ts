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

/** `values.map(f)`, yielding between slices of VALUES_PER_SLICE. */
export async function mapInSlices<T, U>(values: readonly T[], f: (v: T, i: number) => U): Promise<U[]> {
  const out: U[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    if (i > 0 && i % VALUES_PER_SLICE === 0) await yieldToEventLoop();
    out[i] = f(values[i]!, i);
  }
  return out;
}
