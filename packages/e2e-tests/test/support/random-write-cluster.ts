/**
 * The random write differential's setup: the write fixture of @shardgate/test-kit in a gateway
 * with a 4-shard `commerce` keyspace and an unsharded `main` (sequence, lookup table, warehouse),
 * and the same tables in one plain MariaDB (database `commerce`, plus `main`). Rows are loaded by
 * each run (resetWriteFixture), so one cluster serves several seeds.
 */
import mysql from 'mysql2/promise';
import { LocalCluster, randomWriteFixture, type RandomWriteFixture } from '@shardgate/test-kit';
import { startGateway, type RunningGateway } from './gateway-harness.js';
import { COMMERCE_SHARDS } from './random-differential-cluster.js';

export interface RandomWriteCluster {
  fixture: RandomWriteFixture;
  gateway: RunningGateway;
  subject: mysql.ConnectionOptions;
  reference: mysql.ConnectionOptions;
  /** Each commerce shard, read directly. */
  shards: mysql.ConnectionOptions[];
  stop(): Promise<void>;
}

export async function startRandomWriteCluster(): Promise<RandomWriteCluster> {
  const fixture = randomWriteFixture();
  const [gateway, referenceCluster] = await Promise.all([
    startGateway({
      vschema: fixture.vschema,
      keyspaces: { commerce: { shards: COMMERCE_SHARDS, schema: fixture.ddl.commerce }, main: { shards: ['0'], schema: fixture.ddl.main } },
      config: { poolSize: 8, planTimeoutMs: 60_000 },
    }),
    LocalCluster.start({ shards: ['reference'], database: 'commerce', schema: fixture.referenceDdl.commerce }),
  ]);
  const reference: mysql.ConnectionOptions = referenceCluster.shard('reference').connectionOptions();
  try {
    const ref = await mysql.createConnection({ ...reference, multipleStatements: true });
    try {
      await ref.query(`CREATE DATABASE main; USE main; ${fixture.referenceDdl.main} USE commerce`);
    } finally {
      await ref.end();
    }
  } catch (err) {
    await Promise.all([gateway.stop(), referenceCluster.stop()]);
    throw err;
  }
  const shards = COMMERCE_SHARDS.map((s) => {
    const o = gateway.gateway.topology['commerce']![s]!;
    return { host: o.host, port: o.port, user: o.user, password: o.password, database: o.database };
  });
  return {
    fixture,
    gateway,
    subject: gateway.clientOptions({ database: 'commerce' }),
    reference,
    shards,
    stop: async () => void (await Promise.all([gateway.stop(), referenceCluster.stop()])),
  };
}
