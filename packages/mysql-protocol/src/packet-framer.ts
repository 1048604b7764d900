import { ErrorCode } from './error-codes.js';
import { MysqlError } from './mysql-error.js';
import { MAX_PACKET_PAYLOAD } from './packet-writer.js';
import { UNBUDGETED_PACKET_BYTES, type PacketMemoryBudget } from './packet-memory-budget.js';

/** One logical client packet (continuation packets already joined). */
export interface Packet {
  /** Sequence id of the first physical packet (0 for a command). */
  sequenceId: number;
  /** Sequence id the reply must start with (last physical sequence id + 1). */
  nextSequenceId: number;
  payload: Buffer;
  /**
   * Bytes of the PacketMemoryBudget this packet holds: the receiver releases them once it has
   * handled the packet.
   */
  reservedBytes?: number;
  /**
   * The packet did not fit the PacketMemoryBudget: its bytes were read and dropped (the payload
   * holds only its first DROPPED_HEAD_BYTES: the command, and a statement id), and it must be
   * answered with ER_OUT_OF_RESOURCES.
   */
  outOfMemory?: boolean;
}

/** Leading payload bytes kept of a dropped packet: the command byte, statement id and parameter. */
const DROPPED_HEAD_BYTES = 7;

/** A framing failure that ends the connection; `replySequenceId` is what the ERR packet should carry. */
export class FramingError extends MysqlError {
  constructor(
    errno: number,
    message: string,
    readonly replySequenceId: number,
  ) {
    super(errno, message);
    this.name = 'FramingError';
  }
}

/**
 * Turns socket chunks into packets: reads 3-byte length + sequence id
 * headers, joins 16 MiB continuation packets, and enforces the maximum packet
 * size as soon as a header announces more than allowed (before buffering it).
 * Payloads that sit inside one chunk are views into it (no copy).
 *
 * Concurrency: fed synchronously from the socket's 'data' events of one
 * connection; not shared.
 */
export class PacketFramer {
  /** Unconsumed chunks; `head` is the read offset into chunks[0]. */
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  /** Parts of a payload split across 0xFFFFFF-sized packets. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  private firstSequenceId = 0;
  private lastSequenceId = 0;
  /** Budget bytes held by the packet being received. */
  private reserved = 0;
  /** Bytes of the current physical packet still to drop, for a packet that did not fit the budget. */
  private skipRemaining = 0;
  /** Whether the packet being dropped has continuation packets still to come. */
  private skipMore = false;
  /** Payload bytes of the packet being dropped so far (checked against maxPacketSize). */
  private skippedLength = 0;
  private dropping = false;
  /** The first payload bytes of the packet being dropped (up to DROPPED_HEAD_BYTES). */
  private droppedHead: number[] = [];

  constructor(
    private readonly maxPacketSize: number,
    private readonly budget?: PacketMemoryBudget,
  ) {}

  /** Gives back the budget held by a packet still being received (the connection closed). */
  dispose(): void {
    if (this.reserved > 0) this.budget?.release(this.reserved);
    this.reserved = 0;
  }

  /**
   * Appends a chunk and emits every packet completed by it. Throws FramingError on oversize or
   * out-of-order continuation. An emit that returns false stops framing: the bytes after that
   * packet stay buffered for takeBuffered() (an SSLRequest is followed by TLS records, not packets).
   */
  push(chunk: Buffer, emit: (packet: Packet) => unknown): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.skipRemaining > 0 || (this.dropping && !this.skipMore)) {
        const n = Math.min(this.skipRemaining, this.buffered);
        this.drop(n, this.skippedLength - this.skipRemaining);
        this.skipRemaining -= n;
        if (this.skipRemaining > 0) return;
        if (this.skipMore) continue;
        this.dropping = false;
        const rejected: Packet = { sequenceId: this.firstSequenceId, nextSequenceId: (this.lastSequenceId + 1) & 0xff, payload: Buffer.from(this.droppedHead), outOfMemory: true };
        this.droppedHead = [];
        if (emit(rejected) === false) return;
        continue;
      }
      if (this.buffered < 4) return;
      const [len, seq] = this.peekHeader();
      const inPacket = this.parts.length > 0 || this.dropping;
      if (inPacket && seq !== ((this.lastSequenceId + 1) & 0xff)) {
        throw new FramingError(ErrorCode.ER_NET_PACKETS_OUT_OF_ORDER, 'Got packets out of order', (seq + 1) & 0xff);
      }
      const soFar = this.dropping ? this.skippedLength : this.partsLength;
      // MariaDB refuses a packet of max_allowed_packet bytes too (net_realloc: length >= max):
      // the largest it takes is one byte less.
      if (soFar + len >= this.maxPacketSize) {
        throw new FramingError(ErrorCode.ER_NET_PACKET_TOO_LARGE, "Got a packet bigger than 'max_allowed_packet' bytes", (seq + 1) & 0xff);
      }
      if (this.dropping || !this.reserve(soFar + len)) {
        // No room: this physical packet (and any continuation) is read and dropped, never held.
        this.consume(4);
        if (!inPacket) this.firstSequenceId = seq;
        this.lastSequenceId = seq;
        if (!this.dropping) {
          this.dropping = true;
          this.skippedLength = this.partsLength;
          if (this.parts.length > 0) this.droppedHead = [...this.parts[0]!.subarray(0, DROPPED_HEAD_BYTES)];
          this.parts = [];
          this.partsLength = 0;
          if (this.reserved > 0) this.budget!.release(this.reserved);
          this.reserved = 0;
        }
        this.skippedLength += len;
        this.skipRemaining = len;
        this.skipMore = len === MAX_PACKET_PAYLOAD;
        if (len === 0) this.skipRemaining = 0;
        continue;
      }
      if (this.buffered < 4 + len) return;
      this.skip(4);
      const payload = this.consume(len);
      if (this.parts.length === 0) this.firstSequenceId = seq;
      this.lastSequenceId = seq;
      if (len === MAX_PACKET_PAYLOAD) {
        this.parts.push(payload);
        this.partsLength += len;
        continue;
      }
      let whole = payload;
      if (this.parts.length > 0) {
        this.parts.push(payload);
        whole = Buffer.concat(this.parts, this.partsLength + len);
        this.parts = [];
        this.partsLength = 0;
      }
      const reservedBytes = this.reserved;
      this.reserved = 0;
      const packet: Packet = { sequenceId: this.firstSequenceId, nextSequenceId: (seq + 1) & 0xff, payload: whole };
      if (reservedBytes > 0) packet.reservedBytes = reservedBytes;
      if (emit(packet) === false) return;
    }
  }

  /**
   * Holds budget for a packet of `total` payload bytes so far (idempotent: a header read again
   * once more bytes arrived reserves nothing more). False when the budget has no room.
   */
  private reserve(total: number): boolean {
    if (this.budget === undefined) return true;
    const need = Math.max(0, total - UNBUDGETED_PACKET_BYTES) - this.reserved;
    if (need <= 0) return true;
    if (!this.budget.tryReserve(need)) return false;
    this.reserved += need;
    return true;
  }

  /** Discards n buffered bytes, the first at payload offset `at`, keeping the packet's first bytes. */
  private drop(n: number, at: number): void {
    while (n > 0) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length - this.head, n);
      for (let i = 0; at + i < DROPPED_HEAD_BYTES && i < take; i++) this.droppedHead[at + i] = c[this.head + i]!;
      this.advance(take);
      at += take;
      n -= take;
    }
  }

  /** Removes and returns the bytes received but not framed yet (a partial packet's parts excluded). */
  takeBuffered(): Buffer {
    const first = this.chunks[0];
    const rest = first === undefined ? [] : [first.subarray(this.head), ...this.chunks.slice(1)];
    this.chunks = [];
    this.head = 0;
    this.buffered = 0;
    return Buffer.concat(rest);
  }

  /** Part of a packet has been received (or is being dropped) and the rest has not. */
  get midPacket(): boolean {
    return this.buffered > 0 || this.parts.length > 0 || this.dropping;
  }

  /** Bytes received but not yet emitted as packets. */
  get pendingBytes(): number {
    return this.buffered + this.partsLength;
  }

  private peekHeader(): [number, number] {
    const first = this.chunks[0];
    const h = this.head;
    if (first.length - h >= 4) {
      return [first[h] | (first[h + 1] << 8) | (first[h + 2] << 16), first[h + 3]];
    }
    const b: number[] = [];
    let ci = 0;
    let off = h;
    while (b.length < 4) {
      const c = this.chunks[ci];
      if (off >= c.length) {
        ci++;
        off = 0;
        continue;
      }
      b.push(c[off++]);
    }
    return [b[0] | (b[1] << 8) | (b[2] << 16), b[3]];
  }

  private consume(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let written = 0;
    while (written < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length - this.head, n - written);
      c.copy(out, written, this.head, this.head + take);
      written += take;
      this.advance(take);
    }
    return out;
  }

  /** Drops `n` buffered bytes (a header already read with peekHeader) without making a view of them. */
  private skip(n: number): void {
    while (n > 0) {
      const take = Math.min(this.chunks[0].length - this.head, n);
      this.advance(take);
      n -= take;
    }
  }

  private advance(n: number): void {
    this.head += n;
    this.buffered -= n;
    if (this.head === this.chunks[0].length) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
