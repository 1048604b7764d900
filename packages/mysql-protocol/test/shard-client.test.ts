import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ClientConnectionError,
  decodeTextRow,
  encodeHandshakeResponse,
  isEof,
  parseColumnDefinition,
  parseEof,
  parseErr,
  parseInitialHandshake,
  parseOk,
  ServerError,
  ShardClient,
  textColumn,
  type EofPacket,
  type OkPacket,
  type QueryReceiver,
} from '../src/index.js';
import { PacketWriter } from '../src/packet-writer.js';
import { PacketReader } from '../src/packet-reader.js';
import { writeColumnDefinition, writeEof, writeErr, writeOk, writeTextRow } from '../src/result-writer.js';
import { writeHandshakeV10, parseHandshakeResponse } from '../src/handshake.js';
import { Capability, SERVER_CAPABILITIES } from '../src/capabilities.js';
import { PASSWORD, startServer, USER, waitFor, type TestServer } from './helpers.js';

/** The payload of the single packet `write` produces. */
function payloadOf(write: (w: PacketWriter) => void): Buffer {
  const w = new PacketWriter(64);
  write(w);
  const bytes = Buffer.from(w.take());
  return bytes.subarray(4);
}

/** Cells of every length-prefix size: 1 byte (< 251), 3 bytes (< 65536), 4 bytes. */
const cell = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.integer({ min: 65536, max: 65600 }).map((n) => Buffer.alloc(n, n & 0xff)) },
);

describe('client packet decoders', () => {
  it('decodes any text row the server encoder writes, cell for cell, as views into the payload', () => {
    fc.assert(
      fc.property(fc.array(cell, { minLength: 1, maxLength: 6 }), (cells) => {
        const payload = payloadOf((w) => writeTextRow(w, cells));
        const decoded = decodeTextRow(payload, cells.length);
        expect(decoded.length).toBe(cells.length);
        decoded.forEach((c, i) => expect(c === null ? cells[i] === null : cells[i] !== null && c.equals(cells[i]!)).toBe(true));
        for (const c of decoded) if (c !== null && c.length > 0) expect(c.buffer).toBe(payload.buffer);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a row whose cells do not fill the payload exactly', () => {
    const payload = payloadOf((w) => writeTextRow(w, ['ab', null]));
    expect(() => decodeTextRow(payload, 3)).toThrow();
    expect(() => decodeTextRow(payload, 1)).toThrow();
    expect(() => decodeTextRow(Buffer.from([0x05, 0x61]), 1)).toThrow();
    expect(() => decodeTextRow(Buffer.from([0xff]), 1)).toThrow();
  });

  it('reads OK packets: 64-bit counts, status flags, warnings and the info text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.string({ maxLength: 300 }), (affected, id, flags, warnings, info) => {
        const ok = parseOk(payloadOf((w) => writeOk(w, affected, id, flags, warnings, info)));
        expect(ok).toEqual({ affectedRows: affected, lastInsertId: id, statusFlags: flags, warnings, info });
      }),
      { numRuns: 200 },
    );
  });

  it('reads an info text that is not length-encoded as the rest of the packet', () => {
    const p = Buffer.concat([Buffer.from([0, 1, 0, 2, 0, 0, 0]), Buffer.from('Records: 3  Duplicates: 0  Warnings: 0')]);
    expect(parseOk(p).info).toBe('Records: 3  Duplicates: 0  Warnings: 0');
  });

  it('reads ERR packets with and without a SQLSTATE', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 0xffff }), fc.stringMatching(/^[0-9A-Z]{5}$/), fc.string({ maxLength: 100 }), (errno, sqlState, message) => {
        expect(parseErr(payloadOf((w) => writeErr(w, { errno, sqlState, message })))).toEqual({ errno, sqlState, message });
      }),
    );
    // Sent before the protocol is agreed (e.g. "Too many connections"): no '#' marker.
    expect(parseErr(Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('Too many connections')]))).toEqual({ errno: 1040, sqlState: 'HY000', message: 'Too many connections' });
  });

  it('tells EOF packets from rows that start with 0xFE', () => {
    const eof = payloadOf((w) => writeEof(w, 3, 0x22));
    expect(isEof(eof)).toBe(true);
    expect(parseEof(eof)).toEqual({ warnings: 3, statusFlags: 0x22 });
    const longRow = Buffer.alloc(20, 0);
    longRow[0] = 0xfe;
    expect(isEof(longRow)).toBe(false);
  });

  it('reads column definitions, with and without MariaDB extended metadata', () => {
    const def = { ...textColumn('name'), schema: 'db', table: 't', orgTable: 'tt', orgName: 'n', columnLength: 80, flags: 0x1001, decimals: 31 };
    const payload = payloadOf((w) => writeColumnDefinition(w, def));
    const parsed = parseColumnDefinition(payload, false);
    expect(parsed).toEqual({ catalog: 'def', schema: 'db', table: 't', orgTable: 'tt', name: 'name', orgName: 'n', characterSet: def.characterSet, columnLength: 80, columnType: def.columnType, flags: 0x1001, decimals: 31 });
    // MariaDB puts { id, lenenc value } pairs after orgName: 0 = type name, 1 = format.
    const r = new PacketReader(payload);
    for (let i = 0; i < 6; i++) r.lenencBytes();
    const names = payload.subarray(0, r.pos);
    const block = Buffer.from([10, 0, 4, ...Buffer.from('json'), 1, 2, ...Buffer.from('ok')]);
    const extended = Buffer.concat([names, block, payload.subarray(names.length)]);
    expect(parseColumnDefinition(extended, true)).toEqual({ ...parsed, extendedType: 'json', extendedFormat: 'ok' });
  });

  it('reads the server handshake and writes a response the server side parses back', () => {
    const scramble = Buffer.from('abcdefghijklmnopqrst');
    const greeting = payloadOf((w) => writeHandshakeV10(w, { connectionId: 77, serverVersion: '10.11.6-MariaDB', capabilities: SERVER_CAPABILITIES, scramble, charset: 45, statusFlags: 2, authPlugin: 'mysql_native_password' }));
    const hs = parseInitialHandshake(greeting);
    expect(hs).toMatchObject({ protocolVersion: 10, serverVersion: '10.11.6-MariaDB', connectionId: 77, authPlugin: 'mysql_native_password', mariadbCapabilities: 0 });
    expect(hs.scramble.equals(scramble)).toBe(true);
    const response = encodeHandshakeResponse({
      capabilities: Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capability.CONNECT_WITH_DB,
      mariadbCapabilities: 0,
      maxPacketSize: 1 << 30,
      charset: 45,
      user: 'üser',
      authResponse: Buffer.alloc(300, 7),
      database: 'commerce',
      authPlugin: 'caching_sha2_password',
    });
    const parsed = parseHandshakeResponse(response);
    expect(parsed.user).toBe('üser');
    expect(parsed.database).toBe('commerce');
    expect(parsed.authPlugin).toBe('caching_sha2_password');
    expect(Buffer.from(parsed.authResponse).equals(Buffer.alloc(300, 7))).toBe(true);
  });
});

interface Reply {
  columns?: string[];
  rows: (string | null)[][];
  eof?: EofPacket;
  ok?: OkPacket;
  error?: Error;
}

/** Runs one query and collects what the receiver got. */
function run(client: ShardClient, sql: string, onRow?: () => void): Promise<Reply> {
  return new Promise((resolve) => {
    const reply: Reply = { rows: [] };
    let n = 0;
    const receiver: QueryReceiver = {
      columns: (defs) => {
        n = defs.length;
        reply.columns = defs.map((d) => parseColumnDefinition(d, client.extendedMetadata).name);
      },
      row: (buf, start, end) => {
        reply.rows.push(decodeTextRow(buf, n, start, end).map((c) => (c === null ? null : c.toString('utf8'))));
        onRow?.();
      },
      end: (eof) => resolve({ ...reply, eof }),
      ok: (ok) => resolve({ ...reply, ok }),
      error: (error) => resolve({ ...reply, error }),
    };
    client.query(sql, receiver);
  });
}

describe('ShardClient against the protocol server', () => {
  let t: TestServer | null = null;
  const clients: ShardClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await t?.close();
    t = null;
  });

  const open = async (user = USER, password = PASSWORD): Promise<ShardClient> => {
    const c = new ShardClient({ host: '127.0.0.1', port: t!.port, user, password, database: 'db1' });
    clients.push(c);
    await c.connect();
    return c;
  };

  it('logs in, runs queries in order, and reads result sets, OK, ERR and ping', async () => {
    t = await startServer(() => ({
      query: async (sql, out) => {
        if (sql.startsWith('rows')) {
          const n = Number(sql.slice(5));
          out.columns([textColumn('a'), textColumn('b')]);
          for (let i = 0; i < n; i++) out.row([String(i), i % 3 === 0 ? null : 'x'.repeat(i % 700)]);
          out.end({ warnings: 2 });
        } else if (sql === 'fail') {
          throw Object.assign(new Error("Table 'db1.nope' doesn't exist"), { errno: 1146, sqlState: '42S02' });
        } else {
          out.ok({ affectedRows: 5n, lastInsertId: 9007199254740993n, warnings: 1, info: 'Rows matched: 5  Changed: 5  Warnings: 1' });
        }
      },
    }));
    const c = await open();
    expect(t.sessions[0].info.database).toBe('db1');
    expect(c.threadId).toBeGreaterThan(0);
    const [a, b, e, d] = await Promise.all([run(c, 'rows 2000'), run(c, 'update'), run(c, 'fail'), run(c, 'rows 0')]);
    expect(a.columns).toEqual(['a', 'b']);
    expect(a.rows.length).toBe(2000);
    expect(a.rows[1999]).toEqual(['1999', 'x'.repeat(1999 % 700)]);
    expect(a.rows[3]).toEqual(['3', null]);
    expect(a.eof?.warnings).toBe(2);
    expect(b.ok).toMatchObject({ affectedRows: 5n, lastInsertId: 9007199254740993n, warnings: 1, info: 'Rows matched: 5  Changed: 5  Warnings: 1' });
    expect(e.error).toBeInstanceOf(ServerError);
    expect(e.error).toMatchObject({ errno: 1146, sqlState: '42S02', fatal: false });
    expect(d.rows).toEqual([]);
    const pong = await new Promise<OkPacket | Error>((resolve) => c.ping({ ok: resolve, error: resolve }));
    expect(pong).toMatchObject({ affectedRows: 0n });
    expect(t.sessions[0].queries).toEqual(['rows 2000', 'update', 'fail', 'rows 0']);
  });

  it('reads the column count, the EOFs and further results in place: 300 columns, warnings, status flags', async () => {
    // The column count and EOF packets are read where they lie in the socket data (no view):
    // a two-byte column count, an EOF with warnings, and EOFs that announce another result.
    t = await startServer(() => ({
      query: async (sql, out) => {
        const wide = Array.from({ length: 300 }, (_, i) => textColumn(`c${i}`));
        out.columns(wide);
        out.row(wide.map((_, i) => (i % 7 === 0 ? null : String(i))));
        out.end({ warnings: 0, moreResults: true });
        out.columns([textColumn('x')]);
        out.row(['1']);
        out.end({ warnings: 3, moreResults: true });
        out.columns([textColumn('y')]);
        out.end({ warnings: 0 });
      },
    }));
    const c = await open();
    const seen: { columns: number; rows: number; eof?: EofPacket }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const receiver: QueryReceiver = {
        columns: (defs) => void seen.push({ columns: defs.length, rows: 0 }),
        row: (buf, start, end) => {
          const r = seen[seen.length - 1];
          expect(decodeTextRow(buf, r.columns, start, end).length).toBe(r.columns);
          r.rows++;
        },
        end: (eof) => {
          seen[seen.length - 1].eof = eof;
          if ((eof.statusFlags & 0x8) === 0) resolve();
        },
        ok: () => reject(new Error('unexpected OK')),
        error: reject,
      };
      c.query('three results', receiver);
    });
    await done;
    expect(seen.map((r) => [r.columns, r.rows, r.eof!.warnings, r.eof!.statusFlags & 0x8])).toEqual([
      [300, 1, 0, 0x8],
      [1, 1, 3, 0x8],
      [1, 0, 0, 0],
    ]);
    // The server's autocommit flag comes through on every EOF; a quiet EOF is shared and frozen.
    for (const r of seen) expect(r.eof!.statusFlags & 0x2).toBe(0x2);
    expect(Object.isFrozen(seen[0].eof)).toBe(true);
    const again = await run(c, 'three results');
    expect(again.columns).toHaveLength(300);
    expect(again.rows[0][7]).toBeNull();
    expect(again.rows[0][299]).toBe('299');
    await new Promise<void>((resolve) => c.query('drain', { columns() {}, row() {}, end: (e) => (e.statusFlags & 0x8 ? undefined : resolve()), ok: () => resolve(), error: () => resolve() }));
  });

  it('runs pipelined statements in order, each answered even after an earlier one failed, also behind a running command', async () => {
    t = await startServer(() => ({
      query: async (sql, out) => {
        if (sql === 'fail') throw Object.assign(new Error('Query execution was interrupted'), { errno: 1317, sqlState: '70100' });
        out.columns([textColumn('q')]);
        out.row([sql]);
        out.end();
      },
    }));
    const c = await open();
    const pipelined = (sqls: string[]) => {
      const replies = sqls.map(() => {
        let resolve!: (r: Reply) => void;
        const p = new Promise<Reply>((r) => (resolve = r));
        const reply: Reply = { rows: [] };
        const receiver: QueryReceiver = {
          columns: () => {},
          row: (buf, start, end) => reply.rows.push(decodeTextRow(buf, 1, start, end).map((v) => (v === null ? null : v.toString('utf8')))),
          end: (eof) => resolve({ ...reply, eof }),
          ok: (ok) => resolve({ ...reply, ok }),
          error: (error) => resolve({ ...reply, error }),
        };
        return { p, receiver };
      });
      c.queryPipelined(sqls.map((sql, i) => ({ sql, receiver: replies[i].receiver })));
      return Promise.all(replies.map((r) => r.p));
    };
    const [fail, after] = await pipelined(['fail', 'sélect 1']);
    expect(fail.error).toMatchObject({ errno: 1317 });
    expect(after.rows).toEqual([['sélect 1']]);
    // Behind a running command, then followed by a plain query: still one at a time, in call order.
    const first = run(c, 'first');
    const pair = pipelined(['second', 'third']);
    const last = run(c, 'last');
    expect((await first).rows).toEqual([['first']]);
    expect((await pair).map((r) => r.rows)).toEqual([[['second']], [['third']]]);
    expect((await last).rows).toEqual([['last']]);
    expect(t.sessions[0].queries).toEqual(['fail', 'sélect 1', 'first', 'second', 'third', 'last']);
  });

  it('delivers nothing while paused and everything after resume', async () => {
    t = await startServer(() => ({
      query: async (_sql, out) => {
        out.columns([textColumn('v')]);
        for (let i = 0; i < 5000; i++) out.row(['v'.repeat(100) + i]);
        out.end();
      },
    }));
    const c = await open();
    let seen = 0;
    let pausedAt = -1;
    const done = run(c, 'big', () => {
      seen++;
      if (seen === 10) {
        c.pause();
        pausedAt = seen;
      }
    });
    await waitFor(() => pausedAt > 0, 'the first rows');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBe(pausedAt);
    c.resume();
    const reply = await done;
    expect(reply.rows.length).toBe(5000);
    expect(reply.rows[4999][0]).toBe('v'.repeat(100) + 4999);
  });

  it('hands rows over as runs of whole packets, and a long row alone, all in order; an ERR after rows still ends them', async () => {
    const LONG = 0xffffff + 1000;
    t = await startServer(() => ({
      query: async (sql, out) => {
        out.columns([textColumn('i'), textColumn('v')]);
        for (let i = 0; i < 3000; i++) {
          out.row([String(i), i === 1234 ? Buffer.alloc(LONG, 0x61) : i % 5 === 0 ? null : 'w'.repeat(i % 300)]);
          if (sql === 'fail' && i === 2500) throw Object.assign(new Error('Query execution was interrupted'), { errno: 1317, sqlState: '70100' });
        }
        out.end({ warnings: 1 });
      },
    }));
    const c = await open();
    const collect = (sql: string) =>
      new Promise<{ rows: (string | number | null)[][]; runs: number; single: number; pausedOnce: boolean; end: EofPacket | Error; kept: [Buffer, Buffer][]; borrowed: number }>((resolve) => {
        // `kept` runs: the bytes as they were during the call, and the buffer they are in (which must not change after).
        const got = { rows: [] as (string | number | null)[][], runs: 0, single: 0, pausedOnce: false, kept: [] as [Buffer, Buffer][], borrowed: 0 };
        const text = (v: Buffer | null) => (v === null ? null : v.length > 1000 ? v.length : v.toString('utf8'));
        const receiver: QueryReceiver = {
          columns: () => {},
          rowPackets: (buf, start, end, count, kept) => {
            got.runs++;
            if (kept) got.kept.push([Buffer.from(buf.subarray(start, end)), buf.subarray(start, end)]);
            else got.borrowed++;
            let at = start;
            for (let k = 0; k < count; k++) {
              const len = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16);
              got.rows.push(decodeTextRow(buf, 2, at + 4, at + 4 + len).map(text));
              at += 4 + len;
            }
            expect(at).toBe(end);
            if (!got.pausedOnce) {
              // Nothing more comes while paused, even from data already read.
              got.pausedOnce = true;
              c.pause();
              const seen = got.rows.length;
              setTimeout(() => {
                expect(got.rows.length).toBe(seen);
                c.resume();
              }, 50);
            }
          },
          row: (buf, start, end) => {
            got.single++;
            got.rows.push(decodeTextRow(buf, 2, start, end).map(text));
          },
          end: (eof) => resolve({ ...got, end: eof }),
          ok: () => {},
          error: (e) => resolve({ ...got, end: e }),
        };
        c.query(sql, receiver);
      });
    const expected = (n: number) => Array.from({ length: n }, (_, i) => [String(i), i === 1234 ? LONG : i % 5 === 0 ? null : 'w'.repeat(i % 300)]);
    const all = await collect('all');
    expect(all.rows).toEqual(expected(3000));
    expect(all.end).toMatchObject({ warnings: 1 });
    expect(all.runs).toBeGreaterThan(1);
    // Only the long row comes alone; rows that straddle two socket reads come as runs of one.
    expect(all.single).toBe(1);
    // Runs read in place from the shared read buffer say so; the others are in buffers never written again.
    expect(all.borrowed).toBeGreaterThan(0);
    expect(all.kept.length).toBeGreaterThan(0);
    for (const [copy, bytes] of all.kept) expect(bytes.equals(copy)).toBe(true);
    const failed = await collect('fail');
    expect(failed.rows).toEqual(expected(2501));
    expect(failed.end).toMatchObject({ errno: 1317 });
    // The connection reads the next reply from where the last one ended.
    expect((await run(c, 'after')).rows.length).toBe(3000);
  });

  it('fails the running and queued commands once when the server goes away, and refuses new ones', async () => {
    t = await startServer(() => ({ query: () => new Promise(() => {}) }));
    const c = await open();
    const closes: Error[] = [];
    c.onClose((err) => closes.push(err));
    const pending = [run(c, 'hang'), run(c, 'queued')];
    await new Promise((r) => setTimeout(r, 50));
    c.destroy();
    const replies = await Promise.all(pending);
    for (const r of replies) expect(r.error).toBeInstanceOf(ClientConnectionError);
    expect(closes.length).toBe(1);
    expect(c.usable).toBe(false);
    expect((await run(c, 'after')).error).toBeInstanceOf(ClientConnectionError);
  });

  it('reports a wrong password as the server error 1045, and an unreachable server as a connection error', async () => {
    t = await startServer();
    await expect(open(USER, 'wrong')).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
    const port = t.port;
    await t.close();
    t = null;
    const c = new ShardClient({ host: '127.0.0.1', port, user: USER, password: PASSWORD });
    await expect(c.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED', fatal: true });
  });

  it('logs in with caching_sha2_password: full authentication over RSA first, the fast path after', async () => {
    t = await startServer(undefined, { lookupUser: (user) => (user === 'sha' ? { password: 'sha-pw', plugin: 'caching_sha2_password' } : null) });
    const first = await open('sha', 'sha-pw');
    expect((await run(first, 'x')).ok).toBeDefined();
    const second = await open('sha', 'sha-pw');
    expect((await run(second, 'x')).ok).toBeDefined();
    await expect(open('sha', 'nope')).rejects.toMatchObject({ errno: 1045 });
  });

  it('quit() sends COM_QUIT and the server ends the session', async () => {
    t = await startServer();
    const c = await open();
    c.quit();
    await new Promise<void>((resolve) => {
      const check = () => (t!.sessions[0]?.closeCalls === 1 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(c.usable).toBe(false);
  });
});
