/**
 * What a `SET [SESSION] name = value` does through the gateway, for the names the session does not
 * handle itself (session-statements.ts applySet handles autocommit, the character sets and
 * collations, sql_select_limit, the transaction's access and isolation, last_insert_id and the
 * gateway's own workload, transaction_mode and query_timeout).
 *
 * The rule: whatever MariaDB would do for one connection must happen, or the SET must fail. So a
 * name is one of
 * - **clientConnection**: describes the client's connection, which is the gateway's, so nothing
 *   is sent to the shards. The session keeps the value for `SELECT @@name`. Sending it would
 *   let a shard close a reserved connection after the client's `wait_timeout`, and a `SET
 *   wait_timeout` is what Rails sends on every connection.
 * - **defaultOnly**: a value other than the default would change answers in a way that one
 *   variable on each shard connection cannot reproduce (ids the gateway's sequences hand out,
 *   `WHERE id IS NULL` reading each shard's own last insert, a RAND() sequence split over
 *   shards). The default is accepted (Rails and Django send `sql_auto_is_null = 0`, mysqlbinlog
 *   sends `auto_increment_increment = 1`); any other value is refused with 1235.
 * - **shard**: everything else. It is applied to every shard connection the session uses, which
 *   the session reserves for it (Session.setupStatements). A shard validates name and value first,
 *   so an unknown name fails with MariaDB's own 1193, a global-only one with 1229, a read-only
 *   one with 1238, a bad value with 1231 or 1232.
 *
 * Immutable tables, read by every session.
 */

export type VariableHandling =
  /** `range`: MariaDB's bounds of a numeric one, which the session keeps; none: accepted, not kept. */
  | { readonly kind: 'clientConnection'; readonly range: readonly [bigint, bigint] | null }
  | { readonly kind: 'defaultOnly'; readonly defaults: ReadonlySet<string>; readonly why: string }
  | { readonly kind: 'shard' };

const SHARD: VariableHandling = { kind: 'shard' };

const TIMEOUT: VariableHandling = { kind: 'clientConnection', range: [1n, 31536000n] };
const NOT_KEPT: VariableHandling = { kind: 'clientConnection', range: null };

/**
 * The client connection's own settings, with MariaDB's range of each numeric one (a value out of
 * it is clamped). The session_track_* variables ask for state in OK packets, which the gateway
 * writes itself: accepted, not kept.
 */
const CLIENT_CONNECTION_VARIABLES = new Map<string, VariableHandling>([
  ['wait_timeout', TIMEOUT],
  ['interactive_timeout', TIMEOUT],
  ['net_read_timeout', TIMEOUT],
  ['net_write_timeout', TIMEOUT],
  ['net_retry_count', { kind: 'clientConnection', range: [1n, 18446744073709551615n] }],
  ['session_track_schema', NOT_KEPT],
  ['session_track_state_change', NOT_KEPT],
  ['session_track_system_variables', NOT_KEPT],
  ['session_track_transaction_info', NOT_KEPT],
]);

const OFF = new Set(['0', 'off', 'false']);

const DEFAULT_ONLY = new Map<string, VariableHandling>([
  ['sql_auto_is_null', { kind: 'defaultOnly', defaults: OFF, why: "`WHERE id IS NULL` would find each shard connection's own last insert, not the session's" }],
  ['insert_id', { kind: 'defaultOnly', defaults: new Set(['0']), why: 'the next insert may reach any shard, or take its id from a sequence' }],
  ['auto_increment_increment', { kind: 'defaultOnly', defaults: new Set(['1']), why: "sequences and the shards' own auto-increment would not follow it" }],
  ['auto_increment_offset', { kind: 'defaultOnly', defaults: new Set(['1']), why: "sequences and the shards' own auto-increment would not follow it" }],
  // CHAIN would leave every shard connection in a new transaction the session does not know of,
  // RELEASE would close them at COMMIT.
  ['completion_type', { kind: 'defaultOnly', defaults: new Set(['0', 'no_chain']), why: "COMMIT and ROLLBACK end the session's transaction on each shard as the gateway tracks it" }],
  // No value is a default: MariaDB's RAND() sequence is one connection's, and statements here
  // reach several.
  ['rand_seed1', { kind: 'defaultOnly', defaults: new Set(), why: 'RAND() runs on several shard connections' }],
  ['rand_seed2', { kind: 'defaultOnly', defaults: new Set(), why: 'RAND() runs on several shard connections' }],
]);

/** How the gateway applies a SET of `name` (lower case, no `@@`, scope or quotes). */
export function variableHandling(name: string): VariableHandling {
  return CLIENT_CONNECTION_VARIABLES.get(name) ?? DEFAULT_ONLY.get(name) ?? SHARD;
}

/**
 * A name that can be written into `SET SESSION name = …` for a shard as it is. MariaDB's
 * variable names are letters, digits and underscores; anything else is unknown there too.
 */
export function isPlainVariableName(name: string): boolean {
  return /^[a-z0-9_]+$/.test(name);
}
