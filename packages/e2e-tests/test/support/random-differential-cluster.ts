/**
 * The random differential's setup: the commerce fixture of @shardgate/test-kit in a gateway with a
 * 4-shard `commerce` keyspace and an unsharded `main`, and the same rows in one plain MariaDB
 * (database `commerce`, plus `main` for the unsharded table). Used by the CI test and `pnpm fuzz`.
 */
import mysql from 'mysql2/promise';
import { LocalCluster, randomCommerceFixture, type RandomCommerceFixture } from '@shardgate/test-kit';
import { startGateway, type RunningGateway } from './gateway-harness.js';

export const COMMERCE_SHARDS = ['-40', '40-80', '80-c0', 'c0-'];

export interface RandomDifferentialCluster {
  fixture: RandomCommerceFixture;
  gateway: RunningGateway;
  subject: mysql.ConnectionOptions;
  reference: mysql.ConnectionOptions;
  stop(): Promise<void>;
}

export async function startRandomDifferentialCluster(dataSeed = 1): Promise<RandomDifferentialCluster> {
  const fixture = randomCommerceFixture(dataSeed);
  const [gateway, referenceCluster] = await Promise.all([
    startGateway({
      vschema: fixture.vschema,
      keyspaces: { commerce: { shards: COMMERCE_SHARDS, schema: fixture.ddl.commerce }, main: { shards: ['0'], schema: fixture.ddl.main } },
      // The differential checks answers, not speed: on a loaded shared machine a plan can take
      // longer than the default 5 s, and its 1969 would be counted as a wrong answer.
      config: { poolSize: 8, planTimeoutMs: 60_000 },
    }),
    LocalCluster.start({ shards: ['reference'], database: 'commerce', schema: fixture.ddl.commerce }),
  ]);
  const reference: mysql.ConnectionOptions = { ...referenceCluster.shard('reference').connectionOptions(), multipleStatements: true };
  const subject = gateway.clientOptions({ database: 'commerce' });
  try {
    const ref = await mysql.createConnection(reference);
    const sub = await mysql.createConnection(subject);
    try {
      await ref.query(`CREATE DATABASE main; USE main; ${fixture.ddl.main} USE commerce`);
      for (const sql of fixture.inserts) {
        await ref.query(sql);
        await sub.query(sql);
      }
    } finally {
      await Promise.all([ref.end(), sub.end()]);
    }
  } catch (err) {
    await Promise.all([gateway.stop(), referenceCluster.stop()]);
    throw err;
  }
  return { fixture, gateway, subject, reference: { ...reference, multipleStatements: false }, stop: async () => void (await Promise.all([gateway.stop(), referenceCluster.stop()])) };
}
