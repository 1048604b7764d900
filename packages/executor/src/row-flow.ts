/**
 * How rows move between operators: push, in chunks, with backpressure through promises.
 *
 * A producer calls `fields` exactly once, then `rows` for each chunk, and does not produce its
 * next chunk until the promise returned by `rows` settles. Sibling producers (the shard streams of
 * one scatter) may call `rows` of the same receiver CONCURRENTLY, so a receiver's own state must be
 * either per-call or guarded: this is the rule that Vitess 21.0.1's streaming semi-join broke.
 */
import type { FieldInfo, Row } from './types.js';
import { rowPacketsOf, type RowPacketTarget } from './row-packets.js';

export interface RowReceiver {
  fields(fields: readonly FieldInfo[]): void;
  rows(rows: Row[]): Promise<void> | void;
  /**
   * Optional: where a producer whose rows need no change may send them as the shard's packets
   * instead of rows() (row-packets.ts). Only the statement's SinkWriter offers one: any operator
   * in between changes, counts or orders rows, and so takes rows.
   */
  packetTarget?(): RowPacketTarget | undefined;

  /**
   * A hint: the receiver uses at most this many rows in all (a Limit's offset + count), so a
   * producer that batches (MergeSort) may cut its first chunk there, and then see the receiver
   * stop it through its signal before producing rows nobody reads. Never a bound on correctness:
   * rows past it are dropped by the receiver itself. Pass it on only where rows pass one for one.
   */
  readonly rowsWanted?: number;
}

/** What a statement that returns no rows reports. */
export interface OkOutcome {
  readonly affectedRows: bigint;
  readonly insertId: bigint;
  readonly info?: string;
}

export interface BufferedRows {
  fields: readonly FieldInfo[];
  rows: Row[];
}

/**
 * A receiver that keeps everything (OLTP results, the inner side of joins, subqueries).
 * Concurrency rule: `rows` only appends, synchronously; chunk order across siblings is whatever
 * order they arrive in, which is fine because every consumer treats siblings as unordered.
 *
 * The first chunk is kept as it came, not copied (most results are one chunk: a merge's, a
 * Limit's, an aggregate's row); a second chunk copies it before appending, so a chunk is never
 * changed in place (row-packets.ts). The owner only reads `collected` and `packets`.
 */
export class CollectingReceiver implements RowReceiver {
  fieldDefs: readonly FieldInfo[] | null = null;
  private all: Row[] = [];
  /** Whether `all` (and `packets`' arrays) are this receiver's own, not a producer's chunk. */
  private own = true;
  private chunks = 0;
  /**
   * With `keepPackets`: the shard packets of `collected`, one per row, as long as every chunk
   * came with them (see row-packets.ts); null once one did not. Only the owner of the receiver
   * reads it, and only if it did not reorder `collected`.
   */
  packets: { readonly sources: readonly Uint8Array[]; readonly bounds: readonly number[] } | null;
  constructor(
    private readonly onRows?: (count: number) => void,
    private readonly keepPackets = false,
  ) {
    this.packets = keepPackets ? NO_PACKETS : null;
  }
  get collected(): Row[] {
    return this.all;
  }
  fields(fields: readonly FieldInfo[]): void {
    if (this.fieldDefs === null) this.fieldDefs = fields;
  }
  rows(rows: Row[]): void {
    this.onRows?.(rows.length);
    if (this.chunks++ === 0) {
      this.all = rows;
      this.own = false;
      if (this.keepPackets) this.packets = rowPacketsOf(rows) ?? null;
      return;
    }
    if (!this.own) {
      this.own = true;
      this.all = this.all.slice();
      if (this.packets !== null) this.packets = { sources: this.packets.sources.slice(), bounds: this.packets.bounds.slice() };
    }
    for (const r of rows) this.all.push(r);
    if (this.packets !== null) {
      const p = rowPacketsOf(rows);
      if (p === undefined) this.packets = null;
      else {
        const sources = this.packets.sources as Uint8Array[];
        const bounds = this.packets.bounds as number[];
        for (let i = 0; i < p.sources.length; i++) sources.push(p.sources[i]);
        for (let i = 0; i < p.bounds.length; i++) bounds.push(p.bounds[i]);
      }
    }
  }
  result(): BufferedRows {
    return { fields: this.fieldDefs ?? [], rows: this.all };
  }
}

/** The packets of no rows (a CollectingReceiver that has received nothing yet). */
const NO_PACKETS: { readonly sources: readonly Uint8Array[]; readonly bounds: readonly number[] } = Object.freeze({ sources: Object.freeze([]), bounds: Object.freeze([]) });

/**
 * Passes fields on once however many producers report them. Concurrency rule: `sent` is tested
 * and set in one synchronous step, so two sibling producers cannot both forward fields.
 */
export class FieldsOnce {
  private sent = false;
  constructor(private readonly forward: (fields: readonly FieldInfo[]) => void) {}
  get done(): boolean {
    return this.sent;
  }
  fields(fields: readonly FieldInfo[]): void {
    if (this.sent) return;
    this.sent = true;
    this.forward(fields);
  }
}

/**
 * Serialises concurrent callers: each `run` starts after every earlier one settled.
 * Concurrency rule: `tail` is replaced synchronously by each caller, so the order of calls is the
 * order of execution; a failed task does not poison later ones (each caller gets its own result).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Keeps the columns the client sees. `columns` is a count of leading columns, or a negative
 * number of trailing helper columns to drop (plans of `select * …` know only the latter).
 */
export function trimRow(row: Row, columns: number | undefined): Row {
  return columns === undefined || row.length <= columns ? row : row.slice(0, columns);
}

export function trimFields(fields: readonly FieldInfo[], columns: number | undefined): readonly FieldInfo[] {
  if (columns === undefined || fields.length <= columns) return fields;
  // Shard metadata is frozen and shared by every result of its shape (field-cache.ts): its trimmed
  // list is made once and frozen too, so the client's result writer reuses its encoding as well
  // (the protocol's writeResultSetHeader caches the bytes of frozen column lists).
  if (!Object.isFrozen(fields)) return fields.slice(0, columns);
  let byColumns = trimmedFields.get(fields);
  if (byColumns === undefined) trimmedFields.set(fields, (byColumns = new Map()));
  let trimmed = byColumns.get(columns);
  if (trimmed === undefined) byColumns.set(columns, (trimmed = Object.freeze(fields.slice(0, columns))));
  return trimmed;
}

/**
 * trimFields' results for frozen column lists, by the columns argument. Concurrency rule: filled
 * synchronously; an entry is frozen and never replaced.
 */
const trimmedFields = new WeakMap<readonly FieldInfo[], Map<number, readonly FieldInfo[]>>();

/** The `columns` argument of trimRow/trimFields for a plan node. */
export function visibleColumns(node: { readonly resultColumns?: number; readonly hiddenColumns?: number }): number | undefined {
  if (node.resultColumns !== undefined) return node.resultColumns;
  return node.hiddenColumns ? -node.hiddenColumns : undefined;
}
