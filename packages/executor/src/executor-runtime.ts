/** What sessions need from their Executor (kept as an interface so tests can build sessions on fakes). */
import type { PlannedQuery, SqlValue } from '@shardgate/planner';
import type { RoutingInfo } from './query-context.js';
import type { Reservation } from './shard-reservations.js';
import type { ShardConnector } from './shard-pool.js';
import type { Session } from './session.js';
import type { TransactionMode, Workload } from './types.js';

/** The planner as the executor uses it (structurally a subset of @shardgate/planner's Planner). */
export interface PlannerLike {
  plan(sql: string, opts: { keyspace?: string | null; params?: readonly SqlValue[] }): PlannedQuery | Promise<PlannedQuery>;
}

export interface ResolvedDefaults {
  readonly workload: Workload;
  readonly transactionMode: TransactionMode;
  readonly queryTimeoutMs: number;
  readonly transactionTimeoutMs: number;
  readonly maxMemoryRows: number;
  readonly poolSize: number;
  readonly waitTimeoutSeconds: number;
}

/**
 * Executor-wide counters. Concurrency rule: plain numbers incremented synchronously; readers
 * (stats()) copy them.
 */
export interface MutableStats {
  queries: number;
  errors: number;
  rowsReturned: number;
  transactions: number;
  /** Idle transactions rolled back by transactionTimeoutMs. */
  transactionTimeouts: number;
  queriesByVariant: Record<string, number>;
  errorsByCode: Record<string, number>;
}

export interface ExecutorRuntime {
  readonly defaults: ResolvedDefaults;
  readonly planner: PlannerLike;
  readonly routing: RoutingInfo;
  readonly counters: MutableStats;
  connector(keyspace: string, shard: string): ShardConnector;
  hasKeyspace(name: string): boolean;
  keyspaceNames(): string[];
  sessionClosed(session: unknown): void;
  /** The gateway's open client sessions (SHOW PROCESSLIST, KILL); absent: only the asking one is known. */
  openSessions?(): Iterable<Session>;
  /** Optional map factory for sessions' reservation maps (tests pass raceCheckedMap). */
  reservationMap?: () => Map<string, Reservation>;
  /** The plan as Vitess JSON, for VEXPLAIN (planner's toVitessJson when available). */
  planJson?(plan: unknown): unknown;
}
