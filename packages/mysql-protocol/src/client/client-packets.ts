/**
 * Decoders and encoders for the packets a client reads and writes: the server's initial
 * handshake, the handshake response, and the replies to a command (OK, ERR, EOF, column
 * definitions). Pure functions over one payload each, so they are tested without a server.
 */
import { Capability } from '../capabilities.js';
import { MalformedPacketError } from '../mysql-error.js';
import { PacketReader } from '../packet-reader.js';

/** MariaDB's extended capabilities (the last 4 of the handshake's reserved bytes): column type names such as `json`. */
export const MARIADB_CLIENT_EXTENDED_METADATA = 0x8;

/** Protocol::HandshakeV10, as a client needs it. */
export interface InitialHandshake {
  readonly protocolVersion: number;
  readonly serverVersion: string;
  readonly connectionId: number;
  readonly capabilities: number;
  /** MariaDB's extended capability bits (0 from MySQL servers, which keep CLIENT_MYSQL set). */
  readonly mariadbCapabilities: number;
  /** The 20-byte scramble (both parts, without the trailing NUL). */
  readonly scramble: Buffer;
  readonly authPlugin: string;
}

export function parseInitialHandshake(payload: Buffer): InitialHandshake {
  const r = new PacketReader(payload);
  const protocolVersion = r.u8();
  if (protocolVersion !== 10) throw new MalformedPacketError();
  const serverVersion = r.nulString();
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.skip(1);
  let capabilities = r.u16();
  let mariadbCapabilities = 0;
  let part2: Buffer = Buffer.alloc(0);
  let authPlugin = 'mysql_native_password';
  if (r.remaining > 0) {
    r.skip(1); // character set
    r.skip(2); // status flags
    capabilities = (capabilities | (r.u16() << 16)) >>> 0;
    const authDataLength = r.u8();
    r.skip(6);
    const extended = r.u32();
    // A MariaDB server clears CLIENT_MYSQL (LONG_PASSWORD) to say these bytes are its capabilities.
    if ((capabilities & Capability.LONG_PASSWORD) === 0) mariadbCapabilities = extended;
    if (capabilities & Capability.SECURE_CONNECTION) {
      const n = Math.max(13, authDataLength - 8);
      part2 = r.bytes(Math.min(n, r.remaining));
      // The second part ends with a NUL that is not part of the scramble.
      if (part2.length > 0 && part2[part2.length - 1] === 0) part2 = part2.subarray(0, part2.length - 1);
    }
    if (capabilities & Capability.PLUGIN_AUTH && r.remaining > 0) authPlugin = r.nulString();
  }
  return { protocolVersion, serverVersion, connectionId, capabilities, mariadbCapabilities, scramble: Buffer.concat([part1, part2]), authPlugin };
}

/** The fields of Protocol::HandshakeResponse41 this client sends. */
export interface HandshakeResponseFields {
  readonly capabilities: number;
  readonly mariadbCapabilities: number;
  readonly maxPacketSize: number;
  readonly charset: number;
  readonly user: string;
  readonly authResponse: Uint8Array;
  readonly database?: string;
  readonly authPlugin: string;
}

export function encodeHandshakeResponse(f: HandshakeResponseFields): Buffer {
  const user = Buffer.from(f.user, 'utf8');
  const db = f.database ? Buffer.from(f.database, 'utf8') : null;
  const plugin = Buffer.from(f.authPlugin, 'latin1');
  const auth = Buffer.from(f.authResponse);
  const authLen = lenencIntBytes(auth.length);
  const out = Buffer.alloc(32 + user.length + 1 + authLen.length + auth.length + (db ? db.length + 1 : 0) + plugin.length + 1);
  let p = 0;
  out.writeUInt32LE(f.capabilities >>> 0, p);
  p += 4;
  out.writeUInt32LE(f.maxPacketSize >>> 0, p);
  p += 4;
  out[p++] = f.charset;
  p += 19;
  out.writeUInt32LE(f.mariadbCapabilities >>> 0, p);
  p += 4;
  p += user.copy(out, p);
  out[p++] = 0;
  p += authLen.copy(out, p);
  p += auth.copy(out, p);
  if (db) {
    p += db.copy(out, p);
    out[p++] = 0;
  }
  p += plugin.copy(out, p);
  out[p++] = 0;
  return out;
}

export function lenencIntBytes(n: number): Buffer {
  if (n < 0xfb) return Buffer.from([n]);
  if (n <= 0xffff) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n <= 0xffffff) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

/** An OK packet (header 0x00, or 0xFE closing an authentication). */
export interface OkPacket {
  readonly affectedRows: bigint;
  readonly lastInsertId: bigint;
  readonly statusFlags: number;
  readonly warnings: number;
  /** The info text ("Rows matched: 1  Changed: 1  Warnings: 0"), '' when none. */
  readonly info: string;
}

/**
 * OK_Packet. MySQL and MariaDB store the info text length-encoded whether or not
 * CLIENT_SESSION_TRACK was negotiated (net_send_ok uses net_store_data); a length that does not fit
 * the packet is read as the older plain rest-of-packet text instead.
 */
export function parseOk(payload: Buffer): OkPacket {
  const r = new PacketReader(payload, 1);
  const affectedRows = lenencBig(r);
  const lastInsertId = lenencBig(r);
  const statusFlags = r.u16();
  const warnings = r.u16();
  let info = '';
  if (r.remaining > 0) {
    const start = r.pos;
    try {
      const n = r.lenencLength();
      info = n <= r.remaining ? r.buffer.toString('utf8', r.pos, r.pos + n) : payload.toString('utf8', start);
    } catch {
      info = payload.toString('utf8', start);
    }
  }
  return { affectedRows, lastInsertId, statusFlags, warnings, info };
}

/** A length-encoded integer as a bigint (affected rows and insert ids may exceed 2^53). */
function lenencBig(r: PacketReader): bigint {
  const first = r.u8();
  if (first < 0xfb) return BigInt(first);
  if (first === 0xfc) return BigInt(r.u16());
  if (first === 0xfd) return BigInt(r.u24());
  if (first === 0xfe) return r.u64();
  throw new MalformedPacketError();
}

/** An ERR packet's fields. Errors sent before the protocol is agreed may lack the SQLSTATE. */
export interface ErrPacket {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

export function parseErr(payload: Buffer): ErrPacket {
  const r = new PacketReader(payload, 1);
  const errno = r.u16();
  let sqlState = 'HY000';
  if (r.remaining >= 6 && payload[r.pos] === 0x23) {
    r.skip(1);
    sqlState = r.bytes(5).toString('latin1');
  }
  return { errno, sqlState, message: r.restString() };
}

/** EOF_Packet: the end of column definitions or of the rows of a result set. */
export interface EofPacket {
  readonly warnings: number;
  readonly statusFlags: number;
}

/**
 * True for an EOF packet. A text row may start with 0xFE too (an 8-byte length prefix), but then
 * its payload is at least 9 bytes long; an EOF payload is 5 (or 1, from ancient servers).
 */
export function isEof(payload: Buffer): boolean {
  return payload.length > 0 && payload[0] === 0xfe && payload.length < 9;
}

export function parseEof(payload: Buffer): EofPacket {
  if (payload.length < 5) return { warnings: 0, statusFlags: 0 };
  return { warnings: payload.readUInt16LE(1), statusFlags: payload.readUInt16LE(3) };
}

/** Protocol::ColumnDefinition41, with MariaDB's extended metadata when it was negotiated. */
export interface ColumnDefinitionPacket {
  readonly catalog: string;
  readonly schema: string;
  readonly table: string;
  readonly orgTable: string;
  readonly name: string;
  readonly orgName: string;
  readonly characterSet: number;
  readonly columnLength: number;
  readonly columnType: number;
  readonly flags: number;
  readonly decimals: number;
  /** MariaDB's data type name (`uuid`, `inet6`, …), when sent. */
  readonly extendedType?: string;
  /** MariaDB's format name (`json`), when sent. */
  readonly extendedFormat?: string;
}

export function parseColumnDefinition(payload: Buffer, extendedMetadata: boolean): ColumnDefinitionPacket {
  const r = new PacketReader(payload);
  const catalog = r.lenencString();
  const schema = r.lenencString();
  const table = r.lenencString();
  const orgTable = r.lenencString();
  const name = r.lenencString();
  const orgName = r.lenencString();
  let extendedType: string | undefined;
  let extendedFormat: string | undefined;
  if (extendedMetadata) {
    const block = r.lenencBytes();
    const e = new PacketReader(block);
    while (e.remaining > 0) {
      const id = e.u8();
      const value = e.lenencBytes().toString('latin1');
      if (id === 0) extendedType = value;
      else if (id === 1) extendedFormat = value;
    }
  }
  r.skip(1); // length of the fixed fields (0x0c)
  const characterSet = r.u16();
  const columnLength = r.u32();
  const columnType = r.u8();
  const flags = r.u16();
  const decimals = r.u8();
  const def: ColumnDefinitionPacket = { catalog, schema, table, orgTable, name, orgName, characterSet, columnLength, columnType, flags, decimals };
  if (extendedType === undefined && extendedFormat === undefined) return def;
  return { ...def, ...(extendedType !== undefined ? { extendedType } : {}), ...(extendedFormat !== undefined ? { extendedFormat } : {}) };
}

/**
 * The cells of a text-protocol row (ProtocolText::ResultsetRow) as views into the payload (no copy),
 * null for SQL NULL; `start`/`end` bound the payload inside a larger buffer. Throws
 * MalformedPacketError when the cells do not fill the payload exactly.
 */
export function decodeTextRow(payload: Buffer, columnCount: number, start = 0, end = payload.length): (Buffer | null)[] {
  const cells: (Buffer | null)[] = new Array(columnCount);
  let p = start;
  for (let i = 0; i < columnCount; i++) {
    if (p >= end) throw new MalformedPacketError();
    const first = payload[p];
    let len: number;
    if (first < 0xfb) {
      len = first;
      p += 1;
    } else if (first === 0xfb) {
      cells[i] = null;
      p += 1;
      continue;
    } else if (first === 0xfc) {
      if (p + 3 > end) throw new MalformedPacketError();
      len = payload[p + 1] | (payload[p + 2] << 8);
      p += 3;
    } else if (first === 0xfd) {
      if (p + 4 > end) throw new MalformedPacketError();
      len = payload[p + 1] | (payload[p + 2] << 8) | (payload[p + 3] << 16);
      p += 4;
    } else if (first === 0xfe) {
      if (p + 9 > end) throw new MalformedPacketError();
      const big = payload.readBigUInt64LE(p + 1);
      if (big > BigInt(end)) throw new MalformedPacketError();
      len = Number(big);
      p += 9;
    } else {
      throw new MalformedPacketError();
    }
    if (p + len > end) throw new MalformedPacketError();
    cells[i] = payload.subarray(p, p + len);
    p += len;
  }
  if (p !== end) throw new MalformedPacketError();
  return cells;
}
