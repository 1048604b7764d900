/**
 * The random differential of @shardgate/test-kit in CI: a fixed seed of 1,000 generated SELECTs
 * (filters, ORDER BY + LIMIT, GROUP BY/HAVING, DISTINCT, UNION, subqueries, derived tables, joins
 * on and off the vindex, across the reference table and the unsharded keyspace, ternary logic
 * partitions) through a 4-shard gateway in OLTP and OLAP, against one plain MariaDB.
 * `pnpm fuzz --seed N --count N` runs more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatRandomFailure, runRandomDifferential } from '@shardgate/test-kit';
import { startRandomDifferentialCluster, type RandomDifferentialCluster } from './support/random-differential-cluster.js';

const SEED = 20261205;
const COUNT = 1000;

let cluster: RandomDifferentialCluster;

beforeAll(async () => {
  cluster = await startRandomDifferentialCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

describe('random differential: 4-shard gateway vs one MariaDB', () => {
  it(`seed ${SEED}: ${COUNT} random queries in OLTP and OLAP give no wrong answer`, async () => {
    const report = await runRandomDifferential({ subject: cluster.subject, reference: cluster.reference, schema: cluster.fixture.schema, seed: SEED, count: COUNT, concurrency: 3 });
    console.log(report.summary().split('\n')[0]);
    expect(report.failures.map(formatRandomFailure)).toEqual([]);
    expect(report.invalid).toEqual([]);
    // Refusals are allowed, but most of the generated shapes must be answered.
    expect(report.ok).toBeGreaterThan(report.refused);
  }, 300_000);
});
