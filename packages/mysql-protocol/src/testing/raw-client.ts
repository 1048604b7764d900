import { connect, type Socket } from 'node:net';
import { MAX_PACKET_PAYLOAD } from '../packet-writer.js';
import {
  framePacket,
  handshakeResponse,
  isEofPacket,
  isErrPacket,
  isOkPacket,
  parseColumnDefinition,
  parseHandshake,
  splitPackets,
  type HandshakeResponseOptions,
  type ParsedHandshake,
  type RawPacket,
} from './packets.js';
import type { ColumnDefinition } from '../column-types.js';
import { PacketReader } from '../packet-reader.js';

/** One reply to a command, as raw packets plus the parsed column definitions. */
export interface RawResult {
  kind: 'ok' | 'err' | 'resultset';
  /** The OK/ERR packet, or the final EOF/ERR of a result set. */
  last: Buffer;
  columns: ColumnDefinition[];
  /** Row payloads, undecoded (text or binary). */
  rows: Buffer[];
  /** Sequence ids of every packet of the reply, in order. */
  sequenceIds: number[];
}

/**
 * A byte-level MySQL client for tests: send exactly the packets you want, read
 * exactly what the server answers. Not for production use.
 */
export class RawMysqlClient {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly packets: RawPacket[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  /** Resolves when the server closes the connection (or it errors). */
  readonly closed: Promise<void>;
  handshake!: ParsedHandshake;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      const { packets, rest } = splitPackets(this.buffered);
      this.buffered = Buffer.from(rest);
      this.packets.push(...packets);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Connects and, unless `readHandshake` is false, reads the server's greeting. */
  static async connect(port: number, host = '127.0.0.1', readHandshake = true): Promise<RawMysqlClient> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawMysqlClient(socket);
    if (readHandshake) client.handshake = parseHandshake((await client.nextPacket()).payload);
    return client;
  }

  /** Connects, reads the greeting and authenticates; resolves with the server's reply to the handshake response. */
  static async login(port: number, o: Omit<HandshakeResponseOptions, 'scramble'>, host = '127.0.0.1'): Promise<{ client: RawMysqlClient; reply: RawPacket }> {
    const client = await RawMysqlClient.connect(port, host);
    client.send(handshakeResponse({ ...o, scramble: client.handshake.scramble }), 1);
    return { client, reply: await client.nextPacket() };
  }

  send(payload: Uint8Array, sequenceId = 0): void {
    this.socket.write(framePacket(payload, sequenceId));
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next packet (16 MiB continuations joined); rejects if the server closed first. */
  async nextPacket(): Promise<RawPacket> {
    const first = await this.nextPhysical();
    if (first.payload.length < MAX_PACKET_PAYLOAD) return first;
    const parts = [first.payload];
    for (;;) {
      const p = await this.nextPhysical();
      parts.push(p.payload);
      if (p.payload.length < MAX_PACKET_PAYLOAD) return { sequenceId: first.sequenceId, payload: Buffer.concat(parts) };
    }
  }

  private async nextPhysical(): Promise<RawPacket> {
    for (;;) {
      const p = this.packets.shift();
      if (p !== undefined) return p;
      if (this.ended) throw new Error('connection closed by server');
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Reads one complete reply: OK, ERR, or a result set up to its final EOF (or ERR). */
  async readResult(): Promise<RawResult> {
    const sequenceIds: number[] = [];
    const next = async (): Promise<Buffer> => {
      const p = await this.nextPacket();
      sequenceIds.push(p.sequenceId);
      return p.payload;
    };
    const first = await next();
    if (isOkPacket(first)) return { kind: 'ok', last: first, columns: [], rows: [], sequenceIds };
    if (isErrPacket(first)) return { kind: 'err', last: first, columns: [], rows: [], sequenceIds };
    const count = new PacketReader(first).lenencLength();
    const columns: ColumnDefinition[] = [];
    for (let i = 0; i < count; i++) columns.push(parseColumnDefinition(await next()));
    const eof = await next();
    if (!isEofPacket(eof)) throw new Error('expected EOF after column definitions');
    const rows: Buffer[] = [];
    for (;;) {
      const p = await next();
      if (isEofPacket(p) || isErrPacket(p)) return { kind: 'resultset', last: p, columns, rows, sequenceIds };
      rows.push(p);
    }
  }

  /** True if nothing is buffered from the server. */
  get idle(): boolean {
    return this.packets.length === 0 && this.buffered.length === 0;
  }

  close(): void {
    this.socket.destroy();
  }
}
