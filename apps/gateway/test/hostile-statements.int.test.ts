/**
 * Statements a hostile (or broken) client sends that once held the gateway: each must get the
 * error one plain MariaDB answers, at once, and other clients must keep being served meanwhile.
 * The gateway runs as a process (`shardgate up`), so that a stalled event loop cannot stall this
 * test's own clients, and a stall shows as the test's timeout.
 */
import { connect, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '@shardgate/test-kit';
import type { GatewayProcess } from './support/cli-process.js';
import { startStallGateway, type StallGateway } from './support/stall-gateway.js';
import { answer, PROBE_SQL, type Answer } from './support/stall-probe.js';

/** Short, so that a stalled client is dropped within the test; long enough for a login under load. */
const NET_READ_TIMEOUT_MS = 1500;
const CONNECT_TIMEOUT_MS = 3000;

/** Resolves with how long after the call the socket closed, and the bytes it received meanwhile. */
function closeOf(socket: Socket): Promise<{ ms: number; received: Buffer }> {
  const started = Date.now();
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve({ ms: Date.now() - started, received: Buffer.concat(received) })));
}

describe('hostile statements get MariaDB’s error at once and hold no other client', () => {
  let setup: StallGateway;
  let cluster: LocalCluster;
  let gw: GatewayProcess;
  let opts: mysql.ConnectionOptions;
  let client: mysql.Connection;
  let reference: mysql.Connection;

  beforeAll(async () => {
    // Two plan workers (the default) and a plan deadline well past what any statement here needs.
    setup = await startStallGateway('sg-hostile-', {
      planWorkers: 2,
      planTimeoutMs: 20000,
      maxAllowedPacket: '4MiB',
      netReadTimeoutMs: NET_READ_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    ({ cluster, gw, client, reference } = setup);
    opts = setup.clientOptions;
  }, 120_000);

  afterAll(async () => {
    await setup?.stop();
  });

  const errorOf = (a: Answer): unknown => (a.kind === 'error' ? { errno: a.errno, sqlState: a.sqlState, message: a.message } : a);

  it('answers a 1 MB table or database name as MariaDB does (1103, 1102), with a short message', async () => {
    // The error once named the whole identifier, and masking credentials in it for the status
    // page took time growing with its square: 40 s of a blocked event loop for 100 KB.
    const name = 'a'.repeat(1024 * 1024);
    for (const sql of [`select * from \`${name}\``, `select * from \`${name}\`.customer`, `select * from commerce.\`${name}\``]) {
      const got = await answer(client, sql);
      expect(errorOf(got), sql.slice(0, 30)).toEqual(errorOf(await answer(reference, sql)));
      expect(got.kind === 'error' && [1102, 1103].includes(got.errno)).toBe(true);
      // The next client is served.
      expect((await answer(client, PROBE_SQL)).kind).toBe('result');
    }
  }, 120_000);

  it('refuses unpaired parentheses with 1064 (1473 past the SELECT nesting limit) without the parser', async () => {
    const statements = [
      `select ${'('.repeat(10_000)}1`,
      `select ${'('.repeat(3000)}1 from customer`,
      `select 1${')'.repeat(10_000)}`,
      `select id from customer where id in (1, 2${' and (id > 1'.repeat(2000)}`,
      `select ${'(select '.repeat(200)}1`,
      `select ${'(select '.repeat(40)}1`,
      `select ${'(select '.repeat(70)}1${')'.repeat(71)}`,
      `insert into customer (id, name) values ${"(1, 'a'), ".repeat(200)}(2, (3`,
      `update customer set name = concat('a', ${'lower('.repeat(3000)}'x') where id = 1`,
    ];
    for (const sql of statements) {
      const got = await answer(client, sql);
      const expected = await answer(reference, sql);
      expect(expected.kind, sql.slice(0, 40)).toBe('error');
      expect(errorOf(got), sql.slice(0, 40)).toMatchObject({ errno: (expected as { errno: number }).errno, sqlState: (expected as { sqlState: string }).sqlState });
    }
  }, 120_000);

  it('answers a `?` in a text query with 1064, as MariaDB, not 1210 (a prepared statement’s missing value)', async () => {
    for (const sql of ['select ?', 'select id from customer where id = ?', 'select id from customer where id in (1, ?, 3)', "insert into customer (id, name) values (5, 'a'), (?, 'b')"]) {
      const got = await answer(client, sql);
      const expected = await answer(reference, sql);
      expect(expected, sql).toMatchObject({ kind: 'error', errno: 1064 });
      expect(errorOf(got), sql).toMatchObject({ errno: 1064, sqlState: '42000', message: expect.stringContaining(`near '?`) });
    }
  }, 60_000);

  it('runs [NOT] REGEXP / RLIKE with a literal or a `?` pattern as MariaDB (was 1064 near the bind var)', async () => {
    const statements = [
      "select 'abc' regexp 'b', 'abc' rlike '^a', 'abc' not regexp 'z'",
      `select id, name from customer where name regexp '^pro' and id = 1000000003`,
      "select id from customer where name not rlike 'x' order by id",
    ];
    for (const sql of statements) {
      const got = await answer(client, sql);
      expect(got, sql).toMatchObject({ kind: 'result' });
      expect(got.kind === 'result' && got.rows, sql).toEqual((await answer(reference, sql) as { rows: unknown }).rows);
    }
    const [rows] = await client.execute('select id from customer where name regexp ? and id > ?', ['^pr', 0]);
    const [expected] = await reference.execute('select id from customer where name regexp ? and id > ?', ['^pr', 0]);
    expect(rows).toEqual(expected);
  }, 60_000);

  it('refuses a command of exactly maxAllowedPacket bytes with 1153 and closes, as MariaDB at that max_allowed_packet', async () => {
    // MariaDB takes at most max_allowed_packet - 1 bytes (net_realloc: length >= max is refused);
    // the gateway took one more and sent it on to a shard.
    const max = 4 * 1024 * 1024;
    const root = await mysql.createConnection(cluster.shard('reference').connectionOptions());
    await root.query(`set global max_allowed_packet = ${max}`);
    const ref = await mysql.createConnection(cluster.shard('reference').connectionOptions());
    const gw = await mysql.createConnection(opts);
    try {
      // A COM_QUERY payload is the command byte and the statement.
      const ofSize = (bytes: number): string => `select length('${'a'.repeat(bytes - 1 - "select length('') as n".length)}') as n`;
      for (const [name, c] of [['gateway', gw], ['MariaDB', ref]] as const) {
        expect(await answer(c, ofSize(max - 1)), name).toMatchObject({ kind: 'result', rows: [`{"n":${max - 2 - "select length('') as n".length}}`] });
      }
      const got = await answer(gw, ofSize(max));
      const expected = await answer(ref, ofSize(max));
      // MariaDB answers 1153 and closes, often before the client has written it all (ECONNRESET).
      expect(expected.kind === 'error' && [1153, -104].includes(expected.errno), JSON.stringify(expected)).toBe(true);
      expect(got).toMatchObject({ kind: 'error', errno: 1153, sqlState: '08S01', message: "Got a packet bigger than 'max_allowed_packet' bytes" });
    } finally {
      gw.destroy();
      ref.destroy();
      await root.query('set global max_allowed_packet = default');
      await root.end();
    }
  }, 60_000);

  /**
   * Four clients send `attack(n, i)` in a loop, each getting 1064 every time, while a fifth plans
   * 20 new statements (plan-cache misses, planned in a worker) whose columns are named `<tag>0…`:
   * each must get its answer, within `withinMs` in all when given.
   */
  async function planWhileAttacked(attack: (n: number, i: number) => string, tag: string, withinMs?: number): Promise<void> {
    const attackers = await Promise.all(Array.from({ length: 4 }, () => mysql.createConnection(opts)));
    try {
      let stop = false;
      const attacks = attackers.map(async (c, n) => {
        const errnos = new Set<number>();
        for (let i = 0; !stop; i++) {
          const got = await answer(c, attack(n, i));
          errnos.add(got.kind === 'error' ? got.errno : 0);
        }
        return errnos;
      });
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        // A new shape each time: a plan-cache miss, planned in a worker.
        const sql = `select id as ${tag}${i}, name from customer where id = 1000000003 and name <> '${tag}${i}' ${'and id > 0 '.repeat(i)}`;
        const got = await answer(client, sql);
        expect(got, sql).toMatchObject({ kind: 'result', rows: [`{"${tag}${i}":1000000003,"name":"probe"}`] });
      }
      if (withinMs !== undefined) expect(Date.now() - started).toBeLessThan(withinMs);
      stop = true;
      for (const errnos of await Promise.all(attacks)) expect([...errnos]).toEqual([1064]);
    } finally {
      await Promise.all(attackers.map((c) => c.end()));
    }
  }

  it('keeps planning other clients’ statements while four clients send unclosed parentheses', async () => {
    // These once held both plan workers until the deadline, and so did every statement queued
    // behind them.
    await planWhileAttacked((n, i) => `select ${n}, ${i}, ${'('.repeat(5000)}1`, 'c');
  }, 120_000);

  it('keeps planning other clients’ statements while four clients send a syntax error 3,000 parentheses deep', async () => {
    // node-sql-parser takes seconds to reject these (time growing with the cube of the depth: 5 s
    // at 2,000 levels), holding both plan workers, where MariaDB answers 1064 at once.
    const deepError = (n: number, i: number): string => `select ${n}, ${i}, ${'('.repeat(3000)}1 +${')'.repeat(3000)}`;
    expect(await answer(reference, deepError(0, 0))).toMatchObject({ kind: 'error', errno: 1064, sqlState: '42000' });
    expect(await answer(client, deepError(0, 0))).toMatchObject({ kind: 'error', errno: 1064, sqlState: '42000', message: expect.stringContaining("Parentheses nested more than 600 deep (shardgate's limit) near '((((") });
    // Generous: all 20 take about a second on a loaded machine; behind the parser, each waited
    // seconds for a plan worker.
    await planWhileAttacked(deepError, 'd', 30_000);
  }, 120_000);

  it('keeps planning other clients’ statements while four clients send 200,000 parentheses around a literal, or unary minuses', async () => {
    // Past its parser stack MariaDB answers 1064 "memory exhausted" at once; node-sql-parser spent
    // longer than planTimeoutMs on each, holding both plan workers (and answered 1969).
    const deepWrap = (n: number, i: number): string => (i % 2 === 0 ? `select ${n}, ${i}, ${'('.repeat(200_000)}1${')'.repeat(200_000)}` : `select ${n}, ${i}, ${'-'.repeat(200_000)}1`);
    for (const sql of [deepWrap(0, 0), deepWrap(0, 1)]) {
      expect(await answer(reference, sql)).toMatchObject({ kind: 'error', errno: 1064, sqlState: '42000', message: expect.stringContaining('memory exhausted near') });
      expect(await answer(client, sql)).toMatchObject({ kind: 'error', errno: 1064, sqlState: '42000', message: expect.stringContaining('memory exhausted near') });
    }
    await planWhileAttacked(deepWrap, 'e', 30_000);
  }, 120_000);

  it('answers statements nested up to 600 parentheses deep, and any number around a literal, as MariaDB does', async () => {
    const statements = [
      `select ${'('.repeat(5000)}7${')'.repeat(5000)} + 1 as n`,
      `select ${'('.repeat(5000)}7${')'.repeat(5000)} +`,
      `select ${'('.repeat(600)}7${')'.repeat(600)} as n`,
      `select ${'1 + ('.repeat(500)}1${')'.repeat(500)} as n`,
      `select id from customer where id = ${'('.repeat(300)}1000000003${')'.repeat(300)}`,
      `select ${'('.repeat(300)}1 +${')'.repeat(300)}`,
    ];
    // The parse error's wording is the parser's; its number is MariaDB's.
    const codes = (a: Answer): unknown => (a.kind === 'error' ? { errno: a.errno, sqlState: a.sqlState } : a.rows);
    for (const sql of statements) {
      const got = await answer(client, sql);
      expect(codes(got), sql.slice(0, 40)).toEqual(codes(await answer(reference, sql)));
    }
    expect(await answer(client, statements[0]!)).toMatchObject({ kind: 'result', rows: ['{"n":8}'] });
    expect(await answer(client, statements[2]!)).toMatchObject({ kind: 'result', rows: ['{"n":7}'] });
  }, 120_000);
  it('drops a logged-in client that stalls mid-packet after netReadTimeoutMs, rolling back its transaction, as MariaDB', async () => {
    const stalled = await mysql.createConnection(opts);
    stalled.on('error', () => undefined);
    await stalled.query('begin');
    await stalled.query("insert into customer (id, name) values (5, 'stalled')");
    const [[{ id }]] = (await stalled.query('select connection_id() as id')) as unknown as [[{ id: number }]];
    const socket = (stalled as unknown as { connection: { stream: Socket } }).connection.stream;
    const closed = closeOf(socket);
    // A COM_QUERY header promising 100 bytes, then 3 of them.
    socket.write(Buffer.from([100, 0, 0, 0, 0x03, 0x73, 0x65]));
    // Other clients are served meanwhile.
    expect((await answer(client, PROBE_SQL)).kind).toBe('result');
    const { ms, received } = await closed;
    // Closed without a reply (MariaDB sends none either), within the bound.
    expect(received.length).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(NET_READ_TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(NET_READ_TIMEOUT_MS + 15_000);
    // The session is gone, its transaction rolled back and its row lock released: the same key
    // inserts at once (it would wait for the lock otherwise).
    await expect.poll(async () => ((await client.query('show processlist')) as unknown as [{ Id: number }[]])[0].map((r) => Number(r.Id)), { timeout: 10_000 }).not.toContain(id);
    expect(await answer(client, 'select id from customer where id = 5')).toMatchObject({ kind: 'result', rows: [] });
    await client.query('set innodb_lock_wait_timeout = 5').catch(() => undefined);
    await client.query("insert into customer (id, name) values (5, 'next')");
    await client.query('delete from customer where id = 5');
  }, 60_000);

  it('never drops a client idle between packets, nor one whose packet arrives slowly but steadily', async () => {
    const idle = await mysql.createConnection(opts);
    try {
      await new Promise((r) => setTimeout(r, NET_READ_TIMEOUT_MS * 2));
      expect((await answer(idle, PROBE_SQL)).kind).toBe('result');
      // The client's next packet goes out a byte every NET_READ_TIMEOUT_MS / 3 (twice the
      // timeout in all): each byte restarts the deadline.
      const socket = (idle as unknown as { connection: { stream: Socket } }).connection.stream;
      const write = socket.write.bind(socket) as (b: Buffer) => boolean;
      socket.write = ((packet: Buffer): boolean => {
        void (async () => {
          for (let i = 0; i < packet.length; i++) {
            if (i > 0) await new Promise((r) => setTimeout(r, NET_READ_TIMEOUT_MS / 3));
            write(packet.subarray(i, i + 1));
          }
        })();
        return true;
      }) as typeof socket.write;
      expect(await answer(idle, 'select 7 as n')).toMatchObject({ kind: 'result', rows: ['{"n":7}'] });
    } finally {
      idle.destroy();
    }
  }, 60_000);

  it('drops a client that does not finish the handshake after connectTimeoutMs, without an error packet, as MariaDB', async () => {
    for (const send of [null, Buffer.from([50, 0, 0, 1, 1, 2])]) {
      const socket = connect(opts.port!, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      const closed = closeOf(socket);
      if (send !== null) socket.write(send);
      const { ms, received } = await closed;
      expect(received.length, String(send)).toBe(0);
      // (the default of 10 s would fail this)
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 5_000);
    }
    expect((await answer(client, PROBE_SQL)).kind).toBe('result');
  }, 60_000);

  it('exits cleanly on SIGTERM once stalled clients were dropped (no timer keeps it alive)', async () => {
    const half = connect(opts.port!, '127.0.0.1');
    half.on('error', () => undefined);
    await new Promise((resolve) => half.once('data', resolve));
    half.write(Buffer.from([50, 0, 0, 1, 1, 2]));
    await client.end();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    half.destroy();
  }, 60_000);
});
