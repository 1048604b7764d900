export { Executor, type ExecutorOptions } from './executor.js';
export type { PlannerLike, ResolvedDefaults, ExecutorRuntime } from './executor-runtime.js';
export type {
  Cell,
  DmlOutcome,
  ExecutorDefaults,
  ExecutorSession,
  ExecutorStats,
  FieldInfo,
  PoolStats,
  ResultSink,
  Row,
  ShardConnectionOptions,
  TransactionMode,
  Workload,
} from './types.js';
export { ExecutorError, ShardError } from './errors.js';
export { WireShardConnector } from './wire-shard-connector.js';
export { MysqlShardConnector, type ShardConnector, type ShardConnection, type ShardQueryObserver, type ShardResult, type StreamHandlers, type StatementOptions } from './shard-pool.js';
export { ReservationGroup, ShardReservations, type Reservation } from './shard-reservations.js';
export type { VSchemaLike, KeyspaceLike, VindexLike } from './keyspace-routing.js';
export { mergeSorted, orderComparator, type SortedInput } from './operators/merge-sort.js';
export type { RowReceiver, OkOutcome } from './row-flow.js';
export type { RowPackets } from './row-packets.js';
export type { ReferenceCopy, ReferenceTableCheck, ReferenceTablesSource } from './reference-copies.js';
