/**
 * The inner rows of one keyed batch (keyed-lookups.ts), kept as the shards' text row packets and
 * read in place: the join value's cell is read where it lies for the hash table's key, and a
 * joined row decodes only the inner cells it takes. Decoding every inner row whole (an array and a
 * view per cell, two of them the lookup's helper columns) was most of the join's allocations.
 * A result from a connector without packets keeps its decoded rows, read the same way.
 *
 * Rows are numbered 0..count-1 across the batch's results, in the order they were added (each
 * result's own order kept). Concurrency rule: filled by one batch's lookup before it is handed
 * on, read only afterwards; the cell position a read leaves in `cellStart`/`cellEnd` is used by
 * its caller synchronously, before the next read.
 */
import { MalformedPacketError } from '@shardgate/mysql-protocol';
import type { RowPackets } from '../row-packets.js';
import type { Cell, Row } from '../types.js';

interface Part {
  /** The result's rows as packets, or null (then `rows`, decoded). */
  readonly packets: RowPackets | null;
  readonly rows: readonly Row[] | null;
  /** Number of the part's first row in the batch. */
  readonly base: number;
  readonly count: number;
}

/** What a result must offer: its packets when the connector keeps them, its rows otherwise (read only then). */
export interface InnerResult {
  readonly rows: readonly Row[];
  readonly packets?: RowPackets;
  readonly rowCount?: number;
}

export class KeyedInnerRows {
  private readonly parts: Part[] = [];
  /** Part of each row, once sealed. */
  private partOf: Int32Array = new Int32Array(0);
  count = 0;
  /** Where the last cellAt() found its cell (NULL: cellStart < 0); valid until the next read. */
  cellStart = 0;
  cellEnd = 0;
  /** The source the last cellAt() read (a packet's buffer, or a decoded cell). */
  cellSource: Uint8Array | null = null;

  /** Adds one shard result's rows; returns how many. Never reads `rows` when the packets are there (that decodes them all). */
  add(r: InnerResult): number {
    const packets = r.packets !== undefined && r.rowCount !== undefined && r.packets.sources.length === r.rowCount ? r.packets : null;
    const count = packets !== null ? packets.sources.length : r.rows.length;
    this.parts.push({ packets, rows: packets !== null ? null : r.rows, base: this.count, count });
    this.count += count;
    return count;
  }

  /** Call once every result is added, before any read. */
  seal(): void {
    const partOf = new Int32Array(this.count);
    for (let p = 0; p < this.parts.length; p++) {
      const part = this.parts[p]!;
      partOf.fill(p, part.base, part.base + part.count);
    }
    this.partOf = partOf;
  }

  /**
   * Finds row g's cell `column` and leaves it in cellSource[cellStart, cellEnd) (cellStart -1 for
   * NULL). Allocates nothing for a packet row.
   */
  cellAt(g: number, column: number): void {
    const part = this.parts[this.partOf[g]!]!;
    const i = g - part.base;
    if (part.packets === null) {
      const cell = part.rows![i]![column] ?? null;
      this.cellSource = cell;
      this.cellStart = cell === null ? -1 : 0;
      this.cellEnd = cell === null ? -1 : cell.length;
      return;
    }
    const source = part.packets.sources[i]!;
    const end = part.packets.bounds[2 * i + 1]!;
    let p = part.packets.bounds[2 * i]!;
    for (let c = 0; ; c++) {
      if (p >= end) throw new MalformedPacketError();
      const first = source[p]!;
      let len: number;
      if (first < 0xfb) {
        len = first;
        p += 1;
      } else if (first === 0xfb) {
        if (c === column) {
          this.cellSource = source;
          this.cellStart = -1;
          this.cellEnd = -1;
          return;
        }
        p += 1;
        continue;
      } else if (first === 0xfc) {
        len = source[p + 1]! | (source[p + 2]! << 8);
        p += 3;
      } else if (first === 0xfd) {
        len = source[p + 1]! | (source[p + 2]! << 8) | (source[p + 3]! << 16);
        p += 4;
      } else if (first === 0xfe) {
        // A cell of 16 MiB or more: its 8-byte length, which a packet's bounds check below.
        len = Number(Buffer.from(source.buffer, source.byteOffset + p + 1, 8).readBigUInt64LE(0));
        p += 9;
      } else {
        throw new MalformedPacketError();
      }
      if (p + len > end) throw new MalformedPacketError();
      if (c === column) {
        this.cellSource = source;
        this.cellStart = p;
        this.cellEnd = p + len;
        return;
      }
      p += len;
    }
  }

  /** Row g's cell `column` as a cell: a view into the packet, as a decoded row holds. */
  cell(g: number, column: number): Cell {
    const part = this.parts[this.partOf[g]!]!;
    if (part.packets === null) return part.rows![g - part.base]![column] ?? null;
    this.cellAt(g, column);
    return this.cellStart < 0 ? null : this.cellSource!.subarray(this.cellStart, this.cellEnd);
  }
}
