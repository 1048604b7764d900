import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ColumnType,
  countPlaceholders,
  FramingError,
  MAX_PACKET_PAYLOAD,
  nativePasswordToken,
  PacketFramer,
  PacketReader,
  PacketWriter,
  verifyNativePassword,
  type Packet,
} from '../src/index.js';
import { decodeExecuteParams } from '../src/binary-params.js';
import { PreparedStatementRegistry } from '../src/prepared-statements.js';
import { comStmtExecute, framePacket, packetHeader } from '../src/testing/packets.js';

const require = createRequire(import.meta.url);

describe('PacketWriter / PacketReader', () => {
  it('round-trips length-encoded integers at every width boundary', () => {
    const values = [0, 250, 251, 0xffff, 0x10000, 0xffffff, 0x1000000, 2 ** 40, Number.MAX_SAFE_INTEGER];
    const w = new PacketWriter(8);
    w.startPacket();
    for (const v of values) w.lenencInt(v);
    w.lenencInt(2n ** 63n);
    w.finishPacket();
    const out = w.take();
    const r = new PacketReader(out, 4);
    expect(values.map(() => r.lenencInt())).toEqual(values);
    expect(out[4]).toBe(0);
    expect(out[5]).toBe(250);
    expect([...out.subarray(6, 9)]).toEqual([0xfc, 251, 0]);
    // 2^63 does not fit a JS safe integer: the reader refuses it as malformed.
    expect(() => r.lenencInt()).toThrowError(/Malformed/);
  });

  it('writes utf8 length-encoded strings with the byte length, across the 1-byte prefix limit', () => {
    for (const s of ['', 'abc', 'é'.repeat(83), 'é'.repeat(200), 'x'.repeat(70000), '日本語'.repeat(30)]) {
      const w = new PacketWriter(4);
      w.startPacket();
      w.lenencString(s);
      w.finishPacket();
      const out = w.take();
      const r = new PacketReader(out, 4);
      expect(r.lenencString()).toBe(s);
      expect(r.remaining).toBe(0);
    }
  });

  it('reader throws MalformedPacketError on truncation instead of reading garbage', () => {
    const r = new PacketReader(Buffer.from([0xfc, 0x10]));
    expect(() => r.lenencInt()).toThrowError(expect.objectContaining({ errno: 1835 }));
    expect(() => new PacketReader(Buffer.from([5, 1, 2])).lenencBytes()).toThrowError(/Malformed/);
  });

  it('splits a payload of exactly 0xFFFFFF bytes into a full packet plus an empty one', () => {
    const w = new PacketWriter();
    w.sequenceId = 3;
    w.startPacket();
    w.zeros(MAX_PACKET_PAYLOAD);
    w.finishPacket();
    const out = w.take();
    expect(out.length).toBe(MAX_PACKET_PAYLOAD + 8);
    expect([...out.subarray(0, 4)]).toEqual([0xff, 0xff, 0xff, 3]);
    expect([...out.subarray(out.length - 4)]).toEqual([0, 0, 0, 4]);
    expect(w.sequenceId).toBe(5);
  });

  it('splits and the framer joins a 2x16 MiB + 10 byte payload, fed in odd-sized chunks', () => {
    const len = MAX_PACKET_PAYLOAD * 2 + 10;
    const payload = Buffer.alloc(len);
    for (let i = 0; i < len; i += 4093) payload[i] = i & 0xff;
    payload[len - 1] = 0x7e;
    const bytes = framePacket(payload, 0);
    expect(bytes.length).toBe(len + 12);
    const framer = new PacketFramer(64 * 1024 * 1024);
    const got: Packet[] = [];
    for (let i = 0; i < bytes.length; i += 1_000_003) framer.push(bytes.subarray(i, i + 1_000_003), (p) => got.push(p));
    expect(got).toHaveLength(1);
    expect(got[0].sequenceId).toBe(0);
    expect(got[0].nextSequenceId).toBe(3);
    expect(got[0].payload.equals(payload)).toBe(true);
  });

  it('framer handles headers split across chunks and several packets per chunk', () => {
    const bytes = Buffer.concat([framePacket(Buffer.from('hello'), 0), framePacket(Buffer.alloc(0), 1), framePacket(Buffer.from('x'), 2)]);
    const framer = new PacketFramer(1024);
    const got: Packet[] = [];
    for (let i = 0; i < bytes.length; i++) framer.push(bytes.subarray(i, i + 1), (p) => got.push(p));
    expect(got.map((p) => [p.sequenceId, p.payload.toString()])).toEqual([
      [0, 'hello'],
      [1, ''],
      [2, 'x'],
    ]);
  });

  it('framer rejects an oversized header before buffering the payload', () => {
    const framer = new PacketFramer(1000);
    expect(() => framer.push(packetHeader(1001, 0), () => {})).toThrowError(FramingError);
    // As MariaDB (net_realloc: length >= max_allowed_packet), a packet of exactly the limit is refused.
    expect(() => new PacketFramer(1000).push(packetHeader(1000, 0), () => {})).toThrowError(FramingError);
    const ok = new PacketFramer(1000);
    const got: Packet[] = [];
    ok.push(framePacket(Buffer.alloc(999), 0), (p) => got.push(p));
    expect(got).toHaveLength(1);
  });

  it('framer rejects out-of-order continuation packets', () => {
    const framer = new PacketFramer(64 * 1024 * 1024);
    const first = Buffer.concat([packetHeader(MAX_PACKET_PAYLOAD, 0), Buffer.alloc(MAX_PACKET_PAYLOAD)]);
    framer.push(first, () => {});
    expect(() => framer.push(framePacket(Buffer.from('x'), 5), () => {})).toThrowError(expect.objectContaining({ errno: 1156 }));
  });
});

describe('mysql_native_password', () => {
  it('matches the token mysql2 computes for the same scramble', () => {
    const auth41 = require(join(dirname(require.resolve('mysql2')), 'lib/auth_41.js')) as { calculateToken(pw: string, s1: Buffer, s2: Buffer): Buffer };
    const scramble = Buffer.from('abcdefghijklmnopqrst');
    const ours = nativePasswordToken('pässword', scramble);
    expect(ours.equals(auth41.calculateToken('pässword', scramble.subarray(0, 8), scramble.subarray(8)))).toBe(true);
    expect(verifyNativePassword('pässword', scramble, ours)).toBe(true);
    expect(verifyNativePassword('other', scramble, ours)).toBe(false);
    expect(verifyNativePassword('', scramble, Buffer.alloc(0))).toBe(true);
    expect(verifyNativePassword('x', scramble, Buffer.alloc(0))).toBe(false);
  });
});

describe('countPlaceholders', () => {
  it.each([
    ['select ?', 1],
    ['select ?, ? from t where a = ?', 3],
    ["select '?', \"?\", `?` , ?", 1],
    ["select 'it''s ?', 'a\\'?', ?", 1],
    ['select ? -- what?\n, ?', 2],
    ['select ? # comment ?\n', 1],
    ['select ? /* ? */ , ?', 2],
    ['select 5--?', 1],
    ['select ?', 1],
    ["select '?", 0],
  ])('%s → %i', (sql, n) => {
    expect(countPlaceholders(sql)).toBe(n);
  });
});

describe('COM_STMT_EXECUTE parameter decoding', () => {
  const decode = (paramCount: number, payload: Buffer, registry = new PreparedStatementRegistry(), id?: number) => {
    const stmt = id !== undefined ? registry.get(id)! : registry.add('x', paramCount, []);
    const r = new PacketReader(payload, 5);
    return { params: decodeExecuteParams(r, stmt), stmt, registry };
  };

  it('decodes every integer width, signed and unsigned, floats, dates, times, strings and blobs', () => {
    const params = [
      { type: ColumnType.TINY, value: -128n },
      { type: ColumnType.TINY, unsigned: true, value: 255n },
      { type: ColumnType.SHORT, value: -32768n },
      { type: ColumnType.SHORT, unsigned: true, value: 65535n },
      { type: ColumnType.LONG, value: -2147483648n },
      { type: ColumnType.LONG, unsigned: true, value: 4294967295n },
      { type: ColumnType.INT24, value: -8388608n },
      { type: ColumnType.LONGLONG, value: 9223372036854775807n },
      { type: ColumnType.LONGLONG, value: -9223372036854775808n },
      { type: ColumnType.LONGLONG, unsigned: true, value: 18446744073709551615n },
      { type: ColumnType.YEAR, value: 2024n },
      { type: ColumnType.FLOAT, value: 1.5 },
      { type: ColumnType.DOUBLE, value: -0.1 },
      { type: ColumnType.NEWDECIMAL, value: '12345678901234567890.0123456789' },
      { type: ColumnType.DATE, value: '2024-02-29' },
      { type: ColumnType.DATETIME, value: '2024-01-02 03:04:05.000006' },
      { type: ColumnType.TIMESTAMP, value: '1999-12-31 23:59:59' },
      { type: ColumnType.TIME, value: '-838:59:59.5' },
      { type: ColumnType.VAR_STRING, value: 'héllo' },
      { type: ColumnType.VAR_STRING, value: Buffer.from([0xff, 0x00, 0x80]) },
      { type: ColumnType.BLOB, value: Buffer.from('text but blob') },
      { type: ColumnType.JSON, value: '{"a":1}' },
      { type: ColumnType.NULL, value: null },
      { type: ColumnType.VAR_STRING, value: null },
    ];
    const { params: got } = decode(params.length, comStmtExecute(1, params));
    expect(got).toEqual([
      -128n,
      255n,
      -32768n,
      65535n,
      -2147483648n,
      4294967295n,
      -8388608n,
      9223372036854775807n,
      -9223372036854775808n,
      18446744073709551615n,
      2024n,
      1.5,
      -0.1,
      '12345678901234567890.0123456789',
      '2024-02-29',
      '2024-01-02 03:04:05.000006',
      '1999-12-31 23:59:59',
      '-838:59:59.500000',
      'héllo',
      Buffer.from([0xff, 0x00, 0x80]),
      Buffer.from('text but blob'),
      '{"a":1}',
      null,
      null,
    ]);
  });

  it('reuses the types bound by the previous execute when new-params-bound is 0', () => {
    const registry = new PreparedStatementRegistry();
    const first = decode(2, comStmtExecute(1, [{ type: ColumnType.LONGLONG, value: 1n }, { type: ColumnType.VAR_STRING, value: 'a' }]), registry);
    expect(first.params).toEqual([1n, 'a']);
    const again = comStmtExecute(1, [{ type: ColumnType.LONGLONG, value: 7n }, { type: ColumnType.VAR_STRING, value: 'b' }], { newParamsBound: false });
    expect(decode(2, again, registry, first.stmt.id).params).toEqual([7n, 'b']);
  });

  it('rejects an execute without types when none were bound before', () => {
    const payload = comStmtExecute(1, [{ type: ColumnType.LONGLONG, value: 1n }], { newParamsBound: false });
    expect(() => decode(1, payload)).toThrowError(expect.objectContaining({ errno: 1210 }));
  });
});
