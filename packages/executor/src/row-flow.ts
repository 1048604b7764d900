/**
 * How rows move between operators: push, in chunks, with backpressure through promises.
 *
 * A producer calls `fields` exactly once, then `rows` for each chunk, and does not produce its
 * next chunk until the promise returned by `rows` settles. Sibling producers (the shard streams of
 * one scatter) may call `rows` of the same receiver CONCURRENTLY, so a receiver's own state must be
 * either per-call or guarded: this is the rule that Vitess 21.0.1's streaming semi-join broke.
 */
import type { FieldInfo, Row } from './types.js';
import { rowPacketsOf, type RowPacketTarget, type RowPackets } from './row-packets.js';

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

  /**
   * True when the receiver, and whatever it hands rows to, writes a row that comes with its shard
   * packet (row-packets.ts) from that packet alone, never reading its cells: a producer may then
   * hand such a row on as packetOnlyRow(). Only the statement's result on its way to a client
   * sink that forwards packets says so; an operator that passes rows on one for one, unchanged
   * and with their packets (Limit), passes it on. Everything else reads cells, and leaves it unset.
   */
  readonly takesPacketRows?: boolean;
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
 * The chunks are kept as they came, not copied (a chunk is never changed in place, see
 * row-packets.ts): a result of several chunks (the shards of a scatter) is put into one array
 * only if someone reads `collected` or `packets`, once, at its exact size; a consumer that writes
 * the rows in order may take the chunks themselves (`chunks`).
 */
export class CollectingReceiver implements RowReceiver {
  fieldDefs: readonly FieldInfo[] | null = null;
  private readonly parts: Row[][] = [];
  private rowCount = 0;
  private flat: Row[] | null = null;
  private flatPackets: RowPackets | null | undefined = undefined;
  constructor(
    private readonly onRows?: (count: number) => void,
    private readonly keepPackets = false,
    /** Set by the statement's owner when it writes these rows to a client sink from their packets only (RowReceiver.takesPacketRows). */
    readonly takesPacketRows = false,
  ) {}
  /** Every row, in the order the chunks came. */
  get collected(): Row[] {
    if (this.flat === null) {
      const parts = this.parts;
      if (parts.length === 1) this.flat = parts[0];
      else {
        const all: Row[] = new Array(this.rowCount);
        let n = 0;
        for (const part of parts) for (let i = 0; i < part.length; i++) all[n++] = part[i];
        this.flat = all;
      }
    }
    return this.flat;
  }
  /**
   * With `keepPackets`: the shard packets of `collected`, one per row, when every chunk came with
   * them (see row-packets.ts); null otherwise. Only the owner of the receiver reads it, and only
   * if it did not reorder `collected`.
   */
  get packets(): RowPackets | null {
    if (this.flatPackets === undefined) this.flatPackets = this.keepPackets ? packetsOfChunks(this.parts, this.rowCount) : null;
    return this.flatPackets;
  }
  /** The chunks as they came (a consumer that hands the rows on in order needs no single array). */
  get chunks(): readonly Row[][] {
    return this.parts;
  }
  get size(): number {
    return this.rowCount;
  }
  fields(fields: readonly FieldInfo[]): void {
    if (this.fieldDefs === null) this.fieldDefs = fields;
  }
  rows(rows: Row[]): void {
    this.onRows?.(rows.length);
    if (rows.length === 0) return;
    this.parts.push(rows);
    this.rowCount += rows.length;
    this.flat = null;
    this.flatPackets = undefined;
  }
  result(): BufferedRows {
    return { fields: this.fieldDefs ?? [], rows: this.collected };
  }
}

/** The packets of `rowCount` rows in `chunks`, when every chunk has them; null otherwise. */
function packetsOfChunks(chunks: readonly Row[][], rowCount: number): RowPackets | null {
  if (chunks.length === 0) return NO_PACKETS;
  if (chunks.length === 1) return rowPacketsOf(chunks[0]) ?? null;
  // Rows built by an operator (a join's) have none: known before two arrays of rowCount are made.
  for (const chunk of chunks) if (rowPacketsOf(chunk) === undefined) return null;
  const sources: Uint8Array[] = new Array(rowCount);
  const bounds: number[] = new Array(2 * rowCount);
  let n = 0;
  for (const chunk of chunks) {
    const p = rowPacketsOf(chunk)!;
    for (let i = 0; i < chunk.length; i++, n++) {
      sources[n] = p.sources[i];
      bounds[2 * n] = p.bounds[2 * i];
      bounds[2 * n + 1] = p.bounds[2 * i + 1];
    }
  }
  return { sources, bounds };
}

/** The packets of no rows (a CollectingReceiver that has received nothing yet). */
const NO_PACKETS: RowPackets = Object.freeze({ sources: Object.freeze([]), bounds: Object.freeze([]) });

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
