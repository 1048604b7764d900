/**
 * The last receiver of a statement: writes rows to the client's ResultSink with backpressure.
 * When `sink.row()` returns false the writer waits for `drain()`, and because producers wait for
 * the writer, a slow client pauses every shard stream of the query instead of growing memory.
 */
import { offAbort as unhookAbort, onAbort as hookAbort } from './abort-hooks.js';
import { queryInterrupted } from './errors.js';
import type { RowReceiver } from './row-flow.js';
import type { FieldInfo, ResultSink, Row } from './types.js';
import { isPacketOnlyRow, packetOfRow, rowPacketsOf, type RowPacketTarget, type RowPackets } from './row-packets.js';
import { ExecutorError, ER_UNKNOWN_ERROR } from './errors.js';
import { VALUES_PER_SLICE, yieldToEventLoop } from './event-loop-yield.js';

export class SinkWriter implements RowReceiver {
  /**
   * Concurrency rule: sibling shard streams call rows() concurrently, and one chunk is written
   * whole before the next starts. A chunk is written synchronously when nothing is queued; only
   * a chunk that must wait for drain() leaves `tail` set, and every chunk arriving meanwhile
   * chains behind it (each after the previous settled, failed or not, like a SerialQueue).
   * `tail` is replaced synchronously by each caller; `fieldsSent` is test-and-set synchronously.
   */
  private tail: Promise<void> | null = null;
  fieldsSent = false;
  rowCount = 0;
  private target: RowPacketTarget | undefined;
  /** The result's width (set by fields()): a row of another width never goes to rawRows. */
  private columnCount = 0;
  /** Rows written at once since the event loop last had a turn (rows()); read and reset synchronously. */
  private sinceTurn = 0;

  constructor(
    private readonly sink: ResultSink,
    private readonly signal: AbortSignal,
  ) {}

  fields(fields: readonly FieldInfo[]): void {
    if (this.fieldsSent) return;
    this.fieldsSent = true;
    this.columnCount = fields.length;
    this.sink.columns(fields);
  }

  /**
   * Writes one chunk. Returns undefined when it was written at once (the common case: no promise
   * and no microtask per chunk), or a promise that settles once the chunk is written whole.
   * Never throws: an abort (or a sink error) comes back as a rejected promise. `packets`: the
   * shard's packets of these rows when they are not attached to the array (ShardResult.packets).
   */
  rows(rows: readonly Row[], packets?: RowPackets): Promise<void> | undefined {
    if (this.tail !== null) return this.chain(rows, packets);
    let waiting: Promise<void> | undefined;
    try {
      waiting = this.writeFrom(rows, 0, packets);
    } catch (err) {
      return Promise.reject(err);
    }
    if (waiting === undefined) {
      // Chunks written at once make their producer's loop a chain of microtasks (rows held at
      // the gateway: a merge of buffered shard results, an aggregate's groups): every
      // VALUES_PER_SLICE rows the chunk settles after a turn of the event loop instead, so other
      // clients' statements, timers and this statement's abort are served in between.
      this.sinceTurn += rows.length;
      if (this.sinceTurn < VALUES_PER_SLICE) return undefined;
      this.sinceTurn = 0;
      return this.track(yieldToEventLoop());
    }
    return this.track(waiting);
  }

  /**
   * This writer as a RowPacketTarget, when its sink takes row packets (the protocol's sink does,
   * for text and binary results). Rows
   * written through it go out at once, beside any chunk of rows() still waiting for drain():
   * both write whole packets only, and rows of sibling streams have no order among them.
   */
  packetTarget(): RowPacketTarget | undefined {
    const sink = this.sink;
    if (sink.acceptsRowPackets !== true || sink.rowPackets === undefined || sink.rawRow === undefined) return undefined;
    const signal = this.signal;
    return (this.target ??= {
      packets: (buf, start, end, count) => {
        if (signal.aborted) return false;
        this.rowCount += count;
        return sink.rowPackets!(buf, start, end, count);
      },
      row: (buf, start, end, cells) => {
        if (signal.aborted) return false;
        this.rowCount++;
        return sink.rawRow!(buf, start, end, cells);
      },
      drain: () => this.drain(),
    });
  }

  /**
   * Whether a row with a shard packet is written from that packet alone (RowReceiver
   * .takesPacketRows): when the sink takes raw rows and row packets, i.e. the protocol's sink,
   * which reads a raw row's bytes only (the gateway's wrappers pass raw rows on to it).
   */
  get takesPacketRows(): boolean {
    const sink = this.sink;
    return sink.acceptsRowPackets === true && sink.rowPackets !== undefined && sink.rawRow !== undefined;
  }

  /** Writes rows from `start` until the sink is full; then finishes the chunk after drain(). */
  private writeFrom(rows: readonly Row[], start: number, given: RowPackets | undefined): Promise<void> | undefined {
    const sink = this.sink;
    const signal = this.signal;
    // Rows as the shard sent them go out as its packets when the sink takes them (row-packets.ts).
    const packets = sink.rawRow === undefined ? undefined : given !== undefined && given.sources.length === rows.length ? given : rowPacketsOf(rows);
    // A run of such rows goes to rawRows in one call: per row, the calls through the sinks and
    // their checks cost more than copying a short row (a merge's LIMIT 100 measured ~1,300
    // instructions per row that way).
    const bulk = packets !== undefined && sink.rawRows !== undefined;
    for (let i = start; i < rows.length; ) {
      if (signal.aborted) throw signal.reason;
      if (bulk) {
        let j = i;
        while (j < rows.length && rows[j].length === this.columnCount && packetOfRow(packets, j, rows[j]) >= 0) j++;
        if (j > i) {
          const taken = sink.rawRows!(packets.sources, packets.bounds, i, j);
          this.rowCount += taken - i;
          if (taken < j) return this.drain().then(() => this.writeFrom(rows, taken, packets));
          i = j;
          continue;
        }
      }
      this.rowCount++;
      const at = packets !== undefined ? packetOfRow(packets, i, rows[i]) : -1;
      // A packet-only row that lost its packet on the way has no cells to write: fail, never write nulls.
      if (at < 0 && isPacketOnlyRow(rows[i])) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', 'Internal error: a row reached the client without its shard packet');
      if (!(at >= 0 ? sink.rawRow!(packets!.sources[i], at, packets!.bounds[2 * i + 1], rows[i]) : sink.row(rows[i]))) {
        if (i + 1 === rows.length) return this.drain();
        return this.drain().then(() => this.writeFrom(rows, i + 1, packets));
      }
      i++;
    }
    return undefined;
  }

  private chain(rows: readonly Row[], packets: RowPackets | undefined): Promise<void> {
    const run = () => this.writeFrom(rows, 0, packets);
    return this.track(this.tail!.then(run, run));
  }

  /** Makes `p` the tail until it settles (a later chunk may replace it first). */
  private track(p: Promise<void>): Promise<void> {
    const settled: Promise<void> = p.then(
      () => this.untrack(settled),
      () => this.untrack(settled),
    );
    this.tail = settled;
    return p;
  }

  private untrack(p: Promise<void>): void {
    if (this.tail === p) this.tail = null;
  }

  private drain(): Promise<void> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason ?? queryInterrupted('client disconnected'));
      hookAbort(this.signal, onAbort);
      this.sink.drain().then(
        () => {
          unhookAbort(this.signal, onAbort);
          resolve();
        },
        (err) => {
          unhookAbort(this.signal, onAbort);
          reject(err);
        },
      );
    });
  }

  /** Waits for every queued write: undefined when none is pending. */
  flushed(): Promise<void> | undefined {
    if (this.tail === null) return undefined;
    return this.tail;
  }
}
