/**
 * The 4-shard cluster of the scatter benches: table `t` (sbtest1's shape, index on (c, id)) in
 * database `bench`, 25,000 rows on every shard (ids 1-25,000 on each, so a range of ids reads its
 * rows from all four), and the gateway's vschema over it (hash vindex on id). SCATTER_ROWS=disjoint
 * gives each shard a quarter of ids 1-100,000 instead, as `pnpm bench`'s hash-placed table has.
 */
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';

export const SCATTER_SHARDS = ['-40', '40-80', '80-c0', 'c0-'];

export const SCATTER_VSCHEMA = { keyspaces: { bench: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } };

export async function startScatterCluster(opts: { stopOnSignals?: boolean } = {}): Promise<{ cluster: LocalCluster; ports: number[] }> {
  const cluster = await LocalCluster.start({ stopOnSignals: opts.stopOnSignals, shards: SCATTER_SHARDS, database: 'bench', schema: 'create table t (id bigint not null primary key, k int not null, c char(20) not null, key (c, id)) engine=innodb' });
  // SCATTER_ROWS=disjoint: shard i holds the ids ≡ i (mod 4) of 1-100,000 instead, so no two
  // shards share a sort key, as in `pnpm bench`'s hash-placed table (identical shards make every
  // merge comparison a tie that reads every key to its end: the worst case, not the usual one).
  const disjoint = process.env.SCATTER_ROWS === 'disjoint';
  for (const [i, s] of SCATTER_SHARDS.entries()) {
    const c = await mysql.createConnection(cluster.shard(s).connectionOptions());
    await c.query(disjoint ? `insert into t select seq, seq % 100000, left(md5(seq), 20) from seq_1_to_100000 where seq % 4 = ${i}` : 'insert into t select seq, seq % 100000, left(md5(seq), 20) from seq_1_to_25000');
    await c.end();
  }
  return { cluster, ports: SCATTER_SHARDS.map((s) => cluster.shard(s).port) };
}

/** Shard name → MySQL URL of the cluster's shards. */
export function scatterShardUrls(ports: readonly number[]): Record<string, string> {
  return Object.fromEntries(SCATTER_SHARDS.map((s, i) => [s, `mysql://root:@127.0.0.1:${ports[i]}/bench`]));
}
