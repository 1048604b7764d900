import { describe, expect, it } from 'vitest';
import { MERGE_SLICE_ROWS, SORT_RUN_ROWS, sortInSlices } from '../src/sort-in-slices.js';
import { yieldToEventLoop } from '../src/event-loop-yield.js';

/** Rows with many equal keys; `at` is the arrival order, which a stable sort keeps among equals. */
function rows(n: number, keys: number): { key: number; at: number }[] {
  let x = 12345;
  return Array.from({ length: n }, (_, at) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return { key: x % keys, at };
  });
}

const byKey = (a: { key: number }, b: { key: number }): number => a.key - b.key;

describe('sortInSlices', () => {
  it('orders exactly as a stable Array#sort, equal keys in arrival order, at every size around its runs', async () => {
    for (const n of [0, 1, 7, SORT_RUN_ROWS, SORT_RUN_ROWS + 1, 2 * SORT_RUN_ROWS - 1, 3 * SORT_RUN_ROWS + 17, 9 * SORT_RUN_ROWS + 5]) {
      for (const keys of [1, 3, 1000, 1_000_000]) {
        const input = rows(n, keys);
        const expected = input.slice().sort(byKey);
        const got = await sortInSlices(input.slice(), byKey, yieldToEventLoop);
        expect(got.map((r) => r.at), `n=${n} keys=${keys}`).toEqual(expected.map((r) => r.at));
      }
    }
    // Descending and a comparator over two keys, as ORDER BY a DESC, b.
    const input = rows(5 * SORT_RUN_ROWS + 3, 50);
    const cmp = (a: { key: number; at: number }, b: { key: number; at: number }): number => b.key - a.key || (a.at % 7) - (b.at % 7);
    expect((await sortInSlices(input.slice(), cmp, yieldToEventLoop)).map((r) => r.at)).toEqual(input.slice().sort(cmp).map((r) => r.at));
  });

  it('lets queued callbacks run between slices, comparing at most a run or a merge slice between two turns', async () => {
    const n = 8 * SORT_RUN_ROWS + 100;
    let turns = 0;
    let comparisons = 0;
    let mostBetweenTurns = 0;
    let since = 0;
    const cmp = (a: { key: number }, b: { key: number }): number => {
      comparisons++;
      mostBetweenTurns = Math.max(mostBetweenTurns, ++since);
      return a.key - b.key;
    };
    const got = await sortInSlices(rows(n, 1000), cmp, async () => {
      await yieldToEventLoop();
      turns++;
      since = 0;
    });
    expect(got).toHaveLength(n);
    // One turn after each of the 8 runs but the last, then one per merge slice (4 passes over n rows).
    expect(turns).toBeGreaterThanOrEqual(8 + Math.floor((4 * SORT_RUN_ROWS) / MERGE_SLICE_ROWS));
    // Array#sort of one run compares about n log2 n times (12 per row here); a merge slice places
    // MERGE_SLICE_ROWS rows with one comparison each. Never the whole array's n log2 n (15 per row).
    expect(mostBetweenTurns).toBeLessThan(SORT_RUN_ROWS * 14);
    expect(mostBetweenTurns).toBeLessThan(comparisons / 8);
    // Another client's callback, queued before, runs during the sort, not after it.
    let ranAt = -1;
    setImmediate(() => (ranAt = comparisons));
    comparisons = 0;
    await sortInSlices(rows(n, 1000), cmp, yieldToEventLoop);
    expect(ranAt).toBeGreaterThan(0);
    expect(ranAt).toBeLessThan(comparisons);
  });

  it('stops at a turn that throws (the statement was aborted)', async () => {
    const aborted = new Error('Query execution was interrupted');
    await expect(sortInSlices(rows(4 * SORT_RUN_ROWS, 10), byKey, () => Promise.reject(aborted))).rejects.toBe(aborted);
    // A short sort never takes a turn, so it never sees the abort either: it is one slice.
    const short = rows(100, 10);
    expect((await sortInSlices(short.slice(), byKey, () => Promise.reject(aborted))).map((r) => r.at)).toEqual(short.slice().sort(byKey).map((r) => r.at));
  });
});
