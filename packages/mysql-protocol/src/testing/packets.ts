/**
 * Builders for raw client packets and parsers for server replies, so every
 * package can test against the same bytes a real client sends. Exported as
 * `@shardgate/mysql-protocol/testing`.
 */
import { NATIVE_PASSWORD_PLUGIN, nativePasswordToken } from '../auth-native-password.js';
import { Capability } from '../capabilities.js';
import { Charset, ColumnType, type ColumnDefinition } from '../column-types.js';
import { Command } from '../commands.js';
import { PacketReader } from '../packet-reader.js';
import { MAX_PACKET_PAYLOAD, PacketWriter } from '../packet-writer.js';

export { RawMysqlClient, type RawResult } from './raw-client.js';

/** Capabilities a typical modern client sends. */
export const CLIENT_CAPABILITIES =
  Capability.LONG_PASSWORD |
  Capability.FOUND_ROWS |
  Capability.LONG_FLAG |
  Capability.CONNECT_WITH_DB |
  Capability.PROTOCOL_41 |
  Capability.TRANSACTIONS |
  Capability.SECURE_CONNECTION |
  Capability.MULTI_STATEMENTS |
  Capability.MULTI_RESULTS |
  Capability.PS_MULTI_RESULTS |
  Capability.PLUGIN_AUTH |
  Capability.CONNECT_ATTRS |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA;

/** Wraps a payload in packet headers (splitting at 16 MiB like a real client). */
export function framePacket(payload: Uint8Array, sequenceId = 0): Buffer {
  const w = new PacketWriter(payload.length + 16);
  w.sequenceId = sequenceId;
  w.startPacket();
  w.bytes(payload);
  w.finishPacket();
  return w.take();
}

/** A raw 4-byte header claiming `length` bytes (for oversize / truncation tests). */
export function packetHeader(length: number, sequenceId = 0): Buffer {
  return Buffer.from([length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff, sequenceId & 0xff]);
}

function payloadOf(build: (w: PacketWriter) => void): Buffer {
  const w = new PacketWriter(256);
  w.startPacket();
  build(w);
  w.finishPacket();
  return w.take().subarray(4); // every builder stays far below 16 MiB unless given huge input
}

function bigPayloadOf(head: number[], body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(head), body]);
}

export interface HandshakeResponseOptions {
  user: string;
  /** Used with `scramble` to compute a mysql_native_password token. */
  password?: string;
  scramble?: Uint8Array;
  /** Explicit auth bytes (overrides password/scramble). */
  authResponse?: Uint8Array;
  database?: string;
  /** Default 'mysql_native_password'; null omits it (and CLIENT_PLUGIN_AUTH). */
  authPlugin?: string | null;
  capabilities?: number;
  charset?: number;
  maxPacketSize?: number;
  attributes?: Record<string, string>;
}

/** Protocol::HandshakeResponse41 payload. */
export function handshakeResponse(o: HandshakeResponseOptions): Buffer {
  let caps = o.capabilities ?? CLIENT_CAPABILITIES;
  if (o.database === undefined) caps &= ~Capability.CONNECT_WITH_DB;
  if (o.authPlugin === null) caps &= ~Capability.PLUGIN_AUTH;
  if (o.attributes === undefined) caps &= ~Capability.CONNECT_ATTRS;
  const auth = o.authResponse ?? (o.password !== undefined && o.scramble ? nativePasswordToken(o.password, o.scramble) : Buffer.alloc(0));
  return payloadOf((w) => {
    w.u32(caps);
    w.u32(o.maxPacketSize ?? 16 * 1024 * 1024);
    w.u8(o.charset ?? Charset.UTF8MB4_GENERAL_CI);
    w.zeros(23);
    w.nulString(o.user);
    if (caps & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) w.lenencBytes(auth);
    else {
      w.u8(auth.length);
      w.bytes(auth);
    }
    if (caps & Capability.CONNECT_WITH_DB) w.nulString(o.database ?? '');
    if (caps & Capability.PLUGIN_AUTH) w.nulString(o.authPlugin ?? NATIVE_PASSWORD_PLUGIN);
    if (caps & Capability.CONNECT_ATTRS) {
      const attrs = new PacketWriter(256);
      for (const [k, v] of Object.entries(o.attributes ?? {})) {
        attrs.lenencString(k);
        attrs.lenencString(v);
      }
      w.lenencBytes(attrs.take());
    }
  });
}

export const comQuit = (): Buffer => Buffer.from([Command.QUIT]);
export const comPing = (): Buffer => Buffer.from([Command.PING]);
export const comStatistics = (): Buffer => Buffer.from([Command.STATISTICS]);
export const comResetConnection = (): Buffer => Buffer.from([Command.RESET_CONNECTION]);
export const comQuery = (sql: string): Buffer => bigPayloadOf([Command.QUERY], Buffer.from(sql, 'utf8'));
export const comInitDb = (db: string): Buffer => bigPayloadOf([Command.INIT_DB], Buffer.from(db, 'utf8'));
export const comFieldList = (table: string): Buffer => bigPayloadOf([Command.FIELD_LIST], Buffer.from(table + '\0', 'utf8'));
export const comStmtPrepare = (sql: string): Buffer => bigPayloadOf([Command.STMT_PREPARE], Buffer.from(sql, 'utf8'));
export const comSetOption = (option: number): Buffer => payloadOf((w) => (w.u8(Command.SET_OPTION), w.u16(option)));
export const comStmtClose = (id: number): Buffer => payloadOf((w) => (w.u8(Command.STMT_CLOSE), w.u32(id)));
export const comStmtReset = (id: number): Buffer => payloadOf((w) => (w.u8(Command.STMT_RESET), w.u32(id)));
export const comProcessKill = (id: number): Buffer => payloadOf((w) => (w.u8(Command.PROCESS_KILL), w.u32(id)));
export const comProcessInfo = (): Buffer => Buffer.from([Command.PROCESS_INFO]);
export function comStmtSendLongData(id: number, param: number, data: Uint8Array | string): Buffer {
  return payloadOf((w) => {
    w.u8(Command.STMT_SEND_LONG_DATA);
    w.u32(id);
    w.u16(param);
    if (typeof data === 'string') w.string(data);
    else w.bytes(data);
  });
}

/** One bound parameter for comStmtExecute. */
export interface BinaryParam {
  type: number;
  unsigned?: boolean;
  /** null sets the NULL bit; `longData: true` omits the value (it was sent with COM_STMT_SEND_LONG_DATA). */
  value: null | bigint | number | string | Uint8Array;
  longData?: boolean;
}

const INT_WIDTH: Record<number, number> = {
  [ColumnType.TINY]: 1,
  [ColumnType.SHORT]: 2,
  [ColumnType.YEAR]: 2,
  [ColumnType.LONG]: 4,
  [ColumnType.INT24]: 4,
  [ColumnType.LONGLONG]: 8,
};

function writeParamValue(w: PacketWriter, p: BinaryParam): void {
  const v = p.value!;
  const width = INT_WIDTH[p.type];
  if (width !== undefined) {
    const n = BigInt.asUintN(width * 8, BigInt(v as bigint | number | string));
    if (width === 8) w.u64(n);
    else if (width === 4) w.u32(Number(n));
    else if (width === 2) w.u16(Number(n));
    else w.u8(Number(n));
    return;
  }
  switch (p.type) {
    case ColumnType.FLOAT:
      return w.float(Number(v));
    case ColumnType.DOUBLE:
      return w.double(Number(v));
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP: {
      const m = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?$/.exec(String(v));
      if (!m) throw new Error(`bad date ${String(v)}`);
      const micro = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
      w.u8(11);
      w.u16(Number(m[1]));
      w.u8(Number(m[2]));
      w.u8(Number(m[3]));
      w.u8(Number(m[4] ?? 0));
      w.u8(Number(m[5] ?? 0));
      w.u8(Number(m[6] ?? 0));
      w.u32(micro);
      return;
    }
    case ColumnType.TIME: {
      const m = /^(-)?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(String(v));
      if (!m) throw new Error(`bad time ${String(v)}`);
      const hours = Number(m[2]);
      w.u8(12);
      w.u8(m[1] ? 1 : 0);
      w.u32(Math.floor(hours / 24));
      w.u8(hours % 24);
      w.u8(Number(m[3]));
      w.u8(Number(m[4]));
      w.u32(m[5] ? Number(m[5].padEnd(6, '0')) : 0);
      return;
    }
    default:
      if (typeof v === 'string') w.lenencString(v);
      else if (v instanceof Uint8Array) w.lenencBytes(v);
      else w.lenencString(String(v));
  }
}

/** COM_STMT_EXECUTE payload; with `newParamsBound: false` the types are omitted (the server reuses the last ones). */
export function comStmtExecute(id: number, params: readonly BinaryParam[], opts: { newParamsBound?: boolean; flags?: number } = {}): Buffer {
  const w = new PacketWriter(1024);
  w.startPacket();
  w.u8(Command.STMT_EXECUTE);
  w.u32(id);
  w.u8(opts.flags ?? 0);
  w.u32(1);
  if (params.length > 0) {
    const bitmap = Buffer.alloc((params.length + 7) >> 3);
    params.forEach((p, i) => {
      if (p.value === null) bitmap[i >> 3] |= 1 << (i & 7);
    });
    w.bytes(bitmap);
    const bound = opts.newParamsBound ?? true;
    w.u8(bound ? 1 : 0);
    if (bound) {
      for (const p of params) {
        w.u8(p.type);
        w.u8(p.unsigned ? 0x80 : 0);
      }
    }
    for (const p of params) if (p.value !== null && !p.longData) writeParamValue(w, p);
  }
  w.finishPacket();
  return w.take().subarray(4);
}

// ---- reply parsers ----------------------------------------------------------

export interface RawPacket {
  sequenceId: number;
  payload: Buffer;
}

/** Splits a byte stream into complete packets (not joining 16 MiB continuations); `rest` is the incomplete tail. */
export function splitPackets(stream: Buffer): { packets: RawPacket[]; rest: Buffer } {
  const packets: RawPacket[] = [];
  let pos = 0;
  while (stream.length - pos >= 4) {
    const len = stream[pos] | (stream[pos + 1] << 8) | (stream[pos + 2] << 16);
    if (stream.length - pos - 4 < len) break;
    packets.push({ sequenceId: stream[pos + 3], payload: stream.subarray(pos + 4, pos + 4 + len) });
    pos += 4 + len;
  }
  return { packets, rest: stream.subarray(pos) };
}

export interface ParsedHandshake {
  protocolVersion: number;
  serverVersion: string;
  connectionId: number;
  scramble: Buffer;
  capabilities: number;
  charset: number;
  statusFlags: number;
  authPlugin: string;
}

export function parseHandshake(payload: Buffer): ParsedHandshake {
  const r = new PacketReader(payload);
  const protocolVersion = r.u8();
  const serverVersion = r.nulString();
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.skip(1);
  let capabilities = r.u16();
  const charset = r.u8();
  const statusFlags = r.u16();
  capabilities |= r.u16() << 16;
  const authDataLength = r.u8();
  r.skip(10);
  const part2 = r.bytes(Math.max(13, authDataLength - 8));
  const authPlugin = r.nulString();
  return {
    protocolVersion,
    serverVersion,
    connectionId,
    scramble: Buffer.concat([part1, part2.subarray(0, part2.length - 1)]),
    capabilities: capabilities >>> 0,
    charset,
    statusFlags,
    authPlugin,
  };
}

export const isOkPacket = (p: Buffer): boolean => p[0] === 0x00;
export const isErrPacket = (p: Buffer): boolean => p[0] === 0xff;
export const isEofPacket = (p: Buffer): boolean => p[0] === 0xfe && p.length < 9;

export function parseOk(p: Buffer): { affectedRows: number; lastInsertId: number; statusFlags: number; warnings: number; info: string } {
  const r = new PacketReader(p, 1);
  const head = { affectedRows: r.lenencLength(), lastInsertId: r.lenencLength(), statusFlags: r.u16(), warnings: r.u16() };
  // The info text is length-encoded (see writeOk), and absent when empty.
  return { ...head, info: r.remaining > 0 ? r.lenencString() : '' };
}

export function parseErr(p: Buffer): { errno: number; sqlState: string; message: string } {
  const r = new PacketReader(p, 1);
  const errno = r.u16();
  let sqlState = '';
  if (p[3] === 0x23) {
    r.skip(1);
    sqlState = r.bytes(5).toString('latin1');
  }
  return { errno, sqlState, message: r.restString() };
}

export function parseEof(p: Buffer): { warnings: number; statusFlags: number } {
  const r = new PacketReader(p, 1);
  return { warnings: r.u16(), statusFlags: r.u16() };
}

export function parseColumnDefinition(p: Buffer): ColumnDefinition {
  const r = new PacketReader(p);
  const catalog = r.lenencString();
  const schema = r.lenencString();
  const table = r.lenencString();
  const orgTable = r.lenencString();
  const name = r.lenencString();
  const orgName = r.lenencString();
  r.lenencLength();
  return {
    catalog,
    schema,
    table,
    orgTable,
    name,
    orgName,
    characterSet: r.u16(),
    columnLength: r.u32(),
    columnType: r.u8(),
    flags: r.u16(),
    decimals: r.u8(),
  };
}

/** A text-protocol row as strings (utf8) and nulls. */
export function parseTextRow(p: Buffer, columnCount: number): (string | null)[] {
  const r = new PacketReader(p);
  const out: (string | null)[] = [];
  for (let i = 0; i < columnCount; i++) {
    if (p[r.pos] === 0xfb) {
      r.skip(1);
      out.push(null);
    } else {
      out.push(r.lenencString());
    }
  }
  return out;
}

export { MAX_PACKET_PAYLOAD };
