/**
 * Statements the session answers or applies itself (the planner's Session primitive): BEGIN,
 * COMMIT, ROLLBACK, USE, SET, SHOW, system-variable SELECTs and VEXPLAIN.
 */
import { ANNOUNCED_SERVER_VERSION, ANNOUNCED_VERSION_COMMENT, ExactNumber, tokenize, type BindVars, type PreparedValue, type SessionPrimitive, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_NOT_SUPPORTED_YET, ER_UNKNOWN_ERROR, ER_WRONG_VALUE_FOR_VAR } from './errors.js';
import { runKill, runShowProcesslist } from './process-list.js';
import { CollectingReceiver } from './row-flow.js';
import { countPlaceholders, DEFAULT_LEXICAL_SQL_MODE, type Session } from './session.js';
import type { Cell, FieldInfo, ResultSink, Row } from './types.js';
import { cellToSqlValue, ColumnNumber, literalOf, sqlValueToCell, textCell } from './values/cell-codec.js';
import { ColumnFlag, ColumnType, UTF8MB4_GENERAL_CI } from './values/column-types.js';
import { evalScalar } from './values/value-expr.js';
import { renderTemplate } from './values/render-query.js';
import { cellText } from './values/cell-compare.js';
import { UTF8MB4_DEFAULT_COLLATION, unknownCollation, unsupportedCollation, utf8mb4CollationName } from './connection-collation.js';
import { isPlainVariableName, variableHandling } from './system-variables.js';

type Assignment = Extract<SessionPrimitive['statement'], { kind: 'set' }>['assignments'][number];

export function textField(name: string, schema = ''): FieldInfo {
  return { catalog: 'def', schema, table: '', orgTable: '', name, orgName: name, characterSet: UTF8MB4_GENERAL_CI, columnLength: 1024, columnType: ColumnType.VAR_STRING, flags: 0, decimals: 31 };
}

export function intField(name: string): FieldInfo {
  return { catalog: 'def', schema: '', table: '', orgTable: '', name, orgName: name, characterSet: 63, columnLength: 21, columnType: ColumnType.LONGLONG, flags: ColumnFlag.BINARY, decimals: 0 };
}

export async function sendRows(sink: ResultSink, fields: readonly FieldInfo[], rows: readonly Row[]): Promise<void> {
  sink.columns(fields);
  for (const r of rows) {
    if (sink.signal.aborted) break;
    if (!sink.row(r)) await sink.drain();
  }
  sink.end({ warnings: 0 });
}

function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

function valueText(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return v.toString();
}

function normalizeName(name: string): string {
  return name
    .toLowerCase()
    .replace(/^@@/, '')
    .replace(/^(session|local)\./, '')
    .replace(/`/g, '');
}

export async function runSessionStatement(session: Session, p: SessionPrimitive, bv: BindVars, sink: ResultSink, sql: string): Promise<void> {
  const st = p.statement;
  switch (st.kind) {
    case 'begin':
      await session.begin(st.readOnly);
      session.runtime.counters.transactions++;
      sink.ok({});
      return;
    case 'commit':
      await session.commit();
      sink.ok({});
      return;
    case 'rollback':
      await session.rollback();
      sink.ok({});
      return;
    case 'use':
      session.selectDatabase(st.target ? `${st.keyspace}:${st.target}` : st.keyspace);
      sink.ok({});
      return;
    case 'set': {
      // A SET uses no table: its own warnings (a value clamped) replace the last statement's,
      // and without any it leaves them, as MariaDB does (see leavesDiagnostics in session.ts).
      const before = session.diagnostics();
      session.warnings = [];
      // SET NAMES x COLLATE y fails whole (x not applied either) when y does: check y first.
      for (const a of st.assignments) if (a.name === 'names_collate' && a.value.kind === 'literal') await namedUtf8mb4Collation(session, a.name, valueText(a.value.value), sink.signal);
      // Likewise a name the gateway refuses whatever the shards say: nothing before it applies.
      for (const a of st.assignments) {
        const name = normalizeName(a.name);
        if (a.scope === 'session' && a.value.kind !== 'query' && variableHandling(name).kind === 'defaultOnly') refuseUnsupportedValue(name, a.value.kind === 'default' ? null : evalScalar(a.value as Parameters<typeof evalScalar>[0], bv));
      }
      for (const a of st.assignments) await applySet(session, a, bv, sink);
      const own = session.warnings.length;
      if (own === 0) session.restoreDiagnostics(before);
      sink.ok({ warnings: own });
      return;
    }
    case 'show':
      await runShow(session, st, sink, sql);
      return;
    case 'select-system':
      await runSystemSelect(session, st.columns, sink);
      return;
    case 'select-into':
      await runSelectInto(session, renderTemplate(st.query, bv), st.variables, sink);
      return;
    case 'set-last-insert-id':
      await runSetLastInsertId(session, st.argText ?? literalOf(evalScalar(st.arg, bv)), st.alias, sink);
      return;
    case 'prepare':
      await prepareStatement(session, st.name, preparedValue(session, st.text));
      sink.ok({});
      return;
    case 'execute':
      await executePrepared(session, st, sink);
      return;
    case 'deallocate':
      if (!session.preparedStatements.delete(st.name)) throw unknownStatement(st.name, `${st.verb} PREPARE`);
      sink.ok({});
      return;
    case 'unlock-tables':
      sink.ok({});
      return;
    case 'kill':
      runKill(session, st.scope, st.id, bv, sink);
      return;
    case 'savepoint':
      await session.savepoint(st.savepoint);
      sink.ok({});
      return;
    case 'rollback-to-savepoint':
      await session.rollbackToSavepoint(st.savepoint);
      sink.ok({});
      return;
    case 'release-savepoint':
      await session.releaseSavepoint(st.savepoint);
      sink.ok({});
      return;
    case 'vexplain': {
      const json = session.runtime.planJson ? session.runtime.planJson(st.plan) : st.plan;
      const text = JSON.stringify(json, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof ExactNumber ? v.text : v), 2);
      await sendRows(sink, [textField('JSON')], [[textCell(text)]]);
      return;
    }
  }
}

/**
 * Variables that set the character set client text is in. The protocol layer decodes queries and
 * encodes results as UTF-8 only, so any other character set would be mangled silently: refused.
 */
const CLIENT_CHARSET_VARIABLES = new Set(['names', 'character_set', 'character_set_client', 'character_set_connection', 'character_set_results']);
const UTF8_CHARSETS = new Set(['utf8', 'utf8mb3', 'utf8mb4']);
const BINARY_COLLATION = 63;

function unsupportedClientCharset(name: string, charset: string): ExecutorError {
  const statement = name === 'names' ? `SET NAMES ${charset}` : name === 'character_set' ? `SET CHARACTER SET ${charset}` : `SET ${name} = ${charset}`;
  return new ExecutorError(1235, '42000', `This version of shardgate doesn't yet support '${statement}': clients must use utf8mb4 (or utf8)`);
}

/**
 * sql_mode flags that change how SQL text is read in ways the gateway does not follow: its lexer
 * reads a backslash as an escape and it renders values for the shards with backslash escapes, so
 * under NO_BACKSLASH_ESCAPES a rendered `'it\'s'` would end at the backslash (one value's text
 * becoming SQL); ORACLE and MSSQL switch MariaDB to another dialect. ANSI_QUOTES and
 * PIPES_AS_CONCAT (and the combination modes made of them, ANSI among them) are followed: the
 * session's text goes through withDefaultQuoting (Session.inSqlMode).
 */
const REFUSED_SQL_MODES = new Set(['no_backslash_escapes', 'db2', 'maxdb', 'mssql', 'oracle', 'postgresql']);

function refuseLexicalSqlModes(value: string): void {
  const mode = value.split(',').map((m) => m.trim()).find((m) => REFUSED_SQL_MODES.has(m));
  if (mode !== undefined) {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This version of shardgate doesn't yet support 'sql_mode ${mode.toUpperCase()}': the gateway reads statements and writes values with backslash escapes, in MariaDB's default dialect`);
  }
}

/** The lexical flags of the session's sql_mode as a shard spells it out (combination modes expanded). */
async function readLexicalSqlMode(session: Session, signal: AbortSignal): Promise<Session['lexicalSqlMode']> {
  const modes = new Set(((await shardText(session, 'SELECT @@session.sql_mode', signal)) ?? '').toLowerCase().split(','));
  if (!modes.has('ansi_quotes') && !modes.has('pipes_as_concat') && !modes.has('ignore_space')) return DEFAULT_LEXICAL_SQL_MODE;
  return Object.freeze({ ansiQuotes: modes.has('ansi_quotes'), pipesAsConcat: modes.has('pipes_as_concat'), ignoreSpace: modes.has('ignore_space') });
}

const ISOLATION_LEVELS = new Set(['read uncommitted', 'read committed', 'repeatable read', 'serializable']);

function wrongValue(name: string, value: string): ExecutorError {
  return new ExecutorError(ER_WRONG_VALUE_FOR_VAR, '42000', `Variable '${name}' can't be set to the value of '${value}'`);
}

/**
 * The canonical name of a user variable, as the planner's normalizer keys its reads
 * (userVariableName): the planner gives the name without its quotes; doubled quotes are undone
 * and the name lower-cased (MariaDB compares user variable names case-insensitively).
 */
function userVariableKey(name: string): string {
  return name.replace(/''/g, "'").replace(/""/g, '"').replace(/``/g, '`').toLowerCase();
}

async function applySet(session: Session, a: Assignment, bv: BindVars, sink: ResultSink): Promise<void> {
  if (a.value.kind === 'query' && a.scope === 'user') {
    session.userVariables.set(userVariableKey(a.name), await queryValue(session, a.value.sql, sink.signal));
    return;
  }
  const isDefault = a.value.kind === 'default';
  // A session variable set from an expression (`concat(@@sql_mode, ',STRICT_TRANS_TABLES')`)
  // takes what its SELECT returns in this session, then applies as a literal would.
  const value: SqlValue = isDefault ? null : a.value.kind === 'query' ? await queryValue(session, a.value.sql, sink.signal) : evalScalar(a.value as Parameters<typeof evalScalar>[0], bv);
  if (a.scope === 'user') {
    // Kept in the session only: statements read it as a bind var (see the planner's normalizer),
    // so it never lands on a pooled shard connection that other clients share.
    session.userVariables.set(userVariableKey(a.name), value);
    return;
  }
  // MySQL 8's name (the gateway announces 8.0) for what MariaDB 10.11 calls tx_isolation.
  const name = normalizeName(a.name).replace(/^transaction_isolation$/, 'tx_isolation');
  if (a.scope === 'global') {
    throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `SET GLOBAL ${name} is not supported through the gateway; set it on the shards`);
  }
  const text = valueText(value).toLowerCase();
  if (name === 'next_transaction_isolation') {
    const level = text.replace('-', ' ');
    if (!ISOLATION_LEVELS.has(level)) throw wrongValue('transaction_isolation', text);
    session.setNextTransactionIsolation(level.toUpperCase());
    return;
  }
  if (name === 'character_set_results' && !isDefault && text === 'binary') {
    // No conversion, and every character-string column reported as binary (63), as MariaDB does;
    // mysqldump sets it around SHOW CREATE TABLE. The shards keep sending utf8mb4: their column
    // metadata must keep naming real collations, which the gateway's merges compare strings by.
    session.info.resultCollation = BINARY_COLLATION;
    return;
  }
  // A NULL character_set_results (JDBC sends it) means "no conversion": the columns' utf8mb4 as is.
  if (CLIENT_CHARSET_VARIABLES.has(name) && !isDefault && value !== null && !UTF8_CHARSETS.has(text)) {
    throw unsupportedClientCharset(name, text);
  }
  switch (name) {
    case 'sql_select_limit': {
      if (isDefault) {
        session.selectLimit = undefined;
        return;
      }
      if (typeof value !== 'bigint') throw new ExecutorError(1232, '42000', "Incorrect argument type to variable 'sql_select_limit'");
      // Negative is 0 (MariaDB truncates it); 2^64-1, the default, is no limit.
      session.selectLimit = value < 0n ? 0n : value >= 18446744073709551615n ? undefined : value;
      return;
    }
    case 'workload':
      if (isDefault) session.workload = session.runtime.defaults.workload;
      else if (text === 'oltp' || text === 'olap') session.workload = text;
      else throw wrongValue(name, text);
      return;
    case 'transaction_mode':
      if (isDefault) session.transactionMode = session.runtime.defaults.transactionMode;
      else if (text === 'single' || text === 'multi') session.transactionMode = text;
      else throw wrongValue(name, text);
      return;
    case 'query_timeout':
    case 'query_timeout_ms': {
      if (isDefault) {
        session.queryTimeoutMs = session.runtime.defaults.queryTimeoutMs;
        return;
      }
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0) throw wrongValue(name, text);
      session.queryTimeoutMs = n;
      return;
    }
    case 'transaction_read_only':
    case 'tx_read_only':
    case 'next_transaction_read_only': {
      const on = text === '1' || text === 'on' || text === 'true';
      if (!isDefault && !on && !(text === '0' || text === 'off' || text === 'false')) throw wrongValue(name, text);
      session.setTransactionAccess(name === 'next_transaction_read_only' ? 'next' : 'session', isDefault ? false : on);
      return;
    }
    case 'last_insert_id':
    case 'identity': {
      // What LAST_INSERT_ID() then returns, as `SELECT LAST_INSERT_ID(n)` sets it.
      if (isDefault) throw new ExecutorError(1230, '42000', `Variable '${name}' doesn't have a default value`);
      if (typeof value !== 'bigint') throw new ExecutorError(1232, '42000', `Incorrect argument type to variable '${name}'`);
      session.lastInsertId = value < 0n ? 0n : value > 18446744073709551615n ? 18446744073709551615n : value;
      if (value < 0n) await outOfRange(session, name, value, sink.signal);
      return;
    }
    case 'autocommit': {
      const on = isDefault || text === '1' || text === 'on' || text === 'true';
      if (!on && !(text === '0' || text === 'off' || text === 'false')) throw wrongValue(name, text);
      // As in MySQL, switching autocommit on commits the open transaction.
      if (on && !session.autocommit) await session.commit();
      session.autocommit = on;
      return;
    }
  }
  if (name === 'sql_mode' && !isDefault) refuseLexicalSqlModes(text);
  if (CONNECTION_COLLATION_VARIABLES.has(name)) await setConnectionCollation(session, name, isDefault || value === null ? null : valueText(value), sink.signal);
  setResultCollation(session, name, isDefault ? null : text);
  // The gateway speaks utf8mb4 to the shards whatever the client uses (checked above).
  if (CONNECTION_COLLATION_VARIABLES.has(name) || CLIENT_CHARSET_VARIABLES.has(name) && name !== 'character_set_results') return;
  refuseUnsupportedValue(name, isDefault ? null : value);
  const handling = variableHandling(name);
  if (handling.kind === 'clientConnection') {
    await setClientConnectionVariable(session, name, handling.range, isDefault ? null : value, sink.signal);
    return;
  }
  if (handling.kind === 'defaultOnly') return;
  if (!isPlainVariableName(name)) throw unknownVariable(name);
  await setShardVariable(session, name, isDefault ? null : value);
  if (name === 'sql_mode') session.lexicalSqlMode = await readLexicalSqlMode(session, sink.signal);
}

/**
 * A value out of its variable's range: MariaDB clamps it with warning 1292, or under
 * STRICT_ALL_TABLES refuses it with 1231. Rare, so the session's sql_mode is asked of a shard
 * (it may be the shards' default, which the gateway does not keep).
 */
async function outOfRange(session: Session, name: string, value: SqlValue, signal: AbortSignal): Promise<void> {
  const sqlMode = (await shardText(session, 'SELECT @@session.sql_mode', signal)) ?? '';
  if (/\bSTRICT_ALL_TABLES\b/i.test(sqlMode)) throw wrongValue(name, valueText(value));
  session.warnings = [...session.warnings, { level: 'Warning', code: 1292, message: `Truncated incorrect ${name} value: '${valueText(value)}'` }];
}

function unknownVariable(name: string): ExecutorError {
  return new ExecutorError(1193, 'HY000', `Unknown system variable '${name}'`);
}

/** A defaultOnly variable (system-variables.ts) set to anything but its default: 1235. */
function refuseUnsupportedValue(name: string, value: SqlValue): void {
  const handling = variableHandling(name);
  if (handling.kind !== 'defaultOnly' || value === null || handling.defaults.has(valueText(value).toLowerCase())) return;
  throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This version of shardgate doesn't yet support 'SET ${name} = ${valueText(value)}': ${handling.why}`);
}

/**
 * A clientConnection variable (system-variables.ts): kept in the session for `SELECT @@name`,
 * never sent to a shard. The session_track_* ones are accepted and not kept: the gateway's OK
 * packets carry no session state, as before the SET.
 */
async function setClientConnectionVariable(session: Session, name: string, range: readonly [bigint, bigint] | null, value: SqlValue, signal: AbortSignal): Promise<void> {
  if (range === null) return;
  if (value === null) {
    session.clientConnectionVariables.delete(name);
    return;
  }
  if (typeof value !== 'bigint') throw new ExecutorError(1232, '42000', `Incorrect argument type to variable '${name}'`);
  const clamped = value < range[0] ? range[0] : value > range[1] ? range[1] : value;
  if (clamped !== value) await outOfRange(session, name, value, signal);
  session.clientConnectionVariables.set(name, clamped);
}

/**
 * The one value of `SELECT expr`, planned and run like any statement of the session (so a
 * subquery over sharded tables sees every shard), typed as the result column says.
 */
async function queryValue(session: Session, sql: string, signal: AbortSignal): Promise<SqlValue> {
  const sink = new RowsSink(signal);
  await session.runPreparedStatement(sql, [], sink);
  const field = sink.fields[0];
  const cell = sink.rows[0]?.[0] ?? null;
  if (cell !== null && field !== undefined && shownRounded(field)) {
    // Adding a DOUBLE zero gives the whole double with no fixed decimals, so its text is every
    // digit (3.141592653589793 for pi(), 1.100000023841858 for CAST(1.1 AS FLOAT)).
    const whole = new RowsSink(signal);
    await session.runPreparedStatement(`SELECT (${sql.slice('SELECT '.length)}) + 0e0`, [], whole);
    const wholeCell = whole.rows[0]?.[0] ?? null;
    if (wholeCell !== null) return new ColumnNumber(cellText(wholeCell), 'double', true);
  }
  return userVariableValue(cell, field);
}

/** MariaDB's decimals for a floating-point column whose digits are not fixed. */
const NOT_FIXED_DECIMALS = 31;

/**
 * A FLOAT, or a DOUBLE with fixed decimals (`pi()` is 3.141593): the text protocol rounds its
 * value to what the column shows, where the user variable MariaDB assigns holds the whole double.
 */
function shownRounded(field: FieldInfo): boolean {
  return field.columnType === ColumnType.FLOAT || (field.columnType === ColumnType.DOUBLE && field.decimals < NOT_FIXED_DECIMALS);
}

/** A cell as a user variable holds it: a DOUBLE stays a DOUBLE where it is read, also when whole (`2`). */
function userVariableValue(cell: Cell, field: FieldInfo | undefined): SqlValue {
  const value = cellToSqlValue(cell, field);
  return value instanceof ColumnNumber && value.kind === 'double' ? new ColumnNumber(value.text, 'double', true) : value;
}

/**
 * `SELECT … INTO @a, @b`: runs the SELECT as the session runs any, then assigns its one row, as
 * MariaDB does: a different column count is 1222, more than one row 1172, and no row leaves the
 * variables as they were with warning 1329. A value shownRounded is refused.
 */
async function runSelectInto(session: Session, sql: string, variables: readonly string[], sink: ResultSink): Promise<void> {
  const collected = new RowsSink(sink.signal);
  await session.runPreparedStatement(sql, [], collected);
  if (collected.fields.length !== variables.length) throw new ExecutorError(1222, '21000', 'The used SELECT statements have a different number of columns');
  if (collected.rows.length > 1) throw new ExecutorError(1172, '42000', 'Result consisted of more than one row');
  if (collected.rows.length === 0) {
    session.warnings = [{ level: 'Warning', code: 1329, message: 'No data - zero rows fetched, selected, or processed' }];
    sink.ok({ warnings: 1 });
    return;
  }
  const row = collected.rows[0]!;
  const values = collected.fields.map((field, i) => {
    const cell = row[i] ?? null;
    if (cell !== null && shownRounded(field)) {
      throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `This query is not supported by shardgate; not supported: SELECT … INTO @${variables[i]} of a FLOAT or a DOUBLE with fixed decimals (its text is rounded); use SET @${variables[i]} = (SELECT …)`);
    }
    return userVariableValue(cell, field);
  });
  variables.forEach((name, i) => session.userVariables.set(userVariableKey(name), values[i]!));
  sink.ok({});
}

/**
 * A ResultSink that keeps a result's columns and its first two rows (SET @x = … reads one value,
 * SELECT … INTO one row; a second row is enough to know there are too many).
 */
class RowsSink implements ResultSink {
  fields: readonly FieldInfo[] = [];
  readonly rows: Cell[][] = [];
  constructor(readonly signal: AbortSignal) {}
  columns(defs: readonly FieldInfo[]): void {
    this.fields = defs;
  }
  row(values: readonly (Uint8Array | string | null)[]): boolean {
    if (this.rows.length < 2) this.rows.push(values.map((v) => (typeof v === 'string' ? textCell(v) : v)));
    return true;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  end(): void {}
  ok(): void {}
}

/** Statements that set collation_connection (SET NAMES … COLLATE is `names_collate`). */
const CONNECTION_COLLATION_VARIABLES = new Set(['names', 'names_collate', 'character_set', 'character_set_connection', 'collation_connection']);

/**
 * Sets the session's collation_connection as MariaDB does for each statement: SET NAMES and SET
 * character_set_connection give the character set's default collation, SET CHARACTER SET the
 * database's (collation_database), SET NAMES … COLLATE x and SET collation_connection = x give x
 * (DEFAULT: the server's global one). A named collation is looked up on a shard, which knows the
 * same collations as one MariaDB: unknown is MariaDB's 1273, another character set's is refused
 * (MariaDB's 1253 after SET NAMES utf8mb4, 1235 for collation_connection: the gateway speaks
 * utf8mb4 only). From the next statement on, every shard statement runs in it (Session.query).
 */
async function setConnectionCollation(session: Session, name: string, value: string | null, signal: AbortSignal): Promise<void> {
  let collation: string;
  if (name === 'names' || name === 'character_set_connection') {
    collation = UTF8MB4_DEFAULT_COLLATION;
  } else if (name === 'character_set' || value === null) {
    const variable = name === 'character_set' ? '@@collation_database' : '@@global.collation_connection';
    const current = await shardText(session, `SELECT ${variable}`, signal);
    collation = utf8mb4CollationName(current ?? UTF8MB4_DEFAULT_COLLATION);
    if (!collation.startsWith('utf8mb4_')) throw unsupportedCollation(current ?? '');
  } else {
    const found = await namedUtf8mb4Collation(session, name, value, signal);
    collation = found.name;
    // SET NAMES … COLLATE x also makes x the collation results are reported in.
    if (name === 'names_collate') session.info.resultCollation = found.id;
  }
  session.connectionCollation = collation;
}

/** The utf8mb4 collation a SET names, with its id; MariaDB's error when there is none such. */
async function namedUtf8mb4Collation(session: Session, variable: string, value: string, signal: AbortSignal): Promise<{ name: string; id: number }> {
  const found = await findCollation(session, utf8mb4CollationName(value), signal);
  if (found === undefined) throw unknownCollation(value);
  if (found.charset !== 'utf8mb4') {
    if (variable === 'names_collate') throw new ExecutorError(1253, '42000', `COLLATION '${value}' is not valid for CHARACTER SET 'utf8mb4'`);
    throw unsupportedCollation(value);
  }
  return { name: found.name, id: found.id };
}

/**
 * A collation's name, character set and id as the shards know it, by name or (`SET
 * collation_connection = 46`, as MariaDB takes it) by id; undefined when they know none such.
 */
async function findCollation(session: Session, collation: string, signal: AbortSignal): Promise<{ name: string; charset: string; id: number } | undefined> {
  const collected = new CollectingReceiver();
  const where = /^\d+$/.test(collation) ? `ID = ${collation}` : `COLLATION_NAME = ${literalOf(collation)}`;
  const sql = `SELECT COLLATION_NAME, CHARACTER_SET_NAME, ID FROM information_schema.COLLATIONS WHERE ${where}`;
  await session.runOnShard(session.defaultKeyspace(), sql, collected, signal);
  const row = collected.collected[0];
  if (row === undefined || row[0] === null || row[1] === null || row[2] === null) return undefined;
  return { name: cellText(row[0]!).toLowerCase(), charset: cellText(row[1]!).toLowerCase(), id: Number(cellText(row[2]!)) };
}

/** The one text value of a statement run on one shard of the session's keyspace. */
async function shardText(session: Session, sql: string, signal: AbortSignal): Promise<string | null> {
  const collected = new CollectingReceiver();
  await session.runOnShard(session.defaultKeyspace(), sql, collected, signal);
  const cell = collected.collected[0]?.[0] ?? null;
  return cell === null ? null : cellText(cell);
}

/**
 * The result collation MariaDB reports character-string columns in follows character_set_results:
 * SET NAMES / SET CHARACTER SET / SET character_set_results make it the character set's default
 * (utf8mb4_general_ci: the gateway speaks utf8mb4 also to a client that says utf8), and SET NAMES
 * … COLLATE x makes it x. A NULL character_set_results (no conversion) leaves it as it is.
 */
function setResultCollation(session: Session, name: string, value: string | null): void {
  // DEFAULT (null here) is the server's utf8mb4 too; a NULL value (no conversion) keeps it as is.
  // SET NAMES … COLLATE x: setConnectionCollation sets x's id, once it knows it.
  if (name === 'names' || name === 'character_set' || (name === 'character_set_results' && value !== 'null')) {
    session.info.resultCollation = 45;
  }
}

/** Records a result-affecting variable and applies it to every connection the session holds. */
async function setShardVariable(session: Session, name: string, value: SqlValue): Promise<void> {
  const previous = session.systemVariables.get(name);
  const literal = value === null ? 'DEFAULT' : typeof value === 'bigint' || value instanceof ExactNumber ? value.toString() : literalOf(value);
  if (value === null) session.systemVariables.delete(name);
  else session.systemVariables.set(name, literal);
  try {
    if (session.reservations.size === 0 && value === null) {
      // Nothing to reset, but the name must still be one a shard knows (MariaDB's 1193).
      await shardText(session, `SELECT @@session.${name}`, new AbortController().signal);
    } else if (session.reservations.size === 0) {
      // Reserve one connection now: it validates the value (the shard rejects a bad one) and from
      // here on the session's statements run on connections that carry its variables.
      const ks = session.defaultKeyspace();
      const shard = session.runtime.routing.shardsOf(ks).shards[0];
      await session.query(ks, shard, 'SELECT 1', new AbortController().signal);
    } else {
      await session.applyToReserved(`SET SESSION ${name} = ${literal}`);
    }
  } catch (err) {
    if (previous === undefined) session.systemVariables.delete(name);
    else session.systemVariables.set(name, previous);
    throw err;
  }
}

/** MariaDB's default @@max_error_count: the conditions of a statement SHOW WARNINGS lists. */
const DEFAULT_MAX_ERROR_COUNT = 64;

/**
 * SHOW WARNINGS' columns as MariaDB describes them: Level VARCHAR(7), Code INT UNSIGNED (a client
 * reads it as a number), Message VARCHAR(512), all NOT NULL.
 */
const WARNINGS_FIELDS: readonly FieldInfo[] = [
  { ...textField('Level'), orgName: '', columnLength: 28, flags: ColumnFlag.NOT_NULL, decimals: 39 },
  { ...intField('Code'), orgName: '', columnType: ColumnType.LONG, columnLength: 4, flags: ColumnFlag.NOT_NULL | ColumnFlag.UNSIGNED | ColumnFlag.BINARY },
  { ...textField('Message'), orgName: '', columnLength: 2048, flags: ColumnFlag.NOT_NULL, decimals: 39 },
];

/** SHOW statements that leave the last statement's warnings (see runShow); `count` is SHOW COUNT(*) WARNINGS or ERRORS. */
const SHOWS_WITHOUT_TABLES: ReadonlySet<string> = new Set(['warnings', 'errors', 'count', 'processlist', 'grants']);

async function runShow(session: Session, st: Extract<SessionPrimitive['statement'], { kind: 'show' }>, sink: ResultSink, sql: string): Promise<void> {
  const what = st.what.toLowerCase().replace(/\s+/g, ' ').trim();
  const like = st.like !== undefined ? likeToRegExp(st.like) : null;
  // MariaDB answers these from information_schema's tables, and a statement that uses a table
  // clears the last statement's warnings; SHOW WARNINGS, ERRORS, PROCESSLIST and GRANTS use none.
  if (!SHOWS_WITHOUT_TABLES.has(what)) session.warnings = [];
  switch (what) {
    case 'processlist':
      await runShowProcesslist(session, st.full === true, sink);
      return;
    case 'databases':
    case 'schemas':
    case 'keyspaces': {
      // Sorted, as MariaDB lists databases.
      const names = [...session.runtime.keyspaceNames()].sort().filter((n) => !like || like.test(n));
      await sendRows(sink, [textField(st.like !== undefined ? `Database (${st.like})` : 'Database')], names.map((n) => [textCell(n)]));
      return;
    }
    case 'grants': {
      // The client's own account, as the gateway knows it: a shard would list its own user's
      // grants (the gateway's shard account). Any other account is not the gateway's to tell.
      const account = session.currentUserValue;
      const user = account.slice(0, account.lastIndexOf('@'));
      const m = /\bfor\s+(.*?)[\s;]*$/is.exec(sql);
      if (m !== null && !/^current_user\s*(\(\s*\))?$/i.test(m[1]!)) {
        const named = /^(?:`((?:[^`]|``)*)`|'((?:[^'\\]|\\.|'')*)'|"((?:[^"\\]|\\.|"")*)"|([\w$]+))(?:\s*@\s*\S+)?$/.exec(m[1]!);
        const name = named === null ? null : named[1]?.replace(/``/g, '`') ?? named[2]?.replace(/''/g, "'") ?? named[3]?.replace(/""/g, '"') ?? named[4];
        if (name !== user) throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: SHOW GRANTS FOR another account (the gateway answers for the client\'s own)');
      }
      const quoted = '`' + user.replace(/`/g, '``') + '`';
      await sendRows(sink, [textField(`Grants for ${account}`)], [[textCell(`GRANT ALL PRIVILEGES ON *.* TO ${quoted}@\`%\``)]]);
      return;
    }
    case 'count': {
      // SHOW COUNT(*) WARNINGS / ERRORS: the session's last statement's, as SELECT @@warning_count
      // answers them; a shard's pooled connection would count its own last statement's.
      const errors = /\berrors\b/i.test(sql);
      await runSystemSelect(session, [{ name: errors ? '@@session.error_count' : '@@session.warning_count', expr: errors ? '@@error_count' : '@@warning_count' }], sink);
      return;
    }
    case 'warnings':
    case 'errors': {
      // MariaDB keeps a statement's first @@max_error_count conditions (and counts the rest): each
      // shard kept that many of its own, so together they may hold more.
      const kept = Number(session.systemVariables.get('max_error_count') ?? DEFAULT_MAX_ERROR_COUNT);
      const ws = (what === 'errors' ? session.warnings.filter((w) => w.level === 'Error') : session.warnings).slice(0, Number.isFinite(kept) ? kept : DEFAULT_MAX_ERROR_COUNT);
      await sendRows(sink, WARNINGS_FIELDS, ws.map((w) => [textCell(w.level), textCell(String(w.code)), textCell(w.message)]));
      return;
    }
    case 'tables':
    case 'full tables': {
      // The planner reads FULL into st.full (SHOW FULL TABLES arrives as what 'tables').
      const full = what === 'full tables' || st.full === true;
      const ks = st.keyspace ?? session.defaultKeyspace();
      const collected = new CollectingReceiver();
      await session.withStatementSignal(sink, 0, (signal) => session.runOnShard(ks, full ? 'SHOW FULL TABLES' : 'SHOW TABLES', collected, signal));
      const names = new Map<string, Cell>();
      for (const r of collected.collected) if (r[0] !== null) names.set(Buffer.from(r[0]).toString('utf8'), r[1] ?? null);
      for (const t of vschemaTables(session, ks)) if (!names.has(t)) names.set(t, textCell('BASE TABLE'));
      const sorted = [...names.keys()].filter((n) => !like || like.test(n)).sort();
      // As MariaDB names it: `Tables_in_main (sa%)` under a LIKE.
      const fields = [textField(`Tables_in_${ks}${st.like !== undefined ? ` (${st.like})` : ''}`, ks)];
      if (full) fields.push(textField('Table_type', ks));
      await sendRows(sink, fields, sorted.map((n) => (full ? [textCell(n), names.get(n) ?? null] : [textCell(n)])));
      return;
    }
    default: {
      // SHOW VARIABLES, COLUMNS, CREATE TABLE, INDEX…: one shard answers for the keyspace.
      const ks = st.keyspace ?? session.defaultKeyspace();
      const shardSql = stripKeyspace(sql, session.runtime.keyspaceNames());
      const collected = new CollectingReceiver();
      await session.withStatementSignal(sink, 0, (signal) => session.runOnShard(ks, shardSql, collected, signal));
      // The shard's own database already reads as the keyspace (clientSchema); SHOW's columns name information_schema, as on MariaDB.
      await sendRows(sink, collected.fieldDefs ?? [], collected.collected);
    }
  }
}

/** Table names the vschema declares for a keyspace (tolerant of Map or record shapes). */
function vschemaTables(session: Session, ks: string): string[] {
  const tables = session.runtime.routing.vschema.keyspace(ks)?.tables;
  if (!tables) return [];
  if (tables instanceof Map) return [...tables.keys()].map(String);
  if (typeof tables === 'object') return Object.keys(tables as object);
  return [];
}

/** Drops `ks.` qualifiers and trailing `FROM ks` / `IN ks` so a shard (whose database is named differently) understands. */
export function stripKeyspace(sql: string, keyspaces: readonly string[]): string {
  let out = sql;
  for (const ks of keyspaces) {
    const k = ks.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`\`?${k}\`?\\.(?=[\`\\w])`, 'g'), '');
    out = out.replace(new RegExp(`\\s+(from|in)\\s+\`?${k}\`?(?=\\s*(like\\b|where\\b|;|$))`, 'gi'), '');
  }
  return out;
}

/** A system select's expression as localValue and asEvaluatedColumn match it: lower case, no blanks, `@@session.`/`@@local.` as `@@`. */
function systemExprKey(expr: string): string {
  return expr.toLowerCase().replace(/\s+/g, '').replace(/^@@(session\.|local\.)?/, '@@');
}

/**
 * A column the session answers itself described as MariaDB describes the function or variable it
 * evaluates: no original name (it is no table's column); a string `decimals` 39 and its length in
 * characters times 4 (a utf8mb4 connection's bytes per character); DATABASE() a nullable
 * VARCHAR(64), USER() and its kin VARCHAR(384); CONNECTION_ID() an INT UNSIGNED NOT NULL (a client
 * decodes an INT and a BIGINT differently: mysql2 with bigNumberStrings read the id as a string);
 * a boolean variable (@@autocommit) one character wide.
 */
function asEvaluatedColumn(expr: string, f: FieldInfo, cell: Cell): FieldInfo {
  const e = systemExprKey(expr);
  const base = { ...f, orgName: '' };
  if (e === 'connection_id()') return { ...base, columnType: ColumnType.LONG, columnLength: 10, flags: ColumnFlag.NOT_NULL | ColumnFlag.UNSIGNED | ColumnFlag.BINARY };
  if (e === '@@autocommit') return { ...base, columnLength: 1 };
  // LAST_INSERT_ID() is a BIGINT UNSIGNED NOT NULL in MariaDB.
  if (e === 'last_insert_id()') return { ...base, flags: ColumnFlag.NOT_NULL | ColumnFlag.UNSIGNED | ColumnFlag.BINARY };
  // FOUND_ROWS() is a BIGINT NOT NULL (signed).
  if (e === 'found_rows()') return { ...base, flags: ColumnFlag.NOT_NULL | ColumnFlag.BINARY };
  if (f.columnType !== ColumnType.VAR_STRING) return base;
  if (e === 'database()' || e === 'schema()') return { ...base, columnLength: 256, flags: 0, decimals: 39 };
  if (e === 'user()' || e === 'current_user()' || e === 'session_user()' || e === 'system_user()') return { ...base, columnLength: 1536, decimals: 39 };
  return { ...base, columnLength: 4 * (cell === null ? 0 : [...cellText(cell)].length), decimals: 39 };
}

async function runSystemSelect(session: Session, columns: readonly { name: string; expr: string }[], sink: ResultSink): Promise<void> {
  const local: (Cell | undefined)[] = [];
  const fields: (FieldInfo | undefined)[] = [];
  const forwarded: number[] = [];
  columns.forEach((c, i) => {
    const v = localValue(session, c.expr);
    if (v === undefined) {
      forwarded.push(i);
      return;
    }
    local[i] = v.cell;
    fields[i] = v.numeric ? intField(c.name) : textField(c.name);
    // MariaDB's unsigned system variables are BIGINT UNSIGNED (flags UNSIGNED | BINARY).
    if (v.unsigned === true) fields[i] = { ...fields[i]!, flags: ColumnFlag.UNSIGNED | ColumnFlag.BINARY };
    fields[i] = asEvaluatedColumn(c.expr, fields[i]!, v.cell);
  });
  if (forwarded.length > 0) {
    const ks = session.defaultKeyspace();
    const shardSql = `SELECT ${forwarded.map((i) => `${columns[i].expr.replace(/^(@@(?:session\.|local\.|global\.)?)transaction_(isolation|read_only)$/i, '$1tx_$2')} AS \`${columns[i].name.replace(/`/g, '``')}\``).join(', ')}`;
    const collected = new CollectingReceiver();
    await session.withStatementSignal(sink, 0, (signal) => session.runOnShard(ks, shardSql, collected, signal));
    const row = collected.collected[0] ?? [];
    forwarded.forEach((i, j) => {
      local[i] = row[j] ?? null;
      fields[i] = collected.fieldDefs?.[j] ?? textField(columns[i].name);
    });
  }
  await sendRows(sink, fields as FieldInfo[], [local.map((c) => c ?? null)]);
}

/**
 * `SELECT LAST_INSERT_ID(v)`: a shard of the session's keyspace computes it, so the column's name,
 * type and the conversion of v (-1 wraps, 2.7 rounds, NULL stays NULL) are MariaDB's own; the
 * session then keeps the value (0 for NULL), as MariaDB keeps it for the connection. The pooled
 * shard connection's own value is never read (LAST_INSERT_ID() is the session's).
 */
async function runSetLastInsertId(session: Session, arg: string, alias: string | undefined, sink: ResultSink): Promise<void> {
  const name = alias ?? `last_insert_id(${arg})`;
  const collected = new CollectingReceiver();
  const sql = `SELECT last_insert_id(${arg}) AS \`${name.replace(/`/g, '``')}\``;
  await session.withStatementSignal(sink, 0, (signal) => session.runOnShard(session.defaultKeyspace(), sql, collected, signal));
  const cell = collected.collected[0]?.[0] ?? null;
  session.lastInsertId = cell === null ? 0n : BigInt(cellText(cell));
  await sendRows(sink, collected.fieldDefs ?? [intField(name)], [[cell]]);
}

function localValue(session: Session, expr: string): { cell: Cell; numeric: boolean; unsigned?: boolean } | undefined {
  const e = systemExprKey(expr);
  const text = (s: string | null) => ({ cell: s === null ? null : textCell(s), numeric: false });
  const num = (n: bigint | number) => ({ cell: sqlValueToCell(BigInt(n)), numeric: true });
  // The client connection's own, once set in this session (setClientConnectionVariable).
  const kept = session.clientConnectionVariables.size > 0 && e.startsWith('@@') ? session.clientConnectionVariables.get(e.slice(2)) : undefined;
  if (kept !== undefined) return { cell: sqlValueToCell(kept), numeric: true, unsigned: true };
  switch (e) {
    case '@@version_comment':
      return text(ANNOUNCED_VERSION_COMMENT);
    case '@@version':
    case 'version()':
      // The version the gateway announces in its handshake (mysql-protocol's default).
      return text(ANNOUNCED_SERVER_VERSION);
    case '@@wait_timeout':
      // The gateway's, which it closes idle clients by (ExecutorSession.waitTimeoutSeconds).
      return { cell: sqlValueToCell(BigInt(session.waitTimeoutSeconds())), numeric: true, unsigned: true };
    case '@@last_insert_id':
    case '@@identity':
      // The session's, as LAST_INSERT_ID(): a pooled shard connection's is another client's.
      return { cell: sqlValueToCell(session.lastInsertId), numeric: true, unsigned: true };
    case '@@workload':
      return text(session.workload.toUpperCase());
    case '@@transaction_mode':
      return text(session.transactionMode.toUpperCase());
    case '@@query_timeout':
      return num(session.queryTimeoutMs);
    case '@@autocommit':
      return num(session.autocommit ? 1 : 0);
    case '@@sql_select_limit':
      return num(session.selectLimit ?? 18446744073709551615n);
    // The session's, not the pooled shard connection's; MySQL 8's names (the gateway announces
    // 8.0) answered as MariaDB 10.11's tx_ variables.
    case '@@tx_read_only':
    case '@@transaction_read_only':
      return num(session.readOnlyVariable ? 1 : 0);
    case '@@tx_isolation':
    case '@@transaction_isolation': {
      const level = session.systemVariables.get('tx_isolation');
      // Not set in this session: the shards' default, read from a shard under MariaDB's name.
      return level === undefined ? undefined : text(level.replace(/^'|'$/g, '').toUpperCase());
    }
    case 'database()':
    case 'schema()':
      return text(session.keyspace);
    case 'user()':
    case 'session_user()':
    case 'system_user()':
      // The user as the client logged in, from where it connected (MariaDB's USER()).
      return text(session.userValue);
    case 'current_user()':
      return text(session.currentUserValue);
    case 'connection_id()':
      return num(session.connectionIdValue);
    case 'last_insert_id()':
      return num(session.lastInsertId);
    case 'found_rows()':
      // Known only after statements whose effect on it the gateway mirrors (see found-rows.ts).
      if (session.foundRows === undefined) {
        throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: FOUND_ROWS() after a statement whose count the gateway cannot know as MariaDB keeps it (a new session, a failed statement, SHOW or EXPLAIN, a SELECT with an OFFSET or an aggregate without GROUP BY); it is known after other SELECTs, and kept by INSERT, UPDATE, DELETE and SET');
      }
      return num(session.foundRows);
    // The diagnostics of the session's last statement (what SHOW WARNINGS lists), not those of
    // whichever pooled shard connection would answer: as in MariaDB, errors count as warnings too.
    // Both BIGINT UNSIGNED, as MariaDB types them.
    case '@@warning_count':
      return { ...num(session.warningCount), unsigned: true };
    case '@@error_count':
      return { ...num(session.warnings.filter((w) => w.level === 'Error').length), unsigned: true };
    default:
      return undefined;
  }
}

/** The client's host as MariaDB's USER() shows it: the address without an IPv4-mapped prefix. */

// ---------------------------------------------------------------- SQL-level prepared statements

/** MariaDB's max_prepared_stmt_count default, applied per session to PREPARE. */
const MAX_PREPARED_STATEMENTS = 16382;
/** Statements a prepared statement may not hold (MariaDB: 1295). */
const NOT_PREPARABLE = new Set(['prepare', 'execute', 'deallocate']);

function unknownStatement(name: string, verb: string): ExecutorError {
  return new ExecutorError(1243, 'HY000', `Unknown prepared statement handler (${name}) given to ${verb}`);
}

function preparedValue(session: Session, v: PreparedValue): SqlValue {
  return v.kind === 'literal' ? v.value : (session.userVariables.get(v.name) ?? null);
}

/** The text a PREPARE or EXECUTE IMMEDIATE names; a user variable holding NULL is the text 'NULL', as in MariaDB. */
function statementText(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return value instanceof ExactNumber ? value.text : String(value);
}

function refuseUnpreparable(sql: string): void {
  let first = '';
  try {
    first = tokenize(sql).find((t) => t.kind !== 'directive' && t.kind !== 'verbatim')?.text.toLowerCase() ?? '';
  } catch {
    return; // the planner reports the syntax error
  }
  const drop = /^\s*drop\s+prepare\b/i.test(sql);
  if (NOT_PREPARABLE.has(first) || drop) throw new ExecutorError(1295, 'HY000', 'This command is not supported in the prepared statement protocol yet');
}

/**
 * `PREPARE name FROM text`: as in MariaDB, a statement of that name is dropped first, even when
 * the new text then fails to prepare.
 */
async function prepareStatement(session: Session, name: string, value: SqlValue): Promise<void> {
  // Read in the sql_mode of the PREPARE, as MariaDB parses it then.
  const sql = session.inSqlMode(statementText(value));
  session.preparedStatements.delete(name);
  refuseUnpreparable(sql);
  const paramCount = await session.checkPreparable(sql);
  if (session.preparedStatements.size >= MAX_PREPARED_STATEMENTS) {
    throw new ExecutorError(1461, '42000', `Can't create more than max_prepared_stmt_count statements (current value: ${MAX_PREPARED_STATEMENTS})`);
  }
  session.preparedStatements.set(name, { sql, paramCount, preparedIn: session.keyspace });
}

async function executePrepared(session: Session, st: Extract<SessionPrimitive['statement'], { kind: 'execute' }>, sink: ResultSink): Promise<void> {
  let sql: string;
  let paramCount: number;
  // EXECUTE IMMEDIATE prepares as it executes: its tables resolve in the current keyspace.
  let preparedIn: string | null | undefined;
  if (st.name !== undefined) {
    const stored = session.preparedStatements.get(st.name);
    if (stored === undefined) throw unknownStatement(st.name, 'EXECUTE');
    ({ sql, paramCount, preparedIn } = stored);
  } else {
    sql = session.inSqlMode(statementText(preparedValue(session, st.text!)));
    refuseUnpreparable(sql);
    paramCount = countPlaceholders(sql);
  }
  if (st.using.length !== paramCount) throw new ExecutorError(1210, 'HY000', 'Incorrect arguments to EXECUTE');
  await session.runPreparedStatement(sql, st.using.map((v) => preparedValue(session, v)), sink, preparedIn);
}
