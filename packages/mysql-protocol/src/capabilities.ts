/**
 * Capability flags exchanged in the handshake (Protocol::CapabilityFlags).
 * The server advertises SERVER_CAPABILITIES; the connection then uses
 * `advertised & client` as the negotiated set.
 */
export const Capability = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  NO_SCHEMA: 0x10,
  COMPRESS: 0x20,
  ODBC: 0x40,
  LOCAL_FILES: 0x80,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  IGNORE_SIGPIPE: 0x1000,
  TRANSACTIONS: 0x2000,
  RESERVED: 0x4000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  CAN_HANDLE_EXPIRED_PASSWORDS: 0x400000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
  OPTIONAL_RESULTSET_METADATA: 0x2000000,
  ZSTD_COMPRESSION: 0x4000000,
  QUERY_ATTRIBUTES: 0x8000000,
} as const;

/**
 * What this server implements; SSL is added per connection when TLS is configured. COMPRESS, DEPRECATE_EOF, QUERY_ATTRIBUTES
 * and LOCAL_FILES are deliberately absent: advertising them would change packet
 * layouts we do not produce or parse. SESSION_TRACK only makes clients read the
 * OK packet's info as a length-encoded string, which is how writeOk writes it. LONG_PASSWORD is
 * set so MariaDB clients treat us as a MySQL server (MariaDB servers clear it
 * to announce their extended capabilities).
 */
export const SERVER_CAPABILITIES =
  Capability.LONG_PASSWORD |
  Capability.FOUND_ROWS |
  Capability.LONG_FLAG |
  Capability.CONNECT_WITH_DB |
  // As MariaDB: a client may ask for it (mysql2 does). The session handler reads it in
  // ConnectionInfo.capabilities and must then read `count (*)` as `count(*)`.
  Capability.IGNORE_SPACE |
  Capability.PROTOCOL_41 |
  Capability.TRANSACTIONS |
  Capability.SECURE_CONNECTION |
  Capability.MULTI_STATEMENTS |
  Capability.MULTI_RESULTS |
  Capability.PS_MULTI_RESULTS |
  Capability.PLUGIN_AUTH |
  Capability.CONNECT_ATTRS |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  Capability.SESSION_TRACK;
