import type { ColumnDefinition } from './column-types.js';

/**
 * A bound parameter of COM_STMT_EXECUTE: integers → bigint (exact), DOUBLE/FLOAT → number,
 * DECIMAL → string, DATE → 'YYYY-MM-DD', DATETIME/TIMESTAMP → 'YYYY-MM-DD HH:MM:SS[.ffffff]',
 * TIME → '[-]HH:MM:SS[.ffffff]', strings → string (utf8; bytes that are not valid UTF-8 stay a
 * Uint8Array), blobs/binary → Uint8Array.
 */
export type ParamValue = null | bigint | number | string | Uint8Array;

export interface UserAccount {
  password: string;
  requireTls?: boolean;
  /** Authentication plugin of the account; default mysql_native_password. */
  plugin?: 'mysql_native_password' | 'caching_sha2_password';
}

export interface ConnectionInfo {
  connectionId: number;
  user: string;
  /** The database named at connect time; updated after each successful COM_INIT_DB. */
  database: string | null;
  remoteAddress: string;
  /**
   * Negotiated capability flags (client & server), e.g. Capability.FOUND_ROWS; MULTI_STATEMENTS
   * follows COM_SET_OPTION. Always set by the server; optional so callers can build infos in tests.
   */
  capabilities?: number;
  /** True once the connection switched to TLS (after the client's SSLRequest). */
  tls?: boolean;
  /** Connection attributes the client sent (e.g. `_client_name`), empty if none. */
  connectAttributes?: Readonly<Record<string, string>>;
  /**
   * The collation id every character-string column definition reports, as MariaDB reports the
   * connection's result collation rather than the column's own: the handshake's when it names a
   * utf8mb4 collation (utf8mb4_unicode_ci is 224 for mysql2), else utf8mb4_general_ci (45). A
   * session changes it (SET NAMES utf8mb4 COLLATE …); the protocol reads it for each result.
   */
  resultCollation?: number;
  /**
   * The utf8mb4 collation the client's handshake (or its last COM_CHANGE_USER) named, mapped as
   * resultCollation is. A session starts in it, and COM_RESET_CONNECTION / COM_CHANGE_USER put
   * resultCollation back to it, as MariaDB restores the client's original character set.
   */
  handshakeCollation?: number;
  /** Closes the connection from the server side now (KILL CONNECTION from another session). */
  disconnect?(): void;
}

export interface ResultSink {
  /** Starts a result set (column count, definitions, EOF). */
  columns(defs: readonly ColumnDefinition[]): void;
  /**
   * One row in text-protocol value form ('42', '2024-01-02 03:04:05', bytes, null); for
   * COM_STMT_EXECUTE the server re-encodes it as a binary row from each column's type.
   * Returns false when the socket's buffer is full (or the client is gone): await drain().
   */
  row(values: readonly (Uint8Array | string | null)[]): boolean;
  /**
   * Optional: one row as a text-protocol row packet payload, `source[start, end)`, received from another server (each
   * value length-encoded, 0xFB for NULL), with `values` its decoded cells. A text result writes
   * the payload as it is; a binary one writes what row(values) would, built from the payload's
   * bytes. Same return as row().
   */
  rawRow?(source: Uint8Array, start: number, end: number, values: readonly (Uint8Array | null)[]): boolean;
  /**
   * Optional, only beside rawRow: rows `[from, to)`, row i the text-protocol row payload
   * `sources[i][bounds[2i], bounds[2i+1])` with exactly this result's columns, each written as
   * rawRow writes it. Writes them in order until the socket's buffer is full after a row (at least
   * one row is always taken) and returns the index after the last row taken: below `to`, await
   * drain() before the rest. A gone client's rows are taken and dropped.
   */
  rawRows?(sources: readonly Uint8Array[], bounds: readonly number[], from: number, to: number): number;
  /**
   * True when rowPackets() may be called (the protocol's sink takes them for text and binary
   * results alike). Absent or false on sinks that do not take row packets.
   */
  readonly acceptsRowPackets?: boolean;
  /**
   * Optional (see acceptsRowPackets): `count` whole text-protocol row packets, 4-byte headers
   * included, `source[start, end)`, as another server sent them, each one row of this result
   * that fits in one packet. Written to the client as they are, in bulk, each header's sequence
   * id renumbered to continue this reply's (a binary result gets each as its binary row). The bytes are copied before the call returns (the
   * caller may reuse them). Same return as row().
   */
  rowPackets?(source: Uint8Array, start: number, end: number, count: number): boolean;
  /** Resolves once the socket can take more (immediately if it already can or the client is gone). */
  drain(): Promise<void>;
  /** Ends a result set. With moreResults, another result (columns() or ok()) follows. */
  end(info?: { warnings?: number; moreResults?: boolean }): void;
  ok(info?: { affectedRows?: number | bigint; lastInsertId?: number | bigint; warnings?: number; info?: string; moreResults?: boolean }): void;
  /** Sends ERR; valid mid-result-set too. Always terminal. */
  error(err: { errno: number; sqlState?: string; message: string }): void;
  /** Aborted when the client disconnects. */
  readonly signal: AbortSignal;
}

export interface PrepareResult {
  paramCount: number;
  columns: readonly ColumnDefinition[];
  /** Optional parameter metadata; defaults to untyped VAR_STRING definitions named '?'. */
  params?: readonly ColumnDefinition[];
  /**
   * Kept with the statement and handed back to every execute of it: what the handler must take
   * from the moment of PREPARE rather than of each EXECUTE (the gateway keeps the database the
   * statement was prepared in, where MariaDB resolves its unqualified tables).
   */
  handle?: unknown;
}

/**
 * Per-connection handler created after authentication. The server calls it
 * for one command at a time (never concurrently on one connection).
 */
export interface SessionHandler {
  /** COM_QUERY. Exactly one terminal call (ok, end, error) unless moreResults is set. */
  query(sql: string, out: ResultSink): Promise<void>;
  /** COM_INIT_DB (and CONNECT_WITH_DB); throw to send ERR. */
  initDb(database: string): Promise<void>;
  /** COM_STMT_PREPARE. Without it the server counts '?' placeholders itself and reports no columns. */
  prepare?(sql: string): Promise<PrepareResult>;
  /** COM_STMT_EXECUTE; rows are sent in the binary row format by the server. */
  execute?(sql: string, params: readonly ParamValue[], out: ResultSink, handle?: unknown): Promise<void>;
  /** Server status flags for OK/EOF packets. Defaults to autocommit, not in a transaction. */
  status?(): { inTransaction: boolean; autocommit: boolean };
  /** COM_RESET_CONNECTION: drop session state (the server already dropped prepared statements). */
  resetConnection?(): Promise<void>;
  /**
   * Seconds the client may stay idle between commands (MariaDB's wait_timeout) before the server
   * closes the connection, without an error packet, as MariaDB does; then close() runs as for any
   * disconnect. Read about once a second for an idle connection, so a SET takes effect at once.
   * Absent: an idle client is never closed.
   */
  idleTimeoutSeconds?(): number;
  /**
   * Called exactly once when the connection ends, for any reason. The signal is
   * already aborted; a command may still be running (it should watch the signal).
   */
  close(): void | Promise<void>;
}

export interface MysqlServerOptions {
  /** Default '8.0.31-shardgate' (clients gate features on it). */
  serverVersion?: string;
  /** Default 64 MiB. A larger incoming packet → ERR 1153 (08S01), then close. */
  maxPacketSize?: number;
  /**
   * Most bytes of client packets all connections hold at once (default: unbounded). A packet over
   * 64 KiB that would need more is read and dropped instead of buffered and answered with
   * ERR 1041 (HY000) ER_OUT_OF_RESOURCES; the connection stays open. See PacketMemoryBudget.
   */
  maxPacketMemory?: number;
  /**
   * Connections that have not authenticated within this time are dropped (closed without an
   * error packet, as MariaDB does past connect_timeout). Default 10 000 ms.
   */
  connectTimeoutMs?: number;
  /**
   * An authenticated client that sent part of a packet and then nothing more for this long is
   * dropped (closed without an error packet, as MariaDB drops a client whose read times out), and
   * its session closed. A client idle between packets is never dropped. Default 30 000 ms
   * (MariaDB's net_read_timeout).
   */
  netReadTimeoutMs?: number;
  /** Per-connection limit of open prepared statements (ERR 1461 beyond). Default 16 382. */
  maxPreparedStatements?: number;
  /**
   * Open client connections allowed at once. One more gets ERR 1040 (08004) "Too many connections"
   * in place of the handshake and is closed; the others are unaffected. Default: unlimited.
   */
  maxConnections?: number;
  /**
   * The connection ids this server hands out (CONNECTION_ID(), the handshake's thread id, what
   * KILL names): `first` to `last` inclusive, in turn, wrapping, never an id still open. Servers
   * that serve the same clients (several gateways behind one load balancer) take ranges that do
   * not overlap, so that an id names one connection whichever of them a client reached. Default:
   * 1 to 2^32 − 1.
   */
  connectionIds?: { first: number; last: number };
  /**
   * TLS certificate and key (PEM), and optionally the CA chain sent with them. When set, the
   * server advertises CLIENT_SSL and a client's SSLRequest continues on TLS 1.2 or later.
   */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** PEM RSA private key for caching_sha2_password full authentication over plain TCP; default: generated at first use. */
  rsaPrivateKey?: string | Buffer;
  /**
   * Return the user's plaintext password, or null for an unknown user (→ 1045). With requireTls,
   * a login (or COM_CHANGE_USER) of that user over plain TCP is refused with 1045 too.
   */
  lookupUser(user: string): UserAccount | null | Promise<UserAccount | null>;
  /** Called after successful auth; returns the per-connection handler. */
  createSession(info: ConnectionInfo): SessionHandler;
  /** Optional: observe internal errors and handler misuse (never rethrown; the process must never crash). */
  onError?(err: Error, info?: ConnectionInfo): void;
}

export interface MysqlServer {
  listen(port: number, host?: string): Promise<{ port: number; host: string }>;
  /** Stops accepting, destroys open connections, resolves when every session has been closed. */
  close(): Promise<void>;
  /**
   * Stops accepting new connections (the port closes at once) and leaves open ones alone, so
   * their running commands can finish; close() ends them later. A graceful drain calls this first.
   */
  stopAccepting(): void;
  readonly connectionCount: number;
}
