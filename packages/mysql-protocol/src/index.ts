export { createMysqlServer, DEFAULT_MAX_PACKET_SIZE, DEFAULT_SERVER_VERSION } from './server.js';
export type {
  UserAccount,
  ConnectionInfo,
  MysqlServer,
  MysqlServerOptions,
  ParamValue,
  PrepareResult,
  ResultSink,
  SessionHandler,
} from './server-types.js';
export { ColumnType, ColumnFlag, Charset, columnDefinition, textColumn, resultCollationOf, type ColumnDefinition } from './column-types.js';
export { ErrorCode, sqlStateFor, type ErrorCodeName } from './error-codes.js';
export { MysqlError, MalformedPacketError, mysqlError, toErrorPacketFields, type ErrorPacketFields } from './mysql-error.js';
export { Capability, SERVER_CAPABILITIES } from './capabilities.js';
export { StatusFlag } from './status-flags.js';
export { Command, SetOption } from './commands.js';
export { PacketReader } from './packet-reader.js';
export { PacketWriter, MAX_PACKET_PAYLOAD } from './packet-writer.js';
export { PacketFramer, FramingError, type Packet } from './packet-framer.js';
export { PacketMemoryBudget, UNBUDGETED_PACKET_BYTES } from './packet-memory-budget.js';
export { nativePasswordToken, verifyNativePassword, NATIVE_PASSWORD_PLUGIN } from './auth-native-password.js';
export { countPlaceholders } from './prepared-statements.js';
export { writeBinaryRow, writeBinaryRowFromText } from './binary-row-encoder.js';
export { writeTextRow, writeColumnDefinition, writeResultSetHeader, writeOk, writeErr, writeEof, type TextValue } from './result-writer.js';
export { ShardClient, ServerError, ClientConnectionError, type ShardClientOptions, type QueryReceiver } from './client/shard-client.js';
export {
  parseColumnDefinition,
  parseOk,
  parseErr,
  parseEof,
  isEof,
  decodeTextRow,
  parseInitialHandshake,
  encodeHandshakeResponse,
  type ColumnDefinitionPacket,
  type OkPacket,
  type ErrPacket,
  type EofPacket,
  type InitialHandshake,
} from './client/client-packets.js';
