import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnFlag, ColumnType, columnDefinition, ErrorCode, mysqlError, textColumn, type ResultSink } from '../src/index.js';
import { PacketWriter } from '../src/packet-writer.js';
import { writeTextRow } from '../src/result-writer.js';
import { PASSWORD, startServer, waitFor, type TestServer } from './helpers.js';

const BIG = 17 * 1024 * 1024;

async function query(sql: string, out: ResultSink): Promise<void> {
  if (sql === 'select 1') {
    out.columns([textColumn('1')]);
    out.row(['1']);
    out.end();
  } else if (sql === 'typed') {
    out.columns([
      columnDefinition('id', ColumnType.LONGLONG, { flags: ColumnFlag.NOT_NULL | ColumnFlag.NUM }),
      columnDefinition('d', ColumnType.DATETIME),
      textColumn('s'),
      columnDefinition('n', ColumnType.LONG),
    ]);
    out.row(['9223372036854775807', '2024-01-02 03:04:05', 'héllo', null]);
    out.row(['-1', '1999-12-31 23:59:59', '', '42']);
    out.end({ warnings: 2 });
  } else if (sql === 'insert') {
    out.ok({ affectedRows: 2, lastInsertId: 77, warnings: 1, info: 'Records: 2  Duplicates: 0  Warnings: 1' });
  } else if (sql.startsWith('multi')) {
    out.columns([textColumn('a')]);
    out.row(['first']);
    out.end({ moreResults: true });
    out.ok({ affectedRows: 3, moreResults: true });
    out.columns([textColumn('b'), textColumn('c')]);
    out.row(['x', null]);
    out.end();
  } else if (sql === 'no such table') {
    throw mysqlError(ErrorCode.ER_NO_SUCH_TABLE, "Table 'db.nope' doesn't exist");
  } else if (sql === 'plain error') {
    throw new Error('boom');
  } else if (sql === 'error mid result') {
    out.columns([textColumn('a')]);
    out.row(['1']);
    out.row(['2']);
    out.error({ errno: ErrorCode.ER_QUERY_INTERRUPTED, message: 'Query execution was interrupted' });
  } else if (sql === 'reject mid result') {
    out.columns([textColumn('a')]);
    out.row(['1']);
    throw mysqlError(ErrorCode.ER_LOCK_DEADLOCK, 'Deadlock found when trying to get lock; try restarting transaction');
  } else if (sql === 'nothing') {
    // resolves without a terminal call → OK
  } else if (sql.startsWith('echo ')) {
    out.columns([textColumn('len'), textColumn('tail')]);
    out.row([String(Buffer.byteLength(sql)), sql.slice(-5)]);
    out.end();
  } else if (sql === 'row packets' || sql === 'row packets cut') {
    // Another server's row packets, forwarded in bulk between rows encoded here.
    out.columns([textColumn('a'), textColumn('b')]);
    out.row(['0', 'first']);
    const p = otherServersPackets([['1', null], ['2', 'x'.repeat(300)], ['3', '']]);
    out.rowPackets!(p, 0, sql === 'row packets cut' ? p.length - 1 : p.length, 3);
    out.row(['4', 'last']);
    out.end();
  } else if (sql === 'raw rows') {
    // Rows of two other servers' replies, interleaved as a merge hands them on, in calls that
    // stop where the socket is full (each flush of 64 KiB fills it), resumed after drain().
    out.columns([textColumn('a'), textColumn('b')]);
    const { sources, bounds } = interleavedPayloads(RAW_ROWS);
    for (let i = 0; i < RAW_ROWS; ) {
      i = out.rawRows!(sources, bounds, i, RAW_ROWS);
      if (i < RAW_ROWS) {
        rawRowsStops++;
        await out.drain();
      }
    }
    out.end();
  } else if (sql === 'big row') {
    out.columns([textColumn('big', { columnType: ColumnType.LONG_BLOB }), textColumn('after')]);
    out.row(['y'.repeat(BIG), 'end']);
    out.end();
  } else {
    out.ok();
  }
}

const RAW_ROWS = 6000;
/** How often rawRows stopped at a full socket in the 'raw rows' reply. */
let rawRowsStops = 0;

/** Row i of the 'raw rows' reply. */
const rawRow = (i: number): (string | null)[] => [String(i), i % 7 === 0 ? null : `${'v'.repeat(i % 8000)}${i}`];

/**
 * RAW_ROWS rows as payloads (no headers) in two buffers, even rows in one and odd rows in the
 * other, each row's bounds after a few bytes of something else.
 */
function interleavedPayloads(n: number): { sources: Uint8Array[]; bounds: number[] } {
  const buffers = [[], []] as Buffer[][];
  const bounds: number[] = [];
  const offsets = [0, 0];
  for (let i = 0; i < n; i++) {
    const w = new PacketWriter();
    writeTextRow(w, rawRow(i));
    const payload = Buffer.from(w.take()).subarray(4);
    const side = i % 2;
    buffers[side].push(Buffer.from('junk'), payload);
    bounds.push(offsets[side] + 4, offsets[side] + 4 + payload.length);
    offsets[side] += 4 + payload.length;
  }
  const whole = buffers.map((b) => Buffer.concat(b));
  return { sources: Array.from({ length: n }, (_, i) => whole[i % 2]), bounds };
}

/** Text rows as another server numbered them (from 200, not this reply's sequence). */
function otherServersPackets(rows: (string | null)[][]): Buffer {
  const w = new PacketWriter();
  w.sequenceId = 200;
  for (const r of rows) writeTextRow(w, r);
  return Buffer.from(w.take());
}

describe('text protocol with mysql2', () => {
  let t: TestServer;
  let inTransaction = false;
  beforeAll(async () => {
    t = await startServer(() => ({
      query,
      initDb: async (db) => {
        if (db === 'bad') throw new Error('no such db');
        if (db === 'forbidden') throw mysqlError(ErrorCode.ER_DBACCESS_DENIED_ERROR, "Access denied for user 'app'@'%' to database 'forbidden'");
      },
      status: () => ({ inTransaction, autocommit: true }),
    }));
  });
  afterAll(() => t.close());

  it('runs a simple query', async () => {
    const c = await t.connect();
    const [rows, fields] = await c.query('select 1');
    expect(rows).toEqual([{ '1': '1' }]);
    expect(fields.map((f) => f.name)).toEqual(['1']);
    await c.end();
  });

  it('sends column metadata that mysql2 uses to decode typed text values', async () => {
    const c = await t.connect({ supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
    const [rows, fields] = await c.query('typed');
    expect(rows).toEqual([
      { id: '9223372036854775807', d: '2024-01-02 03:04:05', s: 'héllo', n: null },
      { id: '-1', d: '1999-12-31 23:59:59', s: '', n: 42 },
    ]);
    expect(fields.map((f) => [f.name, f.columnType, f.characterSet])).toEqual([
      ['id', ColumnType.LONGLONG, 63],
      ['d', ColumnType.DATETIME, 63],
      // mysql2 connects in utf8mb4_unicode_ci (224): strings are reported in it, as MariaDB does.
      ['s', ColumnType.VAR_STRING, 224],
      ['n', ColumnType.LONG, 63],
    ]);
    await c.end();
  });

  it('reports affected rows, insert id, warnings, info and status flags in OK', async () => {
    const c = await t.connect();
    inTransaction = true;
    const [res] = await c.query('insert');
    inTransaction = false;
    expect(res).toMatchObject({ affectedRows: 2, insertId: 77, warningStatus: 1, info: 'Records: 2  Duplicates: 0  Warnings: 1' });
    expect((res as { serverStatus: number }).serverStatus & 0x3).toBe(0x3);
    await c.end();
  });

  it('writes raw rows of several sources in one call, in order, stopping where the socket is full and going on after drain()', async () => {
    const c = await t.connect();
    // The client stops reading until the server's socket is full: ~24 MB of rows outgrow the
    // kernel's buffers, so rawRows must stop and wait for drain().
    const stream = (c as unknown as { connection: { stream: { pause(): void; resume(): void } } }).connection.stream;
    stream.pause();
    rawRowsStops = 0;
    const reply = c.query({ sql: 'raw rows', rowsAsArray: true });
    await waitFor(() => rawRowsStops > 0, 'rawRows to stop at a full socket');
    stream.resume();
    const [rows] = await reply;
    expect(rows).toEqual(Array.from({ length: RAW_ROWS }, (_, i) => rawRow(i)));
    const [again] = await c.query('select 1');
    expect(again).toEqual([{ '1': '1' }]);
    await c.end();
  });

  it('forwards row packets in bulk, renumbered into the reply, and refuses a slice of packets that is not whole', async () => {
    const c = await t.connect();
    const warnings: string[] = [];
    (c as unknown as { connection: { on(e: 'warn', f: (e: Error) => void): void } }).connection.on('warn', (e) => warnings.push(e.message));
    const [rows] = await c.query({ sql: 'row packets', rowsAsArray: true });
    expect(rows).toEqual([['0', 'first'], ['1', null], ['2', 'x'.repeat(300)], ['3', ''], ['4', 'last']]);
    expect(warnings).toEqual([]);
    await expect(c.query('row packets cut')).rejects.toMatchObject({ message: expect.stringMatching(/not whole/) });
    const [again] = await c.query('select 1');
    expect(again).toEqual([{ '1': '1' }]);
    await c.end();
  });

  it('returns multiple results for a multi-statement query', async () => {
    const c = await t.connect({ multipleStatements: true });
    const [results] = await c.query('multi; statements');
    expect(Array.isArray(results)).toBe(true);
    const list = results as unknown[];
    expect(list).toHaveLength(3);
    expect(list[0]).toEqual([{ a: 'first' }]);
    expect(list[1]).toMatchObject({ affectedRows: 3 });
    expect(list[2]).toEqual([{ b: 'x', c: null }]);
    const [again] = await c.query('select 1');
    expect(again).toEqual([{ '1': '1' }]);
    await c.end();
  });

  it('sends handler errors with their errno and SQLSTATE, plain errors as 1105/HY000', async () => {
    const c = await t.connect();
    await expect(c.query('no such table')).rejects.toMatchObject({ errno: 1146, sqlState: '42S02', sqlMessage: "Table 'db.nope' doesn't exist" });
    await expect(c.query('plain error')).rejects.toMatchObject({ errno: 1105, sqlState: 'HY000', sqlMessage: 'boom' });
    expect(await c.query('select 1').then(([r]) => r)).toEqual([{ '1': '1' }]);
    await c.end();
  });

  it('delivers an error in the middle of a result set and keeps the connection usable', async () => {
    const c = await t.connect();
    await expect(c.query('error mid result')).rejects.toMatchObject({ errno: 1317, sqlState: '70100' });
    await expect(c.query('reject mid result')).rejects.toMatchObject({ errno: 1213, sqlState: '40001' });
    expect(await c.query('select 1').then(([r]) => r)).toEqual([{ '1': '1' }]);
    await c.end();
  });

  it('sends OK when the handler resolves without replying', async () => {
    const c = await t.connect();
    const [res] = await c.query('nothing');
    expect(res).toMatchObject({ affectedRows: 0 });
    await c.end();
  });

  it('rejects a wrong password and an unknown user with 1045 / 28000, creating no session', async () => {
    const before = t.sessions.length;
    await expect(t.connect({ password: 'wrong' })).rejects.toMatchObject({
      errno: 1045,
      sqlState: '28000',
      sqlMessage: "Access denied for user 'app'@'127.0.0.1' (using password: YES)",
    });
    await expect(t.connect({ user: 'ghost', password: '' })).rejects.toMatchObject({
      errno: 1045,
      sqlMessage: "Access denied for user 'ghost'@'127.0.0.1' (using password: NO)",
    });
    expect(t.sessions.length).toBe(before);
    await waitFor(() => t.server.connectionCount === 0, 'rejected connections to close');
  });

  it('accepts an account with an empty password', async () => {
    const c = await t.connect({ user: 'nopw', password: '' });
    expect(await c.query('select 1').then(([r]) => r)).toEqual([{ '1': '1' }]);
    await c.end();
  });

  it('applies the connect-time database through initDb, 1049 when it fails', async () => {
    const c = await t.connect({ database: 'good' });
    const record = t.sessions.at(-1)!;
    expect(record.info.database).toBe('good');
    expect(record.info.user).toBe('app');
    expect(record.info.connectAttributes?._client_name).toBeDefined();
    await c.end();

    await expect(t.connect({ database: 'bad' })).rejects.toMatchObject({ errno: 1049, sqlState: '42000', sqlMessage: "Unknown database 'bad'" });
    await expect(t.connect({ database: 'forbidden' })).rejects.toMatchObject({ errno: 1044, sqlState: '42000' });
    await waitFor(() => t.sessions.at(-1)!.closeCalls === 1, 'failed session to be closed');
  });

  it('carries a 17 MiB query to the handler and a 17 MiB value back (packets split and joined)', async () => {
    const c = await t.connect();
    const sql = 'echo ' + 'x'.repeat(BIG) + 'abcde';
    const [rows] = await c.query(sql);
    expect(rows).toEqual([{ len: String(BIG + 10), tail: 'abcde' }]);
    const [big] = await c.query<Array<{ big: Buffer; after: string } & import('mysql2').RowDataPacket>>('big row');
    expect(big[0].big.length).toBe(BIG);
    expect(big[0].after).toBe('end');
    await c.end();
  });

  it('keeps working for the right password after failures', async () => {
    const c = await t.connect({ password: PASSWORD });
    await c.ping();
    await c.end();
  });
});
