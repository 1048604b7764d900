/**
 * Wraps the executor's shard connectors to count every shard query by keyspace, shard and
 * errno, and time it. The executor builds its connectors through `connectorFactory`, so the
 * gateway sees shard traffic without the executor knowing about metrics.
 */
import { WireShardConnector, type PoolStats, type ShardConnection, type ShardConnectionOptions, type ShardConnector, type ShardQueryObserver, type ShardResult, type StatementOptions, type StreamHandlers } from '@shardgate/executor';
import type { GatewayMetrics } from './metrics.js';

export function instrumentedConnectorFactory(metrics: GatewayMetrics) {
  return (keyspace: string, shard: string, options: ShardConnectionOptions, poolSize: number): ShardConnector =>
    instrument(new WireShardConnector(keyspace, shard, options, poolSize), metrics);
}

function errnoOf(err: unknown): number {
  const errno = (err as { errno?: unknown }).errno;
  return typeof errno === 'number' ? errno : 2013;
}

/**
 * Times each shard statement. Classes and `then` rather than closures and async wrappers made
 * per acquire: this sits on every point select, where each closure and promise shows.
 */
class InstrumentedConnector implements ShardConnector, ShardQueryObserver {
  readonly keyspace: string;
  readonly shard: string;
  readonly size: number;

  constructor(
    private readonly inner: ShardConnector,
    readonly metrics: GatewayMetrics,
  ) {
    this.keyspace = inner.keyspace;
    this.shard = inner.shard;
    this.size = inner.size;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  acquire(signal?: AbortSignal, waitLimit?: AbortSignal): Promise<ShardConnection> {
    return this.inner.acquire(signal, waitLimit).then((c) => new InstrumentedConnection(c, this));
  }

  queryOnce(sql: string, signal: AbortSignal, collation?: string): Promise<ShardResult> {
    const inner = this.inner;
    if (inner.queryOnce === undefined) return this.acquireQueryRelease(sql, signal, collation);
    // This connector observes the statement itself: no `then` (a promise and two closures) per point select.
    return inner.queryOnce(sql, signal, collation, this, performance.now());
  }

  shardQuerySettled(startedAt: number, failed: boolean, failure: unknown): void {
    this.metrics.shardQueryDone(this.keyspace, this.shard, (performance.now() - startedAt) / 1000, failed ? errnoOf(failure) : undefined);
  }

  private async acquireQueryRelease(sql: string, signal: AbortSignal, collation: string | undefined): Promise<ShardResult> {
    const conn = await this.acquire(signal);
    try {
      return await conn.query(sql, { signal, collation });
    } finally {
      await conn.release(false);
    }
  }

  /** `run` with its duration and outcome recorded once it settles. */
  timed<T>(run: Promise<T>, started: number): Promise<T> {
    return run.then(
      (result) => {
        this.metrics.shardQueryDone(this.keyspace, this.shard, (performance.now() - started) / 1000, undefined);
        return result;
      },
      (err: unknown) => {
        this.metrics.shardQueryDone(this.keyspace, this.shard, (performance.now() - started) / 1000, errnoOf(err));
        throw err;
      },
    );
  }

  stats(): PoolStats {
    return this.inner.stats();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

class InstrumentedConnection implements ShardConnection {
  readonly keyspace: string;
  readonly shard: string;

  constructor(
    private readonly inner: ShardConnection,
    private readonly connector: InstrumentedConnector,
  ) {
    this.keyspace = inner.keyspace;
    this.shard = inner.shard;
    if (inner.queryPipelined !== undefined) {
      this.queryPipelined = (sqls, opts) => {
        const started = performance.now();
        return inner.queryPipelined!(sqls, opts).map((p) => connector.timed(p, started));
      };
    }
  }

  get threadId(): number {
    return this.inner.threadId;
  }

  /** Present when the inner connection pipelines; each statement counts as one shard query, timed from the shared write. */
  readonly queryPipelined?: (sqls: readonly string[], opts?: StatementOptions) => Promise<ShardResult>[];

  query(sql: string, opts?: StatementOptions): Promise<ShardResult> {
    const started = performance.now();
    const inner = this.inner;
    if (inner.queryObserved === undefined) return this.connector.timed(callAsync(() => inner.query(sql, opts)), started);
    // The connector observes the statement itself (as queryOnce): no `then` and closures per
    // statement on a reserved connection, the path of every statement in a transaction.
    try {
      return inner.queryObserved(sql, opts, this.connector, started);
    } catch (err) {
      this.connector.shardQuerySettled(started, true, err);
      return Promise.reject(err);
    }
  }

  stream(sql: string, handlers: StreamHandlers, opts?: StatementOptions): Promise<void> {
    const started = performance.now();
    return this.connector.timed(callAsync(() => this.inner.stream(sql, handlers, opts)), started);
  }

  release(dirty?: boolean): Promise<void> {
    return this.inner.release(dirty);
  }

  destroy(): void {
    this.inner.destroy();
  }
}

/** A synchronous throw from `run` as a rejection, as the async wrapper this replaces gave. */
function callAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err);
  }
}

function instrument(inner: ShardConnector, metrics: GatewayMetrics): ShardConnector {
  return new InstrumentedConnector(inner, metrics);
}
