/**
 * MergeSort: a k-way streaming merge of shard streams that are each already sorted (the ORDER BY
 * is pushed to every shard). A row goes out only when every unfinished input has a head row to
 * compare with, so memory holds at most one chunk per input.
 *
 * Strings compare by the WEIGHT_STRING bytes the planner pushed next to them, i.e. by the shard's
 * own collation, so 'alice', 'Alice' and 'Ålice' come out exactly as one MariaDB orders them.
 */
import type { OrderByKey } from '@shardgate/planner';
import type { Aborter } from '../abort-hooks.js';
import { childAbort } from '../query-context.js';
import { RowSlices } from '../event-loop-yield.js';
import type { RowReceiver } from '../row-flow.js';
import { ExecutorError, ER_NOT_SUPPORTED_YET, ER_UNKNOWN_ERROR } from '../errors.js';
import { ColumnFlag } from '../values/column-types.js';
import type { FieldInfo, Row } from '../types.js';
import { cellsEnd, decodeTextRowPrefix, isPacketOnlyRow, packetOnlyRow, prefixEnd, readCellBounds, rowPacketsOf, walkRowPackets, withRowPackets, type RowPacketWalker } from '../row-packets.js';
import { asRangeComparator, compareCollationKeys, compareCollationKeyViews, compareNullable, comparatorFor, isTextField, type CellComparator, type RangeComparator, type ViewRangeComparator } from '../values/cell-compare.js';

/**
 * One ORDER BY key: the cell at `column`, compared by `cmp` where it lies (the merge) or by
 * `cellCmp` as a decoded cell (the Sort), `sign` -1 for DESC.
 */
export interface MergeKey {
  readonly column: number;
  readonly cmp: RangeComparator;
  /** `cmp` reading both keys through DataViews of the packets too, where that is faster (collation keys); else null. */
  readonly viewCmp: ViewRangeComparator | null;
  readonly cellCmp: CellComparator;
  readonly sign: number;
}

/**
 * Orders two rows. orderComparator's also lists its keys, so that a merge can compare rows where
 * their key cells lie in the shards' packets, without decoding them.
 */
export type RowComparator = ((a: Row, b: Row) => number) & { readonly keys?: readonly MergeKey[] };

/**
 * What a sorted input pushes into: rows as a RowReceiver takes them, or a chunk read whole whose
 * rows the merge decodes only as it reaches them (ShardResult.rowAt): a merge under a Limit then
 * decodes about the rows it hands on, not every row of every shard.
 */
export interface SortedReceiver extends RowReceiver {
  /**
   * `count` rows, row i being rowAt(i) (called at most once per row); same promise rule as rows().
   * Offered when the merge's receiver wants fewer rows than it may get (a Limit), or takes rows as
   * their packets alone (RowReceiver.takesPacketRows): otherwise a merge that hands on every row
   * decodes every row anyway, and measured more allocation this way.
   */
  readonly lazyRows?: (count: number, rowAt: (i: number) => Row, packets: RowPacketWalker | undefined) => Promise<void> | void;
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
    const cellCmp = useWeight ? compareCollationKeys : comparatorFor(fields[valueColumn]);
    const sign = k.desc ? -1 : 1;
    return { column, cmp: asRangeComparator(cellCmp), viewCmp: useWeight ? compareCollationKeyViews : null, cellCmp, sign };
  });
  const compare = (a: Row, b: Row): number => {
    for (const k of keys) {
      const c = compareNullable(a[k.column], b[k.column], k.cellCmp);
      if (c !== 0) return c * k.sign;
    }
    return 0;
  };
  // The merge reads `keys` (MergeKey); the Sort compares rows as before.
  return Object.assign(compare, { keys });
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
  packets: RowPacketWalker | undefined;
  pos: number;
  /**
   * Where the head row's sort keys are, for `pos === keyedPos`: in its packet `keySource`, cell c
   * at `cells[2c, 2c+1)` (-1: NULL), or in the decoded row `keyRow`.
   */
  keyedPos: number;
  keySource: Uint8Array | null;
  /** A DataView over `keyViewOf` (the last keySource a key with viewCmp was read in), made once per packet buffer. */
  keyView: DataView | null;
  keyViewOf: Uint8Array | null;
  keyRow: Row | null;
  readonly cells: Int32Array;
  ended: boolean;
  /** The input's position in `inputs`: equal heads go out in this order. */
  readonly index: number;
  /** Whether the slot is in the merge's `order` (its current chunk's head placed there). */
  placed: boolean;
  release: (() => void) | null;
  reject: ((err: unknown) => void) | null;
}

/**
 * Merges `inputs` into `out` in the order of makeComparator(fields). With `columns`, every row is
 * handed on with its first `columns` cells only (trimRow: the planner's helper columns come last),
 * with the packet of that prefix: a row chosen from a lazy chunk is decoded that far only, and a
 * row never chosen is not decoded at all when its sort keys could be read in its packet.
 */
export async function mergeSorted(
  inputs: readonly SortedInput[],
  makeComparator: (fields: readonly FieldInfo[]) => RowComparator,
  out: RowReceiver,
  ctx: { readonly signal: AbortSignal },
  runInputs: RunInputs = (tasks) => Promise.all(tasks.map((t) => t.run(ctx.signal))).then(() => undefined),
  columns?: number,
): Promise<void> {
  // The receiver stops reading early (a Limit): decode rows lazily and keep their packets.
  const limited = out.rowsWanted !== undefined;
  // The receiver writes rows from their packets alone: a chosen row not decoded yet is handed on
  // as packetOnlyRow(), never decoded (row-packets.ts). `visible` is its width, set with `compare`.
  const packetRows = out.takesPacketRows === true;
  // Chunks read whole are taken lazily (lazyRows), with their packets, when rows may go on
  // undecoded: under a Limit (most are never reached) or to a receiver that takes packet-only rows.
  const lazy = limited || packetRows;
  let visible = 0;
  const slots: InputSlot[] = inputs.map((_, index) => ({
    chunk: null, rowAt: null, packets: undefined, pos: 0,
    keyedPos: -1, keySource: null, keyView: null, keyViewOf: null, keyRow: null, cells: new Int32Array(0),
    ended: false, index, placed: false, release: null, reject: null,
  }));
  // Per-merge state, shared by the producers' callbacks and the merge loop; each field's rule:
  // `compare` is set once by the first fields() call (synchronous test-and-set);
  // `wake` is replaced only by the merge loop, and taken-and-cleared synchronously by notify();
  // `mergeError` is written once by the merge loop when it fails.
  let compare: RowComparator | null = null;
  // Set with `compare`: its keys, and how many leading cells of a row hold them.
  let keys: readonly MergeKey[] | null = null;
  let keyWidth = 0;
  // Whether a key compares through DataViews (MergeKey.viewCmp): the slots then keep one of their packets.
  let viewKeys = false;
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
  const links: { source: AbortSignal; controller: Aborter; dispose: () => void }[] = [];
  const inputSignal = (source: AbortSignal): AbortSignal => {
    if (abortInputs !== null) return source;
    for (const l of links) if (l.source === source) return l.controller.signal;
    const { controller, dispose } = childAbort(source);
    links.push({ source, controller, dispose });
    if (mergeError !== null) controller.abort(mergeError);
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
              // A negative `columns` counts from the end of the row, as trimRow's does.
              if (columns !== undefined && columns < 0) columns = Math.max(0, f.length + columns);
              visible = columns ?? f.length;
              keys = compare.keys ?? null;
              viewKeys = keys !== null && keys.some((k) => k.viewCmp !== null);
              if (keys !== null) {
                const width = keys.reduce((w, k) => Math.max(w, k.column + 1), 0);
                for (let j = 0; j < slots.length; j++) (slots[j] as { cells: Int32Array }).cells = new Int32Array(2 * width);
                keyWidth = width;
              }
              out.fields(f);
            },
            rows: (rows) => {
              if (mergeError !== null) throw mergeError;
              if (rows.length === 0) return;
              return new Promise<void>((resolve, reject) => {
                slot.chunk = rows;
                slot.rowAt = null;
                const p = rowPacketsOf(rows);
                slot.packets = p !== undefined ? walkRowPackets(p) : undefined;
                slot.pos = 0;
                slot.keyedPos = -1;
                slot.release = resolve;
                slot.reject = reject;
                notify();
              });
            },
            lazyRows: lazy ? (count, rowAt, packets) => {
              if (mergeError !== null) throw mergeError;
              if (count === 0) return;
              return new Promise<void>((resolve, reject) => {
                slot.chunk = new Array<Row | undefined>(count);
                slot.rowAt = rowAt;
                slot.packets = packets;
                slot.pos = 0;
                slot.keyedPos = -1;
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

  /**
   * Finds the head row's sort keys: in its shard packet when the chunk is lazy and has packets
   * (the row is then decoded only if the merge hands it on), else in the decoded row.
   */
  const locateKeys = (s: InputSlot): void => {
    s.keyedPos = s.pos;
    const w = s.packets;
    if (s.rowAt !== null && w !== undefined && s.chunk![s.pos] === undefined) {
      w.seek(s.pos);
      if (readCellBounds(w.source, w.start, w.end, keyWidth, s.cells)) {
        const source = w.source;
        s.keySource = source;
        s.keyRow = null;
        if (viewKeys && s.keyViewOf !== source) {
          s.keyView = new DataView(source.buffer, source.byteOffset, source.byteLength);
          s.keyViewOf = source;
        }
        return;
      }
    }
    // A malformed packet throws here, as decodeTextRow reports it.
    s.keySource = null;
    s.keyRow = head(s);
  };

  /** compare(head(a), head(b)), reading the keys where locateKeys found them. */
  const compareHeads = (a: InputSlot, b: InputSlot): number => {
    if (keys === null) return compare!(head(a), head(b));
    if (a.keyedPos !== a.pos) locateKeys(a);
    if (b.keyedPos !== b.pos) locateKeys(b);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const col = k.column;
      let x: Uint8Array | null;
      let xs = 0;
      let xe = 0;
      if (a.keyRow !== null) {
        x = a.keyRow[col] ?? null;
        if (x !== null) xe = x.length;
      } else {
        xs = a.cells[2 * col];
        xe = a.cells[2 * col + 1];
        x = xs < 0 ? null : a.keySource;
      }
      let y: Uint8Array | null;
      let ys = 0;
      let ye = 0;
      if (b.keyRow !== null) {
        y = b.keyRow[col] ?? null;
        if (y !== null) ye = y.length;
      } else {
        ys = b.cells[2 * col];
        ye = b.cells[2 * col + 1];
        y = ys < 0 ? null : b.keySource;
      }
      // MySQL NULL ordering: NULL first ascending (compareNullable).
      // Both keys in packets with their views made (locateKeys): the faster comparison.
      const c = x === null ? (y === null ? 0 : -1) : y === null ? 1 : k.viewCmp !== null && x === a.keyViewOf && y === b.keyViewOf ? k.viewCmp(x, xs, xe, a.keyView!, y, ys, ye, b.keyView!) : k.cmp(x, xs, xe, y, ys, ye);
      if (c !== 0) return c * k.sign;
    }
    return 0;
  };

  /**
   * Row `at` of slot s as it is handed on: with `columns`, only its first `columns` cells, and
   * `packetEnd` set to where they end in its packet (-1: none). A lazy row nothing decoded yet is
   * decoded only that far.
   */
  let packetEnd = -1;
  const handedOn = (s: InputSlot, at: number): Row => {
    packetEnd = -1;
    const w = s.packets;
    if (w !== undefined) w.seek(at);
    let row = s.chunk![at];
    if (row === undefined && packetRows && w !== undefined) {
      const e = cellsEnd(w.source, w.start, w.end, visible);
      if (e >= 0) {
        packetEnd = e;
        return packetOnlyRow(visible);
      }
    }
    if (row === undefined && columns !== undefined && w !== undefined) {
      const prefix = decodeTextRowPrefix(w.source as Buffer, columns, w.start, w.end);
      if (prefix !== null) {
        packetEnd = prefixEnd(w.source, w.start, w.end, prefix, columns);
        return prefix;
      }
    }
    if (row === undefined) row = s.chunk![at] = s.rowAt!(at);
    if (columns === undefined || row.length <= columns) {
      if (w !== undefined) packetEnd = w.end;
      return row;
    }
    if (w !== undefined) packetEnd = prefixEnd(w.source, w.start, w.end, row, columns);
    return row.slice(0, columns);
  };

  const merge = async () => {
    // The output chunk, with the shard packets of its rows while every row has one (so rows the
    // route only trims still reach the client as the shards' bytes: row-packets.ts). With lazy
    // inputs only: a whole merge of decoded rows measured more allocation with them
    // (bench/in-process-scatter.ts).
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
    let withPackets = lazy;
    const slices = new RowSlices();
    const stopIfAborted = (): void => {
      if (ctx.signal.aborted) throw ctx.signal.reason;
    };
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
      withPackets = lazy;
      await out.rows(b);
      // A receiver that has what it needs stops the statement through its signal (Limit): merge
      // no further.
      stopIfAborted();
      // Buffered inputs (OLTP) and a receiver that takes chunks at once (an aggregate, a sort
      // collecting rows) leave no I/O between chunks: a turn of the event loop every slice.
      const turn = slices.spend(b.length, stopIfAborted);
      if (turn !== undefined) await turn;
    };
    // The slots that hold a chunk, ordered by their head rows and then by input (the order a scan
    // for the least head with ties to the first input gives): the merge hands on order[0]'s head,
    // then puts that slot back by binary search, about log2(k) comparisons per row instead of the
    // k - 1 of a scan. Concurrency rule: only the merge loop reads and changes `order` and
    // `placed`; a slot joins it only between rows, when the loop sees its new chunk.
    // `order[from, placedCount)` holds them: the merge takes order[from] and places the slot again
    // among the rest, moving the slots before its new place down by one (no Array#splice/shift,
    // which measured ~30,000 instructions per 4-shard LIMIT query).
    const order: InputSlot[] = new Array<InputSlot>(slots.length);
    let placedCount = 0;
    const precedes = (a: InputSlot, b: InputSlot): boolean => {
      const c = compareHeads(a, b);
      return c < 0 || (c === 0 && a.index < b.index);
    };
    /** Inserts s into order[from, placedCount) (from is 0 or 1: after the slot just taken), moving the slots before its place down to from - 1. */
    const place = (s: InputSlot, from: number): void => {
      let lo = from;
      let hi = placedCount;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (precedes(order[mid], s)) lo = mid + 1;
        else hi = mid;
      }
      if (from === 1) {
        // order[0] is the slot taken: shift order[1, lo) down into [0, lo - 1), s goes at lo - 1.
        for (let j = 1; j < lo; j++) order[j - 1] = order[j];
        order[lo - 1] = s;
      } else {
        for (let j = placedCount; j > lo; j--) order[j] = order[j - 1];
        order[lo] = s;
        placedCount++;
      }
      s.placed = true;
    };
    /** Drops order[at], moving the slots after it up. */
    const unplace = (at: number): void => {
      order[at].placed = false;
      for (let j = at + 1; j < placedCount; j++) order[j - 1] = order[j];
      placedCount--;
    };
    try {
      for (;;) {
        let ready = true;
        for (let i = 0; i < slots.length; i++) {
          const s = slots[i];
          if (s.chunk === null && !s.ended) {
            ready = false;
            break;
          }
        }
        if (ready) {
          // A failed input drops its chunk (the producer's finally): out of the order with it.
          for (let j = placedCount - 1; j >= 0; j--) if (order[j].chunk === null) unplace(j);
          for (let i = 0; i < slots.length; i++) if (slots[i].chunk !== null && !slots[i].placed) place(slots[i], 0);
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
        if (placedCount === 0) break;
        const s = order[0];
        const at = s.pos++;
        const row = handedOn(s, at);
        if (presize) {
          presize = false;
          batch = new Array(chunkRows);
          sources = new Array(chunkRows);
          bounds = new Array(2 * chunkRows);
        }
        if (withPackets) {
          if (packetEnd < 0) {
            withPackets = false;
            // The chunk goes on without packets: its packet-only rows need their cells now.
            if (packetRows) decodePacketOnlyRows(batch, n, sources, bounds, visible);
          } else {
            // handedOn left the walker on row `at`.
            const w = s.packets!;
            sources[n] = w.source;
            bounds[2 * n] = w.start;
            bounds[2 * n + 1] = packetEnd;
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
          unplace(0);
          release();
        } else {
          // Its next row is its head now: back among the others.
          place(s, 1);
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
    for (const l of links) l.dispose();
  }
  const [merged, ran] = settled;
  if (merged.status === 'rejected') throw merged.reason;
  if (ran.status === 'rejected') throw ran.reason;
}

/**
 * The first `n` rows of a merge's output chunk with the packet-only rows among them decoded from
 * their packets (`sources[j][bounds[2j], bounds[2j+1])`, their visible cells exactly), for a chunk
 * that goes on without packets after all.
 */
function decodePacketOnlyRows(batch: Row[], n: number, sources: readonly Uint8Array[], bounds: readonly number[], visible: number): void {
  for (let j = 0; j < n; j++) {
    if (!isPacketOnlyRow(batch[j])) continue;
    const row = decodeTextRowPrefix(sources[j] as Buffer, visible, bounds[2 * j], bounds[2 * j + 1]);
    // cellsEnd read these cells when the row was chosen, so they decode.
    if (row === null) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', 'Internal error: a merged row could not be decoded');
    batch[j] = row;
  }
}
