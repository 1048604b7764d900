// Entry point `@shardgate/test-kit/local-cluster`. The servers themselves live in
// @shardgate/local-mariadb (the gateway uses them too); this entry re-exports them next to the
// vitest helpers, so test code keeps one import.
export {
  LocalCluster,
  quoteIdent,
  MariaDbNotFoundError,
  findMariaDbBinaries,
  reapOrphanedClusters,
  type LocalClusterOptions,
  type LocalShard,
  type LocalShardSpec,
  type SchemaSql,
  type ShardConnectionOptions,
  type MariaDbBinaries,
} from '@shardgate/local-mariadb';
export {
  describeCluster,
  freshDatabase,
  SHARED_CLUSTER_KEY,
  startSharedCluster,
  type FreshDatabase,
  type ProvideTarget,
  type SharedClusterInfo,
} from './shared-cluster.js';
