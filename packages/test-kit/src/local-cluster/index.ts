// Entry point `@shardgate/test-kit/local-cluster`.
export {
  LocalCluster,
  quoteIdent,
  type LocalClusterOptions,
  type LocalShard,
  type LocalShardSpec,
  type SchemaSql,
  type ShardConnectionOptions,
} from './local-cluster.js';
export { MariaDbNotFoundError, findMariaDbBinaries, type MariaDbBinaries } from './mariadb-binaries.js';
export { reapOrphanedClusters } from './orphan-reaper.js';
export {
  describeCluster,
  freshDatabase,
  SHARED_CLUSTER_KEY,
  startSharedCluster,
  type FreshDatabase,
  type ProvideTarget,
  type SharedClusterInfo,
} from './shared-cluster.js';
