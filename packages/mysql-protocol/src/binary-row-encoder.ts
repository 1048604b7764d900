import { ColumnType, type ColumnDefinition } from './column-types.js';
import { ErrorCode } from './error-codes.js';
import { MalformedPacketError, MysqlError } from './mysql-error.js';
import type { PacketWriter } from './packet-writer.js';
import type { TextValue } from './result-writer.js';

/**
 * Encodes rows given in text-protocol form (what shards return for COM_QUERY)
 * as ProtocolBinary::ResultsetRow, driven by each column's type: the server
 * side of COM_STMT_EXECUTE. A value that cannot be parsed for its column type
 * throws a MysqlError (the sink turns it into an ERR packet).
 */
export function writeBinaryRow(w: PacketWriter, columns: readonly ColumnDefinition[], values: readonly TextValue[]): void {
  const n = columns.length;
  w.startPacket();
  w.u8(0x00);
  // NULL bitmap: bit (i + 2) for column i; reserved now, patched after the values.
  const bitmapAt = w.position;
  const bitmapLen = (n + 9) >> 3;
  w.zeros(bitmapLen);
  let bits = 0;
  let byteIndex = 0;
  for (let i = 0; i < n; i++) {
    const bit = i + 2;
    const idx = bit >> 3;
    if (idx !== byteIndex) {
      if (bits !== 0) w.patchU8(bitmapAt + byteIndex, bits);
      bits = 0;
      byteIndex = idx;
    }
    const v = values[i];
    if (v === null || v === undefined) {
      bits |= 1 << (bit & 7);
      continue;
    }
    writeBinaryValue(w, columns[i], v);
  }
  if (bits !== 0) w.patchU8(bitmapAt + byteIndex, bits);
  w.finishPacket();
}

/**
 * writeBinaryRow of the text-protocol row whose payload is `src[start, end)`, read from its bytes:
 * the output is byte for byte what writeBinaryRow writes for the cells decoded from that payload
 * (a property test holds the two together), without a cell view or string per value.
 *
 * A text cell of a string, BLOB, DECIMAL, JSON, BIT, ENUM or SET column is the same
 * length-encoded string in a binary row, so it is copied. Integer and temporal cells are parsed
 * from their digits; a cell not in the canonical form a server sends (and every FLOAT and DOUBLE,
 * whose parsing is Number's) goes through writeBinaryValue as a view, so it is encoded, or
 * refused, exactly as writeBinaryRow would. A payload that is not `columns.length` cells throws
 * MalformedPacketError, as decoding it would.
 */
export function writeBinaryRowFromText(w: PacketWriter, columns: readonly ColumnDefinition[], src: Uint8Array, start: number, end: number): void {
  const n = columns.length;
  w.startPacket();
  w.u8(0x00);
  const bitmapAt = w.position;
  const bitmapLen = (n + 9) >> 3;
  w.zeros(bitmapLen);
  let bits = 0;
  let byteIndex = 0;
  let p = start;
  for (let i = 0; i < n; i++) {
    const bit = i + 2;
    const idx = bit >> 3;
    if (idx !== byteIndex) {
      if (bits !== 0) w.patchU8(bitmapAt + byteIndex, bits);
      bits = 0;
      byteIndex = idx;
    }
    if (p >= end) throw new MalformedPacketError();
    const first = src[p];
    let len: number;
    if (first < 0xfb) {
      len = first;
      p += 1;
    } else if (first === 0xfb) {
      bits |= 1 << (bit & 7);
      p += 1;
      continue;
    } else if (first === 0xfc) {
      if (p + 3 > end) throw new MalformedPacketError();
      len = src[p + 1] | (src[p + 2] << 8);
      p += 3;
    } else if (first === 0xfd) {
      if (p + 4 > end) throw new MalformedPacketError();
      len = src[p + 1] | (src[p + 2] << 8) | (src[p + 3] << 16);
      p += 4;
    } else if (first === 0xfe) {
      if (p + 9 > end) throw new MalformedPacketError();
      // A cell longer than the payload is malformed whatever its upper bytes say.
      if (src[p + 5] !== 0 || src[p + 6] !== 0 || src[p + 7] !== 0 || src[p + 8] !== 0) throw new MalformedPacketError();
      len = src[p + 1] + src[p + 2] * 0x100 + src[p + 3] * 0x10000 + src[p + 4] * 0x1000000;
      p += 9;
    } else {
      throw new MalformedPacketError();
    }
    if (p + len > end) throw new MalformedPacketError();
    writeBinaryCell(w, columns[i], src, p, p + len);
    p += len;
  }
  if (p !== end) throw new MalformedPacketError();
  if (bits !== 0) w.patchU8(bitmapAt + byteIndex, bits);
  w.finishPacket();
}

/** One non-NULL text cell `src[at, stop)` as writeBinaryValue writes it. */
function writeBinaryCell(w: PacketWriter, c: ColumnDefinition, src: Uint8Array, at: number, stop: number): void {
  switch (c.columnType) {
    case ColumnType.LONGLONG: {
      const n = canonicalInteger(src, at, stop);
      if (n !== n) break;
      w.int64FromNumber(n);
      return;
    }
    case ColumnType.LONG:
    case ColumnType.INT24: {
      const n = canonicalInteger(src, at, stop);
      if (n !== n) break;
      w.u32(n >>> 0);
      return;
    }
    case ColumnType.SHORT:
    case ColumnType.YEAR: {
      const n = canonicalInteger(src, at, stop);
      if (n !== n) break;
      w.u16(n & 0xffff);
      return;
    }
    case ColumnType.TINY: {
      const n = canonicalInteger(src, at, stop);
      if (n !== n) break;
      w.u8(n & 0xff);
      return;
    }
    case ColumnType.DOUBLE:
    case ColumnType.FLOAT:
      break;
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
    case ColumnType.NEWDATE:
      if (writeDateTimeFromBytes(w, src, at, stop)) return;
      break;
    case ColumnType.TIME:
      if (writeTimeFromBytes(w, src, at, stop)) return;
      break;
    default:
      w.lenencInt(stop - at);
      w.bytesFrom(src, at, stop);
      return;
  }
  // Not canonical, or a float: the cell as writeBinaryRow gets it (a view of its bytes).
  writeBinaryValue(w, c, src.subarray(at, stop));
}

/**
 * `[-]digits` of at most 15 characters (where parseInteger takes Number's value, which is this
 * one), or NaN for anything else: parseInteger decides those.
 */
function canonicalInteger(src: Uint8Array, at: number, stop: number): number {
  const len = stop - at;
  if (len === 0 || len > 15) return NaN;
  const negative = src[at] === 45;
  let i = negative ? at + 1 : at;
  if (i === stop) return NaN;
  let n = 0;
  for (; i < stop; i++) {
    const d = src[i] - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return negative ? -n : n;
}

/** digits() over bytes; the caller keeps `at + count` within the cell. */
function digitsAt(src: Uint8Array, at: number, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) {
    const d = src[at + i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** micros() over the bytes `[at, stop)`. */
function microsAt(src: Uint8Array, at: number, stop: number): number {
  if (at >= stop || src[at] !== 46) return 0;
  let n = 0;
  let count = 0;
  for (let i = at + 1; i < stop && count < 6; i++, count++) {
    const d = src[i] - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  for (; count < 6; count++) n *= 10;
  return n;
}

/**
 * writeBinaryDateTime over the bytes of a cell it encodes (reads stay inside the cell); false,
 * having written nothing, for a cell it would refuse.
 */
function writeDateTimeFromBytes(w: PacketWriter, src: Uint8Array, at: number, stop: number): boolean {
  const len = stop - at;
  if (len < 10) return false;
  const year = digitsAt(src, at, 4);
  const month = digitsAt(src, at + 5, 2);
  const day = digitsAt(src, at + 8, 2);
  if (year < 0 || month < 0 || day < 0) return false;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micro = 0;
  if (len >= 19) {
    hour = digitsAt(src, at + 11, 2);
    minute = digitsAt(src, at + 14, 2);
    second = digitsAt(src, at + 17, 2);
    if (hour < 0 || minute < 0 || second < 0) return false;
    micro = microsAt(src, at + 19, stop);
  }
  writeDateTimeParts(w, year, month, day, hour, minute, second, micro);
  return true;
}

/**
 * writeBinaryTime over the bytes of a cell whose reads stay inside it; false, having written
 * nothing, for any other (writeBinaryTime then decides, reading past the end as it does).
 */
function writeTimeFromBytes(w: PacketWriter, src: Uint8Array, at: number, stop: number): boolean {
  if (stop === at) return false;
  const negative = src[at] === 45;
  const start = negative ? at + 1 : at;
  const colon = src.indexOf(58, start);
  if (colon <= start || colon + 6 > stop) return false;
  const hours = digitsAt(src, start, colon - start);
  const minute = digitsAt(src, colon + 1, 2);
  const second = digitsAt(src, colon + 4, 2);
  if (hours < 0 || minute < 0 || second < 0) return false;
  writeTimeParts(w, negative, hours, minute, second, microsAt(src, colon + 6, stop));
  return true;
}

function asText(v: string | Uint8Array): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  return String(v);
}

function cannotEncode(c: ColumnDefinition, v: string | Uint8Array, typeName: string): MysqlError {
  return new MysqlError(
    ErrorCode.ER_UNKNOWN_ERROR,
    `Cannot encode value '${asText(v).slice(0, 64)}' of column '${c.name}' as binary ${typeName}`,
  );
}

/** Parses an integer in text form; safe integers stay numbers, larger ones become bigints. */
function parseInteger(c: ColumnDefinition, v: string | Uint8Array, typeName: string): number | bigint {
  const s = asText(v);
  if (s.length <= 15) {
    const n = Number(s);
    if (Number.isInteger(n) && s.length > 0) return n;
  }
  try {
    return BigInt(s.trim());
  } catch {
    throw cannotEncode(c, v, typeName);
  }
}

function writeBinaryValue(w: PacketWriter, c: ColumnDefinition, v: string | Uint8Array): void {
  switch (c.columnType) {
    case ColumnType.LONGLONG: {
      const n = parseInteger(c, v, 'LONGLONG');
      if (typeof n === 'number') w.int64FromNumber(n);
      else w.u64(n);
      return;
    }
    case ColumnType.LONG:
    case ColumnType.INT24: {
      const n = parseInteger(c, v, 'LONG');
      w.u32(typeof n === 'number' ? n >>> 0 : Number(BigInt.asUintN(32, n)));
      return;
    }
    case ColumnType.SHORT:
    case ColumnType.YEAR: {
      const n = Number(parseInteger(c, v, 'SHORT'));
      w.u16(n & 0xffff);
      return;
    }
    case ColumnType.TINY: {
      const n = Number(parseInteger(c, v, 'TINY'));
      w.u8(n & 0xff);
      return;
    }
    case ColumnType.DOUBLE: {
      const n = Number(asText(v));
      if (Number.isNaN(n)) throw cannotEncode(c, v, 'DOUBLE');
      w.double(n);
      return;
    }
    case ColumnType.FLOAT: {
      const n = Number(asText(v));
      if (Number.isNaN(n)) throw cannotEncode(c, v, 'FLOAT');
      w.float(n);
      return;
    }
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
    case ColumnType.NEWDATE:
      writeBinaryDateTime(w, c, v);
      return;
    case ColumnType.TIME:
      writeBinaryTime(w, c, v);
      return;
    default:
      if (typeof v === 'string') w.lenencString(v);
      else if (v instanceof Uint8Array) w.lenencBytes(v);
      else w.lenencString(String(v)); // tolerate numbers/bigints from careless callers
  }
}

/** Reads `count` decimal digits at `at`, or -1 if any is not a digit. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) {
    const d = s.charCodeAt(at + i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Fractional seconds ".f{1,6}" starting at `at` (the dot), as microseconds. */
function micros(s: string, at: number): number {
  if (at >= s.length || s.charCodeAt(at) !== 46) return 0;
  let n = 0;
  let count = 0;
  for (let i = at + 1; i < s.length && count < 6; i++, count++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  for (; count < 6; count++) n *= 10;
  return n;
}

/** 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]' → length byte 0/4/7/11 and the parts. */
function writeBinaryDateTime(w: PacketWriter, c: ColumnDefinition, v: string | Uint8Array): void {
  const s = asText(v);
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  if (year < 0 || month < 0 || day < 0 || s.length < 10) throw cannotEncode(c, v, 'DATETIME');
  let hour = 0;
  let minute = 0;
  let second = 0;
  let micro = 0;
  if (s.length >= 19) {
    hour = digits(s, 11, 2);
    minute = digits(s, 14, 2);
    second = digits(s, 17, 2);
    if (hour < 0 || minute < 0 || second < 0) throw cannotEncode(c, v, 'DATETIME');
    micro = micros(s, 19);
  }
  writeDateTimeParts(w, year, month, day, hour, minute, second, micro);
}

/** The length byte 0/4/7/11 and the parts of a binary DATE/DATETIME/TIMESTAMP. */
function writeDateTimeParts(w: PacketWriter, year: number, month: number, day: number, hour: number, minute: number, second: number, micro: number): void {
  if (micro !== 0) {
    w.u8(11);
  } else if (hour !== 0 || minute !== 0 || second !== 0) {
    w.u8(7);
  } else if (year !== 0 || month !== 0 || day !== 0) {
    w.u8(4);
  } else {
    w.u8(0);
    return;
  }
  w.u16(year);
  w.u8(month);
  w.u8(day);
  if (micro === 0 && hour === 0 && minute === 0 && second === 0) return;
  w.u8(hour);
  w.u8(minute);
  w.u8(second);
  if (micro !== 0) w.u32(micro);
}

/** '[-]H+:MM:SS[.ffffff]' → length byte 0/8/12, sign, days, h, m, s[, µs]. */
function writeBinaryTime(w: PacketWriter, c: ColumnDefinition, v: string | Uint8Array): void {
  const s = asText(v);
  const negative = s.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  const colon = s.indexOf(':', start);
  if (colon <= start) throw cannotEncode(c, v, 'TIME');
  const hours = digits(s, start, colon - start);
  const minute = digits(s, colon + 1, 2);
  const second = digits(s, colon + 4, 2);
  if (hours < 0 || minute < 0 || second < 0) throw cannotEncode(c, v, 'TIME');
  writeTimeParts(w, negative, hours, minute, second, micros(s, colon + 6));
}

/** The length byte 0/8/12 and the parts of a binary TIME. */
function writeTimeParts(w: PacketWriter, negative: boolean, hours: number, minute: number, second: number, micro: number): void {
  if (hours === 0 && minute === 0 && second === 0 && micro === 0) {
    w.u8(0);
    return;
  }
  w.u8(micro !== 0 ? 12 : 8);
  w.u8(negative ? 1 : 0);
  w.u32(Math.floor(hours / 24));
  w.u8(hours % 24);
  w.u8(minute);
  w.u8(second);
  if (micro !== 0) w.u32(micro);
}
