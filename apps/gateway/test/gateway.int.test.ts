/**
 * End to end: a gateway that owns a 4-shard `commerce` keyspace and an unsharded `main`, both on
 * real local MariaDB servers, driven by mysql2 and by the `mariadb` CLI. Placement is verified
 * with direct connections to each shard.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { ColumnType, StatusFlag } from '@shardgate/mysql-protocol';
import { comQuery, comStmtExecute, comStmtPrepare, isEofPacket, parseColumnDefinition, parseEof, RawMysqlClient, type RawPacket } from '@shardgate/mysql-protocol/testing';
import { parseConfig } from '../src/config.js';
import { Gateway } from '../src/gateway.js';

const run = promisify(execFile);

const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: { settings: {} } },
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] }, country: { type: 'reference' } },
    },
  },
};
const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];

let dir: string;
let gateway: Gateway;
let port: number;
let client: mysql.Connection;
const shardConns = new Map<string, mysql.Connection>();

const hashVindex = loadVSchema(VSCHEMA).keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
const shardMap = new ShardMap(SHARDS);
const shardOf = (id: bigint): string => shardMap.shardFor(hashVindex.map(id)!);

/** Rows per shard, read directly from each shard's MariaDB, bypassing the gateway. */
async function idsByShard(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [shard, conn] of shardConns) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select cast(id as char) as id from customer order by customer.id');
    out[shard] = rows.map((r) => r.id as string);
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sg-gw-int-'));
  writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(VSCHEMA));
  writeFileSync(
    path.join(dir, 'commerce.sql'),
    'CREATE TABLE customer (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(64), balance DECIMAL(12,2)) DEFAULT CHARSET=utf8mb4;\n' +
      'CREATE TABLE country (code CHAR(2) PRIMARY KEY, name VARCHAR(64));',
  );
  writeFileSync(path.join(dir, 'main.sql'), 'CREATE TABLE settings (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64));');
  const config = parseConfig(
    {
      listen: { mysql: '127.0.0.1:0', http: '127.0.0.1:0' },
      users: [{ user: 'app', password: 'secret' }],
      vschema: './vschema.json',
      // Small, so that the oversize-packet test sends little.
      maxAllowedPacket: '1MiB',
      // The least there is, so that the packet-memory test sends little.
      maxPacketMemory: '1MiB',
      // Shorter than the default so that the unclosed-IN-list test waits less for its deadline.
      planTimeoutMs: 3000,
      keyspaces: {
        commerce: { schema: './commerce.sql', shards: Object.fromEntries(SHARDS.map((s) => [s, 'local'])) },
        main: { schema: './main.sql', shards: { '0': 'local' } },
      },
    },
    path.join(dir, 'shardgate.yaml'),
  );
  gateway = new Gateway(config);
  const addr = await gateway.start();
  port = addr.mysql.port;
  client = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', supportBigNumbers: true, bigNumberStrings: true });
  for (const shard of SHARDS) {
    const o = gateway.topology.commerce[shard];
    shardConns.set(shard, await mysql.createConnection({ host: o.host, port: o.port, user: o.user, password: o.password, database: o.database }));
  }
});

afterAll(async () => {
  await client?.end();
  for (const c of shardConns.values()) await c.end();
  await gateway?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gateway end to end', () => {
  const ids = [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 11n, 12n, 100n, 12345n, 9223372036854775807n];

  it('routes a multi-row INSERT so each row lands on the shard its hash picks', async () => {
    await client.query('use commerce');
    const values = ids.map((id) => `(${id}, 'name-${id}', ${id % 100n}.25)`).join(', ');
    const [res] = await client.query<mysql.ResultSetHeader>(`insert into customer (id, name, balance) values ${values}`);
    expect(res.affectedRows).toBe(ids.length);

    const expected: Record<string, string[]> = Object.fromEntries(SHARDS.map((s) => [s, []]));
    for (const id of ids) expected[shardOf(id)].push(id.toString());
    for (const s of SHARDS) expected[s].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    expect(await idsByShard()).toEqual(expected);
    // The data spreads over more than one shard, or this test proves nothing.
    expect(Object.values(expected).filter((v) => v.length > 0).length).toBeGreaterThan(1);
  });

  it('answers point, IN and scatter SELECTs with exactly the inserted rows', async () => {
    const [point] = await client.query<mysql.RowDataPacket[]>('select id, name, balance from customer where id = 5');
    expect(point).toEqual([{ id: '5', name: 'name-5', balance: '5.25' }]);

    const [big] = await client.query<mysql.RowDataPacket[]>('select id, name from commerce.customer where id = 9223372036854775807');
    expect(big).toEqual([{ id: '9223372036854775807', name: 'name-9223372036854775807' }]);

    const [inRows] = await client.query<mysql.RowDataPacket[]>('select id from customer where id in (1, 3, 100, 4242) order by id');
    expect(inRows.map((r) => r.id)).toEqual(['1', '3', '100']);

    const [all] = await client.query<mysql.RowDataPacket[]>('select id from customer');
    expect(all.map((r) => r.id).sort()).toEqual(ids.map(String).sort());

    const [none] = await client.query<mysql.RowDataPacket[]>('select id from customer where id = 4242');
    expect(none).toEqual([]);
  });

  it('UPDATE and DELETE by vindex touch only the owning shard', async () => {
    const before = await shardSnapshots();
    const [upd] = await client.query<mysql.ResultSetHeader>("update customer set name = 'renamed' where id = 7");
    expect(upd.affectedRows).toBe(1);
    const after = await shardSnapshots();
    for (const s of SHARDS) {
      if (s === shardOf(7n)) expect(after[s]).not.toEqual(before[s]);
      else expect(after[s]).toEqual(before[s]);
    }

    const [del] = await client.query<mysql.ResultSetHeader>('delete from customer where id in (1, 2)');
    expect(del.affectedRows).toBe(2);
    const [left] = await client.query<mysql.RowDataPacket[]>('select id from customer where id in (1, 2, 3)');
    expect(left.map((r) => r.id)).toEqual(['3']);
    const byShard = await idsByShard();
    expect(Object.values(byShard).flat()).not.toContain('1');
    expect(Object.values(byShard).flat()).not.toContain('2');
  });

  it('scatters UPDATE without a vindex predicate to every shard', async () => {
    const [res] = await client.query<mysql.ResultSetHeader>("update customer set name = concat(name, '!') where balance >= 0");
    expect(res.affectedRows).toBe(ids.length - 2);
    const [rows] = await client.query<mysql.RowDataPacket[]>("select count(*) as n from customer where name like '%!'");
    expect(String(rows[0].n)).toBe(String(ids.length - 2));
  });

  it('routes the unsharded keyspace to its one shard', async () => {
    await client.query("insert into main.settings (k, v) values ('color', 'blue'), ('size', 'L')");
    const [rows] = await client.query<mysql.RowDataPacket[]>('select k, v from main.settings order by k');
    expect(rows).toEqual([
      { k: 'color', v: 'blue' },
      { k: 'size', v: 'L' },
    ]);
  });

  describe('prepared scatter SELECT on the wire (raw packets)', () => {
    /** COM_STMT_PREPARE_OK, then the parameter and column definitions each ended by EOF. */
    async function readPrepareReply(c: RawMysqlClient): Promise<{ id: number; columns: string[]; params: number; sequenceIds: number[] }> {
      const packets: RawPacket[] = [await c.nextPacket()];
      const ok = packets[0].payload;
      expect(ok[0]).toBe(0x00);
      const id = ok.readUInt32LE(1);
      const columnCount = ok.readUInt16LE(5);
      const params = ok.readUInt16LE(7);
      const columns: string[] = [];
      for (const [count, names] of [[params, null], [columnCount, columns]] as const) {
        if (count === 0) continue;
        for (let i = 0; i < count; i++) {
          const p = await c.nextPacket();
          packets.push(p);
          names?.push(parseColumnDefinition(p.payload).name);
        }
        const eof = await c.nextPacket();
        packets.push(eof);
        expect(isEofPacket(eof.payload)).toBe(true);
      }
      return { id, columns, params, sequenceIds: packets.map((p) => p.sequenceId) };
    }

    it('announces the columns at prepare, frames the execute reply, and the connection stays in sync', async () => {
      const { client: c } = await RawMysqlClient.login(port, { user: 'app', password: 'secret', database: 'commerce' });
      try {
        c.send(comStmtPrepare('select id, name from customer where id between ? and ?'));
        const prepared = await readPrepareReply(c);
        // A SELECT announces its columns, as MySQL does: libmariadb clients (sysbench) read the
        // result set only of a statement whose prepare reply had columns.
        expect(prepared).toMatchObject({ columns: ['id', 'name'], params: 2 });
        expect(prepared.sequenceIds).toEqual(prepared.sequenceIds.map((_, i) => i + 1));
        expect(c.idle).toBe(true);

        const [want] = await client.query<mysql.RowDataPacket[]>('select id from commerce.customer where id between 3 and 12');
        expect(want.length).toBeGreaterThan(1);
        for (let round = 0; round < 2; round++) {
          c.send(comStmtExecute(prepared.id, [{ type: ColumnType.LONGLONG, value: 3n }, { type: ColumnType.LONGLONG, value: 12n }], { newParamsBound: round === 0 }));
          const r = await c.readResult();
          expect(r.kind).toBe('resultset');
          expect(r.columns.map((col) => col.name)).toEqual(['id', 'name']);
          expect(r.rows.length).toBe(want.length);
          // Binary rows: 0x00 header, then the NULL bitmap.
          for (const row of r.rows) expect(row[0]).toBe(0x00);
          expect(r.sequenceIds).toEqual(r.sequenceIds.map((_, i) => i + 1));
          const eof = parseEof(r.last);
          expect(eof.statusFlags & (StatusFlag.MORE_RESULTS_EXISTS | StatusFlag.CURSOR_EXISTS)).toBe(0);
          expect(c.idle).toBe(true);
        }

        // Aggregates merged at the gateway and statements without rows.
        c.send(comStmtPrepare('select sum(balance), count(*) from customer where id between ? and ?'));
        expect(await readPrepareReply(c)).toMatchObject({ columns: ['sum(balance)', 'count(*)'], params: 2 });
        // A cross-shard join and a UNION: the columns come through the gateway's own operators.
        c.send(comStmtPrepare('select a.id, b.name from customer a join customer b on a.name = b.name where a.id = ?'));
        expect(await readPrepareReply(c)).toMatchObject({ columns: ['id', 'name'], params: 1 });
        c.send(comStmtPrepare('select id from customer where id = ? union select id from customer where id = ?'));
        expect(await readPrepareReply(c)).toMatchObject({ columns: ['id'], params: 2 });
        // LIMIT ? (a NULL row count is a syntax error on the shard).
        c.send(comStmtPrepare('select id, name from customer where id between ? and ? order by id limit ?'));
        expect(await readPrepareReply(c)).toMatchObject({ columns: ['id', 'name'], params: 3 });
        c.send(comStmtPrepare('select id from customer where id = ? limit ?, ?'));
        expect(await readPrepareReply(c)).toMatchObject({ columns: ['id'], params: 3 });
        c.send(comStmtPrepare('update customer set name = ? where id = ?'));
        expect(await readPrepareReply(c)).toMatchObject({ columns: [], params: 2 });

        // The next command gets its own reply: nothing was left unread.
        c.send(comQuery('select 7'));
        const next = await c.readResult();
        expect(next.rows.length).toBe(1);
        expect(c.idle).toBe(true);
      } finally {
        c.close();
      }
    });
  });

  it('refuses a wrong password with 1045 / 28000', async () => {
    const err = await mysql
      .createConnection({ host: '127.0.0.1', port, user: 'app', password: 'wrong' })
      .then(
        () => null,
        (e: { errno: number; sqlState: string }) => e,
      );
    expect(err?.errno).toBe(1045);
    expect(err?.sqlState).toBe('28000');
  });

  it('answers bad SQL with 1064 and keeps the connection usable', async () => {
    const err = await client.query('selec nonsense from').then(
      () => null,
      (e: { errno: number }) => e,
    );
    expect(err?.errno).toBe(1064);
    const [rows] = await client.query<mysql.RowDataPacket[]>('select id from customer where id = 3');
    expect(rows).toEqual([{ id: '3' }]);
  });

  it('runs several statements in one query only for clients that enabled multi-statements', async () => {
    // mysql2 leaves CLIENT_MULTI_STATEMENTS off by default, as most drivers do: MySQL then fails
    // at the second statement, which is what keeps an injected `; drop table …` from running.
    const err = await client.query("select id from customer where id = 3; update customer set name = 'x' where id = 3").then(
      () => null,
      (e: { errno: number; sqlState: string; message: string }) => e,
    );
    expect(err).toMatchObject({ errno: 1064, sqlState: '42000' });
    expect(err?.message).toContain("near 'update customer set name = 'x' where id = 3' at line 1");
    const [rows] = await client.query<mysql.RowDataPacket[]>('select id from customer where id = 3;');
    expect(rows).toEqual([{ id: '3' }]);
    const [name] = await shardConns.get(shardOf(3n))!.query<mysql.RowDataPacket[]>('select name from customer where id = 3');
    expect(name[0]!.name).not.toBe('x');

    const multi = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce', multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true });
    try {
      const [results] = await multi.query<mysql.RowDataPacket[][]>('select id from customer where id = 3; select id from customer where id = 4');
      expect(results).toEqual([[{ id: '3' }], [{ id: '4' }]]);
    } finally {
      await multi.end();
    }
  });

  it('answers a statement over maxAllowedPacket with 1153 / 08S01 and closes that connection only', async () => {
    const big = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
    const closed = new Promise<void>((resolve) => big.on('end', () => resolve()));
    big.on('error', () => {});
    const err = await big.query(`select id from customer where id in (${'1,'.repeat(600_000)}1)`).then(
      () => null,
      (e: { errno: number; sqlState: string; message: string }) => e,
    );
    expect(err).toMatchObject({ errno: 1153, sqlState: '08S01' });
    expect(err?.message).toContain("max_allowed_packet");
    await closed;
    // Other connections carry on, and a long statement under the bound is answered.
    const [rows] = await client.query<mysql.RowDataPacket[]>(`select id from customer where id in (3${',3'.repeat(1000)})`);
    expect(rows).toEqual([{ id: '3' }]);
  });

  it('answers 1041 / HY000 to a statement that does not fit maxPacketMemory while another holds it, and carries on', async () => {
    const holder = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
    const other = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
    try {
      const filler = 'x'.repeat(700 * 1024);
      // The holder's 700 KB statement keeps its packet's memory while a shard runs it.
      const held = holder.query<mysql.RowDataPacket[]>(`select sleep(3) as s, length('${filler}') as n`);
      const running = async (): Promise<boolean> => {
        for (const conn of shardConns.values()) {
          const [rows] = await conn.query<mysql.RowDataPacket[]>("select count(*) as c from information_schema.processlist where info like 'select sleep(3)%'");
          if (Number(rows[0]!.c) > 0) return true;
        }
        return false;
      };
      while (!(await running())) await new Promise((r) => setTimeout(r, 20));
      const err = await other.query(`select length('${filler}') as n`).then(
        () => null,
        (e: { errno: number; sqlState: string; message: string }) => e,
      );
      expect(err).toMatchObject({ errno: 1041, sqlState: 'HY000' });
      expect(err?.message).toContain('maxPacketMemory');
      // The refused connection and everyone else carry on; once the holder is done, the memory is free.
      expect((await other.query<mysql.RowDataPacket[]>('select id from customer where id = 3'))[0]).toEqual([{ id: 3 }]);
      expect((await held)[0]).toEqual([{ s: 0, n: filler.length }]);
      expect((await other.query<mysql.RowDataPacket[]>(`select length('${filler}') as n`))[0]).toEqual([{ n: filler.length }]);
    } finally {
      await holder.end();
      await other.end();
    }
  });

  it('keeps answering other clients while a 1 MB unclosed IN list plans in a worker, then fails it clearly', async () => {
    const bad = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
    try {
      let badDone = false;
      const badResult = bad.query(`select id from customer where id in (${'1,'.repeat(500_000)}1`).then(
        () => null,
        (e: { errno: number; sqlState: string }) => e,
      );
      void badResult.then(() => (badDone = true));
      // Point selects of another client are answered while the bad statement is still planning.
      let answeredBefore = 0;
      for (let i = 0; i < 20; i++) {
        const [rows] = await client.query<mysql.RowDataPacket[]>('select id from customer where id = 3');
        expect(rows).toEqual([{ id: '3' }]);
        if (!badDone) answeredBefore++;
      }
      expect(answeredBefore).toBe(20);
      // A syntax error if the parser finishes, else the planning deadline (planTimeoutMs).
      const err = await badResult;
      expect([1064, 1969]).toContain(err?.errno);
      // The gateway, and that connection, carry on.
      const [rows] = await bad.query<mysql.RowDataPacket[]>('select id from customer where id = 3');
      expect(rows).toEqual([{ id: 3 }]);
    } finally {
      await bad.end();
    }
  });

  it('shrugs off a client that connects and closes before the handshake', async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.destroy());
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      });
    }
    const [rows] = await client.query<mysql.RowDataPacket[]>('select 1 as one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('works from the mariadb CLI', async () => {
    const cli = (sql: string) =>
      run('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'app', '-psecret', '--batch', '--skip-column-names', 'commerce', '-e', sql]);
    const { stdout } = await cli('select id, name from customer where id = 9223372036854775807');
    expect(stdout.trim()).toBe('9223372036854775807\tname-9223372036854775807!');
    const inList = await cli('select id from customer where id in (3, 4, 5) order by id');
    expect(inList.stdout.trim().split('\n')).toEqual(['3', '4', '5']);
    const bad = await cli('selec 1').then(
      () => null,
      (e: { stderr: string }) => e,
    );
    expect(bad?.stderr).toMatch(/ERROR 1064/);
    const denied = await run('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'app', '-pnope', '-e', 'select 1']).then(
      () => null,
      (e: { stderr: string }) => e,
    );
    expect(denied?.stderr).toMatch(/ERROR 1045/);
  });

  it('explains a plan through VEXPLAIN PLAN as one row of JSON', async () => {
    const [rows] = await client.query<mysql.RowDataPacket[]>('vexplain plan select id from customer where id in (1, 2)');
    expect(rows.length).toBe(1);
    const plan = JSON.parse(String(Object.values(rows[0])[0]));
    expect(plan.Instructions).toMatchObject({ OperatorType: 'Route', Variant: 'IN', Keyspace: { Name: 'commerce', Sharded: true } });
  });

  it('answers session questions from the gateway, not from a shard', async () => {
    const [rows] = await client.query<mysql.RowDataPacket[]>('select database(), @@version_comment');
    expect(rows).toEqual([{ 'database()': 'commerce', '@@version_comment': 'shardgate' }]);
    // Who the client is and its connection id: the gateway's, the same on every call.
    const threadId = (client as unknown as { threadId: number }).threadId;
    for (let i = 0; i < 3; i++) {
      const [who] = await client.query<mysql.RowDataPacket[]>('select user(), current_user(), connection_id()');
      // An INT UNSIGNED, as MariaDB types CONNECTION_ID(): a number even to this bigNumberStrings client.
      expect(who).toEqual([{ 'user()': 'app@127.0.0.1', 'current_user()': 'app@%', 'connection_id()': threadId }]);
    }
  });

  it('serves status, metrics and health over HTTP', async () => {
    const http = gateway.addresses!.http!;
    const health = await fetch(`http://127.0.0.1:${http.port}/healthz`);
    expect(await health.text()).toBe('ok\n');
    // A failing statement and an open transaction, so their series exist.
    await client.query('select 1 from main.no_such_table').catch(() => undefined);
    const tx = await mysql.createConnection({ host: '127.0.0.1', port: gateway.addresses!.mysql.port, user: 'app', password: 'secret', database: 'commerce' });
    await tx.query('begin');
    await tx.query('select * from customer where id = 1');
    // A shard error on the transaction's reserved connection is timed and counted too (queryObserved).
    await tx.query('select no_such_column from customer where id = 1').catch(() => undefined);
    const metrics = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
    await tx.query('rollback');
    await tx.end();
    // prom-client's process and Node metrics, event-loop lag included.
    expect(metrics).toMatch(/^process_cpu_seconds_total [\d.]+$/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+$/m);
    // Latency in seconds by statement type and workload; counters end in _total.
    expect(metrics).toMatch(/^shardgate_statement_duration_seconds_bucket\{le="0\.001",statement="select",workload="oltp"\} \d+$/m);
    expect(metrics).toMatch(/^shardgate_statements_total\{statement="select",workload="oltp"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^shardgate_statement_errors_total\{statement="select",errno="1146"\} [1-9]\d*$/m);
    // Shard traffic by keyspace and shard, errors by errno.
    expect(metrics).toMatch(/^shardgate_shard_queries_total\{keyspace="commerce",shard="[^"]+"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^shardgate_shard_errors_total\{keyspace="main",shard="0",errno="1146"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^shardgate_shard_query_duration_seconds_count\{keyspace="main",shard="0"\} \d+$/m);
    expect(metrics).toMatch(/^shardgate_shard_errors_total\{keyspace="commerce",shard="[^"]+",errno="1054"\} 1$/m);
    // Pools, plan cache, sessions and transactions, read live.
    expect(metrics).toMatch(/^shardgate_pool_connections_max\{keyspace="commerce",shard="c0-"\} \d+$/m);
    expect(metrics).toMatch(/^shardgate_pool_connections_in_use\{keyspace="commerce",shard="[^"]+"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^shardgate_plan_cache_hits \d+$/m);
    expect(metrics).toMatch(/^shardgate_plan_cache_entries [1-9]\d*$/m);
    expect(metrics).toMatch(/^shardgate_open_sessions [2-9]$/m);
    expect(metrics).toMatch(/^shardgate_open_transactions 1$/m);
    // No unit-less or millisecond latency series are left.
    expect(metrics).not.toMatch(/_ms(_bucket|_sum|_count)?[{ ]/);
    // The gateway's own lag figures, for the status page.
    expect(gateway.eventLoopLag()!.maxMs).toBeGreaterThanOrEqual(0);
    const status = (await (await fetch(`http://127.0.0.1:${http.port}/debug/status`)).json()) as { keyspaces: Record<string, unknown> };
    expect(Object.keys(status.keyspaces).sort()).toEqual(['commerce', 'main']);
  });

  it('writes every copy of a reference table and reports a copy that drifted at /debug/references', async () => {
    const http = gateway.addresses!.http!;
    const references = async () => {
      const res = await fetch(`http://127.0.0.1:${http.port}/debug/references`);
      return { status: res.status, body: (await res.json()) as { diverged: boolean; tables: { table: string; copies: { shard: string; rows: string }[] }[] } };
    };
    await client.query('use commerce');
    await client.query("insert into country (code, name) values ('de', 'Germany'), ('fr', 'France')");
    for (const conn of shardConns.values()) expect((await conn.query<mysql.RowDataPacket[]>('select count(*) n from country'))[0][0]!.n).toBe(2);
    const clean = await references();
    expect(clean.status).toBe(200);
    expect(clean.body.diverged).toBe(false);
    expect(clean.body.tables.map((t) => t.table)).toEqual(['country']);
    // A row written on one shard directly, bypassing the gateway: that copy has drifted.
    await shardConns.get('80-c0')!.query("insert into country (code, name) values ('xx', 'stray')");
    const drifted = await references();
    expect(drifted.status).toBe(409);
    expect(drifted.body.diverged).toBe(true);
    expect(drifted.body.tables[0]!.copies.find((c) => c.shard === '80-c0')!.rows).toBe('3');
    await shardConns.get('80-c0')!.query("delete from country where code = 'xx'");
  });
});

async function shardSnapshots(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [shard, conn] of shardConns) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select cast(id as char) id, name, balance from customer order by customer.id');
    out[shard] = JSON.stringify(rows);
  }
  return out;
}
