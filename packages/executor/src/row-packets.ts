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
import type { Cell, Row } from './types.js';

/**
 * The packets of a chunk: row i's payload is `sources[i][bounds[2i], bounds[2i+1])`. Offsets
 * into the socket buffers, not views, so recording a row's packet allocates nothing.
 */
export interface RowPackets {
  readonly sources: readonly Uint8Array[];
  readonly bounds: readonly number[];
}

/**
 * A chunk's row packets visited one row at a time: after seek(i), row i's payload is
 * `source[start, end)`. A reply read whole walks its socket reads in order this way without a
 * list of every row's packet (a merge under a Limit visits about a quarter of each shard's rows).
 * Concurrency rule: owned by one reader (one merge input); seek() moves it.
 */
export interface RowPacketWalker {
  /** Moves to row i; cheapest for the row after the last one sought, or that row again. */
  seek(i: number): void;
  readonly source: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/** A walker over a chunk's packet list. */
export function walkRowPackets(p: RowPackets): RowPacketWalker {
  const w = {
    source: p.sources[0],
    start: 0,
    end: 0,
    seek(i: number): void {
      w.source = p.sources[i];
      w.start = p.bounds[2 * i];
      w.end = p.bounds[2 * i + 1];
    },
  };
  return w;
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
  // A packet-only row is its packet (it has no cell to check it by).
  if (isPacketOnlyRow(row)) return start;
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
 * Where the first `kept` cells of `row` end in its packet `source[start, end)`: after the last
 * non-NULL one of them, plus one byte (0xFB) per NULL after it. -1 when they are all NULL or the
 * cell is not a view into the packet. The text-protocol packet of a row's first cells is a
 * prefix of its packet, so a merge that drops the planner's helper columns (they come last) still
 * hands on each kept row as the shard's bytes, cut here.
 */
export function prefixEnd(source: Uint8Array, start: number, end: number, row: Row, kept: number): number {
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

/**
 * Where the cells `0 … columns-1` of the text-protocol row payload `source[start, end)` lie:
 * cell c is `source[out[2c], out[2c+1])`, or NULL when out[2c] is -1. Nothing is allocated (a
 * merge reads its sort keys this way for every row it compares). False when the payload ends
 * before them or a length is malformed: decodeTextRow then reports the row.
 */
export function readCellBounds(source: Uint8Array, start: number, end: number, columns: number, out: Int32Array): boolean {
  return walkCells(source, start, end, columns, out) >= 0;
}

/**
 * The first `columns` cells of the text-protocol row payload `source[start, end)` as views, the
 * rest of the row not read: the rows a merge hands on without their helper columns (the planner
 * puts those last). Null when the payload is malformed before them (decodeTextRow then reports it).
 */
export function decodeTextRowPrefix(source: Buffer, columns: number, start: number, end: number): Row | null {
  if (prefixBounds.length < 2 * columns) prefixBounds = new Int32Array(2 * columns);
  const bounds = prefixBounds;
  if (!readCellBounds(source, start, end, columns, bounds)) return null;
  const cells: Cell[] = new Array(columns);
  for (let c = 0; c < columns; c++) {
    const at = bounds[2 * c];
    cells[c] = at === -1 ? null : source.subarray(at, bounds[2 * c + 1]);
  }
  return cells;
}

/**
 * Where the first `columns` cells of the text-protocol row payload `source[start, end)` end (the
 * offset just after the last of them), or -1 when the payload ends before them, a length is
 * malformed or a cell is 16 MiB or more (decodeTextRow then reads or reports the row). The packet
 * of those cells alone is `source[start, cellsEnd)`: a merge hands a chosen row on this way.
 */
export function cellsEnd(source: Uint8Array, start: number, end: number, columns: number): number {
  return walkCells(source, start, end, columns, null);
}

/**
 * The one walk over a text row's length-encoded cells (readCellBounds, cellsEnd): the offset after
 * cell `columns - 1`, each cell's bounds written to `out` when given; -1 when the payload ends
 * before them, a length is malformed, or a cell is 16 MiB or more (0xfe: left to decodeTextRow).
 */
function walkCells(source: Uint8Array, start: number, end: number, columns: number, out: Int32Array | null): number {
  let p = start;
  for (let c = 0; c < columns; c++) {
    if (p >= end) return -1;
    const first = source[p];
    let len: number;
    if (first < 0xfb) {
      len = first;
      p += 1;
    } else if (first === 0xfb) {
      if (out !== null) {
        out[2 * c] = -1;
        out[2 * c + 1] = -1;
      }
      p += 1;
      continue;
    } else if (first === 0xfc) {
      len = source[p + 1] | (source[p + 2] << 8);
      p += 3;
    } else if (first === 0xfd) {
      len = source[p + 1] | (source[p + 2] << 8) | (source[p + 3] << 16);
      p += 4;
    } else return -1;
    if (p + len > end) return -1;
    if (out !== null) {
      out[2 * c] = p;
      out[2 * c + 1] = p + len;
    }
    p += len;
  }
  return p;
}

/**
 * Packet-only rows: a row that exists only as its shard packet (the chunk's RowPackets hold it),
 * its cells never decoded. A merge under a Limit hands its chosen rows on this way when what
 * receives them writes every row that has a packet from the packet alone
 * (RowReceiver.takesPacketRows: the statement's result on its way to a client sink that forwards
 * packets), which saves an array and a `Buffer` view per cell for every row a client gets.
 *
 * The row is one shared frozen array of `columns` nulls per width, recognised by identity: it has
 * the row's length (which the protocol's sink checks) and no cells. Whoever finds one without its
 * packet must fail (SinkWriter does), never write its nulls; one that wants the cells decodes the
 * packet (FoundRowsSink keeps the last row's packet instead).
 * Concurrency rule: the arrays are created once per width and frozen, then only read.
 */
const packetOnlyRows: Row[] = [];

export function packetOnlyRow(columns: number): Row {
  let row = packetOnlyRows[columns];
  if (row === undefined) row = packetOnlyRows[columns] = Object.freeze(new Array<Cell>(columns).fill(null)) as Row;
  return row;
}

export function isPacketOnlyRow(row: readonly unknown[]): boolean {
  return packetOnlyRows[row.length] === row;
}

/** `count` packet-only rows of `columns` cells with their packets `p` (a shard's reply, none of it decoded). */
export function packetOnlyChunk(count: number, columns: number, p: RowPackets): Row[] {
  return withRowPackets(new Array<Row>(count).fill(packetOnlyRow(columns)), p.sources, p.bounds);
}

/**
 * decodeTextRowPrefix's cell bounds, grown to the widest row seen. Concurrency rule: filled and
 * read within one synchronous call of decodeTextRowPrefix, never held across an await.
 */
let prefixBounds = new Int32Array(32);
