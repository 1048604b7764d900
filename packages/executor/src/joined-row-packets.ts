/**
 * Joined rows written as text-protocol row packets assembled from the two sides' cell bytes.
 *
 * A text row packet is each cell length-encoded, 0xFB for NULL, one after another, and a cell
 * is exactly the bytes its shard sent. So a joined row, whose columns are cells of the outer and
 * the inner row, is written by copying those cells into one packet: no joined row array, no call
 * to the sink per row, no encoding of anything but the length prefixes. The bytes are the ones
 * ResultSink.row() would write for the same cells (writeTextRow), so the client sees the same
 * answer.
 *
 * Used only where a RowPacketTarget is offered (the statement's SinkWriter, nothing in between,
 * a text result): a binary result, or any operator after the join, takes joined rows as before.
 *
 * Concurrency rule: one JoinedRowPackets belongs to one caller that awaits each flush() before
 * adding more (the join's keyed batches run one at a time, see join.ts); its buffer is reused
 * after each flush, which the target copies synchronously.
 */
import type { Cell, Row } from './types.js';
import type { RowPacketTarget } from './row-packets.js';

/** Bytes gathered before they are handed to the target. */
const FLUSH_BYTES = 64 * 1024;
/** A payload this long or longer needs more than one packet: such a row goes as a row instead. */
const MAX_ONE_PACKET_PAYLOAD = 0xffffff;

function lenencLength(n: number): number {
  return n < 251 ? 1 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 9;
}

export class JoinedRowPackets {
  private buf: Buffer = Buffer.allocUnsafe(FLUSH_BYTES + 1024);
  private pos = 0;
  private count = 0;

  constructor(private readonly target: RowPacketTarget) {}

  /**
   * Appends the joined row of `left` and `right`: column j is `left[-c - 1]` for a negative
   * `cols[j]`, `right[c - 1 + rightOffset]` otherwise (a missing cell is NULL, as in join.ts).
   * False when the row is too long for one packet: the caller sends it as a row (after flush()).
   */
  add(cols: readonly number[], left: Row, right: Row, rightOffset: number): boolean {
    let payload = 0;
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j]!;
      const cell: Cell = c < 0 ? (left[-c - 1] ?? null) : (right[c - 1 + rightOffset] ?? null);
      payload += cell === null ? 1 : lenencLength(cell.byteLength) + cell.byteLength;
    }
    if (payload >= MAX_ONE_PACKET_PAYLOAD) return false;
    this.ensure(4 + payload);
    const b = this.buf;
    let at = this.pos;
    b[at] = payload & 0xff;
    b[at + 1] = (payload >>> 8) & 0xff;
    b[at + 2] = (payload >>> 16) & 0xff;
    b[at + 3] = 0; // the sequence id: the sink renumbers
    at += 4;
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j]!;
      const cell: Cell = c < 0 ? (left[-c - 1] ?? null) : (right[c - 1 + rightOffset] ?? null);
      if (cell === null) {
        b[at++] = 0xfb;
        continue;
      }
      const n = cell.byteLength;
      if (n < 251) b[at++] = n;
      else if (n < 0x10000) {
        b[at] = 0xfc;
        b[at + 1] = n & 0xff;
        b[at + 2] = n >>> 8;
        at += 3;
      } else {
        // n < 2^24: the whole payload is under MAX_ONE_PACKET_PAYLOAD.
        b[at] = 0xfd;
        b[at + 1] = n & 0xff;
        b[at + 2] = (n >>> 8) & 0xff;
        b[at + 3] = n >>> 16;
        at += 4;
      }
      if (n < 16) for (let k = 0; k < n; k++) b[at + k] = cell[k]!;
      else b.set(cell, at);
      at += n;
    }
    this.pos = at;
    this.count++;
    return true;
  }

  /** Whether enough bytes are gathered to hand them on. */
  get full(): boolean {
    return this.pos >= FLUSH_BYTES;
  }

  /** Hands the gathered rows to the target; resolves once it can take more (undefined: at once). */
  flush(): Promise<void> | undefined {
    if (this.count === 0) return undefined;
    const count = this.count;
    const end = this.pos;
    this.count = 0;
    this.pos = 0;
    return this.target.packets(this.buf, 0, end, count) ? undefined : this.target.drain();
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}
