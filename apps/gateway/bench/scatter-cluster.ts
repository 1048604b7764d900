/**
 * The 4-shard cluster of the scatter benches: table `t` (sbtest1's shape, index on (c, id)) in
 * database `bench`, 25,000 rows on every shard (ids 1-25,000 on each, so a range of ids reads its
 * rows from all four), and the gateway's vschema over it (hash vindex on id).
 */
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';

export const SCATTER_SHARDS = ['-40', '40-80', '80-c0', 'c0-'];

export const SCATTER_VSCHEMA = { keyspaces: { bench: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } };

export async function startScatterCluster(opts: { stopOnSignals?: boolean } = {}): Promise<{ cluster: LocalCluster; ports: number[] }> {
  const cluster = await LocalCluster.start({ stopOnSignals: opts.stopOnSignals, shards: SCATTER_SHARDS, database: 'bench', schema: 'create table t (id bigint not null primary key, k int not null, c char(20) not null, key (c, id)) engine=innodb' });
  for (const s of SCATTER_SHARDS) {
    const c = await mysql.createConnection(cluster.shard(s).connectionOptions());
    await c.query('insert into t select seq, seq % 100000, left(md5(seq), 20) from seq_1_to_25000');
    await c.end();
  }
  return { cluster, ports: SCATTER_SHARDS.map((s) => cluster.shard(s).port) };
}

/** Shard name → MySQL URL of the cluster's shards. */
export function scatterShardUrls(ports: readonly number[]): Record<string, string> {
  return Object.fromEntries(SCATTER_SHARDS.map((s, i) => [s, `mysql://root:@127.0.0.1:${ports[i]}/bench`]));
}
