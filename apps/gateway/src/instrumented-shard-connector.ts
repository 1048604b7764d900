/**
 * Wraps the executor's shard connectors to count every shard query by keyspace, shard and
 * errno, and time it. The executor builds its connectors through `connectorFactory`, so the
 * gateway sees shard traffic without the executor knowing about metrics.
 */
import { WireShardConnector, type ShardConnection, type ShardConnectionOptions, type ShardConnector } from '@shardgate/executor';
import type { GatewayMetrics } from './metrics.js';

export function instrumentedConnectorFactory(metrics: GatewayMetrics) {
  return (keyspace: string, shard: string, options: ShardConnectionOptions, poolSize: number): ShardConnector =>
    instrument(new WireShardConnector(keyspace, shard, options, poolSize), metrics);
}

function errnoOf(err: unknown): number {
  const errno = (err as { errno?: unknown }).errno;
  return typeof errno === 'number' ? errno : 2013;
}

function instrument(inner: ShardConnector, metrics: GatewayMetrics): ShardConnector {
  const { keyspace, shard } = inner;
  const timed = async <T>(run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await run();
      metrics.shardQueryDone(keyspace, shard, (performance.now() - started) / 1000, undefined);
      return result;
    } catch (err) {
      metrics.shardQueryDone(keyspace, shard, (performance.now() - started) / 1000, errnoOf(err));
      throw err;
    }
  };
  const wrapConnection = (c: ShardConnection): ShardConnection => ({
    keyspace: c.keyspace,
    shard: c.shard,
    get threadId() {
      return c.threadId;
    },
    query: (sql, opts) => timed(() => c.query(sql, opts)),
    // Each pipelined statement counts as one shard query, timed from the shared write.
    queryPipelined: c.queryPipelined && ((sqls, opts) => c.queryPipelined!(sqls, opts).map((p) => timed(() => p))),
    stream: (sql, handlers, opts) => timed(() => c.stream(sql, handlers, opts)),
    release: (dirty) => c.release(dirty),
    destroy: () => c.destroy(),
  });
  return {
    keyspace,
    shard,
    size: inner.size,
    start: () => inner.start(),
    acquire: async (signal, waitLimit) => wrapConnection(await inner.acquire(signal, waitLimit)),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
}
