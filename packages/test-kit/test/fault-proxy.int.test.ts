import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, LocalCluster } from '../src/index.js';

// Client-side limits: every fault must surface as an error within these, never as a hang.
const CONNECT_TIMEOUT_MS = 1_000;
const QUERY_TIMEOUT_MS = 1_000;

describe('FaultProxy with mysql2 through to a real MariaDB shard', () => {
  let cluster: LocalCluster;
  let proxy: FaultProxy;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ shards: ['s'], schema: 'CREATE TABLE big (id INT PRIMARY KEY, pad TEXT)' });
    const seed = await mysql.createConnection(cluster.shard('s').connectionOptions());
    await seed.query("INSERT INTO big SELECT seq, REPEAT('x', 1000) FROM seq_1_to_200");
    await seed.end();
    const shard = cluster.shard('s');
    proxy = await FaultProxy.start({ target: shard }); // a LocalShard is a valid target
  });
  afterAll(async () => {
    await proxy?.stop();
    await cluster?.stop();
  });

  const open = () =>
    mysql.createConnection({ ...cluster.shard('s').connectionOptions(), port: proxy.port, connectTimeout: CONNECT_TIMEOUT_MS });
  const select = (conn: mysql.Connection, sql = 'SELECT COUNT(*) AS n FROM big') => conn.query({ sql, timeout: QUERY_TIMEOUT_MS });
  const errorOf = async (p: Promise<unknown>) => {
    const result = await p.then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(result, 'expected the operation to fail').toBeDefined();
    return result!;
  };

  /** mysql2 reports a dead connection either by code, or (if it already noticed) by refusing the command. */
  function expectConnectionGone(err: { code?: string; message: string }): void {
    expect(`${err.code ?? ''} ${err.message}`).toMatch(
      /PROTOCOL_CONNECTION_LOST|ECONNRESET|EPIPE|connection is in closed state/,
    );
  }

  async function expectRecovered(): Promise<void> {
    await proxy.clear();
    const conn = await open();
    const [rows] = await select(conn);
    expect(rows).toEqual([{ n: 200 }]);
    await conn.end();
  }

  it('forwards queries unchanged when no fault is set', async () => {
    await expectRecovered();
  });

  it('latency: a query slower than the client timeout fails with a timeout; small latency still works', async () => {
    const conn = await open();
    proxy.setLatency(20, 10);
    const [rows] = await select(conn);
    expect(rows).toEqual([{ n: 200 }]);
    proxy.setLatency(QUERY_TIMEOUT_MS * 3);
    expect((await errorOf(select(conn))).code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
    conn.destroy();
    await expectRecovered();
  });

  it('bandwidth: a large result through a 2 KB/s pipe times out; the cap lifts on clear()', async () => {
    const conn = await open();
    proxy.setBandwidth(2_000);
    expect((await errorOf(select(conn, 'SELECT * FROM big'))).code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
    conn.destroy();
    await expectRecovered();
  });

  it('resetAfter: the connection is reset mid-result and the client sees ECONNRESET', async () => {
    const conn = await open();
    const errors: unknown[] = [];
    conn.on('error', (e) => errors.push(e));
    proxy.resetAfter(5_000);
    const err = await errorOf(select(conn, 'SELECT * FROM big'));
    expect(err.code).toBe('ECONNRESET');
    conn.destroy();
    await expectRecovered();
  });

  it('closeNow: open connections are closed and the client reports a lost connection', async () => {
    const conn = await open();
    conn.on('error', () => undefined);
    await select(conn);
    proxy.closeNow();
    expectConnectionGone(await errorOf(select(conn)));
    conn.destroy();
    await expectRecovered();
  });

  it('blackhole: connecting times out and an open connection stops answering', async () => {
    const conn = await open();
    conn.on('error', () => undefined);
    proxy.blackhole(true);
    expect((await errorOf(open())).code).toBe('ETIMEDOUT');
    expect((await errorOf(select(conn))).code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
    conn.destroy();
    await expectRecovered();
  });

  it('refuseNew: new connections are refused while open ones keep working', async () => {
    const conn = await open();
    await proxy.refuseNew(true);
    expect((await errorOf(open())).code).toBe('ECONNREFUSED');
    const [rows] = await select(conn);
    expect(rows).toEqual([{ n: 200 }]);
    await conn.end();
    await expectRecovered();
  });

  it('a shard killed behind the proxy gives a clear error, and works again after restart', async () => {
    const conn = await open();
    conn.on('error', () => undefined);
    await cluster.kill('s');
    expectConnectionGone(await errorOf(select(conn)));
    expectConnectionGone(await errorOf(open()));
    conn.destroy();
    await cluster.restart('s');
    await expectRecovered();
  });
});
