/**
 * Planner errors are values a client can act on: every one carries the MySQL errno and SQLSTATE
 * that the gateway writes into the ERR packet (the project-wide duck-typed contract).
 */
export class PlanError extends Error {
  readonly errno: number;
  readonly sqlState: string;
  constructor(errno: number, sqlState: string, message: string) {
    super(message);
    this.name = 'PlanError';
    this.errno = errno;
    this.sqlState = sqlState;
  }
}

export const ER_NOT_SUPPORTED_YET = 1235;
export const ER_PARSE_ERROR = 1064;
export const ER_NO_SUCH_TABLE = 1146;
export const ER_BAD_DB_ERROR = 1049;
export const ER_UNKNOWN_ERROR = 1105;
export const ER_BAD_FIELD_ERROR = 1054;
export const ER_NON_UNIQ_ERROR = 1052;
export const ER_WRONG_PARAM_COUNT = 1210;
export const ER_WRONG_DB_NAME = 1102;
export const ER_WRONG_TABLE_NAME = 1103;

/** MariaDB's NAME_CHAR_LEN: no database or table has a longer name. */
const NAME_CHAR_LEN = 64;

/** 1235 / 42000: a construct shardgate refuses rather than guessing a route for it. */
export function notSupported(construct: string): PlanError {
  return new PlanError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: ${construct}`);
}

/** 1064 / 42000, worded like MySQL's so that client tooling recognizes it. */
export function syntaxError(sql: string, offset: number): PlanError {
  return parseError('You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use', sql, offset);
}

/** 1064 / 42000: `what` near the (at most 80) characters from `offset`, at its line, as MariaDB words its parse errors. */
export function parseError(what: string, sql: string, offset: number): PlanError {
  const near = sql.slice(Math.max(0, offset), Math.max(0, offset) + 80);
  // Lines counted in place (no slice or split of a text that may be megabytes long).
  let line = 1;
  for (let i = sql.indexOf('\n'); i >= 0 && i < offset; i = sql.indexOf('\n', i + 1)) line++;
  return new PlanError(ER_PARSE_ERROR, '42000', `${what} near '${near}' at line ${line}`);
}

/**
 * 1146 / 42S02; a name longer than MariaDB allows is 1102 or 1103 (42000), as MariaDB answers it,
 * with the name cut as MariaDB's message cuts it (so that a client's 1 MB identifier comes back
 * in a message of bounded size).
 */
export function tableNotFound(keyspace: string | null | undefined, table: string): PlanError {
  if (keyspace && keyspace.length > NAME_CHAR_LEN) return incorrectDatabaseName(keyspace);
  if (table.length > NAME_CHAR_LEN) return new PlanError(ER_WRONG_TABLE_NAME, '42000', `Incorrect table name '${table.slice(0, 100)}'`);
  const name = keyspace ? `${keyspace}.${table}` : table;
  return new PlanError(ER_NO_SUCH_TABLE, '42S02', `Table '${name}' doesn't exist`);
}

/** 1049 / 42000. */
export function unknownKeyspace(keyspace: string): PlanError {
  if (keyspace.length > NAME_CHAR_LEN) return incorrectDatabaseName(keyspace);
  return new PlanError(ER_BAD_DB_ERROR, '42000', `Unknown database '${keyspace}'`);
}

/** 1102 / 42000, the name cut to 100 characters as MariaDB's message does. */
function incorrectDatabaseName(name: string): PlanError {
  return new PlanError(ER_WRONG_DB_NAME, '42000', `Incorrect database name '${name.length > 100 ? `${name.slice(0, 97)}...` : name}'`);
}

/** 1054 / 42S22. */
export function unknownColumn(column: string, where: string): PlanError {
  return new PlanError(ER_BAD_FIELD_ERROR, '42S22', `Unknown column '${column}' in '${where}'`);
}

/** 1052 / 23000. */
export function ambiguousColumn(column: string): PlanError {
  return new PlanError(ER_NON_UNIQ_ERROR, '23000', `Column '${column}' in field list is ambiguous`);
}

/** 1105 / HY000: anything else, with a message that names the problem. */
export function planFailure(message: string): PlanError {
  return new PlanError(ER_UNKNOWN_ERROR, 'HY000', message);
}
