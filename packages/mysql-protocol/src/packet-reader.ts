import { MalformedPacketError } from './mysql-error.js';

/**
 * Bounds-checked cursor over one packet payload. Every read past the end
 * throws MalformedPacketError, so decoders never see garbage as data.
 * Concurrency: a reader is created per packet and used synchronously.
 */
export class PacketReader {
  constructor(
    readonly buffer: Buffer,
    public pos = 0,
  ) {}

  get remaining(): number {
    return this.buffer.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buffer.length) throw new MalformedPacketError();
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.pos++];
  }

  i8(): number {
    this.need(1);
    return this.buffer.readInt8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.buffer.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  i16(): number {
    this.need(2);
    const v = this.buffer.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const b = this.buffer;
    const p = this.pos;
    this.pos += 3;
    return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
  }

  u32(): number {
    this.need(4);
    const v = this.buffer.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buffer.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buffer.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buffer.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.buffer.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buffer.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Length-encoded integer. Returns null for the 0xFB NULL marker; lengths beyond 2^53 are rejected as malformed. */
  lenencInt(): number | null {
    const first = this.u8();
    if (first < 0xfb) return first;
    switch (first) {
      case 0xfb:
        return null;
      case 0xfc:
        return this.u16();
      case 0xfd:
        return this.u24();
      case 0xfe: {
        const v = this.u64();
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedPacketError();
        return Number(v);
      }
      default:
        throw new MalformedPacketError();
    }
  }

  /** A length-encoded integer that must not be NULL (lengths, counts). */
  lenencLength(): number {
    const n = this.lenencInt();
    if (n === null) throw new MalformedPacketError();
    return n;
  }

  /** `n` bytes as a view into the packet (no copy). */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buffer.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  lenencBytes(): Buffer {
    return this.bytes(this.lenencLength());
  }

  lenencString(): string {
    const n = this.lenencLength();
    this.need(n);
    const s = this.buffer.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** Bytes up to a NUL terminator (consumed). A missing terminator at the end of the packet is tolerated, as MySQL does for trailing fields. */
  nulBytes(): Buffer {
    const end = this.buffer.indexOf(0, this.pos);
    const stop = end === -1 ? this.buffer.length : end;
    const v = this.buffer.subarray(this.pos, stop);
    this.pos = end === -1 ? stop : stop + 1;
    return v;
  }

  nulString(): string {
    return this.nulBytes().toString('utf8');
  }

  /** Everything left in the packet. */
  rest(): Buffer {
    const v = this.buffer.subarray(this.pos);
    this.pos = this.buffer.length;
    return v;
  }

  restString(): string {
    return this.rest().toString('utf8');
  }
}
