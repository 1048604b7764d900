import { Charset, type ColumnDefinition } from './column-types.js';
import type { ErrorPacketFields } from './mysql-error.js';
import { PacketWriter } from './packet-writer.js';

/** A value in text-protocol form, as handed to ResultSink.row(). */
export type TextValue = Uint8Array | string | null;

/**
 * OK_Packet. `info` ("Rows matched: 1  Changed: 1  Warnings: 0") is written length-encoded, as
 * MySQL and MariaDB servers write it whether or not CLIENT_SESSION_TRACK was negotiated (their
 * net_send_ok stores it with net_store_data): libmariadb always reads it so, and mysql2 does under
 * CLIENT_SESSION_TRACK, which it always asks for. No session-state block follows: the server never
 * sets SERVER_SESSION_STATE_CHANGED.
 */
export function writeOk(
  w: PacketWriter,
  affectedRows: number | bigint,
  lastInsertId: number | bigint,
  statusFlags: number,
  warnings: number,
  info: string | undefined,
): void {
  w.startPacket();
  w.u8(0x00);
  w.lenencInt(affectedRows);
  w.lenencInt(lastInsertId);
  w.u16(statusFlags);
  w.u16(warnings);
  if (info) w.lenencString(info);
  w.finishPacket();
}

/** ERR_Packet with the '#' SQLSTATE marker (CLIENT_PROTOCOL_41). */
export function writeErr(w: PacketWriter, err: ErrorPacketFields): void {
  w.startPacket();
  w.u8(0xff);
  w.u16(err.errno);
  w.u8(0x23);
  w.latin1(err.sqlState.length === 5 ? err.sqlState : 'HY000');
  w.string(err.message);
  w.finishPacket();
}

/** EOF_Packet (we never negotiate CLIENT_DEPRECATE_EOF). */
export function writeEof(w: PacketWriter, warnings: number, statusFlags: number): void {
  w.startPacket();
  w.u8(0xfe);
  w.u16(warnings);
  w.u16(statusFlags);
  w.finishPacket();
}

/**
 * Protocol::ColumnDefinition41. A column in utf8mb4_general_ci (what shards and the gateway's own
 * columns say, their connections being in it) is reported in `resultCollation`, the client
 * connection's result collation, as MariaDB does; binary and other columns keep their own.
 */
export function writeColumnDefinition(w: PacketWriter, c: ColumnDefinition, resultCollation: number = Charset.UTF8MB4_GENERAL_CI): void {
  w.startPacket();
  w.lenencString(c.catalog ?? 'def');
  w.lenencString(c.schema ?? '');
  w.lenencString(c.table ?? '');
  w.lenencString(c.orgTable ?? '');
  w.lenencString(c.name ?? '');
  w.lenencString(c.orgName ?? '');
  w.u8(0x0c);
  w.u16(c.characterSet === Charset.UTF8MB4_GENERAL_CI ? resultCollation : c.characterSet);
  w.u32(c.columnLength);
  w.u8(c.columnType);
  w.u16(c.flags);
  w.u8(c.decimals);
  w.u16(0);
  w.finishPacket();
}

/**
 * Encoded definitions of column arrays that can never change (the array and every column frozen,
 * as the executor's shared shard metadata is). Re-encoding six names per column for every result
 * was a visible share of a point select's CPU; copying the bytes is not.
 * Concurrency rule: a WeakMap (columns → result collation → bytes) filled synchronously; an
 * entry is immutable once stored.
 */
const encodedDefinitions = new WeakMap<readonly ColumnDefinition[], Map<number, Uint8Array>>();

/** Column count, the definitions, then EOF: the head of a text or binary result set. */
export function writeResultSetHeader(w: PacketWriter, columns: readonly ColumnDefinition[], statusFlags: number, resultCollation: number = Charset.UTF8MB4_GENERAL_CI): void {
  w.startPacket();
  w.lenencInt(columns.length);
  w.finishPacket();
  // An array already in the map was checked when it went in, and frozen stays frozen: only an
  // array seen for the first time pays for isImmutable's walk over its columns.
  let byCollation = encodedDefinitions.get(columns);
  if (byCollation !== undefined || isImmutable(columns)) {
    // Keyed by the result collation too: clients of one gateway ask for different ones.
    if (byCollation === undefined) {
      byCollation = new Map();
      encodedDefinitions.set(columns, byCollation);
    }
    let encoded = byCollation.get(resultCollation);
    if (encoded === undefined) {
      const scratch = new PacketWriter(256);
      for (let i = 0; i < columns.length; i++) writeColumnDefinition(scratch, columns[i], resultCollation);
      encoded = scratch.take();
      byCollation.set(resultCollation, encoded);
    }
    w.packets(encoded);
  } else {
    for (let i = 0; i < columns.length; i++) writeColumnDefinition(w, columns[i], resultCollation);
  }
  writeEof(w, 0, statusFlags);
}

function isImmutable(columns: readonly ColumnDefinition[]): boolean {
  if (!Object.isFrozen(columns)) return false;
  for (let i = 0; i < columns.length; i++) if (!Object.isFrozen(columns[i])) return false;
  return true;
}

/** ProtocolText::ResultsetRow: each value as a length-encoded string, 0xFB for NULL. */
export function writeTextRow(w: PacketWriter, values: readonly TextValue[]): void {
  w.startPacket();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string') w.lenencString(v);
    else if (v === null || v === undefined) w.u8(0xfb);
    else if (v instanceof Uint8Array) w.lenencBytes(v);
    else w.lenencString(String(v)); // tolerate numbers/bigints from careless callers
  }
  w.finishPacket();
}
