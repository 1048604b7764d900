/**
 * A small MySQL client for the gateway's shard query path: handshake (mysql_native_password, and
 * caching_sha2_password with its fast path and RSA full authentication), COM_QUERY with text
 * result sets delivered as column-definition payloads and raw row payloads, COM_PING and COM_QUIT.
 *
 * It builds no JavaScript value per cell: a row reaches the receiver as its packet payload, a view
 * into the socket's chunk, so the caller decides what to decode (or forwards the bytes as they are).
 * A receiver with rowPackets gets no call per row at all: each socket read's run of whole rows
 * comes as one slice of packets, which a gateway writes to its client as they are.
 */
import { connect, type Socket } from 'node:net';
import { constants, publicEncrypt } from 'node:crypto';
import { Capability } from '../capabilities.js';
import { Command } from '../commands.js';
import { MAX_PACKET_PAYLOAD } from '../packet-writer.js';
import { StatusFlag } from '../status-flags.js';
import { nativePasswordToken } from '../auth-native-password.js';
import { cachingSha2Token } from '../auth-caching-sha2.js';
import {
  encodeHandshakeResponse,
  MARIADB_CLIENT_EXTENDED_METADATA,
  parseEof,
  parseErr,
  parseInitialHandshake,
  parseOk,
  type EofPacket,
  type OkPacket,
} from './client-packets.js';

export interface ShardClientOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
  /** Collation id sent in the handshake (default 45, utf8mb4_general_ci). */
  readonly charset?: number;
  readonly connectTimeoutMs?: number;
}

/** The server answered a command with an ERR packet; the connection stays usable. */
export class ServerError extends Error {
  readonly fatal = false;
  constructor(
    readonly errno: number,
    readonly sqlState: string,
    readonly sqlMessage: string,
  ) {
    super(sqlMessage);
    this.name = 'ServerError';
  }
}

/** The connection failed (socket error, lost, malformed reply, timeout): it is unusable. */
export class ClientConnectionError extends Error {
  readonly fatal = true;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientConnectionError';
  }
}

/**
 * What a COM_QUERY's reply is handed to, in order. A result set is `columns`, `row`…, `end`; a
 * statement without rows is `ok`. When the status flags of an `end` or `ok` carry
 * SERVER_MORE_RESULTS_EXISTS, another result follows. `error` ends the command at any point.
 */
export interface QueryReceiver {
  /** The column definition payloads (decode with parseColumnDefinition). */
  columns(definitions: readonly Buffer[]): void;
  /**
   * One text-protocol row: its payload is `buf[start, end)`, in a buffer of socket data that is
   * never written again (so it may be kept, or its views handed on, for as long as needed).
   */
  row(buf: Buffer, start: number, end: number): void;
  /**
   * Optional: when present, runs of rows come here as their whole packets instead of one row()
   * each: `count` packets, headers included, `buf[start, end)`, each one row that fits in one
   * packet. The bytes are valid only during the call (they may be the socket's read buffer,
   * read into and handed over without a copy): a gateway copies them into its reply to its own
   * client, which is all a stream of them costs. A row split across socket reads comes as a run of one,
   * copied out with its header; a row sent in several packets (16 MiB or more) still comes
   * through row(), its payload copied out whole. The rows are not checked:
   * only each packet's first byte is read, to tell a row from the EOF or ERR that ends the rows.
   * `kept`: the bytes are in a buffer of socket data that is never written again (a read copied
   * out, or a split row copied out whole), so they may be kept as row() may keep its payload; when
   * false they are in the shared read buffer and must be copied before the call returns.
   */
  rowPackets?(buf: Buffer, start: number, end: number, count: number, kept: boolean): void;
  end(eof: EofPacket): void;
  ok(ok: OkPacket): void;
  error(err: ServerError | ClientConnectionError): void;
}

const CLIENT_CAPABILITIES =
  Capability.LONG_FLAG |
  Capability.PROTOCOL_41 |
  Capability.TRANSACTIONS |
  Capability.SECURE_CONNECTION |
  Capability.MULTI_RESULTS |
  Capability.PLUGIN_AUTH |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA;

const DEFAULT_CHARSET = 45; // utf8mb4_general_ci

/**
 * The buffer every shard socket reads into. Each read's bytes are copied out into a chunk of their
 * own before the callback returns (small chunks come from Buffer's pool), or, while rows are
 * forwarded, pumped in place and their unread rest copied out (pumpBorrowed); so one buffer serves
 * all connections: reads are delivered one at a time on this thread, and nothing keeps a view into it.
 * Concurrency rule: written only by the socket read that precedes each onread callback, and read
 * only inside that callback.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const MAX_PACKET_SIZE = 0x40000000;

/** Reply states of the command in progress. */
const AWAIT_HEAD = 0; // OK / ERR / column count
const COLUMNS = 1; // column definitions, then EOF
const ROWS = 2; // rows, then EOF or ERR
const SIMPLE = 3; // one OK or ERR (COM_PING)

interface PendingCommand {
  /** The command's payload, or (with `framed`) the whole packet with 4 bytes of header to fill. */
  readonly packet: Buffer;
  /** `packet` has room for its header in front of the payload: sent as is, no copy. */
  readonly framed?: boolean;
  readonly receiver: QueryReceiver;
  /** A command answered by one OK or ERR (COM_PING). */
  readonly simple?: boolean;
  /** Its packet is already on the socket (written ahead by queryPipelined). */
  sent?: boolean;
}

/**
 * One connection to a MySQL/MariaDB server.
 *
 * Concurrency rule: commands run one at a time in the order query()/ping() were called (`queue`);
 * every field is touched only synchronously, from those calls, socket events and pause/resume.
 * A command's packet is written when it becomes current, except for queryPipelined()'s, which
 * are written together in one write: the server reads and answers them in that order.
 * While paused, no packet is handed to a receiver, and the socket is paused so the server's
 * sending blocks once the kernel buffers are full: memory stays bounded by them.
 */
export class ShardClient {
  threadId = 0;
  serverVersion = '';
  private socket: Socket | null = null;
  private extended = false;
  private readonly queue: PendingCommand[] = [];
  private current: PendingCommand | null = null;
  private state = AWAIT_HEAD;
  private columnCount = 0;
  private definitions: Buffer[] = [];
  /** Unread socket data: `chunk` from `offset`, then `more` (arrived while paused). */
  private chunk: Buffer | null = null;
  /**
   * Set while `chunk` is a view of SHARED_READ_BUFFER (pumpBorrowed): only rowPackets, which copies
   * what it keeps, may see it; pump copies it out before anything else could keep a view of it.
   */
  private borrowed: Buffer | null = null;
  private offset = 0;
  private readonly more: Buffer[] = [];
  /** Parts of a payload longer than one packet (0xFFFFFF continuation). */
  private parts: Buffer[] = [];
  private lastSequenceId = 0;
  private paused = false;
  private failure: ClientConnectionError | null = null;
  /** Handshake packets go here until the connection is ready. */
  private onHandshakePacket: ((payload: Buffer) => void) | null = null;
  private closeListeners: ((err: ClientConnectionError) => void)[] = [];

  constructor(private readonly options: ShardClientOptions) {}

  /** Connects and authenticates; rejects with a ServerError (e.g. 1045) or a ClientConnectionError. */
  connect(): Promise<void> {
    const o = this.options;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.onHandshakePacket = null;
        if (err) {
          this.destroy();
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(() => finish(new ClientConnectionError('ETIMEDOUT', `connect to ${o.host}:${o.port} timed out`)), o.connectTimeoutMs ?? 10_000);
      timer.unref();
      // Read through `onread`, not 'data': each read skips the Readable stream (push, 'data', a
      // nextTick for maybeReadMore) and the per-read backing store (see SHARED_READ_BUFFER).
      const socket = connect({
        host: o.host,
        port: o.port,
        noDelay: true,
        onread: {
          buffer: SHARED_READ_BUFFER,
          callback: (n: number, buf: Uint8Array): boolean => {
            if (this.more.length === 0 && this.forwarding()) {
              this.pumpBorrowed(n);
              return true;
            }
            const chunk = Buffer.allocUnsafe(n);
            chunk.set(buf.subarray(0, n));
            this.onData(chunk);
            // pause() stops the reads itself (net.Socket honours it with onread); never stop here.
            return true;
          },
        },
      });
      this.socket = socket;
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const e = new ClientConnectionError(err.code ?? 'ECONNRESET', err.message);
        if (!done) finish(e);
        this.fail(e);
      });
      socket.on('close', () => {
        const e = new ClientConnectionError('PROTOCOL_CONNECTION_LOST', 'Connection lost: the server closed the connection.');
        if (!done) finish(e);
        this.fail(e);
      });
      let step: 'greeting' | 'auth' = 'greeting';
      let scramble: Buffer = Buffer.alloc(0);
      let plugin = '';
      this.onHandshakePacket = (payload) => {
        try {
          if (step === 'greeting') {
            step = 'auth';
            if (payload[0] === 0xff) {
              const e = parseErr(payload);
              return finish(new ServerError(e.errno, e.sqlState, e.message));
            }
            const hs = parseInitialHandshake(payload);
            this.threadId = hs.connectionId;
            this.serverVersion = hs.serverVersion;
            scramble = hs.scramble;
            plugin = hs.authPlugin === 'caching_sha2_password' ? hs.authPlugin : 'mysql_native_password';
            let capabilities = CLIENT_CAPABILITIES | (o.database ? Capability.CONNECT_WITH_DB : 0);
            let mariadb = 0;
            if (hs.mariadbCapabilities & MARIADB_CLIENT_EXTENDED_METADATA) {
              mariadb = MARIADB_CLIENT_EXTENDED_METADATA;
              this.extended = true;
            } else {
              capabilities |= Capability.LONG_PASSWORD;
            }
            capabilities &= hs.capabilities | Capability.LONG_PASSWORD;
            this.send(
              encodeHandshakeResponse({
                capabilities,
                mariadbCapabilities: mariadb,
                maxPacketSize: MAX_PACKET_SIZE,
                charset: o.charset ?? DEFAULT_CHARSET,
                user: o.user,
                authResponse: authToken(plugin, o.password, scramble),
                database: o.database,
                authPlugin: plugin,
              }),
              this.lastSequenceId + 1,
            );
            return;
          }
          switch (payload[0]) {
            case 0x00:
              return finish();
            case 0xff: {
              const e = parseErr(payload);
              return finish(new ServerError(e.errno, e.sqlState, e.message));
            }
            case 0xfe: {
              // AuthSwitchRequest: plugin name, then its data (the new scramble, NUL-terminated).
              const end = payload.indexOf(0, 1);
              plugin = payload.toString('latin1', 1, end === -1 ? payload.length : end);
              let data = end === -1 ? Buffer.alloc(0) : payload.subarray(end + 1);
              if (data.length > 0 && data[data.length - 1] === 0) data = data.subarray(0, data.length - 1);
              scramble = Buffer.from(data);
              if (plugin !== 'mysql_native_password' && plugin !== 'caching_sha2_password') {
                return finish(new ClientConnectionError('AUTH_PLUGIN', `the server asks for authentication plugin ${plugin}, which the shard client does not support`));
              }
              this.send(authToken(plugin, o.password, scramble), this.lastSequenceId + 1);
              return;
            }
            case 0x01: {
              // caching_sha2_password: 0x03 fast auth succeeded (OK follows); 0x04 full auth needed;
              // anything longer is the RSA public key we asked for.
              if (payload.length === 2 && payload[1] === 0x03) return;
              if (payload.length === 2 && payload[1] === 0x04) {
                this.send(Buffer.from([0x02]), this.lastSequenceId + 1);
                return;
              }
              const pem = payload.toString('latin1', 1);
              const plain = Buffer.concat([Buffer.from(o.password, 'utf8'), Buffer.alloc(1)]);
              for (let i = 0; i < plain.length; i++) plain[i] ^= scramble[i % scramble.length];
              this.send(publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING }, plain), this.lastSequenceId + 1);
              return;
            }
            default:
              return finish(new ClientConnectionError('PROTOCOL_ERROR', `unexpected packet 0x${payload[0]?.toString(16)} during authentication`));
          }
        } catch (err) {
          finish(err instanceof Error ? err : new Error(String(err)));
        }
      };
    });
  }

  /** Called once when the connection ends (server closed it, socket error, destroy()). */
  onClose(listener: (err: ClientConnectionError) => void): void {
    this.closeListeners.push(listener);
  }

  /** True when column definitions carry MariaDB's extended metadata (parseColumnDefinition's flag). */
  get extendedMetadata(): boolean {
    return this.extended;
  }

  get usable(): boolean {
    return this.failure === null && this.socket !== null;
  }

  /** Runs `sql`; the reply goes to `receiver`. Queued behind commands still running. */
  query(sql: string, receiver: QueryReceiver): void {
    const length = Buffer.byteLength(sql, 'utf8');
    if (length + 1 < MAX_PACKET_PAYLOAD) {
      // The usual statement: one buffer, header and all, encoded in place and written as is.
      const packet = Buffer.allocUnsafe(length + 5);
      packet[4] = Command.QUERY;
      packet.write(sql, 5, 'utf8');
      this.enqueue({ packet, receiver, framed: true });
      return;
    }
    this.enqueue({ packet: queryPacket(sql), receiver });
  }

  /**
   * Runs the statements one after another like consecutive query() calls, but writes them in one
   * socket write, so they cost one round trip instead of one each (when the connection is idle;
   * behind a running command they are plain consecutive query() calls). Every statement runs whatever happened to the
   * ones before it (an ERR does not stop the server reading the next): callers pipeline only
   * statements whose later ones are harmless if an earlier one failed.
   */
  queryPipelined(statements: readonly { readonly sql: string; readonly receiver: QueryReceiver }[]): void {
    if (statements.length === 0) return;
    if (this.failure !== null || this.current !== null || this.onHandshakePacket !== null || this.socket === null) {
      for (const st of statements) this.query(st.sql, st.receiver);
      return;
    }
    const cmds: PendingCommand[] = statements.map((st) => ({ packet: queryPacket(st.sql), receiver: st.receiver, sent: true }));
    let size = 0;
    for (const c of cmds) size += c.packet.length + 4;
    if (size >= MAX_PACKET_PAYLOAD) {
      for (const c of cmds) this.enqueue({ packet: c.packet, receiver: c.receiver });
      return;
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const c of cmds) {
      out.writeUIntLE(c.packet.length, at, 3);
      out[at + 3] = 0; // every command starts its own sequence
      c.packet.copy(out, at + 4);
      at += c.packet.length + 4;
    }
    this.current = cmds[0];
    this.state = AWAIT_HEAD;
    for (let i = 1; i < cmds.length; i++) this.queue.push(cmds[i]);
    this.socket.write(out);
  }

  /** COM_PING: `receiver.ok` or `receiver.error`. */
  ping(receiver: Pick<QueryReceiver, 'ok' | 'error'>): void {
    this.enqueue({ packet: Buffer.from([Command.PING]), receiver: receiver as QueryReceiver, simple: true });
  }

  /** Stops handing packets to the receiver, and stops reading the socket, until resume(). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket?.resume();
    this.pump();
  }

  /** COM_QUIT, then closes the socket. */
  quit(): void {
    const s = this.socket;
    if (s === null || this.failure !== null) return;
    this.fail(new ClientConnectionError('PROTOCOL_ENQUEUE_AFTER_QUIT', 'the connection was closed'));
    const q = Buffer.from([1, 0, 0, 0, Command.QUIT]);
    s.end(q);
  }

  destroy(): void {
    this.fail(new ClientConnectionError('PROTOCOL_ENQUEUE_AFTER_DESTROY', 'the connection was destroyed'));
    this.socket?.destroy();
  }

  // ---------------------------------------------------------------- commands

  private enqueue(cmd: PendingCommand): void {
    if (this.failure !== null) {
      const err = this.failure;
      queueMicrotask(() => cmd.receiver.error(err));
      return;
    }
    this.queue.push(cmd);
    if (this.current === null) this.startNext();
  }

  private startNext(): void {
    const next = this.queue.shift();
    if (next === undefined) {
      this.current = null;
      return;
    }
    this.current = next;
    this.state = next.simple === true ? SIMPLE : AWAIT_HEAD;
    // A pipelined command went out with the first one of its write.
    if (next.sent === true) return;
    if (next.framed === true) {
      const p = next.packet;
      const length = p.length - 4;
      p[0] = length & 0xff;
      p[1] = (length >>> 8) & 0xff;
      p[2] = (length >>> 16) & 0xff;
      p[3] = 0;
      this.socket?.write(p);
      return;
    }
    this.send(next.packet, 0);
  }

  private finishCommand(): void {
    this.current = null;
    this.definitions = [];
    this.startNext();
  }

  /** Writes one payload as packets (split at 16 MiB), sequence ids from `sequenceId`. */
  private send(payload: Buffer, sequenceId: number): void {
    const s = this.socket;
    if (s === null) return;
    if (payload.length < MAX_PACKET_PAYLOAD) {
      const out = Buffer.allocUnsafe(payload.length + 4);
      out.writeUIntLE(payload.length, 0, 3);
      out[3] = sequenceId & 0xff;
      payload.copy(out, 4);
      s.write(out);
      return;
    }
    let seq = sequenceId;
    for (let start = 0; ; start += MAX_PACKET_PAYLOAD) {
      const part = payload.subarray(start, start + MAX_PACKET_PAYLOAD);
      const head = Buffer.allocUnsafe(4);
      head.writeUIntLE(part.length, 0, 3);
      head[3] = seq++ & 0xff;
      s.write(head);
      s.write(part);
      if (part.length < MAX_PACKET_PAYLOAD) break;
    }
  }

  // ---------------------------------------------------------------- reading

  private onData(data: Buffer): void {
    if (this.chunk === null) {
      this.chunk = data;
      this.offset = 0;
    } else {
      this.more.push(data);
    }
    this.pump();
  }

  /** The reply being read is rows going to a rowPackets receiver (and nothing half-read). */
  private forwarding(): boolean {
    return this.state === ROWS && this.parts.length === 0 && this.onHandshakePacket === null && this.current?.receiver.rowPackets !== undefined;
  }

  /**
   * A read of `n` bytes into SHARED_READ_BUFFER, while rows are forwarded: pumped from the shared
   * buffer itself (after the unread rest of the last read, if any: the start of a packet split
   * across the two), and only what is left unread (a packet's start, the rest after a pause or
   * after the rows end) is copied out. No buffer per read, so a long stream leaves nothing behind
   * for the GC (whose memory outside the heap V8 reclaims only when it collects for other reasons).
   */
  private pumpBorrowed(n: number): void {
    const view = SHARED_READ_BUFFER.subarray(0, n);
    this.borrowed = view;
    if (this.chunk === null) {
      this.chunk = view;
      this.offset = 0;
    } else {
      this.more.push(view);
    }
    this.pump();
    this.ownChunk();
  }

  /** Copies the unread rest of a borrowed read into a buffer of its own. */
  private ownChunk(): void {
    const b = this.borrowed;
    if (b === null) return;
    this.borrowed = null;
    if (this.chunk === b) {
      this.chunk = Buffer.from(b.subarray(this.offset));
      this.offset = 0;
    }
    const i = this.more.indexOf(b);
    if (i !== -1) this.more[i] = Buffer.from(b);
  }

  /** Frames and dispatches every complete packet, until paused or out of data. */
  private pump(): void {
    while (!this.paused && this.failure === null) {
      const c = this.chunk;
      if (c === null) return;
      if (this.forwarding()) {
        // Rows in bulk; whatever the scan stops at (EOF, ERR, a split or long packet) is framed below.
        if (this.forwardRowRun(c)) continue;
      } else if (this.borrowed !== null) {
        // The reply moved on (the rows ended): what follows may be kept (column definitions).
        this.ownChunk();
        continue;
      }
      const o = this.offset;
      const avail = c.length - o;
      let buf: Buffer;
      let at: number;
      if (avail >= 4 && avail >= 4 + (c[o] | (c[o + 1] << 8) | (c[o + 2] << 16))) {
        buf = c;
        at = o;
        this.offset = o + 4 + (c[o] | (c[o + 1] << 8) | (c[o + 2] << 16));
        if (this.offset === c.length) {
          this.chunk = this.more.length > 0 ? this.more.shift()! : null;
          this.offset = 0;
        }
      } else {
        // A packet split across socket reads: copied out alone (the chunks around it are not).
        const joined = this.assembleSplitPacket();
        if (joined === null) return;
        buf = joined;
        at = 0;
      }
      const len = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16);
      this.lastSequenceId = buf[at + 3];
      if (at === 0 && buf !== c && this.isForwardableRow(buf, len)) {
        // A row split across reads, copied out whole with its header: one more run, of one.
        this.forward(buf, 0, 4 + len, 1, true);
        continue;
      }
      if (len === MAX_PACKET_PAYLOAD) {
        this.parts.push(buf === this.borrowed ? Buffer.from(buf.subarray(at + 4, at + 4 + len)) : buf.subarray(at + 4, at + 4 + len));
        continue;
      }
      try {
        if (this.parts.length > 0) {
          this.parts.push(buf.subarray(at + 4, at + 4 + len));
          const whole = Buffer.concat(this.parts);
          this.parts = [];
          this.dispatch(whole, 0, whole.length);
        } else {
          this.dispatch(buf, at + 4, at + 4 + len);
        }
      } catch (err) {
        this.fail(new ClientConnectionError('PROTOCOL_ERROR', `malformed packet from the server: ${err instanceof Error ? err.message : String(err)}`));
        this.socket?.destroy();
      }
    }
  }

  /**
   * Hands the run of whole one-packet rows that starts at `chunk[offset]` to the receiver's rowPackets
   * and advances past it. False when there is none: the packet there is the EOF or ERR that ends
   * the rows, an empty packet, the first of a long row's packets, or does not end in this chunk.
   */
  private forwardRowRun(c: Buffer): boolean {
    const start = this.offset;
    const limit = c.length;
    let p = start;
    let count = 0;
    let last = p;
    while (p + 4 < limit) {
      const len = c[p] | (c[p + 1] << 8) | (c[p + 2] << 16);
      const next = p + 4 + len;
      if (next > limit || len === 0 || len === MAX_PACKET_PAYLOAD) break;
      // A text row never starts with 0xFF, and starts with 0xFE only before an 8-byte length.
      const h = c[p + 4];
      if (h === 0xff || (h === 0xfe && len < 9)) break;
      last = p;
      p = next;
      count++;
    }
    if (count === 0) return false;
    this.lastSequenceId = c[last + 3];
    if (p === limit) {
      this.chunk = this.more.length > 0 ? this.more.shift()! : null;
      this.offset = 0;
    } else {
      this.offset = p;
    }
    this.forward(c, start, p, count, c !== this.borrowed);
    return true;
  }

  /** A packet of `len` bytes at `buf[0]` that a rowPackets receiver takes as it is. */
  private isForwardableRow(buf: Buffer, len: number): boolean {
    if (this.state !== ROWS || this.parts.length > 0 || this.onHandshakePacket !== null || this.current?.receiver.rowPackets === undefined) return false;
    const h = buf[4];
    return len > 0 && len < MAX_PACKET_PAYLOAD && h !== 0xff && !(h === 0xfe && len < 9);
  }

  private forward(buf: Buffer, start: number, end: number, count: number, kept: boolean): void {
    try {
      this.current!.receiver.rowPackets!(buf, start, end, count, kept);
    } catch (err) {
      this.fail(new ClientConnectionError('PROTOCOL_ERROR', `malformed packet from the server: ${err instanceof Error ? err.message : String(err)}`));
      this.socket?.destroy();
    }
  }

  /**
   * The packet that starts at `chunk[offset]` and continues in `more`, copied into a buffer of
   * its own (header included), with the chunks advanced past it; null while part of it is missing.
   */
  private assembleSplitPacket(): Buffer | null {
    const c = this.chunk!;
    const avail = c.length - this.offset;
    let total = avail;
    for (let i = 0; i < this.more.length; i++) total += this.more[i].length;
    if (total < 4) return null;
    const header = Buffer.allocUnsafe(4);
    for (let i = 0, ci = -1, src = c, p = this.offset; i < 4; i++, p++) {
      while (p >= src.length) {
        src = this.more[++ci];
        p = 0;
      }
      header[i] = src[p];
    }
    const needed = 4 + (header[0] | (header[1] << 8) | (header[2] << 16));
    if (total < needed) return null;
    const out = Buffer.allocUnsafe(needed);
    c.copy(out, 0, this.offset);
    let filled = avail;
    this.chunk = null;
    this.offset = 0;
    while (filled < needed) {
      const m = this.more.shift()!;
      const take = Math.min(m.length, needed - filled);
      m.copy(out, filled, 0, take);
      filled += take;
      if (take < m.length) {
        this.chunk = m;
        this.offset = take;
      }
    }
    if (this.chunk === null && this.more.length > 0) this.chunk = this.more.shift()!;
    return out;
  }

  private dispatch(buf: Buffer, start: number, end: number): void {
    const cmd = this.current;
    if (this.state === ROWS && this.onHandshakePacket === null && cmd !== null) {
      // The hot path: a row (no view, no object), unless it is the EOF or ERR that ends the rows.
      const h = buf[start];
      if (!((h === 0xfe && end - start < 9) || h === 0xff)) {
        cmd.receiver.row(buf, start, end);
        return;
      }
    }
    if (this.onHandshakePacket !== null) {
      this.onHandshakePacket(buf.subarray(start, end));
      return;
    }
    if (cmd === null) throw new Error(`unexpected packet 0x${buf[start]?.toString(16)} with no command running`);
    // Packets every result has (the column count, the EOFs) are read where they lie: no view of
    // their own. Each view cost ~100 bytes of heap, three or four per point select.
    if (this.state === ROWS && end > start && buf[start] === 0xfe) {
      const eof = eofAt(buf, start, end);
      if (eof.statusFlags & StatusFlag.MORE_RESULTS_EXISTS) {
        this.state = AWAIT_HEAD;
        cmd.receiver.end(eof);
      } else {
        this.finishCommand();
        cmd.receiver.end(eof);
      }
      return;
    }
    if (this.state === COLUMNS && this.definitions.length === this.columnCount) {
      if (!(end > start && end - start < 9 && buf[start] === 0xfe)) throw new Error('expected EOF after the column definitions');
      this.state = ROWS;
      cmd.receiver.columns(this.definitions);
      this.definitions = [];
      return;
    }
    if (this.state === AWAIT_HEAD) {
      const h = buf[start];
      if (h !== 0x00 && h !== 0xff && h !== 0xfb) {
        this.columnCount = readColumnCount(buf, start, end);
        this.definitions = [];
        this.state = COLUMNS;
        return;
      }
    }
    const payload = buf.subarray(start, end);
    const r = cmd.receiver;
    switch (this.state) {
      case ROWS:
        // An EOF was handled above and rows never get here: an ERR (or an empty packet).
        this.failCommand(payload);
        return;
      case AWAIT_HEAD: {
        // A column count was handled above.
        const h = payload[0];
        if (h === 0x00) {
          const ok = parseOk(payload);
          if ((ok.statusFlags & StatusFlag.MORE_RESULTS_EXISTS) === 0) this.finishCommand();
          r.ok(ok);
        } else if (h === 0xff) {
          this.failCommand(payload);
        } else {
          throw new Error('the server asked for a LOCAL INFILE, which the shard client never allows');
        }
        return;
      }
      case COLUMNS:
        // The EOF after the definitions was handled above. The payload may be a view into a chunk
        // that later rows also live in; definitions are kept, so copy-free is fine.
        this.definitions.push(payload);
        return;
      case SIMPLE:
        if (payload[0] === 0xff) this.failCommand(payload);
        else {
          this.finishCommand();
          r.ok(parseOk(payload));
        }
        return;
    }
  }

  private failCommand(payload: Buffer): void {
    const e = parseErr(payload);
    const r = this.current!.receiver;
    this.finishCommand();
    r.error(new ServerError(e.errno, e.sqlState, e.message));
  }

  /** Marks the connection dead: the running and queued commands fail with `err`, close listeners run once. */
  private fail(err: ClientConnectionError): void {
    if (this.failure !== null) return;
    this.failure = err;
    const cmds = this.current !== null ? [this.current, ...this.queue] : [...this.queue];
    this.current = null;
    this.queue.length = 0;
    this.chunk = null;
    this.more.length = 0;
    for (const c of cmds) c.receiver.error(err);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) l(err);
  }
}

/** A COM_QUERY payload. */
function queryPacket(sql: string): Buffer {
  const len = Buffer.byteLength(sql, 'utf8');
  const packet = Buffer.allocUnsafe(len + 1);
  packet[0] = Command.QUERY;
  packet.write(sql, 1, 'utf8');
  return packet;
}

/** The column count packet `buf[start, end)`: a length-encoded integer. */
function readColumnCount(buf: Buffer, start: number, end: number): number {
  const first = buf[start];
  if (first < 0xfb && end - start >= 1) return first;
  if (first === 0xfc && end - start >= 3) return buf[start + 1] | (buf[start + 2] << 8);
  if (first === 0xfd && end - start >= 4) return buf[start + 1] | (buf[start + 2] << 8) | (buf[start + 3] << 16);
  throw new Error('malformed column count');
}

/**
 * EOF packets without warnings, one per status flags value: receivers only read them, and a
 * result's EOF is otherwise a fresh object per statement. Concurrency rule: filled synchronously,
 * entries frozen; bounded by the 16-bit flags (a server sends a handful of values).
 */
const QUIET_EOFS = new Map<number, EofPacket>();

/** EOF_Packet `buf[start, end)` (as parseEof, without a view of it). */
function eofAt(buf: Buffer, start: number, end: number): EofPacket {
  if (end - start < 5) return parseEof(buf.subarray(start, end));
  const warnings = buf[start + 1] | (buf[start + 2] << 8);
  const statusFlags = buf[start + 3] | (buf[start + 4] << 8);
  if (warnings !== 0) return { warnings, statusFlags };
  let eof = QUIET_EOFS.get(statusFlags);
  if (eof === undefined) {
    eof = Object.freeze({ warnings: 0, statusFlags });
    QUIET_EOFS.set(statusFlags, eof);
  }
  return eof;
}

function authToken(plugin: string, password: string, scramble: Buffer): Buffer {
  if (plugin === 'caching_sha2_password') return cachingSha2Token(password, scramble);
  return nativePasswordToken(password, scramble);
}
