/**
 * Operating a running gateway: a vschema reload under a concurrent query loop (an invalid file
 * keeps the old vschema, a valid one makes a new table routable, no query fails), and the drain
 * at stop (port closed, new statements refused with 1053, running statements finish, open
 * transactions rolled back). The shards are a LocalCluster the test owns, so what the drain left
 * on them can be read after the gateway stopped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { LocalCluster } from '@shardgate/test-kit';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, createLogger, loadConfig } from '../src/index.js';

const SHARDS = ['-80', '80-'];
const vschemaWith = (tables: string[]): unknown => ({
  keyspaces: {
    ks: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: Object.fromEntries(tables.map((t) => [t, { column_vindexes: [{ column: 'id', name: 'hash' }] }])),
    },
  },
});

let dir: string;
let cluster: LocalCluster;
const logLines: Record<string, unknown>[] = [];

function writeConfig(extra = '', drainTimeoutMs = 3000): string {
  const file = path.join(dir, 'shardgate.yaml');
  const shards = SHARDS.map((s) => `"${s}": "mysql://root:@127.0.0.1:${cluster.shard(s).port}/ks"`).join(', ');
  writeFileSync(
    file,
    `listen: { mysql: "127.0.0.1:0", http: "127.0.0.1:0" }
users: [ { user: app, password: secret } ]
vschema: ./vschema.json
drainTimeoutMs: ${drainTimeoutMs}
keyspaces: { ks: { shards: { ${shards} } } }
${extra}`,
  );
  return file;
}

function startGateway(extra = '', drainTimeoutMs?: number): Gateway {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.startsWith('{')) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return new Gateway(loadConfig(writeConfig(extra, drainTimeoutMs)), createLogger({ pretty: false, destination: sink }));
}

async function reloadsCounted(result: 'ok' | 'error', gateway: Gateway): Promise<number> {
  const metric = await gateway.metrics.registry.getSingleMetric('shardgate_vschema_reloads_total')!.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sg-ops-'));
  cluster = await LocalCluster.start({
    shards: SHARDS,
    database: 'ks',
    schema: 'CREATE TABLE t1 (id BIGINT PRIMARY KEY, v INT); CREATE TABLE t2 (id BIGINT PRIMARY KEY, v INT);',
  });
});

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vschema reload', () => {
  it('keeps the old vschema on a bad file, routes a new table after a good one, and no query fails meanwhile', async () => {
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(vschemaWith(['t1'])));
    const gateway = startGateway();
    const { mysql: addr } = await gateway.start();
    const connect = () => mysql.createConnection({ host: '127.0.0.1', port: addr.port, user: 'app', password: 'secret', database: 'ks' });
    const clients = await Promise.all([connect(), connect(), connect(), connect()]);
    let running = true;
    let ok = 0;
    const failures: string[] = [];
    // The load: point reads, inserts and scatters on t1, from four clients, through every reload.
    const loops = clients.map(async (c, n) => {
      for (let i = 0; running; i++) {
        const id = n * 1_000_000 + i;
        try {
          await c.query('INSERT INTO t1 (id, v) VALUES (?, ?)', [id, i]);
          const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT v FROM t1 WHERE id = ?', [id]);
          if (rows.length !== 1 || rows[0]!.v !== i) failures.push(`row ${id}: ${JSON.stringify(rows)}`);
          if (i % 10 === 0) await c.query('SELECT COUNT(*) FROM t1');
          ok++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    try {
      const probe = await connect();
      await expect(probe.query('SELECT * FROM t2 WHERE id = 1')).rejects.toThrow(/t2/);
      const epochBefore = gateway.planner!.cacheStats().epoch;

      // An invalid vschema: an unknown vindex type. Refused, logged with its path, counted.
      writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify({ keyspaces: { ks: { sharded: true, vindexes: { hash: { type: 'no_such_vindex' } }, tables: { t1: { column_vindexes: [{ column: 'id', name: 'hash' }] }, t2: {} } } } }));
      await until(async () => (await reloadsCounted('error', gateway)) >= 1, 'the bad vschema is refused');
      const refused = logLines.find((l) => l.msg !== undefined && String(l.msg).startsWith('reload refused'));
      expect(String(refused?.msg)).toMatch(/keyspaces\.ks\.vindexes\.hash/);
      expect(refused?.file).toBe(path.join(dir, 'vschema.json'));
      await expect(probe.query('SELECT * FROM t2 WHERE id = 1')).rejects.toThrow(/t2/);
      expect(gateway.planner!.cacheStats().epoch).toBe(epochBefore);

      // A valid one adds t2: it is routable once the reload acted.
      const written = performance.now();
      writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(vschemaWith(['t1', 't2'])));
      await until(async () => (await reloadsCounted('ok', gateway)) >= 1, 'the good vschema is loaded');
      const [inserted] = await probe.query<mysql.ResultSetHeader>('INSERT INTO t2 (id, v) VALUES (1, 10), (2, 20), (3, 30)');
      const routableAfterMs = performance.now() - written;
      expect(inserted.affectedRows).toBe(3);
      const [rows] = await probe.query<mysql.RowDataPacket[]>('SELECT id, v FROM t2 ORDER BY id');
      expect(rows).toEqual([
        { id: 1, v: 10 },
        { id: 2, v: 20 },
        { id: 3, v: 30 },
      ]);
      expect(gateway.planner!.cacheStats().epoch).toBeGreaterThan(epochBefore);
      console.log(`new table routable ${routableAfterMs.toFixed(0)} ms after the vschema file was written; ${ok} load iterations meanwhile`);
      await probe.end();
    } finally {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.end()));
      await gateway.stop();
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
  });
});

describe('drain at stop', () => {
  it('closes the port, refuses new statements, lets running ones finish, rolls back open transactions', async () => {
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(vschemaWith(['t1', 't2'])));
    const gateway = startGateway();
    const { mysql: addr } = await gateway.start();
    const connect = () => mysql.createConnection({ host: '127.0.0.1', port: addr.port, user: 'app', password: 'secret', database: 'ks' });
    const [inTx, running, idle] = await Promise.all([connect(), connect(), connect()]);
    await inTx.query('BEGIN');
    await inTx.query('INSERT INTO t1 (id, v) VALUES (-1, 1), (-2, 2)');
    await idle.query('SELECT 1');

    // A statement still running when the drain begins (it sleeps on its shard).
    const slow = running.query<mysql.RowDataPacket[]>('SELECT SLEEP(0.5) AS s, v FROM t1 WHERE id = 0');
    await until(async () => [...gateway.sessions].some((s) => s.running > 0), 'the slow statement runs');
    const stopped = gateway.stop();

    // New connections are refused at once; an idle session's next statement gets 1053.
    await expect(connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(idle.query('SELECT 1')).rejects.toMatchObject({ errno: 1053, sqlState: '08S01' });
    // The running statement finishes with its answer.
    const [rows] = await slow;
    expect(rows).toEqual([{ s: 0, v: 0 }]); // row 0 was written by the reload test's load
    await stopped;

    // The open transaction was rolled back on its shards.
    for (const s of SHARDS) {
      const conn = await mysql.createConnection(cluster.shard(s).connectionOptions());
      const [left] = await conn.query<mysql.RowDataPacket[]>('SELECT id FROM t1 WHERE id < 0');
      expect(left).toEqual([]);
      await conn.end();
    }
    for (const c of [inTx, running, idle]) c.destroy();
    expect(logLines.some((l) => l.msg === 'drained: no statement running')).toBe(true);
  });
});

describe('drain timeout', () => {
  it('closes sessions whose statements outlive drainTimeoutMs, and kills their shard queries', async () => {
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(vschemaWith(['t1', 't2'])));
    const gateway = startGateway('', 200);
    const { mysql: addr } = await gateway.start();
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: addr.port, user: 'app', password: 'secret', database: 'ks' });
    await conn.query('INSERT INTO t2 (id, v) VALUES (555, 1)');
    const endless = conn.query('SELECT SLEEP(30) AS s FROM t2 WHERE id = 555').then(
      () => 'answered',
      (err: { code?: string }) => err.code,
    );
    await until(async () => [...gateway.sessions].some((s) => s.running > 0), 'the long statement runs');
    await gateway.stop();
    expect(await endless).toBe('PROTOCOL_CONNECTION_LOST');
    expect(logLines.some((l) => l.msg === 'drain timeout: closing sessions with statements still running')).toBe(true);
    // Nothing is left running on the shards.
    for (const s of SHARDS) {
      const admin = await mysql.createConnection(cluster.shard(s).connectionOptions());
      await until(async () => {
        const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%'");
        return rows.length === 0;
      }, `the shard query on ${s} is gone`);
      await admin.end();
    }
    conn.destroy();
  });
});

describe('slow-query log', () => {
  it('logs statements at least slowQueryMs slow, by their normalized text, and counts them', async () => {
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(vschemaWith(['t1', 't2'])));
    const gateway = startGateway('slowQueryMs: 100\n');
    const { mysql: addr } = await gateway.start();
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: addr.port, user: 'app', password: 'secret', database: 'ks' });
    try {
      await conn.query('INSERT INTO t2 (id, v) VALUES (777002, 1)');
      await conn.query('SELECT SLEEP(0.15) AS s, id FROM t2 WHERE id = 777002');
    } finally {
      await conn.end();
      await gateway.stop();
    }
    // On a loaded machine the INSERT may cross the threshold too, so every logged statement is
    // checked to have been that slow, and the SLEEP must be among them.
    const slow = logLines.filter((l) => l.msg === 'slow query');
    for (const line of slow) expect(Number(line.durationMs)).toBeGreaterThanOrEqual(100);
    const sleep = slow.filter((l) => String(l.query).startsWith('SELECT SLEEP'));
    expect(sleep).toHaveLength(1);
    expect(sleep[0]).toMatchObject({ level: 40, statement: 'select', user: 'app', rows: 1 });
    expect(String(sleep[0]!.query)).toMatch(/^SELECT SLEEP\(:\w+\) AS s, id FROM t2 WHERE id = :\w+$/);
    expect(JSON.stringify(logLines)).not.toContain('777002');
    const counted = await gateway.metrics.registry.getSingleMetric('shardgate_slow_statements_total')!.get();
    expect(counted.values.reduce((n, v) => n + v.value, 0)).toBe(slow.length);
  });
});
