import { createSecureContext } from 'node:tls';
import { createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, sqlStateFor } from './error-codes.js';
import { PacketWriter } from './packet-writer.js';
import { PacketMemoryBudget } from './packet-memory-budget.js';
import { writeErr } from './result-writer.js';
import { Sha2RsaKeys } from './auth-caching-sha2.js';
import { ServerConnection, type ConnectionSettings } from './server-connection.js';
import type { ConnectionInfo, MysqlServer, MysqlServerOptions } from './server-types.js';

export const DEFAULT_SERVER_VERSION = '8.0.31-shardgate';
export const DEFAULT_MAX_PACKET_SIZE = 64 * 1024 * 1024;

class NetMysqlServer implements MysqlServer {
  private readonly server: Server;
  private readonly settings: ConnectionSettings;
  /** Made on first use (generating a pair takes tens of milliseconds). */
  private rsaKeys: Sha2RsaKeys | undefined;
  /**
   * Open connections. Concurrency: added on 'connection', removed when the
   * connection's `closed` settles; close() iterates a snapshot.
   */
  private readonly connections = new Set<ServerConnection>();
  /** Ids of the open connections. Concurrency: changed with `connections`, in the same callbacks. */
  private readonly openIds = new Set<number>();
  /** The ids handed out (MysqlServerOptions.connectionIds), u32 in the handshake, never 0. */
  private readonly firstId: number;
  private readonly lastId: number;
  /** Next connection id to try; wraps from lastId to firstId. */
  private nextConnectionId: number;
  private readonly startedAt = Date.now();
  private closing: Promise<void> | null = null;
  private accepting = true;
  /**
   * Whole seconds since start, for the connections' idle accounting (ConnectionSettings.clock).
   * Concurrency: advanced only by idleSweep, read synchronously by the connections.
   */
  private readonly clock = { seconds: 0 };
  /** Once a second: advances the clock and closes connections idle past their session's wait_timeout. Unref'd. */
  private readonly idleSweep: NodeJS.Timeout;

  constructor(private readonly options: MysqlServerOptions) {
    const onError = options.onError;
    const reportError = (err: Error, info?: ConnectionInfo): void => {
      if (onError === undefined) return;
      try {
        onError(err, info);
      } catch {
        // An observer that throws must not take the server down.
      }
    };
    const ids = options.connectionIds ?? { first: 1, last: 0xffffffff };
    if (!Number.isInteger(ids.first) || !Number.isInteger(ids.last) || ids.first < 1 || ids.last > 0xffffffff || ids.first > ids.last) {
      throw new RangeError(`connectionIds must be integers with 1 <= first <= last <= 4294967295, got ${ids.first}..${ids.last}`);
    }
    this.firstId = ids.first;
    this.lastId = ids.last;
    this.nextConnectionId = ids.first;
    // A configured key is checked now (a bad PEM fails createMysqlServer); a generated one waits for first use.
    if (options.rsaPrivateKey !== undefined) this.rsaKeys = Sha2RsaKeys.create(options.rsaPrivateKey);
    this.settings = {
      serverVersion: options.serverVersion ?? DEFAULT_SERVER_VERSION,
      maxPacketSize: options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      netReadTimeoutMs: options.netReadTimeoutMs ?? 30_000,
      maxPreparedStatements: options.maxPreparedStatements ?? 16_382,
      lookupUser: (user) => options.lookupUser(user),
      sha2Cache: new Map(),
      rsaKeys: () => (this.rsaKeys ??= Sha2RsaKeys.create(options.rsaPrivateKey)),
      // Built once: a bad certificate or key fails createMysqlServer, not the first client.
      secureContext:
        options.tls === undefined
          ? null
          : createSecureContext({ cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, minVersion: 'TLSv1.2' }),
      createSession: (info) => options.createSession(info),
      reportError,
      statistics: () => this.statistics(),
      clock: this.clock,
      ...(options.maxPacketMemory !== undefined ? { packetBudget: new PacketMemoryBudget(options.maxPacketMemory) } : {}),
    };
    this.idleSweep = setInterval(() => {
      const now = ++this.clock.seconds;
      for (const connection of this.connections) connection.closeIfIdle(now);
    }, 1000);
    this.idleSweep.unref();
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => reportError(err));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    // Attach an error handler before anything else can fail on this socket.
    socket.on('error', () => {});
    if (this.closing !== null || !this.accepting) {
      socket.destroy();
      return;
    }
    const max = this.options.maxConnections;
    if (max !== undefined && this.connections.size >= max) {
      this.refuseTooManyConnections(socket);
      return;
    }
    const id = this.takeConnectionId();
    if (id === null) {
      // Every id of the range is open (a range smaller than the connections it serves).
      this.refuseTooManyConnections(socket);
      return;
    }
    let connection: ServerConnection;
    try {
      connection = new ServerConnection(socket, id, this.settings);
    } catch (err) {
      this.settings.reportError(err instanceof Error ? err : new Error(String(err)));
      socket.destroy();
      return;
    }
    this.connections.add(connection);
    this.openIds.add(id);
    void connection.closed.then(() => {
      this.connections.delete(connection);
      this.openIds.delete(id);
    });
  }

  /**
   * The next id of the range not held by an open connection, or null when all are. After a wrap
   * a long-lived connection may still hold the next id: a second connection under it would make
   * KILL and the process list name two clients by one id.
   */
  private takeConnectionId(): number | null {
    const size = this.lastId - this.firstId + 1;
    if (this.openIds.size >= size) return null;
    for (;;) {
      const id = this.nextConnectionId;
      this.nextConnectionId = id >= this.lastId ? this.firstId : id + 1;
      if (!this.openIds.has(id)) return id;
    }
  }

  /**
   * As MySQL does: an ERR packet (sequence 0) in place of the handshake, then close. Clients
   * report it as 1040 instead of a bare disconnect.
   */
  private refuseTooManyConnections(socket: Socket): void {
    const w = new PacketWriter();
    w.sequenceId = 0;
    writeErr(w, { errno: ErrorCode.ER_CON_COUNT_ERROR, sqlState: sqlStateFor(ErrorCode.ER_CON_COUNT_ERROR), message: 'Too many connections' });
    socket.end(w.take(), () => socket.destroy());
    // A peer that never reads must not hold the socket open.
    const timer = setTimeout(() => socket.destroy(), 5000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  private statistics(): string {
    const uptime = Math.floor((Date.now() - this.startedAt) / 1000);
    return `Uptime: ${uptime}  Threads: ${this.connections.size}  Questions: 0  Slow queries: 0  Opens: 0  Flush tables: 0  Open tables: 0  Queries per second avg: 0.000`;
  }

  listen(port: number, host?: string): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address === null || typeof address === 'string') {
          resolve({ port, host: host ?? String(address) });
        } else {
          resolve({ port: address.port, host: address.address });
        }
      });
    });
  }

  stopAccepting(): void {
    this.accepting = false;
    // net.Server.close() unbinds the port now; its callback would wait for every open connection.
    if (this.server.listening) this.server.close();
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    clearInterval(this.idleSweep);
    this.closing = (async () => {
      const stopped = new Promise<void>((resolve) => {
        if (!this.server.listening) return resolve();
        this.server.close(() => resolve());
      });
      const open = [...this.connections];
      for (const connection of open) connection.destroy();
      await Promise.all([stopped, ...open.map((c) => c.closed)]);
    })();
    return this.closing;
  }
}

/** Creates a MySQL-protocol server; call listen() to start accepting clients. */
export function createMysqlServer(options: MysqlServerOptions): MysqlServer {
  return new NetMysqlServer(options);
}
