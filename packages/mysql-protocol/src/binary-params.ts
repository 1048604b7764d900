import { isUtf8 } from 'node:buffer';
import { ColumnType } from './column-types.js';
import { ErrorCode } from './error-codes.js';
import { MalformedPacketError, MysqlError } from './mysql-error.js';
import type { PacketReader } from './packet-reader.js';
import type { PreparedStatement } from './prepared-statements.js';
import type { ParamValue } from './server-types.js';

/** Flag byte of a parameter type: the value is unsigned. */
const UNSIGNED_PARAM = 0x80;

function wrongArguments(): MysqlError {
  return new MysqlError(ErrorCode.ER_WRONG_ARGUMENTS, 'Incorrect arguments to mysqld_stmt_execute');
}

/**
 * Decodes the parameter block of COM_STMT_EXECUTE (after the statement id):
 * flags, iteration count, NULL bitmap, new-params-bound flag, types (cached
 * on the statement for later executes that omit them) and binary values.
 * Parameters supplied with COM_STMT_SEND_LONG_DATA are not in the packet.
 */
export function decodeExecuteParams(r: PacketReader, stmt: PreparedStatement): ParamValue[] {
  if (stmt.longDataTooLarge) {
    throw new MysqlError(ErrorCode.ER_NET_PACKET_TOO_LARGE, "Parameter of prepared statement exceeds 'max_allowed_packet' bytes");
  }
  r.u8(); // cursor flags: cursors are not supported, results are always sent in full
  r.u32(); // iteration count: always 1
  const n = stmt.paramCount;
  if (n === 0) return [];
  // The NULL bitmap is read where it lies in the packet (a Buffer view per execute cost more than the decode).
  const packet = r.buffer;
  const nullsAt = r.pos;
  r.skip((n + 7) >> 3);
  const newParamsBound = r.u8();
  if (newParamsBound === 1) {
    // mysql2 sends the types with every execute (libmariadb only with the first after a bind), mostly the same ones: the
    // cached array is kept while they match, and replaced (never changed in place, so a packet
    // that ends inside its types leaves the cache as it was) when they do not.
    const cached = stmt.paramTypes;
    let types = cached !== null && cached.length === n ? cached : null;
    for (let i = 0; i < n; i++) {
      const type = r.u8();
      const flags = r.u8();
      const t = type | (flags << 8);
      if (types === null) {
        types = new Uint16Array(n);
      } else if (types === cached) {
        if (types[i] === t) continue;
        types = cached.slice();
      }
      types[i] = t;
    }
    stmt.paramTypes = types;
  } else if (newParamsBound !== 0) {
    throw new MalformedPacketError();
  }
  const types = stmt.paramTypes;
  if (types === null) throw wrongArguments();
  const out: ParamValue[] = new Array(n);
  const longData = stmt.longData;
  for (let i = 0; i < n; i++) {
    const type = types[i] & 0xff;
    // Long data wins over the NULL bit, as in MariaDB (a param sent with COM_STMT_SEND_LONG_DATA
    // has no value in the packet either way).
    const long = longData === null ? undefined : longData.get(i);
    if (long !== undefined) {
      out[i] = bytesAsParam(type, Buffer.concat(long));
      continue;
    }
    if (packet[nullsAt + (i >> 3)] & (1 << (i & 7))) {
      out[i] = null;
      continue;
    }
    out[i] = decodeBinaryValue(r, type, ((types[i] >> 8) & UNSIGNED_PARAM) !== 0);
  }
  return out;
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function fraction(micro: number): string {
  return micro === 0 ? '' : '.' + String(micro).padStart(6, '0');
}

/** A string-typed value stays a string when its bytes are UTF-8 (mysql2 sends Buffers this way too); other bytes stay binary. */
function bytesAsParam(type: number, bytes: Buffer): ParamValue {
  switch (type) {
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.BLOB:
    case ColumnType.GEOMETRY:
    case ColumnType.BIT:
    case ColumnType.VECTOR:
      return bytes;
    case ColumnType.DECIMAL:
    case ColumnType.NEWDECIMAL:
      return bytes.toString('latin1');
    default:
      return isUtf8(bytes) ? bytes.toString('utf8') : bytes;
  }
}

function decodeDateTime(r: PacketReader, type: number): string {
  const len = r.u8();
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micro = 0;
  if (len !== 0 && len !== 4 && len !== 7 && len !== 11) throw new MalformedPacketError();
  if (len >= 4) {
    year = r.u16();
    month = r.u8();
    day = r.u8();
  }
  if (len >= 7) {
    hour = r.u8();
    minute = r.u8();
    second = r.u8();
  }
  if (len === 11) micro = r.u32();
  const date = `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
  if (type === ColumnType.DATE) return date;
  return `${date} ${pad2(hour)}:${pad2(minute)}:${pad2(second)}${fraction(micro)}`;
}

function decodeTime(r: PacketReader): string {
  const len = r.u8();
  if (len === 0) return '00:00:00';
  if (len !== 8 && len !== 12) throw new MalformedPacketError();
  const negative = r.u8() === 1;
  const days = r.u32();
  const hour = r.u8();
  const minute = r.u8();
  const second = r.u8();
  const micro = len === 12 ? r.u32() : 0;
  return `${negative ? '-' : ''}${pad2(days * 24 + hour)}:${pad2(minute)}:${pad2(second)}${fraction(micro)}`;
}

/** One Binary Protocol Value of the given parameter type. */
export function decodeBinaryValue(r: PacketReader, type: number, unsigned: boolean): ParamValue {
  switch (type) {
    case ColumnType.NULL:
      return null;
    case ColumnType.TINY:
      return BigInt(unsigned ? r.u8() : r.i8());
    case ColumnType.SHORT:
    case ColumnType.YEAR:
      return BigInt(unsigned ? r.u16() : r.i16());
    case ColumnType.LONG:
    case ColumnType.INT24:
      return BigInt(unsigned ? r.u32() : r.i32());
    case ColumnType.LONGLONG:
      return unsigned ? r.u64() : r.i64();
    case ColumnType.FLOAT:
      return r.float();
    case ColumnType.DOUBLE:
      return r.double();
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
    case ColumnType.NEWDATE:
      return decodeDateTime(r, type);
    case ColumnType.TIME:
      return decodeTime(r);
    case ColumnType.DECIMAL:
    case ColumnType.NEWDECIMAL:
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
    case ColumnType.STRING:
    case ColumnType.ENUM:
    case ColumnType.SET:
    case ColumnType.JSON:
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.BLOB:
    case ColumnType.GEOMETRY:
    case ColumnType.BIT:
    case ColumnType.VECTOR:
      return bytesAsParam(type, r.lenencBytes());
    default:
      throw wrongArguments();
  }
}
