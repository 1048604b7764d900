/**
 * The random write differential of @shardgate/test-kit in CI: a fixed seed of generated DML
 * (multi-row INSERT with explicit and sequence ids, INSERT IGNORE, ON DUPLICATE KEY UPDATE,
 * REPLACE, INSERT … SELECT, UPDATE/DELETE on and off the vindex with ORDER BY … LIMIT, lookup
 * and primary vindex column updates, on sharded, reference and unsharded tables; transactions
 * ended by COMMIT or ROLLBACK and autocommit=0 sessions, prepared DML, owners of lookup_hash and
 * lookup_unique vindexes, reads in OLAP sessions) through a
 * 4-shard gateway and on one plain MariaDB, comparing each answer and the tables after it.
 * `pnpm fuzz --writes --seed N --count N` runs more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatWriteFailure, runRandomWriteDifferential } from '@shardgate/test-kit';
import { startRandomWriteCluster, type RandomWriteCluster } from './support/random-write-cluster.js';

const SEED = 20261206;
const COUNT = 300;

let cluster: RandomWriteCluster;

beforeAll(async () => {
  cluster = await startRandomWriteCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

describe('random write differential: 4-shard gateway vs one MariaDB', () => {
  it(`seed ${SEED}: ${COUNT} random writes give the same answers and leave the same rows`, async () => {
    const report = await runRandomWriteDifferential({ subject: cluster.subject, reference: cluster.reference, shards: cluster.shards, fixture: cluster.fixture, seed: SEED, count: COUNT });
    console.log(report.summary().split('\n')[0]);
    expect(report.failures.map(formatWriteFailure)).toEqual([]);
    expect(report.statements).toBe(COUNT);
    // Refusals are allowed, but most of the generated shapes must be answered.
    expect(report.ok).toBeGreaterThan(report.refused);
  }, 180_000);
});
