/**
 * Errors are values with a MySQL errno, a SQLSTATE and a message a user can act on. Everything
 * the executor throws toward a client is an ExecutorError (or a planner error, which carries the
 * same duck-typed `errno`/`sqlState` pair).
 */
export class ExecutorError extends Error {
  constructor(
    readonly errno: number,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExecutorError';
  }
}

/** A shard said no: its own errno/SQLSTATE are kept, the message names the shard. */
export class ShardError extends ExecutorError {
  constructor(
    errno: number,
    sqlState: string,
    readonly shardMessage: string,
    readonly keyspace: string,
    readonly shard: string,
  ) {
    super(errno, sqlState, `target: ${keyspace}.${shard}: ${shardMessage}`);
    this.name = 'ShardError';
  }
}

export const ER_UNKNOWN_ERROR = 1105;
export const ER_BAD_DB_ERROR = 1049;
export const ER_QUERY_INTERRUPTED = 1317;
export const ER_STATEMENT_TIMEOUT = 1969;
export const ER_SUBQUERY_NO_1_ROW = 1242;
export const ER_ERROR_DURING_COMMIT = 1180;
export const ER_OUT_OF_RESOURCES = 1041;
export const ER_WRONG_VALUE_FOR_VAR = 1231;
export const ER_NO_DB_ERROR = 1046;
export const CR_SERVER_LOST = 2013;
export const CR_CONN_HOST_ERROR = 2003;

export function hasMysqlCode(err: unknown): err is { errno: number; sqlState: string; message: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { errno?: unknown }).errno === 'number' &&
    typeof (err as { sqlState?: unknown }).sqlState === 'string'
  );
}

/**
 * Turns whatever mysql2 threw for a shard into a ShardError. Server errors keep their code;
 * socket errors (ECONNREFUSED, reset) become the client-library codes a MySQL client would show.
 */
export function toShardError(err: unknown, keyspace: string, shard: string): ExecutorError {
  if (err instanceof ExecutorError) return err;
  const e = err as { errno?: unknown; sqlState?: unknown; sqlMessage?: unknown; message?: unknown; code?: unknown; fatal?: unknown };
  if (typeof e?.errno === 'number' && typeof e.sqlState === 'string' && e.sqlState !== '') {
    const msg = typeof e.sqlMessage === 'string' ? e.sqlMessage : String(e.message);
    return new ShardError(e.errno, e.sqlState, msg, keyspace, shard);
  }
  const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND') {
    return new ShardError(CR_CONN_HOST_ERROR, 'HY000', `Can't connect to shard (${code}: ${message})`, keyspace, shard);
  }
  return new ShardError(CR_SERVER_LOST, 'HY000', `Lost connection to shard during query (${code}: ${message})`, keyspace, shard);
}

export function queryInterrupted(why: string): ExecutorError {
  return new ExecutorError(ER_QUERY_INTERRUPTED, '70100', `Query execution was interrupted: ${why}`);
}

export function queryTimeout(ms: number, where?: string): ExecutorError {
  return new ExecutorError(
    ER_STATEMENT_TIMEOUT,
    '70100',
    `Query execution was interrupted (query timeout of ${ms} ms exceeded${where ? ` on ${where}` : ''}); raise it with SET query_timeout = <ms> or /*vt+ QUERY_TIMEOUT_MS=<ms> */`,
  );
}

export function rowLimitExceeded(limit: number): ExecutorError {
  return new ExecutorError(
    ER_OUT_OF_RESOURCES,
    'HY000',
    `in-memory row count exceeded allowed limit of ${limit} (OLTP buffers results); add a LIMIT, or SET workload = 'olap' to stream the result`,
  );
}
