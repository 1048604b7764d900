/**
 * Faults between the gateway and its shards: every fault reaches the client as a clear MySQL
 * error within the query timeout, the gateway stays up (other shards keep answering), and
 * queries succeed again once the fault clears. A FaultProxy sits in front of each shard.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, LocalCluster } from '@shardgate/test-kit';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { parseConfig } from '../src/config.js';
import { Gateway } from '../src/gateway.js';

const VSCHEMA = {
  keyspaces: {
    ks: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } },
    },
  },
};
const SHARDS = ['-80', '80-'];
const QUERY_TIMEOUT_MS = 1500;

let dir: string;
let cluster: LocalCluster;
const proxies = new Map<string, FaultProxy>();
let gateway: Gateway;
let client: mysql.Connection;

const vindex = loadVSchema(VSCHEMA).keyspace('ks')!.vindexes.get('hash') as FunctionalVindex;
const shardMap = new ShardMap(SHARDS);
/** Some ids on each shard, so a test can aim at the faulty shard or at the healthy one. */
const idsOn = (shard: string): number[] => [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].filter((id) => shardMap.shardFor(vindex.map(BigInt(id))!) === shard);

type MysqlErr = { errno?: number; code?: string; message: string };
async function failure(p: Promise<unknown>): Promise<MysqlErr> {
  return p.then(
    () => {
      throw new Error('expected the query to fail');
    },
    (e: MysqlErr) => e,
  );
}

async function healthy(): Promise<void> {
  // The pool may hand out a connection that died during the fault; the gateway must notice it
  // and answer from a fresh one, not hand the client a stale-socket error.
  const [rows] = await client.query<mysql.RowDataPacket[]>('select count(*) as n from t');
  expect(String(rows[0].n)).toBe('10');
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sg-faults-'));
  cluster = await LocalCluster.start({
    shards: SHARDS.map((s) => ({ name: s, database: 'ks' })),
    schema: 'CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(32));',
  });
  const shards: Record<string, string> = {};
  for (const s of SHARDS) {
    const target = cluster.shard(s);
    const proxy = await FaultProxy.start({ target: { host: target.host, port: target.port } });
    proxies.set(s, proxy);
    shards[s] = `mysql://root:@127.0.0.1:${proxy.port}/ks`;
  }
  writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(VSCHEMA));
  gateway = new Gateway(
    parseConfig(
      {
        listen: { mysql: '127.0.0.1:0', http: null },
        users: [{ user: 'app', password: 'secret' }],
        vschema: './vschema.json',
        queryTimeoutMs: QUERY_TIMEOUT_MS,
        poolSize: 4,
        keyspaces: { ks: { shards } },
      },
      path.join(dir, 'shardgate.yaml'),
    ),
  );
  const addr = await gateway.start();
  client = await mysql.createConnection({ host: '127.0.0.1', port: addr.mysql.port, user: 'app', password: 'secret', database: 'ks' });
  await client.query(`insert into t (id, v) values ${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `(${i}, 'v${i}')`).join(', ')}`);
  await healthy();
});

afterAll(async () => {
  await client?.end().catch(() => {});
  await gateway?.stop();
  for (const p of proxies.values()) await p.stop();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shard faults through the gateway', () => {
  it('a closed shard connection fails the query with a lost-connection error naming the shard, then recovers', async () => {
    const proxy = proxies.get('80-')!;
    const target = idsOn('80-')[0];
    await healthy();
    proxy.setLatency(300);
    const pending = client.query(`select v, sleep(0.2) from t where id = ${target}`);
    await new Promise((r) => setTimeout(r, 100));
    proxy.closeNow();
    const err = await failure(pending);
    expect(err.errno).toBe(2013);
    expect(err.message).toMatch(/80-/);
    await proxy.clear();
    await healthy();
  });

  it('a blackholed shard times out within the query timeout; the other shard keeps answering', async () => {
    const proxy = proxies.get('-80')!;
    proxy.blackhole(true);
    try {
      const started = Date.now();
      const err = await failure(client.query(`select v from t where id = ${idsOn('-80')[0]}`));
      expect(Date.now() - started).toBeLessThan(QUERY_TIMEOUT_MS + 3000);
      expect([1969, 2013, 1317]).toContain(err.errno);
      const [rows] = await client.query<mysql.RowDataPacket[]>(`select v from t where id = ${idsOn('80-')[0]}`);
      expect(rows.length).toBe(1);
    } finally {
      proxy.blackhole(false);
      await proxy.clear();
    }
    await healthy();
  });

  it('refused connections give a clear connect error; the pool recovers when the shard accepts again', async () => {
    const proxy = proxies.get('-80')!;
    proxy.closeNow(); // drop pooled connections so the next query must open a new one
    await proxy.refuseNew(true);
    try {
      const err = await failure(client.query('select count(*) from t'));
      expect([1105, 2013]).toContain(err.errno);
      expect(err.message).toMatch(/-80/);
    } finally {
      await proxy.refuseNew(false);
    }
    await healthy();
  });

  it('a killed shard fails its queries with an error naming it; after restart the gateway serves again', async () => {
    await cluster.kill('80-');
    try {
      const err = await failure(client.query(`select v from t where id = ${idsOn('80-')[0]}`));
      expect([1105, 2013]).toContain(err.errno);
      expect(err.message).toMatch(/80-/);
      // The gateway itself is fine: the healthy shard answers.
      const [rows] = await client.query<mysql.RowDataPacket[]>(`select v from t where id = ${idsOn('-80')[0]}`);
      expect(rows.length).toBe(1);
    } finally {
      await cluster.restart('80-');
    }
    await healthy();
  });

  it('a scatter with one failing shard fails as a whole, or returns the healthy rows with a warning when asked', async () => {
    await cluster.kill('80-');
    try {
      const err = await failure(client.query('select id from t'));
      expect(err.message).toMatch(/80-/);
      const [rows] = await client.query<mysql.RowDataPacket[]>('select /*vt+ SCATTER_ERRORS_AS_WARNINGS */ id from t');
      expect(rows.length).toBe(idsOn('-80').length);
      const [warnings] = await client.query<mysql.RowDataPacket[]>('show warnings');
      expect(warnings.length).toBeGreaterThan(0);
    } finally {
      await cluster.restart('80-');
    }
    await healthy();
  });
});
