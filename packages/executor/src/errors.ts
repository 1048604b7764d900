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
export const ER_NOT_SUPPORTED_YET = 1235;
export const ER_BAD_DB_ERROR = 1049;
export const ER_QUERY_INTERRUPTED = 1317;
export const ER_STATEMENT_TIMEOUT = 1969;
export const ER_SUBQUERY_NO_1_ROW = 1242;
export const ER_ERROR_DURING_COMMIT = 1180;
export const ER_OUT_OF_RESOURCES = 1041;
export const ER_WRONG_VALUE_FOR_VAR = 1231;
export const ER_NO_DB_ERROR = 1046;
export const ER_TOO_MANY_USER_CONNECTIONS = 1203;
export const CR_SERVER_LOST = 2013;

export function hasMysqlCode(err: unknown): err is { errno: number; sqlState: string; message: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { errno?: unknown }).errno === 'number' &&
    typeof (err as { sqlState?: unknown }).sqlState === 'string'
  );
}

/**
 * Turns whatever mysql2 threw for a shard into a ShardError. Server errors keep their code.
 * A shard that cannot be reached is 1105 ER_UNKNOWN_ERROR / HY000, as Vitess's vtgate sends for
 * an unavailable tablet: a server must not send a client-library code (2000-2999, e.g. 2003
 * CR_CONN_HOST_ERROR) in an ERR packet; libmariadb (the `mariadb` CLI) then reports "2027
 * Received malformed packet" instead of the message. A connection lost mid-statement keeps
 * 2013, which is what Vitess passes on as well.
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
    return new ShardError(ER_UNKNOWN_ERROR, 'HY000', `Can't connect to shard (${code}: ${message})`, keyspace, shard);
  }
  return new ShardError(CR_SERVER_LOST, 'HY000', `Lost connection to shard during query (${code}: ${message})`, keyspace, shard);
}

/**
 * A session that already holds a reserved connection (a transaction, or session variables) waited
 * too long for a connection of another shard: the pools are exhausted, possibly by sessions that
 * wait for the connections this one holds (see ShardReservations). Vitess's transaction pool fails
 * the same way after its timeout (RESOURCE_EXHAUSTED), which vtgate sends as 1203
 * ER_TOO_MANY_USER_CONNECTIONS / 42000; we use the same pair so clients that handle Vitess's
 * error handle this one. Only the statement fails: the transaction stays open and usable.
 */
export function transactionPoolTimeout(keyspace: string, shard: string, waitedMs: number, poolSize: number): ExecutorError {
  return new ExecutorError(
    ER_TOO_MANY_USER_CONNECTIONS,
    '42000',
    `transaction pool connection limit exceeded: no connection of shard ${keyspace}/${shard} (pool size ${poolSize}) became free within ${waitedMs} ms while this session holds other connections; the statement was not run and the transaction is still open: retry it, or roll back`,
  );
}

export function queryInterrupted(why: string): ExecutorError {
  return new ExecutorError(ER_QUERY_INTERRUPTED, '70100', `Query execution was interrupted: ${why}`);
}

/** The next statement of a session whose idle transaction the gateway rolled back (transactionTimeoutMs). */
export function transactionTimedOut(ms: number): ExecutorError {
  return new ExecutorError(
    ER_QUERY_INTERRUPTED,
    '70100',
    `Query execution was interrupted: the open transaction was idle for more than ${ms} ms (transactionTimeoutMs) and was rolled back; nothing of it was committed. Start a new transaction`,
  );
}

export function queryTimeout(ms: number, where?: string): ExecutorError {
  return new ExecutorError(
    ER_STATEMENT_TIMEOUT,
    '70100',
    `Query execution was interrupted (query timeout of ${ms} ms exceeded${where ? ` on ${where}` : ''}); raise it with SET query_timeout = <ms> or /*vt+ QUERY_TIMEOUT_MS=<ms> */`,
  );
}

export function rowLimitExceeded(limit: number, workload: 'oltp' | 'olap'): ExecutorError {
  const advice =
    workload === 'oltp'
      ? "(OLTP buffers results, and sorts, groups or DISTINCT at the gateway hold rows); add a LIMIT, or SET workload = 'olap' to stream the result"
      : '(a sort, GROUP BY, DISTINCT or subquery evaluated at the gateway holds rows); narrow the query or raise maxMemoryRows';
  return new ExecutorError(ER_OUT_OF_RESOURCES, 'HY000', `in-memory row count exceeded allowed limit of ${limit} ${advice}`);
}
