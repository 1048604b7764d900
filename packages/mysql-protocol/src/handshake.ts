import { Capability } from './capabilities.js';
import { ErrorCode } from './error-codes.js';
import { MysqlError } from './mysql-error.js';
import { PacketReader } from './packet-reader.js';
import type { PacketWriter } from './packet-writer.js';

export interface HandshakeV10 {
  serverVersion: string;
  connectionId: number;
  /** 20 bytes. */
  scramble: Uint8Array;
  capabilities: number;
  charset: number;
  statusFlags: number;
  authPlugin: string;
}

/** Writes Protocol::HandshakeV10, the server's first packet. */
export function writeHandshakeV10(w: PacketWriter, h: HandshakeV10): void {
  w.startPacket();
  w.u8(10);
  w.nulString(h.serverVersion);
  w.u32(h.connectionId);
  w.bytes(h.scramble.subarray(0, 8));
  w.u8(0);
  w.u16(h.capabilities & 0xffff);
  w.u8(h.charset);
  w.u16(h.statusFlags);
  w.u16((h.capabilities >>> 16) & 0xffff);
  w.u8(h.scramble.length + 1);
  w.zeros(10);
  // auth-plugin-data-part-2 is max(13, len - 8) bytes: the rest of the scramble plus a NUL.
  w.bytes(h.scramble.subarray(8));
  w.u8(0);
  w.nulString(h.authPlugin);
  w.finishPacket();
}

/** Protocol::HandshakeResponse41, as sent by the client. */
export interface HandshakeResponse {
  capabilities: number;
  maxPacketSize: number;
  charset: number;
  user: string;
  authResponse: Buffer;
  database: string | null;
  /** null when the client did not name one (no CLIENT_PLUGIN_AUTH). */
  authPlugin: string | null;
  attributes: Record<string, string>;
}

function badHandshake(): MysqlError {
  return new MysqlError(ErrorCode.ER_HANDSHAKE_ERROR, 'Bad handshake');
}

/**
 * Parses HandshakeResponse41. Fields are parsed by the flags the client
 * set (the client decides which fields it included). Anything malformed, a
 * pre-4.1 client, or an SSL request the connection did not take up (TLS not
 * configured, or already on TLS) is a bad handshake.
 */
export function parseHandshakeResponse(payload: Buffer): HandshakeResponse {
  try {
    const r = new PacketReader(payload);
    const capabilities = r.u32();
    if ((capabilities & Capability.PROTOCOL_41) === 0) throw badHandshake();
    const maxPacketSize = r.u32();
    const charset = r.u8();
    r.skip(23);
    if (r.remaining === 0) throw badHandshake(); // SSLRequest: ends after the filler
    const user = r.nulString();
    let authResponse: Buffer;
    if (capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) {
      authResponse = r.lenencBytes();
    } else if (capabilities & Capability.SECURE_CONNECTION) {
      authResponse = r.bytes(r.u8());
    } else {
      authResponse = r.nulBytes();
    }
    let database: string | null = null;
    if (capabilities & Capability.CONNECT_WITH_DB && r.remaining > 0) {
      database = r.nulString();
      if (database === '') database = null;
    }
    let authPlugin: string | null = null;
    if (capabilities & Capability.PLUGIN_AUTH && r.remaining > 0) {
      authPlugin = r.nulString();
    }
    const attributes: Record<string, string> = {};
    if (capabilities & Capability.CONNECT_ATTRS && r.remaining > 0) {
      const total = r.lenencLength();
      const end = r.pos + total;
      if (end > payload.length) throw badHandshake();
      while (r.pos < end) {
        const key = r.lenencString();
        attributes[key] = r.lenencString();
      }
    }
    return { capabilities, maxPacketSize, charset, user, authResponse, database, authPlugin, attributes };
  } catch (err) {
    if (err instanceof MysqlError && err.errno === ErrorCode.ER_HANDSHAKE_ERROR) throw err;
    throw badHandshake();
  }
}

/** Protocol::AuthSwitchRequest: asks the client to redo auth with `plugin` over `scramble`. */
export function writeAuthSwitchRequest(w: PacketWriter, plugin: string, scramble: Uint8Array): void {
  w.startPacket();
  w.u8(0xfe);
  w.nulString(plugin);
  w.bytes(scramble);
  w.u8(0);
  w.finishPacket();
}
