import { ErrorCode, sqlStateFor } from './error-codes.js';

/**
 * An error that travels to the client as an ERR packet. Anything thrown with
 * numeric `errno` and string `sqlState` properties is treated the same way
 * (that duck-typed pair is the project-wide contract); this class is the
 * convenient way to make one.
 */
export class MysqlError extends Error {
  readonly errno: number;
  readonly sqlState: string;

  constructor(errno: number, message: string, sqlState: string = sqlStateFor(errno), options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MysqlError';
    this.errno = errno;
    this.sqlState = sqlState;
  }
}

/** Factory that fills the SQLSTATE from the code table: `mysqlError(ErrorCode.ER_NO_SUCH_TABLE, "Table 'x.y' doesn't exist")`. */
export function mysqlError(errno: number, message: string, options?: { cause?: unknown }): MysqlError {
  return new MysqlError(errno, message, sqlStateFor(errno), options);
}

/** The fields of an ERR packet. */
export interface ErrorPacketFields {
  errno: number;
  sqlState: string;
  message: string;
}

/** True when `err` carries the duck-typed `errno` (number) the project uses for client-visible errors. */
export function hasErrno(err: unknown): err is { errno: number; sqlState?: unknown; message?: unknown } {
  return typeof err === 'object' && err !== null && typeof (err as { errno?: unknown }).errno === 'number';
}

/**
 * Maps anything a handler threw to ERR packet fields: its own errno/sqlState
 * when present, otherwise 1105/HY000 with its message.
 */
export function toErrorPacketFields(err: unknown): ErrorPacketFields {
  if (hasErrno(err)) {
    const sqlState = typeof err.sqlState === 'string' && err.sqlState.length === 5 ? err.sqlState : sqlStateFor(err.errno);
    return { errno: err.errno, sqlState, message: typeof err.message === 'string' ? err.message : String(err) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { errno: ErrorCode.ER_UNKNOWN_ERROR, sqlState: 'HY000', message: message || 'Unknown error' };
}

/** Thrown by the packet reader and decoders when client bytes do not match the protocol. */
export class MalformedPacketError extends MysqlError {
  constructor(message = 'Malformed communication packet.') {
    super(ErrorCode.ER_MALFORMED_PACKET, message);
    this.name = 'MalformedPacketError';
  }
}
