/**
 * The shard's row packets that travel with a chunk of rows, so that rows nothing changed reach the
 * client as the bytes the shard sent instead of being encoded again.
 *
 * A text-protocol row packet is the same on both sides: each cell length-encoded, 0xFB for NULL,
 * and a cell here is exactly the shard's bytes. So a chunk whose rows are the shard's rows, whole
 * and in the shard's column order, may be written as its packets once the client has the column
 * definitions. Any operator that changes rows (trims, projects, merges, sorts) builds new arrays,
 * which carry no packets, and their rows are encoded as before.
 *
 * Concurrency rule: the packets are attached once, by the connection that creates the chunk,
 * before anyone else sees it, and only read afterwards. Nothing may change a chunk in place;
 * should anything reorder or replace its rows anyway, packetOfRow() notices (each row's cells
 * must lie inside its own packet) and the row is encoded instead.
 */
import type { Row } from './types.js';

/**
 * The packets of a chunk: row i's payload is `sources[i][bounds[2i], bounds[2i+1])`. Offsets
 * into the socket buffers, not views, so recording a row's packet allocates nothing.
 */
export interface RowPackets {
  readonly sources: readonly Uint8Array[];
  readonly bounds: readonly number[];
}

/** Non-enumerable, so chunks still compare equal to plain arrays of the same rows. */
const PACKETS = Symbol('shardgate.rowPackets');

type ChunkWithPackets = Row[] & { [PACKETS]?: RowPackets };

/** Records the packets (one per row, same order) for `rows`. */
export function withRowPackets(rows: Row[], sources: readonly Uint8Array[], bounds: readonly number[]): Row[] {
  if (sources.length !== rows.length || bounds.length !== 2 * rows.length) return rows;
  Object.defineProperty(rows, PACKETS, { value: { sources, bounds } });
  return rows;
}

/**
 * A result's rows with its packets attached (ShardResult.packets), ready for a RowReceiver. The
 * same array every time: attached at most once.
 */
export function rowsWithPackets(r: { readonly rows: readonly Row[]; readonly packets?: RowPackets }): Row[] {
  const rows = r.rows as Row[];
  const p = r.packets;
  if (p === undefined || (rows as ChunkWithPackets)[PACKETS] !== undefined) return rows;
  return withRowPackets(rows, p.sources, p.bounds);
}

/** The shard's packets of this very chunk, if it has them. */
export function rowPacketsOf(rows: readonly Row[]): RowPackets | undefined {
  const p = (rows as ChunkWithPackets)[PACKETS];
  return p !== undefined && p.sources.length === rows.length ? p : undefined;
}

/**
 * Row i's packet payload start, when `row` is the row decoded from it: its first non-NULL cell
 * must be a view into that payload (checked, so a chunk changed in place is never sent as stale
 * bytes). -1 otherwise (and for a row of NULLs only, which is cheap to encode anyway).
 */
export function packetOfRow(p: RowPackets, i: number, row: Row): number {
  const source = p.sources[i];
  const start = p.bounds[2 * i];
  const end = p.bounds[2 * i + 1];
  for (let c = 0; c < row.length; c++) {
    const cell = row[c];
    if (cell === null) continue;
    const at = cell.byteOffset - source.byteOffset;
    return cell.buffer === source.buffer && at > start && at + cell.byteLength <= end ? start : -1;
  }
  return -1;
}

/**
 * Where a shard stream may put its rows as the shard's packet bytes, bypassing rows altogether:
 * the client's sink, when nothing between the shard and the client changes, merges, counts or
 * reorders rows (a route without a merge, straight into the statement's SinkWriter); a client that
 * reads binary rows gets each built from the packet's bytes by the protocol's sink. Offered by
 * RowReceiver.packetTarget and StreamHandlers.packetTarget.
 *
 * Concurrency rule: the shard streams of one scatter call it concurrently, each with whole
 * packets only, so rows of different shards interleave at packet boundaries and never inside a
 * row. A call writes synchronously; after `false` the caller stops reading its shard until
 * drain() settles, so memory stays bounded under a slow client.
 */
export interface RowPacketTarget {
  /**
   * `count` whole one-packet rows, headers included, `buf[start, end)`, valid only during the
   * call (the target copies them into the client's reply). False: the client's socket holds
   * enough, wait for drain().
   */
  packets(buf: Buffer, start: number, end: number, count: number): boolean;
  /** One row as its payload `buf[start, end)` and cells (a row that came in several packets). */
  row(buf: Buffer, start: number, end: number, cells: Row): boolean;
  /** Resolves once the client can take more; rejects when the statement was aborted. */
  drain(): Promise<void>;
}

/**
 * The rows of `rows` from `start` to `end` (Array.slice), keeping their packets: a Limit that cuts
 * a chunk still forwards the rows it keeps as the shard's bytes.
 */
export function sliceWithPackets(rows: Row[], start: number, end: number): Row[] {
  const out = rows.slice(start, end);
  const p = rowPacketsOf(rows);
  if (p === undefined || out.length === 0) return out;
  return withRowPackets(out, p.sources.slice(start, start + out.length), p.bounds.slice(2 * start, 2 * (start + out.length)));
}

/**
 * trimRow over a chunk, keeping packets: the columns kept are a prefix of the shard's row (the
 * planner's helper columns, weight strings and the like, come last), and the text-protocol packet
 * of a prefix of a row is a prefix of its packet. So each kept row's packet is its shard packet
 * cut after its last kept cell. A row whose kept cells are all NULL, or whose cells are not views
 * into its packet, makes the chunk go without packets (encoded as before).
 */
export function trimRowsWithPackets(rows: Row[], columns: number): Row[] {
  // row-flow's trimRow, inlined (row-flow imports this module): `columns` leading columns, or
  // all but -columns trailing ones.
  const out: Row[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    out[i] = r.length <= columns ? r : r.slice(0, columns);
  }
  const p = rowPacketsOf(rows);
  if (p === undefined) return out;
  const bounds: number[] = new Array(2 * rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const kept = out[i].length;
    const start = p.bounds[2 * i];
    const end = p.bounds[2 * i + 1];
    bounds[2 * i] = start;
    if (kept === row.length) {
      bounds[2 * i + 1] = end;
      continue;
    }
    const cut = prefixEnd(p.sources[i], start, end, row, kept);
    if (cut < 0) return out;
    bounds[2 * i + 1] = cut;
  }
  return withRowPackets(out, p.sources, bounds);
}

/**
 * Where the first `kept` cells of `row` end in its packet `source[start, end)`: after the last
 * non-NULL one of them, plus one byte (0xFB) per NULL after it. -1 when they are all NULL or the
 * cell is not a view into the packet.
 */
function prefixEnd(source: Uint8Array, start: number, end: number, row: Row, kept: number): number {
  let nulls = 0;
  for (let c = kept - 1; c >= 0; c--) {
    const cell = row[c];
    if (cell === null) {
      nulls++;
      continue;
    }
    const at = cell.byteOffset - source.byteOffset;
    if (cell.buffer !== source.buffer || at <= start || at + cell.byteLength + nulls > end) return -1;
    return at + cell.byteLength + nulls;
  }
  return -1;
}
