/** One problem found in a vschema, with the JSON path of the offending key (e.g. `keyspaces.user.tables.t.column_vindexes[0].name`). */
export interface VSchemaIssue {
  path: string;
  message: string;
}

/**
 * A vschema (or shard list) that cannot be used. Carries every issue found, not just the first,
 * so an operator can fix a file in one pass. `errno`/`sqlState` follow the project-wide contract
 * (ER_UNKNOWN_ERROR / HY000, which is what VTGate sends for vschema errors).
 */
export class VSchemaError extends Error {
  readonly issues: VSchemaIssue[];
  readonly errno = 1105;
  readonly sqlState = 'HY000';

  constructor(issues: VSchemaIssue[], what = 'invalid vschema') {
    super(
      `${what}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` +
        issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
    );
    this.name = 'VSchemaError';
    this.issues = issues;
  }
}

/**
 * A lookup in a loaded vschema or a vindex computation that failed for a reason the client should
 * see (ambiguous table, disabled routing rule, value a vindex cannot hash). errno/sqlState default to
 * ER_UNKNOWN_ERROR/HY000; table resolution errors use MySQL's ER_NO_SUCH_TABLE (1146, 42S02) or
 * ER_BAD_DB_ERROR (1049, 42000) where VTGate does.
 */
export class VSchemaLookupError extends Error {
  readonly errno: number;
  readonly sqlState: string;

  constructor(message: string, errno = 1105, sqlState = 'HY000') {
    super(message);
    this.name = 'VSchemaLookupError';
    this.errno = errno;
    this.sqlState = sqlState;
  }
}

/**
 * 1049 for a keyspace the vschema lacks; 1102 for a name longer than MariaDB's 64 characters, as
 * MariaDB answers it, cut as its message cuts it (a client's 1 MB name gets a bounded message).
 */
export function unknownKeyspaceError(keyspace: string): VSchemaLookupError {
  if (keyspace.length > 64) {
    return new VSchemaLookupError(`Incorrect database name '${keyspace.length > 100 ? `${keyspace.slice(0, 97)}...` : keyspace}'`, 1102, '42000');
  }
  return new VSchemaLookupError(`VT05003: unknown database '${keyspace}' in vschema`, 1049, '42000');
}
