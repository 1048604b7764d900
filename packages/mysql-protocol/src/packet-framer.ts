import { ErrorCode } from './error-codes.js';
import { MysqlError } from './mysql-error.js';
import { MAX_PACKET_PAYLOAD } from './packet-writer.js';

/** One logical client packet (continuation packets already joined). */
export interface Packet {
  /** Sequence id of the first physical packet (0 for a command). */
  sequenceId: number;
  /** Sequence id the reply must start with (last physical sequence id + 1). */
  nextSequenceId: number;
  payload: Buffer;
}

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

  constructor(private readonly maxPacketSize: number) {}

  /**
   * Appends a chunk and emits every packet completed by it. Throws FramingError on oversize or
   * out-of-order continuation. An emit that returns false stops framing: the bytes after that
   * packet stay buffered for takeBuffered() (an SSLRequest is followed by TLS records, not packets).
   */
  push(chunk: Buffer, emit: (packet: Packet) => unknown): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const [len, seq] = this.peekHeader();
      if (this.parts.length > 0 && seq !== ((this.lastSequenceId + 1) & 0xff)) {
        throw new FramingError(ErrorCode.ER_NET_PACKETS_OUT_OF_ORDER, 'Got packets out of order', (seq + 1) & 0xff);
      }
      if (this.partsLength + len > this.maxPacketSize) {
        throw new FramingError(ErrorCode.ER_NET_PACKET_TOO_LARGE, "Got a packet bigger than 'max_allowed_packet' bytes", (seq + 1) & 0xff);
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
      if (emit({ sequenceId: this.firstSequenceId, nextSequenceId: (seq + 1) & 0xff, payload: whole }) === false) return;
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
