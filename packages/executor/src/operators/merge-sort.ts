/**
 * MergeSort: a k-way streaming merge of shard streams that are each already sorted (the ORDER BY
 * is pushed to every shard). A row goes out only when every unfinished input has a head row to
 * compare with, so memory holds at most one chunk per input.
 *
 * Strings compare by the WEIGHT_STRING bytes the planner pushed next to them, i.e. by the shard's
 * own collation, so 'alice', 'Alice' and 'Ålice' come out exactly as one MariaDB orders them.
 */
import type { OrderByKey } from '@shardgate/planner';
import { offAbort as unhookAbort, onAbort as hookAbort } from '../abort-hooks.js';
import type { RowReceiver } from '../row-flow.js';
import { ExecutorError, ER_NOT_SUPPORTED_YET } from '../errors.js';
import { ColumnFlag } from '../values/column-types.js';
import type { FieldInfo, Row } from '../types.js';
import { rowPacketsOf, withRowPackets, type RowPackets } from '../row-packets.js';
import { compareCollationKeys, compareNullable, comparatorFor, isTextField } from '../values/cell-compare.js';


export type RowComparator = (a: Row, b: Row) => number;

/**
 * What a sorted input pushes into: rows as a RowReceiver takes them, or a chunk read whole whose
 * rows the merge decodes only as it reaches them (ShardResult.rowAt): a merge under a Limit then
 * decodes about the rows it hands on, not every row of every shard.
 */
export interface SortedReceiver extends RowReceiver {
  /**
   * `count` rows, row i being rowAt(i) (called at most once per row); same promise rule as rows().
   * Offered only when the merge's receiver wants fewer rows than it may get (a Limit): a merge
   * that hands on every row decodes every row anyway, and measured more allocation this way.
   */
  readonly lazyRows?: (count: number, rowAt: (i: number) => Row, packets: RowPackets | undefined) => Promise<void> | void;
}

/** One sorted input: pushes its rows into `receiver`, honouring its promises, until done. */
export type SortedInput = (receiver: SortedReceiver, signal: AbortSignal) => Promise<void>;

/**
 * How the inputs are run together (the route runs them as a scatter with its error policy). A
 * runner that gives every input one signal of its own may hand `exposeAbort` the function that
 * aborts it, before any input starts: the merge then stops its inputs through it when it fails.
 */
export type RunInputs = (
  tasks: readonly { shard: string; run(signal: AbortSignal): Promise<void> }[],
  exposeAbort: (abort: (reason: unknown) => void) => void,
) => Promise<void>;

const OUTPUT_CHUNK_ROWS = 256;

export function orderComparator(orderBy: readonly OrderByKey[], fields: readonly FieldInfo[]): RowComparator {
  // A negative index counts from the end of the row (`select * … order by x` appends its helper
  // columns after a star whose width only the shard's fields reveal).
  const at = (i: number): number => (i < 0 ? fields.length + i : i);
  const keys = orderBy.map((k) => {
    const valueColumn = at(k.column);
    // MariaDB orders an ENUM (SET) by its member index, which the field packet does not carry.
    if (!k.grouping && ((fields[valueColumn]?.flags ?? 0) & (ColumnFlag.ENUM | ColumnFlag.SET)) !== 0) {
      throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: ORDER BY the ENUM or SET column '${fields[valueColumn]!.name}' across shards (MariaDB orders it by member index, which the gateway does not know); ORDER BY ${fields[valueColumn]!.name}+0 orders by the index`);
    }
    if (k.noCollationKey && isTextField(fields[valueColumn])) {
      throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: ORDER BY the character string '${fields[valueColumn]!.name}' across shards where no collation key could be pushed (a position over *, or an expression over aggregates); name a column`);
    }
    // Weight strings decide only for text columns; numbers, dates and binary strings compare by
    // value (WEIGHT_STRING of a number is its digits, which do not sort numerically).
    const useWeight = k.weightStringColumn !== undefined && isTextField(fields[valueColumn]);
    const column = useWeight ? at(k.weightStringColumn!) : valueColumn;
    const cmp = useWeight ? compareCollationKeys : comparatorFor(fields[valueColumn]);
    const sign = k.desc ? -1 : 1;
    return { column, cmp, sign };
  });
  return (a, b) => {
    for (const k of keys) {
      const c = compareNullable(a[k.column], b[k.column], k.cmp);
      if (c !== 0) return c * k.sign;
    }
    return 0;
  };
}

/**
 * Per-input hand-off slot.
 * Concurrency rule: ownership alternates. The producer writes `chunk`/`release`/`reject` only
 * while `chunk` is null (its previous chunk was fully consumed and its promise resolved); the
 * merger reads and advances `pos` only while `chunk` is set, and clears it before resolving. No
 * field is ever written by both sides at once.
 */
interface InputSlot {
  /** The chunk; a lazy chunk (lazyRows) holds undefined where a row is not decoded yet. */
  chunk: (Row | undefined)[] | null;
  /** Decodes row i of a lazy chunk; null for a chunk of rows. */
  rowAt: ((i: number) => Row) | null;
  /** The shard packets of `chunk`, when it has them (set with it). */
  packets: RowPackets | undefined;
  pos: number;
  ended: boolean;
  release: (() => void) | null;
  reject: ((err: unknown) => void) | null;
}

export async function mergeSorted(
  inputs: readonly SortedInput[],
  makeComparator: (fields: readonly FieldInfo[]) => RowComparator,
  out: RowReceiver,
  ctx: { readonly signal: AbortSignal },
  runInputs: RunInputs = (tasks) => Promise.all(tasks.map((t) => t.run(ctx.signal))).then(() => undefined),
): Promise<void> {
  // The receiver stops reading early (a Limit): decode rows lazily and keep their packets.
  const limited = out.rowsWanted !== undefined;
  const slots: InputSlot[] = inputs.map(() => ({ chunk: null, rowAt: null, packets: undefined, pos: 0, ended: false, release: null, reject: null }));
  // Per-merge state, shared by the producers' callbacks and the merge loop; each field's rule:
  // `compare` is set once by the first fields() call (synchronous test-and-set);
  // `wake` is replaced only by the merge loop, and taken-and-cleared synchronously by notify();
  // `mergeError` is written once by the merge loop when it fails.
  let compare: RowComparator | null = null;
  let wake: (() => void) | null = null;
  let mergeError: unknown = null;
  // The inputs' abort signal: it fires when the signal runInputs gives them fires, or when the
  // merge fails (mergeError). A runner that exposes how to abort its inputs' signal (the route's
  // fan-out: `abortInputs`, set before any input starts) lets the merge use that signal as it is.
  // Otherwise every input given the same signal shares one linked controller; an input given
  // another signal gets a link of its own. Concurrency rule: `links` is appended to synchronously
  // when an input starts, read when the merge fails, and unhooked once inputs and merge settled;
  // `abortInputs` is written once, before the inputs start.
  let abortInputs: ((reason: unknown) => void) | null = null;
  const links: { source: AbortSignal; controller: AbortController; hook: () => void }[] = [];
  const inputSignal = (source: AbortSignal): AbortSignal => {
    if (abortInputs !== null) return source;
    for (const l of links) if (l.source === source) return l.controller.signal;
    const controller = new AbortController();
    const hook = () => controller.abort(source.reason);
    links.push({ source, controller, hook });
    if (source.aborted) controller.abort(source.reason);
    else if (mergeError !== null) controller.abort(mergeError);
    else hookAbort(source, hook);
    return controller.signal;
  };
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const tasks = inputs.map((input, i) => ({
    shard: String(i),
    run: async (signal: AbortSignal) => {
      const slot = slots[i];
      const linked = inputSignal(signal);
      try {
        await input(
          {
            fields: (f) => {
              if (compare !== null) return;
              compare = makeComparator(f);
              out.fields(f);
            },
            rows: (rows) => {
              if (mergeError !== null) throw mergeError;
              if (rows.length === 0) return;
              return new Promise<void>((resolve, reject) => {
                slot.chunk = rows;
                slot.rowAt = null;
                slot.packets = rowPacketsOf(rows);
                slot.pos = 0;
                slot.release = resolve;
                slot.reject = reject;
                notify();
              });
            },
            lazyRows: limited ? (count, rowAt, packets) => {
              if (mergeError !== null) throw mergeError;
              if (count === 0) return;
              return new Promise<void>((resolve, reject) => {
                slot.chunk = new Array<Row | undefined>(count);
                slot.rowAt = rowAt;
                slot.packets = packets !== undefined && packets.sources.length === count ? packets : undefined;
                slot.pos = 0;
                slot.release = resolve;
                slot.reject = reject;
                notify();
              });
            } : undefined,
          },
          linked,
        );
      } finally {
        slot.ended = true;
        // A failed input may leave a chunk behind; it will never be continued.
        if (slot.chunk !== null) {
          slot.chunk = null;
          slot.rowAt = null;
          slot.packets = undefined;
          slot.release = null;
          slot.reject = null;
        }
        notify();
      }
    },
  }));

  /** The next row of a slot that holds a chunk, decoded now if its chunk is lazy. */
  const head = (s: InputSlot): Row => {
    const chunk = s.chunk!;
    const row = chunk[s.pos];
    return row !== undefined ? row : (chunk[s.pos] = s.rowAt!(s.pos));
  };

  const merge = async () => {
    // The output chunk, with the shard packets of its rows while every row has one (so rows the
    // route only trims still reach the client as the shards' bytes: row-packets.ts). Under a
    // Limit only: a whole merge measured more allocation with them (bench/in-process-scatter.ts).
    // The first chunk stops where the receiver stops reading (a Limit), so the merge compares and
    // hands on no row past it; later chunks are full size.
    let chunkRows = Math.max(1, Math.min(OUTPUT_CHUNK_ROWS, out.rowsWanted ?? OUTPUT_CHUNK_ROWS));
    // Under a Limit the first chunk's arrays are made, with its first row, at the size it will
    // most likely have (the rows the Limit wants), not grown row by row; later chunks grow. `n`
    // rows are in them, and they are cut to it at flush.
    let n = 0;
    let presize = limited;
    let batch: Row[] = [];
    let sources: Uint8Array[] = [];
    let bounds: number[] = [];
    let withPackets = limited;
    const flush = async () => {
      if (batch.length !== n) batch.length = n;
      let b = batch;
      if (withPackets) {
        if (sources.length !== n) {
          sources.length = n;
          bounds.length = 2 * n;
        }
        b = withRowPackets(batch, sources, bounds);
      }
      chunkRows = OUTPUT_CHUNK_ROWS;
      n = 0;
      batch = [];
      sources = [];
      bounds = [];
      withPackets = limited;
      await out.rows(b);
      // A receiver that has what it needs stops the statement through its signal (Limit): merge
      // no further.
      if (ctx.signal.aborted) throw ctx.signal.reason;
    };
    try {
      for (;;) {
        let ready = true;
        let min = -1;
        for (let i = 0; i < slots.length; i++) {
          const s = slots[i];
          if (s.chunk !== null) {
            if (min < 0 || compare!(head(s), head(slots[min])) < 0) min = i;
          } else if (!s.ended) {
            ready = false;
            break;
          }
        }
        if (!ready) {
          if (n > 0) await flush();
          // Re-check after the await: an input may have delivered meanwhile (notify found no waiter).
          if (slots.some((s) => s.chunk === null && !s.ended)) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              if (slots.every((s) => s.chunk !== null || s.ended)) notify();
            });
          }
          continue;
        }
        if (min < 0) break;
        const s = slots[min];
        const row = head(s);
        const at = s.pos++;
        if (presize) {
          presize = false;
          batch = new Array(chunkRows);
          sources = new Array(chunkRows);
          bounds = new Array(2 * chunkRows);
        }
        if (withPackets) {
          const p = s.packets;
          if (p === undefined) withPackets = false;
          else {
            sources[n] = p.sources[at];
            bounds[2 * n] = p.bounds[2 * at];
            bounds[2 * n + 1] = p.bounds[2 * at + 1];
          }
        }
        batch[n++] = row;
        if (s.pos >= s.chunk!.length) {
          const release = s.release!;
          s.chunk = null;
          s.rowAt = null;
          s.packets = undefined;
          s.release = null;
          s.reject = null;
          release();
        }
        if (n >= chunkRows) await flush();
      }
      if (n > 0) await flush();
    } catch (err) {
      mergeError = err;
      for (const s of slots) {
        const reject = s.reject;
        s.chunk = null;
        s.rowAt = null;
        s.packets = undefined;
        s.release = null;
        s.reject = null;
        reject?.(err);
      }
      abortInputs?.(err);
      for (const l of links) l.controller.abort(err);
      throw err;
    }
  };

  let settled: [PromiseSettledResult<void>, PromiseSettledResult<void>];
  try {
    settled = await Promise.allSettled([
      merge(),
      runInputs(tasks, (abort) => {
        abortInputs = abort;
      }),
    ]);
  } finally {
    for (const l of links) unhookAbort(l.source, l.hook);
  }
  const [merged, ran] = settled;
  if (merged.status === 'rejected') throw merged.reason;
  if (ran.status === 'rejected') throw ran.reason;
}
