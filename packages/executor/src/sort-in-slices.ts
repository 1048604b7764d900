/**
 * A stable sort of the rows a statement holds at the gateway (ORDER BY over a join, an aggregate
 * or a UNION), done in slices with a turn of the event loop between them. Sorted with one
 * Array#sort, 150,000 groups ordered by count and name held every client of the gateway for about
 * half a second (bench/held-rows-stall.ts); here no slice sorts more than a run of SORT_RUN_ROWS
 * rows or merges more than MERGE_SLICE_ROWS rows, and the statement's own abort (timeout, KILL, a
 * client gone) takes effect at the next turn.
 *
 * The rows are sorted in runs with Array#sort (stable), then the runs are merged pairwise, the
 * left run winning ties: the result is the order a stable sort of the whole array gives, so equal
 * keys keep their arrival order as before. A statement holding no more than SORT_RUN_ROWS rows is
 * sorted at once, without a turn. The price: merged here, 70,000 rows by a collation key took
 * ~160 ms of CPU against ~110 ms for Array#sort alone (the comparisons of the late merges reach
 * rows all over the heap); numbers sort as fast either way.
 */

/** Rows Array#sort orders in one go: about 10 ms of collation-key comparisons on this machine. */
export const SORT_RUN_ROWS = 8192;
/** Rows placed by a merge between two turns. */
export const MERGE_SLICE_ROWS = 8192;

/**
 * `rows` in the order of `cmp`, stably (the array itself, sorted, or a new one). `turn` is awaited
 * between slices: it gives the event loop its turn and may throw (the statement was aborted), which
 * abandons the sort.
 */
export async function sortInSlices<T>(rows: T[], cmp: (a: T, b: T) => number, turn: () => Promise<void>): Promise<T[]> {
  const n = rows.length;
  if (n <= SORT_RUN_ROWS) return rows.sort(cmp);
  for (let lo = 0; lo < n; lo += SORT_RUN_ROWS) {
    if (lo > 0) await turn();
    const run = rows.slice(lo, lo + SORT_RUN_ROWS).sort(cmp);
    for (let j = 0; j < run.length; j++) rows[lo + j] = run[j]!;
  }
  let from = rows;
  let to = new Array<T>(n);
  for (let width = SORT_RUN_ROWS; width < n; width *= 2) {
    const pass: MergePass = { width, lo: 0, i: 0, j: width, k: 0 };
    while (mergeSlice(from, to, cmp, pass, MERGE_SLICE_ROWS)) await turn();
    const done = to;
    to = from;
    from = done;
  }
  return from;
}

/** Where a merge pass over runs of `width` rows stands: merging the pair at `lo`, at i, j and k. */
interface MergePass {
  readonly width: number;
  lo: number;
  i: number;
  j: number;
  k: number;
}

/**
 * Goes on with a merge pass until it placed `budget` rows by comparing them (rows left over once
 * one run of a pair is used up are copied, uncounted); true when the pass is not done.
 */
function mergeSlice<T>(from: readonly T[], to: T[], cmp: (a: T, b: T) => number, pass: MergePass, budget: number): boolean {
  const n = from.length;
  const width = pass.width;
  let { lo, i, j, k } = pass;
  let placed = 0;
  while (lo < n) {
    const mid = Math.min(lo + width, n);
    const hi = Math.min(lo + 2 * width, n);
    while (i < mid && j < hi) {
      // The right run's row goes first only when it is strictly less: ties keep arrival order.
      to[k++] = cmp(from[j]!, from[i]!) < 0 ? from[j++]! : from[i++]!;
      if (++placed === budget) {
        pass.lo = lo;
        pass.i = i;
        pass.j = j;
        pass.k = k;
        return true;
      }
    }
    while (i < mid) to[k++] = from[i++]!;
    while (j < hi) to[k++] = from[j++]!;
    lo = hi;
    i = lo;
    j = Math.min(lo + width, n);
  }
  pass.lo = lo;
  return false;
}
