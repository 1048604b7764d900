// @shardgate/local-mariadb: real MariaDB servers on 127.0.0.1, one per shard, started from a
// cached template datadir; throwaway (tests, demos) or durable in a folder of the caller's choice.
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
export { DatadirInUseError } from './datadir-owner.js';
