import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { NATIVE_PASSWORD_PLUGIN, generateScramble, verifyNativePassword } from './auth-native-password.js';
import { REQUEST_PUBLIC_KEY, Sha2RsaKeys, Sha2Status, passwordMatches, sha2CacheEntry, sha2Nonces, stripNul, unmaskPassword, verifyFastSha2 } from './auth-caching-sha2.js';
import { decodeExecuteParams } from './binary-params.js';
import { Capability, SERVER_CAPABILITIES } from './capabilities.js';
import { Charset, ColumnType, resultCollationOf, type ColumnDefinition } from './column-types.js';
import { Command, SetOption } from './commands.js';
import { ErrorCode } from './error-codes.js';
import { parseHandshakeResponse, writeAuthSwitchRequest, writeHandshakeV10, type HandshakeResponse } from './handshake.js';
import { MalformedPacketError, MysqlError, hasErrno, toErrorPacketFields, type ErrorPacketFields } from './mysql-error.js';
import { FramingError, PacketFramer, type Packet } from './packet-framer.js';
import type { PacketMemoryBudget } from './packet-memory-budget.js';
import { PacketReader } from './packet-reader.js';
import { PacketWriter } from './packet-writer.js';
import { PreparedStatementRegistry, clearLongData, countPlaceholders } from './prepared-statements.js';
import { CommandResultSink, type SinkHost } from './result-sink.js';
import { writeColumnDefinition, writeEof, writeErr, writeOk } from './result-writer.js';
import type { ConnectionInfo, MysqlServerOptions, SessionHandler, UserAccount } from './server-types.js';
import { statementText } from './statement-text.js';
import { StatusFlag, statusFlagsOf } from './status-flags.js';

/** Settings the server resolves once and hands to every connection. */
export interface ConnectionSettings {
  serverVersion: string;
  maxPacketSize: number;
  connectTimeoutMs: number;
  /** See MysqlServerOptions.netReadTimeoutMs. */
  netReadTimeoutMs: number;
  maxPreparedStatements: number;
  lookupUser: MysqlServerOptions['lookupUser'];
  /** Set when TLS is configured: CLIENT_SSL is advertised and SSLRequests are accepted. */
  secureContext: SecureContext | null;
  /**
   * caching_sha2_password cache: user → SHA256(SHA256(password)) after a full authentication.
   * Concurrency: shared by every connection of the server; read and written synchronously only.
   */
  sha2Cache: Map<string, Buffer>;
  /** The RSA key pair for full authentication over plain TCP (made on first use when not configured). */
  rsaKeys(): Sha2RsaKeys;
  createSession: MysqlServerOptions['createSession'];
  reportError(err: Error, info?: ConnectionInfo): void;
  /** Text for COM_STATISTICS. */
  statistics(): string;
  /** Bounds the bytes of packets all connections hold at once (see PacketMemoryBudget). */
  packetBudget?: PacketMemoryBudget;
  /** Whole seconds since the server started, advanced by the server's idle sweep (SessionHandler.idleTimeoutSeconds). */
  readonly clock: { readonly seconds: number };
}

/**
 * Connection lifecycle. 'authenticating' covers the async user lookup, session
 * creation and initial initDb; 'closing' means a final reply is being flushed.
 */
type Phase = 'handshake' | 'auth-switch' | 'sha2-full' | 'authenticating' | 'command' | 'closing' | 'closed';

/** Complete packets queued beyond this many bytes pause reading from the socket until the queue drains. */
const QUEUE_PAUSE_BYTES = 4 * 1024 * 1024;

/** Socket errors that are just a client going away. */
const DISCONNECT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/** Metadata the server reports for each '?' unless the session supplies its own. */
const PARAM_DEFINITION: ColumnDefinition = {
  catalog: 'def',
  schema: '',
  table: '',
  orgTable: '',
  name: '?',
  orgName: '',
  characterSet: Charset.BINARY,
  columnLength: 0,
  columnType: ColumnType.VAR_STRING,
  flags: 0,
  decimals: 0,
};

function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * The server side of one client connection: handshake, authentication, then
 * the command loop. Packets are processed strictly one at a time; pipelined
 * packets queue behind the running command.
 */
export class ServerConnection implements SinkHost {
  readonly writer = new PacketWriter();
  readonly info: Required<ConnectionInfo>;
  /** Resolves after the socket closed and the session's close() settled. */
  readonly closed: Promise<void>;

  private readonly framer: PacketFramer;
  private readonly abortController = new AbortController();
  private readonly scramble = generateScramble();
  /** Capabilities sent in the handshake: SERVER_CAPABILITIES, plus SSL when TLS is configured. */
  private readonly advertised: number;
  /** Sequence id the handshake response must carry: 1, or 2 after an SSLRequest. */
  private handshakeSequenceId = 1;
  /** The raw TCP socket, or the TLSSocket wrapping it after an SSLRequest. */
  private socket: Socket;
  private readonly onDataListener = (chunk: Buffer): void => this.onData(chunk);
  private readonly onDrainListener = (): void => this.releaseDrainWaiters();
  /** flushSoon() scheduled a flush for the end of this turn of the event loop. Set and cleared synchronously. */
  private flushScheduled = false;
  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  private readonly statements = new PreparedStatementRegistry();
  private phase: Phase = 'handshake';
  private handshake: HandshakeResponse | null = null;
  /** Sequence id the client's next auth packet (auth switch response, full-auth data) must carry. */
  private authSwitchSequenceId = 0;
  /** The account being authenticated, once looked up. */
  private account: UserAccount | null = null;
  /** Whether the client sent a password (for "using password: YES/NO"). */
  private usedPassword = false;
  private session: SessionHandler | null = null;
  private sessionClosed = false;
  private connectTimer: NodeJS.Timeout | null;
  /**
   * Armed only while an authenticated client's packet is partly received (never for packets that
   * arrive whole, the common case), re-armed by each chunk that leaves it partial, cleared once it
   * is complete: a client that stalls mid-packet is dropped after netReadTimeoutMs.
   */
  private readTimer: NodeJS.Timeout | null = null;
  private readonly onReadTimeoutListener = (): void => this.onReadTimeout();
  private resolveClosed!: () => void;

  /**
   * Received packets not yet processed.
   * Concurrency: appended by the socket's 'data' handler; consumed only by
   * pump(), of which at most one runs at a time (`pumping`).
   */
  private queue: Packet[] = [];
  private queuedBytes = 0;
  private pumping = false;
  /**
   * settings.clock.seconds when the pump last went idle (the last command's end, or login): a
   * property store per command where a timer refreshed per command would cost far more. Read by
   * closeIfIdle.
   */
  private idleSince = 0;
  private paused = false;
  /** Resolvers of drain() calls. Concurrency: settled all at once on 'drain' or 'close'. */
  private drainWaiters: (() => void)[] = [];

  constructor(
    socket: Socket,
    connectionId: number,
    private readonly settings: ConnectionSettings,
  ) {
    this.socket = socket;
    this.advertised = SERVER_CAPABILITIES | (settings.secureContext !== null ? Capability.SSL : 0);
    this.info = {
      connectionId,
      user: '',
      database: null,
      remoteAddress: normalizeAddress(socket.remoteAddress),
      capabilities: 0,
      tls: false,
      connectAttributes: {},
      resultCollation: Charset.UTF8MB4_GENERAL_CI,
      handshakeCollation: Charset.UTF8MB4_GENERAL_CI,
      disconnect: () => this.destroy(),
    };
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.framer = new PacketFramer(settings.maxPacketSize, settings.packetBudget);
    socket.setNoDelay(true);
    socket.on('data', this.onDataListener);
    socket.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
    socket.on('close', () => this.onClose());
    socket.on('drain', this.onDrainListener);
    this.connectTimer = setTimeout(() => this.onConnectTimeout(), settings.connectTimeoutMs);
    this.connectTimer.unref();

    writeHandshakeV10(this.writer, {
      serverVersion: settings.serverVersion,
      connectionId,
      scramble: this.scramble,
      capabilities: this.advertised,
      charset: Charset.UTF8MB4_GENERAL_CI,
      statusFlags: StatusFlag.AUTOCOMMIT,
      authPlugin: NATIVE_PASSWORD_PLUGIN,
    });
    this.flush();
  }

  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  /** Drops the connection now (server shutdown). */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * The server's idle sweep, about once a second: a logged-in client that has sent nothing since
   * its last command ended for its session's idleTimeoutSeconds is disconnected, as MariaDB drops
   * it after wait_timeout (no error packet). A running command, queued packets or a packet partly
   * received (netReadTimeoutMs' case) are not idle.
   */
  closeIfIdle(now: number): void {
    if (this.phase !== 'command' || this.pumping || this.queue.length > 0 || this.framer.midPacket) return;
    const limit = this.session?.idleTimeoutSeconds?.();
    if (limit === undefined || now - this.idleSince < limit) return;
    this.phase = 'closing';
    this.socket.destroy();
  }

  // ---- SinkHost -------------------------------------------------------------

  /** The collation id character-string columns are reported in (ConnectionInfo.resultCollation). */
  resultCollation(): number {
    return this.info.resultCollation;
  }

  statusFlags(): number {
    const session = this.session;
    if (session === null || session.status === undefined) return StatusFlag.AUTOCOMMIT;
    try {
      return statusFlagsOf(session.status());
    } catch (err) {
      this.report(err);
      return StatusFlag.AUTOCOMMIT;
    }
  }

  flush(): void {
    if (this.writer.length === 0) return;
    const writer = this.writer;
    const out = writer.take();
    // A single write per batch already coalesces a reply: no cork() needed. The writer's buffer
    // comes back to it once the socket has written it (PacketWriter.recycle).
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(out, () => writer.recycle(out));
  }

  /**
   * Flushes once the event loop has run every socket callback that was ready (setImmediate: the
   * check phase, right after the poll phase), so forwarded row packets of several shards read in
   * one turn of the loop leave in one write, and none waits for a later turn. process.nextTick
   * would flush after each shard's read instead (its queue runs after every callback).
   */
  flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.scheduledFlush);
  }

  socketBlocked(allowance?: number): boolean {
    const s = this.socket;
    return s.destroyed || (allowance === undefined ? s.writableNeedDrain : s.writableLength >= allowance);
  }

  waitForDrain(): Promise<void> {
    this.flush();
    if (!this.socketBlocked() || this.phase === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  reportMisuse(message: string): void {
    this.report(new Error(message));
  }

  // ---- socket events --------------------------------------------------------

  /** Each framed packet (one function for the connection's life, not a closure per chunk). */
  private readonly onPacket = (packet: Packet): boolean => {
    if (this.isSslRequest(packet)) {
      this.startTls(packet);
      return false;
    }
    this.enqueue(packet);
    return true;
  };

  private onData(chunk: Buffer): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    try {
      this.framer.push(chunk, this.onPacket);
    } catch (err) {
      if (err instanceof FramingError) {
        this.fail(err, err.replySequenceId);
      } else {
        this.report(err);
        this.socket.destroy();
      }
      return;
    }
    // The handshake phases are bounded by the connect timer.
    if (this.framer.midPacket && this.phase === 'command') this.armReadTimer();
    else if (this.readTimer !== null) this.clearReadTimer();
  }

  /** (Re)starts the mid-packet read deadline. refresh() reuses the one Timeout object. */
  private armReadTimer(): void {
    if (this.readTimer === null) {
      this.readTimer = setTimeout(this.onReadTimeoutListener, this.settings.netReadTimeoutMs);
      this.readTimer.unref();
    } else {
      this.readTimer.refresh();
    }
  }

  private clearReadTimer(): void {
    clearTimeout(this.readTimer!);
    this.readTimer = null;
  }

  /**
   * No byte of a partly received packet for netReadTimeoutMs. MariaDB closes such a connection
   * without an error packet; so does this (closing the session rolls back its transaction and
   * releases its shard connections). While reading is paused (queued packets to run first) the
   * client is not the one waiting, so the deadline starts again.
   */
  private onReadTimeout(): void {
    if (this.paused) {
      this.readTimer!.refresh();
      return;
    }
    this.readTimer = null;
    if (this.phase === 'command') this.socket.destroy();
  }

  /** The 32-byte HandshakeResponse prefix with CLIENT_SSL, first packet of a plain connection, TLS configured. */
  private isSslRequest(packet: Packet): boolean {
    return (
      this.phase === 'handshake' &&
      !this.info.tls &&
      this.settings.secureContext !== null &&
      this.queue.length === 0 &&
      packet.payload.length === 32 &&
      (packet.payload.readUInt32LE(0) & Capability.SSL) !== 0
    );
  }

  /**
   * Wraps the socket in TLS. Bytes that came after the SSLRequest in the same chunk (the start
   * of the ClientHello) are put back into the raw socket, which TLSSocket reads first.
   */
  private startTls(packet: Packet): void {
    if (packet.sequenceId !== 1) return this.outOfOrder(packet);
    const raw = this.socket;
    const leftover = this.framer.takeBuffered();
    raw.off('data', this.onDataListener);
    raw.off('drain', this.onDrainListener);
    raw.pause();
    if (leftover.length > 0) raw.unshift(leftover);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.settings.secureContext!, minVersion: 'TLSv1.2' });
    // raw keeps its 'error' and 'close' listeners: either ends the connection.
    secure.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
    secure.on('close', () => this.onClose());
    secure.on('data', this.onDataListener);
    secure.on('drain', this.onDrainListener);
    this.socket = secure;
    this.info.tls = true;
    this.handshakeSequenceId = packet.nextSequenceId;
  }

  private enqueue(packet: Packet): void {
    this.queue.push(packet);
    this.queuedBytes += packet.payload.length;
    if (this.queuedBytes > QUEUE_PAUSE_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    if (!this.pumping) this.pump();
  }

  private onSocketError(err: NodeJS.ErrnoException): void {
    // A client that fails the TLS handshake (bad version, rejected certificate) is the client's problem.
    const tlsFailure = err.code?.startsWith('ERR_SSL_') === true;
    if (!tlsFailure && (err.code === undefined || !DISCONNECT_CODES.has(err.code))) this.report(err);
    // 'close' follows an 'error' on net sockets; destroy() makes sure of it.
    this.socket.destroy();
  }

  private onConnectTimeout(): void {
    this.connectTimer = null;
    if (this.phase !== 'command' && this.phase !== 'closed') this.socket.destroy();
  }

  private onClose(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    if (this.readTimer !== null) this.clearReadTimer();
    this.dropQueue();
    this.framer.dispose();
    this.abortController.abort(new MysqlError(ErrorCode.ER_QUERY_INTERRUPTED, 'Query execution was interrupted: client disconnected'));
    this.releaseDrainWaiters();
    void this.closeSession().then(() => this.resolveClosed());
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters.length === 0) return;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Calls session.close() at most once, whatever ended the connection. */
  private async closeSession(): Promise<void> {
    const session = this.session;
    if (session === null || this.sessionClosed) return;
    this.sessionClosed = true;
    try {
      await session.close();
    } catch (err) {
      this.report(err);
    }
  }

  // ---- command loop ---------------------------------------------------------

  /**
   * Runs the queued packets in order. A packet whose handler answers synchronously (PING, an
   * error, STMT_CLOSE) costs no promise; one that returns a promise (a query) parks the pump, with
   * `pumping` still set, until it settles. A plain function, not an async one: an async pump's
   * frame and promise were a visible share of what a point select allocates.
   */
  private pump(): void {
    this.pumping = true;
    while (this.queue.length > 0 && this.phase !== 'closing' && this.phase !== 'closed') {
      const packet = this.queue.shift()!;
      this.queuedBytes -= packet.payload.length;
      let pending: Promise<void> | void;
      try {
        pending = this.handlePacket(packet);
      } catch (err) {
        this.internalError(err);
        pending = undefined;
      }
      if (pending !== undefined) {
        pending.then(
          () => this.resumePump(packet),
          (err: unknown) => {
            this.internalError(err);
            this.resumePump(packet);
          },
        );
        return;
      }
      this.packetDone(packet);
    }
    this.pumping = false;
    this.idleSince = this.settings.clock.seconds;
    if (this.paused && this.phase !== 'closed') {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** The packet the pump was parked on has settled: finish it and go on with the queue. */
  private resumePump(packet: Packet): void {
    this.packetDone(packet);
    this.pump();
  }

  private packetDone(packet: Packet): void {
    this.releasePacket(packet);
    this.flush();
  }

  /** Our own bug, not the client's: the protocol state is unknown, so end the connection. */
  private internalError(err: unknown): void {
    this.report(err);
    this.writer.abortPacket();
    this.fail(new MysqlError(ErrorCode.ER_UNKNOWN_ERROR, 'Internal server error'), this.writer.sequenceId);
  }

  /** Gives back the budget a packet held. */
  private releasePacket(packet: Packet): void {
    if (packet.reservedBytes !== undefined) this.settings.packetBudget?.release(packet.reservedBytes);
    packet.reservedBytes = undefined;
  }

  /** Empties the queue of received packets, giving back their budget. */
  private dropQueue(): void {
    for (const p of this.queue) this.releasePacket(p);
    this.queue = [];
    this.queuedBytes = 0;
  }

  private handlePacket(packet: Packet): Promise<void> | void {
    if (packet.outOfMemory) return this.outOfMemory(packet);
    switch (this.phase) {
      case 'handshake':
        return this.onHandshakeResponse(packet);
      case 'auth-switch':
        return this.onAuthSwitchResponse(packet);
      case 'sha2-full':
        return this.onSha2FullAuth(packet);
      case 'authenticating':
        // Unreachable: the pump awaits authentication before taking the next packet.
        return this.outOfOrder(packet);
      case 'command':
        return this.onCommand(packet);
      default:
        return;
    }
  }

  /**
   * A packet dropped for want of packet memory (PacketMemoryBudget): a command gets
   * ER_OUT_OF_RESOURCES and the connection stays open; long data gets no reply (its statement's
   * next execute fails, as for long data over max_allowed_packet); during authentication the
   * connection is refused.
   */
  private outOfMemory(packet: Packet): void {
    const max = this.settings.packetBudget?.maxBytes ?? 0;
    const err = new MysqlError(
      ErrorCode.ER_OUT_OF_RESOURCES,
      `Out of memory: the statements other connections are sending hold the gateway's maxPacketMemory (${max} bytes); retry later`,
    );
    if (this.phase !== 'command') return this.fail(err, packet.nextSequenceId);
    if (packet.sequenceId !== 0) return this.outOfOrder(packet);
    if (packet.payload[0] === Command.STMT_SEND_LONG_DATA) {
      const stmt = packet.payload.length >= 5 ? this.statements.get(packet.payload.readUInt32LE(1)) : undefined;
      if (stmt !== undefined) {
        stmt.longData = null;
        stmt.longDataTooLarge = true;
      }
      return;
    }
    this.writer.sequenceId = packet.nextSequenceId;
    this.sendError(err);
  }

  /** Sends ERR and closes once it is flushed. */
  private fail(err: ErrorPacketFields, sequenceId: number): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'closing';
    this.dropQueue();
    this.writer.sequenceId = sequenceId;
    writeErr(this.writer, err);
    this.flush();
    this.endWhenClientStops();
  }

  /**
   * endGracefully for a connection refused mid-stream (a packet too large, out of order): the
   * client may still be sending the rest of it, and a socket closed with bytes unread answers
   * them with a reset, which can make the client lose the error packet before reading it (mysql2
   * then failed with EPIPE instead of 1153, now and then). The rest is read and dropped (onData
   * ignores it while closing) until the client closes its side, or the grace period ends.
   */
  private endWhenClientStops(): void {
    const socket = this.socket;
    socket.end();
    socket.once('end', () => socket.destroy());
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), 5000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  /**
   * Half-closes after the pending bytes are flushed, then destroys. A client
   * that stops reading cannot keep the socket alive: it is destroyed anyway
   * after a grace period.
   */
  private endGracefully(): void {
    this.socket.end(() => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private outOfOrder(packet: Packet): void {
    this.fail(new MysqlError(ErrorCode.ER_NET_PACKETS_OUT_OF_ORDER, 'Got packets out of order'), packet.nextSequenceId);
  }

  private report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.settings.reportError(error, this.info);
  }

  // ---- authentication -------------------------------------------------------

  private onHandshakeResponse(packet: Packet): Promise<void> | void {
    if (packet.sequenceId !== this.handshakeSequenceId) return this.outOfOrder(packet);
    let response: HandshakeResponse;
    try {
      response = parseHandshakeResponse(packet.payload);
    } catch (err) {
      return this.fail(toErrorPacketFields(err), packet.nextSequenceId);
    }
    this.handshake = response;
    this.info.user = response.user;
    this.info.capabilities = response.capabilities & SERVER_CAPABILITIES; // SSL is not an ongoing capability
    this.info.connectAttributes = response.attributes;
    this.info.handshakeCollation = resultCollationOf(response.charset);
    this.info.resultCollation = this.info.handshakeCollation;
    return this.authenticate(response.authPlugin, response.authResponse, packet.nextSequenceId);
  }

  private onAuthSwitchResponse(packet: Packet): Promise<void> | void {
    if (packet.sequenceId !== this.authSwitchSequenceId) return this.outOfOrder(packet);
    return this.verify(packet.payload, packet.nextSequenceId);
  }

  /**
   * Looks the user up, then checks the client's first answer if it used the account's plugin, or
   * switches the client to that plugin (over the same scramble).
   */
  private async authenticate(clientPlugin: string | null, authResponse: Buffer, sequenceId: number): Promise<void> {
    this.phase = 'authenticating';
    this.account = null;
    this.usedPassword = authResponse.length > 0;
    let account: UserAccount | null;
    try {
      account = await this.settings.lookupUser(this.handshake!.user);
    } catch (err) {
      this.report(err);
      if (this.isClosing()) return;
      return this.fail(hasErrno(err) ? toErrorPacketFields(err) : this.accessDenied(), sequenceId);
    }
    if (this.isClosing()) return;
    if (account === null || account === undefined) return this.fail(this.accessDenied(), sequenceId);
    this.account = account;
    const plugin = account.plugin ?? NATIVE_PASSWORD_PLUGIN;
    if ((clientPlugin ?? NATIVE_PASSWORD_PLUGIN) !== plugin) {
      this.writer.sequenceId = sequenceId;
      writeAuthSwitchRequest(this.writer, plugin, this.scramble);
      this.authSwitchSequenceId = this.writer.sequenceId;
      this.phase = 'auth-switch';
      return;
    }
    return this.verify(authResponse, sequenceId);
  }

  /** Checks an auth response in the account's plugin. */
  private verify(authResponse: Buffer, sequenceId: number): Promise<void> | void {
    const account = this.account!;
    this.usedPassword = authResponse.length > 0;
    if ((account.plugin ?? NATIVE_PASSWORD_PLUGIN) === NATIVE_PASSWORD_PLUGIN) {
      if (!verifyNativePassword(account.password, this.scramble, authResponse)) return this.fail(this.accessDenied(), sequenceId);
      return this.accepted(sequenceId);
    }
    // caching_sha2_password. An empty password is answered with an empty token and nothing else.
    if (account.password === '' || authResponse.length === 0) {
      if (account.password !== '' || authResponse.length !== 0) return this.fail(this.accessDenied(), sequenceId);
      return this.accepted(sequenceId);
    }
    const cache = this.settings.sha2Cache;
    const cached = cache.get(this.handshake!.user);
    // A cache entry made with an older password (changed by a reload) is no entry.
    if (cached !== undefined && cached.equals(sha2CacheEntry(account.password))) {
      if (!sha2Nonces(this.scramble).some((nonce) => verifyFastSha2(cached, nonce, authResponse))) return this.fail(this.accessDenied(), sequenceId);
      this.writer.sequenceId = sequenceId;
      this.writeAuthMoreData(Buffer.from([Sha2Status.FAST_AUTH_SUCCESS]));
      return this.accepted(this.writer.sequenceId);
    }
    this.writer.sequenceId = sequenceId;
    this.writeAuthMoreData(Buffer.from([Sha2Status.PERFORM_FULL_AUTHENTICATION]));
    this.authSwitchSequenceId = this.writer.sequenceId;
    this.phase = 'sha2-full';
  }

  /**
   * caching_sha2_password full authentication: the cleartext password over TLS; over plain TCP a
   * public-key request (answered with the PEM) or the RSA-OAEP-encrypted password.
   */
  private onSha2FullAuth(packet: Packet): Promise<void> | void {
    if (packet.sequenceId !== this.authSwitchSequenceId) return this.outOfOrder(packet);
    const account = this.account!;
    const payload = packet.payload;
    let candidates: Buffer[];
    if (this.info.tls) {
      candidates = [stripNul(payload)];
    } else if (payload.length === 1 && payload[0] === REQUEST_PUBLIC_KEY) {
      this.writer.sequenceId = packet.nextSequenceId;
      this.writeAuthMoreData(Buffer.from(this.settings.rsaKeys().publicKeyPem, 'ascii'));
      this.authSwitchSequenceId = this.writer.sequenceId;
      return;
    } else {
      const masked = this.settings.rsaKeys().decrypt(payload);
      candidates = masked === null ? [] : sha2Nonces(this.scramble).map((nonce) => unmaskPassword(masked, nonce));
    }
    if (!candidates.some((password) => passwordMatches(account.password, password))) return this.fail(this.accessDenied(), packet.nextSequenceId);
    this.settings.sha2Cache.set(this.handshake!.user, sha2CacheEntry(account.password));
    return this.accepted(packet.nextSequenceId);
  }

  /** Protocol::AuthMoreData: 0x01 then the data. */
  private writeAuthMoreData(data: Buffer): void {
    this.writer.startPacket();
    this.writer.u8(0x01);
    this.writer.bytes(data);
    this.writer.finishPacket();
  }

  /** The password was right: TLS policy, then the session. */
  private async accepted(sequenceId: number): Promise<void> {
    const handshake = this.handshake!;
    this.phase = 'authenticating';
    // MariaDB refuses a REQUIRE SSL account over plain TCP with the same 1045 as a wrong password.
    if (this.account!.requireTls === true && !this.info.tls) return this.fail(this.accessDenied(), sequenceId);
    this.info.database = handshake.database;
    let session: SessionHandler;
    try {
      session = this.settings.createSession(this.info);
    } catch (err) {
      this.report(err);
      return this.fail(toErrorPacketFields(err), sequenceId);
    }
    this.session = session;
    if (this.isClosing()) {
      void this.closeSession();
      return;
    }
    if (handshake.database !== null) {
      try {
        await session.initDb(handshake.database);
      } catch (err) {
        if (this.isClosing()) return;
        const fields = hasErrno(err)
          ? toErrorPacketFields(err)
          : toErrorPacketFields(new MysqlError(ErrorCode.ER_BAD_DB_ERROR, `Unknown database '${handshake.database}'`));
        return this.fail(fields, sequenceId);
      }
      if (this.isClosing()) return;
    }
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
    this.phase = 'command';
    // Part of a first command may have come with the handshake response.
    if (this.framer.midPacket) this.armReadTimer();
    this.writer.sequenceId = sequenceId;
    writeOk(this.writer, 0, 0, this.statusFlags(), 0, undefined);
  }

  private isClosing(): boolean {
    return this.phase === 'closing' || this.phase === 'closed';
  }

  private accessDenied(): ErrorPacketFields {
    const using = this.usedPassword ? 'YES' : 'NO';
    return toErrorPacketFields(
      new MysqlError(
        ErrorCode.ER_ACCESS_DENIED_ERROR,
        `Access denied for user '${this.info.user}'@'${this.info.remoteAddress}' (using password: ${using})`,
      ),
    );
  }

  // ---- commands -------------------------------------------------------------

  private onCommand(packet: Packet): Promise<void> | void {
    if (packet.sequenceId !== 0) return this.outOfOrder(packet);
    const payload = packet.payload;
    this.writer.sequenceId = packet.nextSequenceId;
    const command = payload.length > 0 ? payload[0] : Command.SLEEP;
    try {
      switch (command) {
        case Command.QUERY:
        {
          const sql = statementText(payload, 1);
          if (sql instanceof MysqlError) return this.sendError(sql);
          return this.runCommand(false, (session, sink) => session.query(sql, sink));
        }
        case Command.PING:
          return this.sendOk();
        case Command.QUIT:
          this.phase = 'closing';
          this.dropQueue();
          this.endGracefully();
          return;
        case Command.INIT_DB:
        {
          const name = statementText(payload, 1, false);
          return name instanceof MysqlError ? this.sendError(name) : this.initDb(name);
        }
        case Command.STATISTICS:
          this.writer.startPacket();
          this.writer.string(this.settings.statistics());
          this.writer.finishPacket();
          return;
        case Command.RESET_CONNECTION:
          return this.resetConnection();
        case Command.CHANGE_USER:
          return this.changeUser(payload, packet.nextSequenceId);
        case Command.SET_OPTION:
          return this.setOption(new PacketReader(payload, 1).u16());
        case Command.FIELD_LIST:
          // Deprecated (MySQL 5.7); an empty field list is a valid answer.
          writeEof(this.writer, 0, this.statusFlags());
          return;
        case Command.STMT_PREPARE:
        {
          const sql = statementText(payload, 1);
          return sql instanceof MysqlError ? this.sendError(sql) : this.prepare(sql);
        }
        case Command.STMT_EXECUTE:
          return this.execute(payload);
        case Command.STMT_SEND_LONG_DATA:
          return this.sendLongData(payload);
        case Command.STMT_CLOSE:
          // No reply, by protocol (not even for a malformed packet).
          if (payload.length >= 5) this.statements.delete(payload.readUInt32LE(1));
          return;
        case Command.STMT_RESET:
          return this.resetStatement(new PacketReader(payload, 1).u32());
        case Command.PROCESS_KILL:
        {
          // mysql_kill() and old mysqladmin: the connection id in 4 bytes, answered as the statement.
          const id = new PacketReader(payload, 1).u32();
          return this.runCommand(false, (session, sink) => session.query(`KILL CONNECTION ${id}`, sink));
        }
        case Command.PROCESS_INFO:
          return this.runCommand(false, (session, sink) => session.query('SHOW PROCESSLIST', sink));
        default:
          return this.sendError(new MysqlError(ErrorCode.ER_UNKNOWN_COM_ERROR, 'Unknown command'));
      }
    } catch (err) {
      if (err instanceof MalformedPacketError) return this.sendError(err);
      throw err;
    }
  }

  private sendOk(): void {
    writeOk(this.writer, 0, 0, this.statusFlags(), 0, undefined);
  }

  private sendError(err: unknown): void {
    writeErr(this.writer, toErrorPacketFields(err));
  }

  /** Runs a result-producing handler with a fresh sink and applies the handler-settlement rules. */
  private runCommand(binary: boolean, call: (session: SessionHandler, sink: CommandResultSink) => Promise<void>): Promise<void> | void {
    const sink = new CommandResultSink(this, binary);
    let running: Promise<void>;
    try {
      running = call(this.session!, sink);
    } catch (err) {
      return this.commandFailed(sink, err);
    }
    // A handler that broke its type and returned no promise is done (as `await` treated it).
    if (typeof (running as Promise<void> | undefined)?.then !== 'function') return sink.complete(false, undefined);
    // then, not await: an async function's frame per command showed in a point select's allocations.
    return running.then(
      () => sink.complete(false, undefined),
      (err: unknown) => this.commandFailed(sink, err),
    );
  }

  private commandFailed(sink: CommandResultSink, err: unknown): void {
    if (!hasErrno(err)) this.report(err);
    sink.complete(true, err);
  }

  private async initDb(database: string): Promise<void> {
    try {
      await this.session!.initDb(database);
    } catch (err) {
      return this.sendError(err);
    }
    this.info.database = database;
    this.sendOk();
  }

  private async resetConnection(): Promise<void> {
    this.statements.clear();
    const session = this.session!;
    if (session.resetConnection === undefined) {
      // No reset of its own: a fresh session (the old one's close() rolls back and drops its state).
      return this.replaceSession();
    }
    try {
      await session.resetConnection();
    } catch (err) {
      return this.sendError(err);
    }
    this.sendOk();
  }

  /** Closes the session and opens a new one for the same user and default database, then OK (or ERR). */
  private async replaceSession(): Promise<void> {
    await this.closeSession();
    this.session = null;
    this.sessionClosed = false;
    if (this.isClosing()) return;
    // The new session speaks the handshake's collation again, whatever SET NAMES the old one ran.
    this.info.resultCollation = this.info.handshakeCollation;
    let session: SessionHandler;
    try {
      session = this.settings.createSession(this.info);
    } catch (err) {
      this.report(err);
      return this.fail(toErrorPacketFields(err), this.writer.sequenceId);
    }
    this.session = session;
    if (this.info.database !== null) {
      try {
        await session.initDb(this.info.database);
      } catch (err) {
        if (this.isClosing()) return;
        this.info.database = null;
        return this.sendError(err);
      }
    }
    if (this.isClosing()) return;
    this.sendOk();
  }

  /**
   * COM_CHANGE_USER: the old session ends (its transaction rolled back, its state dropped) and the
   * new user authenticates over the handshake's scramble, as at connect time. As in MySQL, a failed
   * change of user closes the connection.
   */
  private async changeUser(payload: Buffer, sequenceId: number): Promise<void> {
    const caps = this.info.capabilities;
    let user: string;
    let authResponse: Buffer;
    let database: string | null = null;
    let authPlugin: string | null = null;
    let charset: number | null = null;
    try {
      const r = new PacketReader(payload, 1);
      user = r.nulString();
      authResponse = caps & Capability.SECURE_CONNECTION ? r.bytes(r.u8()) : r.nulBytes();
      if (r.remaining > 0) database = r.nulString() || null;
      // The character set: utf8mb4 is all we speak, but its collation is the new session's.
      if (r.remaining >= 2) charset = r.u16();
      if (caps & Capability.PLUGIN_AUTH && r.remaining > 0) authPlugin = r.nulString();
    } catch {
      return this.fail(toErrorPacketFields(new MysqlError(ErrorCode.ER_HANDSHAKE_ERROR, 'Bad handshake')), sequenceId);
    }
    this.statements.clear();
    await this.closeSession();
    this.session = null;
    this.sessionClosed = false;
    if (this.isClosing()) return;
    this.info.user = user;
    this.info.database = null;
    if (charset !== null) this.info.handshakeCollation = resultCollationOf(charset);
    this.info.resultCollation = this.info.handshakeCollation;
    this.handshake = { ...this.handshake!, user, authResponse, database, authPlugin };
    return this.authenticate(authPlugin, authResponse, sequenceId);
  }

  private setOption(option: number): void {
    if (option !== SetOption.MULTI_STATEMENTS_ON && option !== SetOption.MULTI_STATEMENTS_OFF) {
      return this.sendError(new MysqlError(ErrorCode.ER_UNKNOWN_COM_ERROR, 'Unknown command'));
    }
    if (option === SetOption.MULTI_STATEMENTS_ON) this.info.capabilities |= Capability.MULTI_STATEMENTS;
    else this.info.capabilities &= ~Capability.MULTI_STATEMENTS;
    // MySQL answers COM_SET_OPTION with EOF (OK under CLIENT_DEPRECATE_EOF, which we never negotiate).
    writeEof(this.writer, 0, this.statusFlags());
  }

  private async prepare(sql: string): Promise<void> {
    if (this.statements.size >= this.settings.maxPreparedStatements) {
      return this.sendError(
        new MysqlError(
          ErrorCode.ER_MAX_PREPARED_STMT_COUNT_REACHED,
          `Can't create more than max_prepared_stmt_count statements (current value: ${this.settings.maxPreparedStatements})`,
        ),
      );
    }
    const session = this.session!;
    let paramCount: number;
    let columns: readonly ColumnDefinition[];
    let params: readonly ColumnDefinition[] | undefined;
    let handle: unknown;
    if (session.prepare !== undefined) {
      try {
        const result = await session.prepare(sql);
        paramCount = result.paramCount;
        columns = result.columns;
        params = result.params;
        handle = result.handle;
      } catch (err) {
        return this.sendError(err);
      }
    } else {
      paramCount = countPlaceholders(sql);
      columns = [];
    }
    const stmt = this.statements.add(sql, paramCount, columns, handle);
    const w = this.writer;
    w.startPacket();
    w.u8(0x00);
    w.u32(stmt.id);
    w.u16(columns.length);
    w.u16(paramCount);
    w.u8(0);
    w.u16(0);
    w.finishPacket();
    if (paramCount > 0) {
      for (let i = 0; i < paramCount; i++) writeColumnDefinition(w, params?.[i] ?? PARAM_DEFINITION, this.resultCollation());
      writeEof(w, 0, this.statusFlags());
    }
    if (columns.length > 0) {
      for (const column of columns) writeColumnDefinition(w, column, this.resultCollation());
      writeEof(w, 0, this.statusFlags());
    }
  }

  private execute(payload: Buffer): Promise<void> | void {
    const r = new PacketReader(payload, 1);
    const id = r.u32();
    const stmt = this.statements.get(id);
    if (stmt === undefined) {
      return this.sendError(new MysqlError(ErrorCode.ER_UNKNOWN_STMT_HANDLER, `Unknown prepared statement handler (${id}) given to mysqld_stmt_execute`));
    }
    let params;
    try {
      params = decodeExecuteParams(r, stmt);
    } catch (err) {
      if (err instanceof MysqlError) return this.sendError(err);
      throw err;
    } finally {
      clearLongData(stmt);
    }
    const session = this.session!;
    if (session.execute === undefined) {
      return this.sendError(new MysqlError(ErrorCode.ER_UNSUPPORTED_PS, 'This command is not supported in the prepared statement protocol yet'));
    }
    return this.runCommand(true, (s, sink) => s.execute!(stmt.sql, params, sink, stmt.handle));
  }

  /** COM_STMT_SEND_LONG_DATA never gets a reply; problems surface at the next execute, as in MySQL. */
  private sendLongData(payload: Buffer): void {
    if (payload.length < 7) return; // malformed: no reply allowed, nothing to store
    const r = new PacketReader(payload, 1);
    const stmt = this.statements.get(r.u32());
    const param = r.u16();
    if (stmt === undefined || param >= stmt.paramCount) return;
    const data = r.rest();
    stmt.longDataBytes += data.length;
    if (stmt.longDataBytes > this.settings.maxPacketSize) {
      // Too much to keep: drop it; the next execute reports ER_NET_PACKET_TOO_LARGE.
      stmt.longData = null;
      stmt.longDataTooLarge = true;
      return;
    }
    if (stmt.longData === null) stmt.longData = new Map();
    const chunks = stmt.longData.get(param);
    if (chunks === undefined) stmt.longData.set(param, [data]);
    else chunks.push(data);
  }

  private resetStatement(id: number): void {
    const stmt = this.statements.get(id);
    if (stmt === undefined) {
      return this.sendError(new MysqlError(ErrorCode.ER_UNKNOWN_STMT_HANDLER, `Unknown prepared statement handler (${id}) given to mysqld_stmt_reset`));
    }
    clearLongData(stmt);
    this.sendOk();
  }
}
