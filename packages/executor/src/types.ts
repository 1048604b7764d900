import type { ColumnDefinition } from '@shardgate/mysql-protocol';
import type { SqlValue } from '@shardgate/planner';

/** Shard field metadata as it passes through (schema = keyspace): the protocol's ColumnDefinition41. */
export type FieldInfo = ColumnDefinition;

/** One value as text-protocol bytes (exactly what the shard sent), or NULL. */
export type Cell = Uint8Array | null;
export type Row = readonly Cell[];

/**
 * The part of @shardgate/mysql-protocol's ResultSink the executor writes to (the gateway passes
 * the protocol's sink as it is).
 */
export interface ResultSink {
  columns(defs: readonly FieldInfo[]): void;
  /** false → the client socket is full: await drain() before the next row. */
  row(values: readonly (Uint8Array | string | null)[]): boolean;
  /**
   * Optional: one row given as the shard's text-protocol row packet payload, `source[start, end)`
   * (`values` are its cells, for a sink that must encode them otherwise, e.g. as a binary row).
   * Same return as row().
   */
  rawRow?(source: Uint8Array, start: number, end: number, values: readonly (Uint8Array | null)[]): boolean;
  /**
   * Optional, only beside rawRow: rows `[from, to)` as rawRow takes them, row i
   * `sources[i][bounds[2i], bounds[2i+1])`, in one call (see the protocol's ResultSink). Returns the
   * index after the last row taken; below `to`, await drain() before the rest.
   */
  rawRows?(sources: readonly Uint8Array[], bounds: readonly number[], from: number, to: number): number;
  /** True when rowPackets() may be called (see the protocol's ResultSink). */
  readonly acceptsRowPackets?: boolean;
  /**
   * Optional: `count` whole text-protocol row packets of a shard, headers included,
   * `source[start, end)`, copied into the reply as they are, renumbered, before the call returns.
   * Same return as row().
   */
  rowPackets?(source: Uint8Array, start: number, end: number, count: number): boolean;
  drain(): Promise<void>;
  end(info?: { warnings?: number }): void;
  ok(info?: { affectedRows?: number | bigint; lastInsertId?: number | bigint; warnings?: number; info?: string }): void;
  /** Aborted when the client disconnects: every shard stream of the query stops. */
  readonly signal: AbortSignal;
}

/**
 * The OK packet of a DML statement (structurally an OkOutcome of row-flow.ts, plus the counts).
 * `affectedRows` and `infoText` are what one MariaDB sends a client WITHOUT CLIENT_FOUND_ROWS (the
 * `mariadb` CLI); `foundRows`, when present, replaces them for a client WITH it (mysql2, JDBC):
 * there an UPDATE counts matched rows, and an INSERT … ON DUPLICATE KEY UPDATE counts a
 * duplicate left unchanged as 1. `infoText` is the text MariaDB puts in the OK packet ("Rows
 * matched: 2  Changed: 1  Warnings: 0"), summed over the shards of a scatter.
 */
export interface DmlOutcome {
  readonly affectedRows: bigint;
  readonly insertId: bigint;
  /**
   * The OK packet's info text for a client without CLIENT_FOUND_ROWS. Not named `info` (which an
   * OkOutcome passes on as is) because the session picks it or `foundRows.infoText` per client.
   */
  readonly infoText?: string;
  /** UPDATE: rows matched and rows changed, summed over the shards. */
  readonly matchedRows?: bigint;
  readonly changedRows?: bigint;
  readonly foundRows?: { readonly affectedRows: bigint; readonly infoText?: string };
}

export interface ShardConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  poolSize?: number;
}

export type Workload = 'oltp' | 'olap';
export type TransactionMode = 'single' | 'multi';

export interface ExecutorDefaults {
  workload?: Workload;
  transactionMode?: TransactionMode;
  queryTimeoutMs?: number;
  /** An open transaction idle (no statement running) this long is rolled back; 0 = never. */
  transactionTimeoutMs?: number;
  maxMemoryRows?: number;
  poolSize?: number;
  /** A client idle between statements this many seconds is disconnected (MariaDB's wait_timeout; default its 28800). */
  waitTimeoutSeconds?: number;
}

export interface PoolStats {
  keyspace: string;
  shard: string;
  /** Configured maximum number of connections. */
  size: number;
  /** Connections that exist right now (≤ size). */
  open: number;
  inUse: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

export interface ExecutorStats {
  pools: PoolStats[];
  sessions: number;
  transactions: number;
  queries: number;
  queriesByVariant: Record<string, number>;
  errors: number;
  errorsByCode: Record<string, number>;
  rowsReturned: number;
  /** Idle transactions rolled back by transactionTimeoutMs. */
  transactionTimeouts: number;
}

export interface ExecutorSession {
  /**
   * `preparedIn`: for an execute of a prepared statement, the keyspace current at its PREPARE
   * (what prepare returned): MariaDB resolves a prepared statement's unqualified tables in the
   * database of its PREPARE, whatever USE came since.
   */
  execute(sql: string, sink: ResultSink, params?: readonly SqlValue[], preparedIn?: string | null): Promise<void>;
  prepare(sql: string): Promise<{ paramCount: number; columns: readonly FieldInfo[]; preparedIn: string | null }>;
  useDatabase(name: string): Promise<void>;
  status(): { inTransaction: boolean; autocommit: boolean };
  /** Seconds the client may stay idle between statements (its `SET wait_timeout`, else the executor's default). */
  waitTimeoutSeconds(): number;
  /**
   * A client's statement text as the session's sql_mode reads it, in the quoting the planner reads
   * (under ANSI_QUOTES `"x"` is `` `x` ``, under IGNORE_SPACE `count (*)` is `count(*)`); throws
   * 1235 for `||` under PIPES_AS_CONCAT. The gateway passes every statement through it before
   * execute() or prepare().
   */
  inSqlMode(sql: string): string;
  close(): Promise<void>;
}
