/**
 * One client session: its keyspace, settings, transaction and reserved connections. It plans and
 * runs one statement at a time for the gateway, and is the ShardAccess of its statements.
 */
import { applyExecutableComments, doAsSelect, ignoreSpaceBeforeCalls, insertSetAsValues, tokenize, withDefaultQuoting, type BindVars, type LexicalSqlMode, type Plan, type PlannedQuery, type Primitive, type RoutePrimitive, type SavepointName, type SessionPrimitive, type SqlValue, type Token } from '@shardgate/planner';
import { ExecutorError, ER_NO_DB_ERROR, ER_UNKNOWN_ERROR, hasMysqlCode, queryInterrupted, rowLimitExceeded, transactionTimedOut } from './errors.js';
import { unknownDatabase } from './keyspace-routing.js';
import { QueryContext, unlistedWarnings, type LookupWriteOrder, type ShardAccess, type Warning } from './query-context.js';
import { CollectingReceiver, visibleColumns, type OkOutcome, type RowReceiver } from './row-flow.js';
import { renderTemplate } from './values/render-query.js';
import { runPrimitive } from './primitive-runner.js';
import { preparedColumns, type PrepareContext } from './prepared-columns.js';
import type { ExecutorRuntime } from './executor-runtime.js';
import { ReservationGroup, ShardReservations } from './shard-reservations.js';
import type { ShardConnection, ShardConnector, ShardResult, StreamHandlers } from './shard-pool.js';
import { SinkWriter } from './sink-writer.js';
import { rowsWithPackets, withRowPackets } from './row-packets.js';
import { runSessionStatement } from './session-statements.js';
import { type FoundRowsSink, foundRowsAfter, foundRowsSink } from './found-rows.js';
import { SelectLimitSink, selectLimitApplies } from './select-limit.js';
import { cellText } from './values/cell-compare.js';
import { collationNameOf } from './connection-collation.js';
import { UTF8MB4_GENERAL_CI } from './values/column-types.js';
import { StatementSignals } from './statement-signal.js';
import { OwnLookupRows } from './own-lookup-rows.js';
import { LookupRowLocks } from './lookup-row-locks.js';
import { DoResultSink } from './do-result-sink.js';
import type { DmlOutcome, ExecutorSession, FieldInfo, ResultSink, Row, TransactionMode, Workload } from './types.js';

/** MySQL's ER_NOT_SUPPORTED_YET, for constructs shardgate refuses. */
const ER_NOT_SUPPORTED_YET = 1235;
const QUERY_TIMEOUT_DIRECTIVE = /\/\*vt\+[^*]*\bQUERY_TIMEOUT_MS\s*=\s*(\d+)/i;
const SCATTER_WARNINGS_DIRECTIVE = /\/\*vt\+[^*]*\bSCATTER_ERRORS_AS_WARNINGS\b/i;

export interface SessionInfo {
  user: string;
  database?: string | null;
  connectionId?: number;
  /** The client's address (for USER()). */
  remoteAddress?: string;
  /**
   * The client's negotiated capability flags, read when an answer depends on them (the protocol
   * keeps this object current). Only CLIENT_FOUND_ROWS (0x2) matters here; absent = not set.
   */
  capabilities?: number;
  /**
   * The collation id character-string columns are reported in (the protocol keeps it on this
   * object and reads it for each result; SET NAMES changes it, see session-statements.ts).
   */
  resultCollation?: number;
  /** Closes the client's connection (KILL CONNECTION from another session); absent in tests without one. */
  disconnect?(): void;
}

/** Statement kinds a READ ONLY transaction refuses (DDL commits implicitly, as in MySQL). */
const WRITES: ReadonlySet<string> = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE']);
const ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION = 1792;

/** The lexical sql_mode flags of a session that never set sql_mode: MariaDB's default has none. */
export const DEFAULT_LEXICAL_SQL_MODE = Object.freeze({ ansiQuotes: false, pipesAsConcat: false, ignoreSpace: false });

/** CLIENT_FOUND_ROWS: the client wants UPDATE to count matched rather than changed rows. */
const CLIENT_FOUND_ROWS = 0x2;

export class Session implements ExecutorSession, ShardAccess {
  keyspace: string | null = null;
  /** Set by `USE ks:-80` / `ks[-80]`: statements go as-is to these shards. */
  targetShards: readonly string[] | null = null;
  autocommit = true;
  inTransaction = false;
  /**
   * The open transaction's savepoints, oldest first; empty outside a transaction. Replaced (never
   * mutated) by the session's own statements, which run one at a time; reserve() reads it.
   */
  private savepoints: readonly SavepointName[] = [];
  workload: Workload;
  transactionMode: TransactionMode;
  queryTimeoutMs: number;
  /** System variables applied to every shard connection the session uses (name → SQL literal). */
  readonly systemVariables = new Map<string, string>();
  /** The client connection's own numeric variables set in this session (wait_timeout…), never sent to a shard. */
  readonly clientConnectionVariables = new Map<string, bigint>();
  /**
   * The session's collation_connection (a utf8mb4 collation's name): from the handshake, then SET
   * NAMES … COLLATE, SET collation_connection and their kin (session-statements.ts). Every
   * statement the session sends a shard runs in it (StatementOptions.collation), so literals and
   * CAST results compare, sort and weigh as on one MariaDB the client connected to. Concurrency
   * rule: as userVariables (written by SET, read as each statement starts; one at a time).
   */
  connectionCollation: string;
  /**
   * User variables (`SET @x = ...`), by lower-cased unquoted name. They live here only: statements
   * read them as bind vars (the planner replaces `@x` with the value), and any statement that
   * would assign one on a shard connection is refused, since pooled connections are shared.
   * Concurrency rule: written only by SET (runSessionStatement), read only in the synchronous
   * planning step of a statement; a session runs one client statement at a time.
   */
  readonly userVariables = new Map<string, SqlValue>();
  /**
   * SQL-level prepared statements (`PREPARE name FROM …`), by lower-cased name: the text, its `?`
   * count and the keyspace it was prepared in (see ExecutorSession). Concurrency rule: as
   * userVariables (one client statement at a time); dropped with the session.
   */
  readonly preparedStatements = new Map<string, { readonly sql: string; readonly paramCount: number; readonly preparedIn: string | null }>();
  /**
   * The last statement's warnings as SHOW WARNINGS lists them; setting them (a statement's own,
   * or none) forgets the unlisted ones. Concurrency rule: as userVariables (one client statement
   * at a time).
   */
  get warnings(): readonly Warning[] {
    return this.listedWarnings;
  }

  set warnings(ws: readonly Warning[]) {
    this.setWarnings(ws, 0);
  }

  /** The last statement's warning count (the OK/EOF packet's, @@warning_count): listed or not. */
  get warningCount(): number {
    return this.listedWarnings.length + this.unlistedWarningCount;
  }

  private listedWarnings: readonly Warning[] = [];
  /** Warnings the shards counted but did not list (each lists at most @@max_error_count), as QueryContext.unlistedWarnings. */
  private unlistedWarningCount = 0;

  private setWarnings(ws: readonly Warning[], unlisted: number): void {
    this.listedWarnings = ws;
    this.unlistedWarningCount = unlisted;
  }

  /** The session's warnings as they stand, for restoreDiagnostics (a statement that raised none keeps them: see leavesDiagnostics). */
  diagnostics(): SessionDiagnostics {
    return { listed: this.listedWarnings, unlisted: this.unlistedWarningCount };
  }

  restoreDiagnostics(d: SessionDiagnostics): void {
    this.setWarnings(d.listed, d.unlisted);
  }

  /**
   * Access modes (MySQL's transaction_read_only): the open transaction's, the session default
   * (`SET SESSION TRANSACTION READ ONLY`) and the next transaction's only (`SET TRANSACTION READ
   * ONLY`, consumed by the next transaction or autocommitted statement). A read-only transaction's
   * shards join it with START TRANSACTION READ ONLY, and writes are refused before they run.
   */
  private transactionReadOnly = false;
  private readOnlyByDefault = false;
  private nextTransactionReadOnly: boolean | undefined = undefined;
  /**
   * The isolation level `SET TRANSACTION ISOLATION LEVEL` (no SESSION) gave the next transaction
   * only, and the open transaction's, taken from it as the access mode is. Each shard the
   * transaction reaches gets it right before its START TRANSACTION. The session's own level
   * (`SET SESSION TRANSACTION ISOLATION LEVEL`) is a shard variable, `tx_isolation`.
   */
  private transactionIsolation: string | undefined = undefined;
  private nextTransactionIsolation: string | undefined = undefined;
  lastInsertId = 0n;
  /**
   * The lexical flags of the session's sql_mode (see inSqlMode), read back from a shard after each
   * SET sql_mode. Concurrency rule: as userVariables (written by SET, read as each
   * statement starts; one client statement at a time).
   */
  lexicalSqlMode: LexicalSqlMode & { readonly ignoreSpace: boolean } = DEFAULT_LEXICAL_SQL_MODE;
  /**
   * sql_select_limit, when the session set one (undefined: none, MariaDB's 2^64-1). Concurrency
   * rule: as userVariables (one client statement at a time).
   */
  selectLimit: bigint | undefined = undefined;
  /**
   * What FOUND_ROWS() returns (see found-rows.ts); undefined when the gateway cannot know what one
   * MariaDB would return. Concurrency rule: written at the end of each client statement, read by
   * the next one; a session runs one client statement at a time.
   */
  foundRows: bigint | undefined = undefined;
  /** What the running statement's SQL_CALC_FOUND_ROWS counted (runStatement sets it). */
  private calcFoundRows: bigint | undefined = undefined;
  /** Whether the running statement's plan lets the session know FOUND_ROWS() after it (startPlanned sets it). */
  private foundRowsCountable = false;
  /** The running statement's plan, for what FOUND_ROWS() is after it (startPlanned sets it). */
  private foundRowsPlan: Plan | undefined = undefined;
  /** The running statement's LAST_INSERT_ID(expr) column (Plan.lastInsertIdColumn; startPlanned sets it). */
  private lastInsertIdColumn: number | undefined = undefined;
  /** Whether the running statement's FoundRowsSink must keep its last row (one closure per session). */
  private readonly keepsLastRow = (): boolean => this.lastInsertIdColumn !== undefined;
  readonly reservations: ShardReservations;
  /**
   * The pre and post transactions of consistent lookup vindexes (see LookupWriteOrder): lookup
   * rows are created in `preReservations`, committed before `reservations`, and deleted in
   * `postReservations`, committed after. Concurrency rule: as for `reservations` (ShardReservations
   * does its map work in reserve()'s synchronous prologue); they are only used while
   * `inTransaction`, and emptied at each commit or rollback.
   */
  private readonly preReservations: ShardReservations;
  private readonly postReservations: ShardReservations;
  /** See OwnLookupRows (its concurrency rule too); emptied at each commit or rollback. */
  private readonly ownLookupRowsOfTransaction = new OwnLookupRows();
  /** The lookup rows its pre and post transactions lock without owning (see LookupRowLocks); same rule as ownLookupRowsOfTransaction. */
  private readonly lookupRowLocksOfTransaction = new LookupRowLocks();
  /**
   * True while an autocommit statement that maintains lookup vindexes runs in a transaction of its
   * own (so its lookup rows and its rows commit or roll back together). Set and cleared by
   * runInImplicitTransaction; a session runs one client statement at a time.
   */
  private implicitTransaction = false;
  /**
   * Statements in flight. Concurrency rule: incremented synchronously when a statement starts and
   * decremented in its last synchronous step; close() waits until it is 0 (`whenIdle`).
   */
  private running = 0;
  /**
   * transactionTimeoutMs: armed when a statement ends inside a transaction, disarmed when the next
   * one starts; on expiry the transaction is rolled back and its shard connections go back to
   * their pools. Concurrency rule: armed/disarmed synchronously around `running`; the callback
   * acts only if no statement started meanwhile.
   */
  private idleTimer: NodeJS.Timeout | null = null;
  /** Set when the idle timer rolled the transaction back, until the client's next statement hears it. */
  private idleRolledBack = false;
  private whenIdle: (() => void) | null = null;
  private readonly closing = new AbortController();
  /**
   * Abort signals of the statements (one shared controller unless a timeout applies).
   * Concurrency rule: open() and each statement's close() run synchronously; a shared link stays
   * hooked while any statement holds it (see StatementSignals), so concurrent statements of this
   * session never lose their abort sources.
   */
  private readonly signals = new StatementSignals(this.closing.signal);
  /**
   * For SHOW PROCESSLIST: the client statement running now (null when idle) and when the session
   * entered that state (Date.now()). Written synchronously as a statement starts and ends.
   */
  private currentSql: string | null = null;
  private stateSince = Date.now();
  private closed: Promise<void> | null = null;
  /** Counts route variants for stats; one closure per session, not per statement. */
  private readonly countVariant = (variant: string): void => {
    const s = this.runtime.counters.queriesByVariant;
    s[variant] = (s[variant] ?? 0) + 1;
  };

  constructor(
    readonly runtime: ExecutorRuntime,
    readonly info: SessionInfo,
  ) {
    const d = runtime.defaults;
    this.connectionCollation = collationNameOf(info.resultCollation ?? UTF8MB4_GENERAL_CI);
    this.workload = d.workload;
    this.transactionMode = d.transactionMode;
    this.queryTimeoutMs = d.queryTimeoutMs;
    // One group for all three sets: a wait for a connection is bounded whenever the session holds
    // another one in any of them (see ReservationGroup), which is what rules out a pool deadlock.
    const group = new ReservationGroup();
    this.reservations = new ShardReservations((ks, shard) => runtime.connector(ks, shard), runtime.reservationMap?.(), group);
    this.preReservations = new ShardReservations((ks, shard) => runtime.connector(ks, shard), undefined, group);
    this.postReservations = new ShardReservations((ks, shard) => runtime.connector(ks, shard), undefined, group);
    if (info.database) this.selectDatabase(info.database);
    this.userValue = `${info.user}@${clientHost(info.remoteAddress)}`;
    // The account it was authenticated as: the gateway's users are not host-bound.
    this.currentUserValue = `${info.user}@%`;
    this.connectionIdValue = BigInt(info.connectionId ?? 0);
  }

  /** USER(), CURRENT_USER() and CONNECTION_ID() of this session (fixed at login; see SESSION_BINDS). */
  readonly userValue: string;
  readonly currentUserValue: string;
  readonly connectionIdValue: bigint;

  /** The session's own values in a statement's binds (planner's SESSION_BINDS). */
  private bindSessionValues(bv: BindVars): void {
    bv.__vtdbname = this.keyspace;
    bv.__lastInsertId = this.lastInsertId;
    bv.__vtuser = this.userValue;
    bv.__vtcurrentuser = this.currentUserValue;
    bv.__vtconnectionid = this.connectionIdValue;
    bv.__vtautocommit = this.autocommit ? 1n : 0n;
  }

  // ---------------------------------------------------------------- ExecutorSession

  execute(sql: string, sink: ResultSink, params?: readonly SqlValue[], preparedIn?: string | null): Promise<void> {
    const text = statementText(sql);
    // DO runs as the SELECT of its expressions, answered with an OK (doAsSelect, DoResultSink).
    const doSelect = doAsSelect(text);
    if (doSelect !== null) return this.executeStatement(doSelect, new DoResultSink(sink), params, preparedIn);
    return this.executeStatement(text, sink, params, preparedIn);
  }

  /** The parameter count and the result columns of a statement (see preparedColumns). */
  async prepare(text: string): Promise<{ paramCount: number; columns: readonly FieldInfo[]; preparedIn: string | null }> {
    const sql = statementText(text);
    const paramCount = countPlaceholders(sql);
    const preparedIn = this.keyspace;
    // A session targeting shards sends statements as written: their columns come with the execute.
    // A DO has none: it answers OK.
    if (this.targetShards !== null || this.closing.signal.aborted || doAsSelect(sql) !== null) return { paramCount, columns: [], preparedIn };
    const context: PrepareContext = {
      planner: this.runtime.planner,
      routing: this.runtime.routing,
      keyspace: this.keyspace,
      userVariables: this.userVariables,
      maxMemoryRows: this.runtime.defaults.maxMemoryRows,
      connectionCollation: this.connectionCollation,
      autonomous: (ks, shard, fn, signal) => this.autonomous(ks, shard, fn, signal),
    };
    const columns = await this.withStatementSignal(null, this.queryTimeoutMs, (signal) => preparedColumns(context, sql, paramCount, signal));
    return { paramCount, columns, preparedIn };
  }

  async useDatabase(name: string): Promise<void> {
    this.selectDatabase(name);
  }

  status(): { inTransaction: boolean; autocommit: boolean } {
    return { inTransaction: this.inTransaction, autocommit: this.autocommit };
  }

  inSqlMode(sql: string): string {
    const mode = this.lexicalSqlMode;
    if (mode.ansiQuotes || mode.pipesAsConcat) sql = withDefaultQuoting(sql, mode);
    return mode.ignoreSpace ? ignoreSpaceBeforeCalls(sql) : sql;
  }

  waitTimeoutSeconds(): number {
    const set = this.clientConnectionVariables.get('wait_timeout');
    return set === undefined ? this.runtime.defaults.waitTimeoutSeconds : Number(set);
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private armIdleTransaction(): void {
    const ms = this.runtime.defaults.transactionTimeoutMs;
    if (ms <= 0 || this.idleTimer !== null) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.running > 0 || !this.inTransaction || this.closed !== null) return;
      this.idleRolledBack = true;
      this.runtime.counters.transactionTimeouts++;
      void this.rollback().catch(() => undefined);
    }, ms);
    // An idle transaction must not keep the process alive on its own.
    this.idleTimer.unref();
  }

  private disarmIdleTransaction(): void {
    if (this.idleTimer === null) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private async shutdown(): Promise<void> {
    this.disarmIdleTransaction();
    this.reservations.close();
    this.preReservations.close();
    this.postReservations.close();
    this.closing.abort(queryInterrupted('session closed'));
    if (this.running > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
    this.signals.dispose();
    this.inTransaction = false;
    await Promise.all([this.reservations.releaseAll(), this.preReservations.releaseAll(), this.postReservations.releaseAll()]);
    this.runtime.sessionClosed(this);
  }

  // ---------------------------------------------------------------- KILL and SHOW PROCESSLIST

  /**
   * KILL QUERY: the running statement stops with 1317 (70100), shard statements included (their
   * connections get KILL QUERY, as on a query timeout); an idle session is left as it is, as in
   * MariaDB. A transaction stays open.
   */
  interrupt(): void {
    if (this.running > 0) this.signals.interrupt(queryInterrupted('KILL QUERY'));
  }

  /** KILL CONNECTION: stops the running statement and closes the client's connection (which closes this session). */
  disconnect(): void {
    this.interrupt();
    this.info.disconnect?.();
  }

  /** What SHOW PROCESSLIST shows of this session. */
  processState(): { readonly sql: string | null; readonly since: number; readonly database: string | null } {
    return { sql: this.currentSql, since: this.stateSince, database: this.keyspace };
  }

  // ---------------------------------------------------------------- keyspace selection

  /** `ks`, `ks:-80` (one shard), `ks[-80]` (shards of a key range), `ks@primary`. */
  selectDatabase(name: string): void {
    let ks = name.trim();
    let target: string | null = null;
    ks = ks.replace(/@\w+$/, '');
    const colon = /^([^:[\]]+):(.+)$/.exec(ks);
    const bracket = /^([^:[\]]+)\[(.*)\]$/.exec(ks);
    if (colon) [ks, target] = [colon[1], colon[2]];
    else if (bracket) [ks, target] = [bracket[1], bracket[2]];
    if (!this.runtime.hasKeyspace(ks)) throw unknownDatabase(name);
    const shards = target === null ? null : this.runtime.routing.shardsOf(ks).shardsFor(target);
    this.keyspace = ks;
    this.targetShards = shards;
  }

  // ---------------------------------------------------------------- statements

  /**
   * Counts, guards and runs one statement (planAndRun), then keeps what the session remembers of
   * it (FOUND_ROWS(), LAST_INSERT_ID(expr), the error as a warning). Not async: a `then` over the
   * statement's promise, as the point select's other layers, since an async frame per statement
   * was a visible share of its heap allocation.
   */
  private executeStatement(sql: string, sink: ResultSink, params?: readonly SqlValue[], preparedIn?: string | null): Promise<void> {
    this.runtime.counters.queries++;
    if (this.running++ === 0) {
      this.currentSql = sql;
      this.stateSince = Date.now();
    }
    this.disarmIdleTransaction();
    let reply: FoundRowsSink;
    let run: Promise<void>;
    try {
      if (this.closing.signal.aborted) throw queryInterrupted('session closed');
      if (this.idleRolledBack) {
        // The client has not heard that its transaction is gone: tell it once, on whatever it sends
        // next, except ROLLBACK, which asked for what already happened.
        this.idleRolledBack = false;
        if (!ROLLBACK_STATEMENT.test(sql)) throw transactionTimedOut(this.runtime.defaults.transactionTimeoutMs);
      }
      // lastRow is read only for LAST_INSERT_ID(expr), which startPlanned sets before any row.
      reply = foundRowsSink(sink, this.keepsLastRow);
      this.calcFoundRows = undefined;
      this.foundRowsCountable = false;
      this.foundRowsPlan = undefined;
      this.lastInsertIdColumn = undefined;
      // Rows past sql_select_limit never reach the client, nor FOUND_ROWS()'s count.
      const limited = this.selectLimit !== undefined && selectLimitApplies(sql) ? new SelectLimitSink(reply, this.selectLimit) : reply;
      run = this.planAndRun(sql, limited, params, preparedIn);
    } catch (err) {
      return Promise.reject(this.statementEnded(true, err));
    }
    return run.then(
      () => {
        try {
          this.keepStatementResults(sql, reply);
        } catch (err) {
          throw this.statementEnded(true, err);
        }
        this.statementEnded(false, undefined);
      },
      (err: unknown) => {
        throw this.statementEnded(true, err);
      },
    );
  }

  /** What a statement that succeeded leaves behind: LAST_INSERT_ID(expr)'s value, FOUND_ROWS(). */
  private keepStatementResults(sql: string, reply: FoundRowsSink): void {
    if (this.lastInsertIdColumn !== undefined && reply.lastRow !== null) {
      // As MariaDB keeps the last value LAST_INSERT_ID(expr) returned: NULL sets 0.
      const cell = reply.lastRow[this.lastInsertIdColumn] ?? null;
      this.lastInsertId = cell === null ? 0n : BigInt(typeof cell === 'string' ? cell : cellText(cell));
    }
    this.foundRows = foundRowsAfter(sql, reply, this.foundRowsCountable ? this.calcFoundRows : null, this.foundRows, this.foundRowsPlan);
  }

  /**
   * The end of executeStatement, `failed` with `err` (then returned as the error to reject with) or
   * not: the error's accounting, then the session's running count and idle timer.
   */
  private statementEnded(failed: boolean, err: unknown): unknown {
    let failure: unknown;
    if (failed) {
      this.foundRows = undefined;
      const stats = this.runtime.counters;
      stats.errors++;
      // As in MariaDB, SHOW WARNINGS after a failed statement lists its error.
      if (hasMysqlCode(err)) this.warnings = [{ level: 'Error', code: err.errno, message: err.message }];
      const code = hasMysqlCode(err) ? String(err.errno) : 'other';
      stats.errorsByCode[code] = (stats.errorsByCode[code] ?? 0) + 1;
      failure = hasMysqlCode(err) ? err : new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', err instanceof Error ? err.message : String(err));
    }
    if (this.running === 1 && this.inTransaction) this.armIdleTransaction();
    if (--this.running === 0) {
      this.currentSql = null;
      this.stateSince = Date.now();
      this.signals.clearInterrupt();
      if (this.whenIdle !== null) {
        const wake = this.whenIdle;
        this.whenIdle = null;
        wake();
      }
    }
    return failure;
  }

  /**
   * Plans one statement and runs it: the gateway answers Session statements itself, other plans
   * go to the shards. Also the body of a SQL-level EXECUTE (see runPreparedStatement).
   */
  private planAndRun(sql: string, sink: ResultSink, params?: readonly SqlValue[], preparedIn?: string | null): Promise<void> {
    // Not async, nor is runPlanned: a cached plan goes to its runner with no promise of their own.
    // A variable, not a literal argument: PlannerLike does not declare userVariables (a planner
    // that ignores them still plans), @shardgate/planner's Planner reads them.
    // No params for a text query: a `?` in it is then a syntax error, as in MariaDB, not a missing value.
    // A prepared statement's tables resolve in the keyspace of its PREPARE (see ExecutorSession).
    const request = { keyspace: preparedIn === undefined ? this.keyspace : preparedIn, params, userVariables: this.userVariables };
    let p: PlannedQuery | Promise<PlannedQuery>;
    try {
      p = this.runtime.planner.plan(sql, request);
    } catch (err) {
      return this.runUnplanned(sql, sink, err);
    }
    if (p instanceof Promise) {
      return p.then(
        (planned) => this.runPlanned(sql, planned, sink),
        (err: unknown) => this.runUnplanned(sql, sink, err),
      );
    }
    return this.runPlanned(sql, p, sink);
  }

  /**
   * A statement the planner refused. A session targeting a shard sends what the planner does not
   * understand as-is, but never a statement with a user variable: it would be read or assigned on
   * the shard connection, which is pooled (the planner refuses assignments for that reason).
   */
  private runUnplanned(sql: string, sink: ResultSink, err: unknown): Promise<void> {
    if (this.targetShards === null || mentionsUserVariable(sql)) return Promise.reject(err);
    return this.runPlanned(sql, null, sink);
  }

  /** Runs a planned statement (or, on a shard target, an unplanned one); failures are rejections. */
  private runPlanned(sql: string, planned: PlannedQuery | null, sink: ResultSink): Promise<void> {
    try {
      return this.startPlanned(sql, planned, sink);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private startPlanned(sql: string, planned: PlannedQuery | null, sink: ResultSink): Promise<void> {
    const top = planned?.plan.instructions;
    // A statement sent as written to a shard target counts as that target's shards count it.
    this.foundRowsCountable = planned !== null && planned.plan.foundRowsUncertain !== true && this.targetShards === null;
    this.foundRowsPlan = planned?.plan;
    this.lastInsertIdColumn = planned?.plan.lastInsertIdColumn;
    if (top?.operator === 'Session') return runSessionStatement(this, top as SessionPrimitive, planned!.bindVars, sink, sql);
    if (this.targetShards !== null && mentionsUserVariable(sql)) {
      // runTargeted sends the statement as written, so `@x` would not get the session's value.
      throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: user variables in a statement sent as written to a shard target (USE ks:shard)');
    }
    if (!this.autocommit && !this.inTransaction) {
      this.inTransaction = true;
      this.transactionReadOnly = this.takeNextAccessMode();
    }
    // Outside a transaction the statement is its own transaction, with the next access mode.
    const readOnly = this.inTransaction ? this.transactionReadOnly : this.takeNextAccessMode();
    if (readOnly && planned !== null && WRITES.has(planned.plan.queryType)) {
      // Refused before anything runs: the gateway's own lookup-vindex writes would not be.
      throw new ExecutorError(ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION, '25006', 'Cannot execute statement in a READ ONLY transaction');
    }
    if (this.targetShards === null && top !== undefined && needsOwnTransaction(top, planned!.bindVars)) {
      if (!this.inTransaction) return this.runInImplicitTransaction(sql, planned, sink);
      if (!this.implicitTransaction) return this.runWithStatementSavepoint(sql, planned, sink);
    }
    if (top !== undefined && this.targetShards === null && this.workload === 'oltp' && !this.mustBuffer && isWholeUnshardedRead(planned!.plan.queryType, top)) {
      return this.runUnshardedRead(sql, planned!, top as RoutePrimitive, sink);
    }
    return this.runStatement(sql, planned, sink);
  }

  /**
   * `EXECUTE`: runs a statement text kept by PREPARE (or given to EXECUTE IMMEDIATE) with its `?`
   * bound to the USING values, planned like any statement. The caller (runSessionStatement) runs
   * inside executeStatement, which counts and guards the statement once.
   */
  runPreparedStatement(text: string, params: readonly SqlValue[], sink: ResultSink, preparedIn?: string | null): Promise<void> {
    const sql = statementText(text);
    if (this.targetShards !== null && params.length > 0) {
      // A statement the planner does not plan goes to the target as written, without its values.
      throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', 'This query is not supported by shardgate; not supported: EXECUTE … USING with a shard target (USE ks:shard)');
    }
    return this.planAndRun(sql, sink, params, preparedIn);
  }

  /**
   * Checks a PREPARE text the way MariaDB's PREPARE does: it must plan. The values of its `?` are
   * not known yet, so it is planned with NULLs, then with zeros where NULL cannot stand (LIMIT ?);
   * the second attempt's error is the one reported.
   */
  async checkPreparable(text: string): Promise<number> {
    const sql = statementText(text);
    const paramCount = countPlaceholders(sql);
    let lastError: unknown;
    for (const placeholder of [null, 0] as const) {
      try {
        const request = { keyspace: this.keyspace, params: new Array<SqlValue>(paramCount).fill(placeholder), userVariables: this.userVariables };
        const p = this.runtime.planner.plan(sql, request);
        if (p instanceof Promise) await p;
        return paramCount;
      } catch (err) {
        lastError = err;
      }
    }
    // A session targeting a shard sends what the planner does not understand as-is (see planAndRun).
    if (this.targetShards !== null && !mentionsUserVariable(sql)) return paramCount;
    throw lastError;
  }

  /** Settings of one statement (directives override session values). */
  private statementContext(sql: string, signal: AbortSignal): QueryContext {
    return new QueryContext(
      this,
      this.runtime.routing,
      {
        workload: this.workload,
        maxMemoryRows: this.runtime.defaults.maxMemoryRows,
        // Directives live in comments: most statements have none, and indexOf is far cheaper than the regex.
        scatterErrorsAsWarnings: sql.includes('/*') && SCATTER_WARNINGS_DIRECTIVE.test(sql),
        divPrecisionIncrement: this.systemVariables.size === 0 ? 4 : Number(this.systemVariables.get('div_precision_increment') ?? 4),
        ...(this.systemVariables.has('group_concat_max_len') && this.systemVariables.get('group_concat_max_len') != null ? { groupConcatMaxLen: Number(this.systemVariables.get('group_concat_max_len')) } : {}),
        keyspace: this.keyspace,
      },
      signal,
      this.countVariant,
    );
  }

  private timeoutFor(sql: string, planned: PlannedQuery | null): number {
    const m = sql.includes('/*') ? QUERY_TIMEOUT_DIRECTIVE.exec(sql) : null;
    if (m) return Number(m[1]);
    const fromPlan = planned ? routeTimeoutOf(planned.plan.instructions) : undefined;
    return fromPlan ?? this.queryTimeoutMs;
  }

  /**
   * Runs a row-returning or row-changing plan. OLTP reads the whole result (checking
   * maxMemoryRows) before the first row goes out; OLAP streams with backpressure.
   */
  private async runStatement(sql: string, planned: PlannedQuery | null, sink: ResultSink, beforeReply?: () => Promise<void>): Promise<void> {
    const statement = this.signals.open(sink.signal, this.timeoutFor(sql, planned));
    try {
      const signal = statement.signal;
      const ctx = this.statementContext(sql, signal);
      // This call's own bind vars (see PlannedQuery.bindVars): extended in place, not copied (a
      // copy of a 50,000-literal statement's binds held the event loop for tens of ms).
      const bv: BindVars = planned === null ? {} : planned.bindVars;
      this.bindSessionValues(bv);
      let outcome: OkOutcome | void;
      let result: CollectingReceiver | null = null;
      const writer = new SinkWriter(sink, signal);
      if (planned === null || this.targetShards !== null) {
        outcome = await this.runTargeted(ctx, sql, planned, writer);
      } else if (ctx.settings.workload === 'oltp') {
        // Only writeCollected reads this result: rows with packets go out as them when the sink takes them.
        result = new CollectingReceiver((n) => ctx.holdRows(n), true, writer.takesPacketRows);
        outcome = await runPrimitive(ctx, planned.plan.instructions, bv, result);
      } else {
        outcome = await runPrimitive(ctx, planned.plan.instructions, bv, writer);
      }
      // An implicit transaction commits before the client hears OK, so a failed commit is its error.
      if (beforeReply !== undefined) await beforeReply();
      if (result !== null) {
        const written = writeCollected(writer, result);
        if (written !== undefined) await written;
      }
      const flushed = writer.flushed();
      if (flushed !== undefined) await flushed;
      // The statement's own count goes in its reply; its warnings replace the session's unless it
      // raised none and used no table (leavesDiagnostics).
      const own = ctx.warnings.length + ctx.unlistedWarnings.count;
      if (own > 0 || !leavesDiagnostics(planned)) this.setWarnings(ctx.warnings, ctx.unlistedWarnings.count);
      this.calcFoundRows = ctx.foundRows;
      if (outcome && !writer.fieldsSent) {
        if (outcome.insertId !== 0n) this.lastInsertId = outcome.insertId;
        // DML counts as one MariaDB gives them to this client (see DmlOutcome).
        const dml = outcome as OkOutcome & Partial<DmlOutcome>;
        const counts = ((this.info.capabilities ?? 0) & CLIENT_FOUND_ROWS) !== 0 && dml.foundRows !== undefined ? dml.foundRows : dml;
        sink.ok({ affectedRows: counts.affectedRows, lastInsertId: outcome.insertId, warnings: own, info: outcome.info ?? counts.infoText });
      } else {
        if (!writer.fieldsSent) writer.fields([]);
        this.runtime.counters.rowsReturned += writer.rowCount;
        sink.end({ warnings: own });
      }
    } finally {
      statement.close();
    }
  }

  /**
   * runStatement for the commonest OLTP statement, a read of an unsharded keyspace's one shard on
   * a pooled connection (a point select): what runStatement → runPrimitive → runRoute → shardRows
   * do for it, with the same shard query, row limit, warnings and reply, in one `then` over the
   * shard's result and no async function: each async layer cost a promise, a suspended frame and
   * a microtask turn per statement (~700 bytes of heap for this one).
   */
  private runUnshardedRead(sql: string, planned: PlannedQuery, route: RoutePrimitive, sink: ResultSink): Promise<void> {
    const statement = this.signals.open(sink.signal, this.timeoutFor(sql, planned));
    let result: Promise<ShardResult>;
    let keyspace: string;
    let shard: string;
    try {
      const signal = statement.signal;
      if (signal.aborted) throw signal.reason;
      this.countVariant(route.variant);
      const bv = planned.bindVars;
      this.bindSessionValues(bv);
      keyspace = route.keyspace.name;
      shard = this.runtime.routing.shardsOf(keyspace).shards[0];
      result = this.query(keyspace, shard, renderTemplate(route.query, bv), signal);
    } catch (err) {
      statement.close();
      return Promise.reject(err);
    }
    return result.then(
      (r) => {
        let pending: Promise<void> | undefined;
        try {
          pending = this.replyUnshardedRead(r, keyspace, shard, statement.signal, sink, leavesDiagnostics(planned));
        } catch (err) {
          statement.close();
          throw err;
        }
        if (pending === undefined) {
          statement.close();
          return undefined;
        }
        return pending.finally(() => statement.close());
      },
      (err: unknown) => {
        statement.close();
        throw err;
      },
    );
  }

  /**
   * The reply of runUnshardedRead: written at once (undefined) unless the client's socket is full
   * or the result is longer than one chunk; then a promise of the rest.
   */
  private replyUnshardedRead(r: ShardResult, keyspace: string, shard: string, signal: AbortSignal, sink: ResultSink, leaves: boolean): Promise<void> | undefined {
    if (!r.isResultSet) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `expected rows from ${keyspace}/${shard}, got an OK packet`);
    const warnings: Warning[] = r.warnings !== undefined ? [...r.warnings] : [];
    const maxRows = this.runtime.defaults.maxMemoryRows;
    if (r.rows.length > maxRows) throw rowLimitExceeded(maxRows, 'oltp');
    const writer = new SinkWriter(sink, signal);
    writer.fields(r.fields);
    let written: Promise<void> | undefined;
    if (r.rows.length > 0) {
      // The shard's own chunk, packets and all (row-packets.ts): no copy of the rows on the way
      // to the writer, which only reads them. Longer results go in 512-row chunks as in runStatement.
      written = r.rows.length <= 512 ? writer.rows(r.rows, r.packets) : writeCollected(writer, collected(r.fields, rowsWithPackets(r)));
    }
    const finish = (): void => {
      const unlisted = unlistedWarnings(r.warningCount, warnings.length);
      const own = warnings.length + unlisted;
      if (own > 0 || !leaves) this.setWarnings(warnings, unlisted);
      this.runtime.counters.rowsReturned += writer.rowCount;
      sink.end({ warnings: own });
    };
    if (written === undefined) {
      const flushed = writer.flushed();
      if (flushed === undefined) {
        finish();
        return undefined;
      }
      return flushed.then(finish);
    }
    return written.then(() => writer.flushed()).then(finish);
  }

  /**
   * An autocommit INSERT/UPDATE/DELETE that maintains lookup vindexes or writes every copy of a
   * reference table (see needsOwnTransaction): the statement runs in a
   * transaction of its own, committed (pre, main, post) before the client hears OK, or rolled back
   * on any error, so a failed write leaves no lookup row behind. It runs in `multi` mode whatever
   * the session's mode: the client asked for one autocommitted statement, not a transaction.
   */
  private async runInImplicitTransaction(sql: string, planned: PlannedQuery | null, sink: ResultSink): Promise<void> {
    this.inTransaction = true;
    this.implicitTransaction = true;
    try {
      await this.runStatement(sql, planned, sink, async () => {
        this.implicitTransaction = false;
        await this.commit();
      });
    } catch (err) {
      this.implicitTransaction = false;
      await this.rollback().catch(() => undefined);
      throw err;
    }
  }

  /**
   * In a transaction, a write that may reach several shards or maintains lookup rows (see
   * needsOwnTransaction) is undone whole when it fails, as a failed statement is on one MariaDB
   * (the transaction stays open with the earlier statements' changes): a savepoint is set on every
   * shard of the transaction first (shards the statement reaches later replay it as they join,
   * pre and post connections included), and an error rolls back to it. Without it a duplicate key
   * on one shard left the rows another shard had written, and the lookup rows written before the
   * owner row failed. On success the savepoint is only forgotten: the next one of the same name
   * replaces it on the shards, saving a round trip per statement.
   */
  private async runWithStatementSavepoint(sql: string, planned: PlannedQuery | null, sink: ResultSink): Promise<void> {
    await this.savepoint(STATEMENT_SAVEPOINT);
    const forget = () => (this.savepoints = this.savepoints.filter((x) => x !== STATEMENT_SAVEPOINT));
    try {
      await this.runStatement(sql, planned, sink);
      forget();
    } catch (err) {
      if (hasMysqlCode(err) && err.errno === ER_LOCK_DEADLOCK) {
        // MariaDB ends the whole transaction on a deadlock: so do the shards that did not see it.
        forget();
        await this.rollback().catch(() => undefined);
        throw err;
      }
      if (this.inTransaction && this.savepoints.includes(STATEMENT_SAVEPOINT)) {
        try {
          await this.rollbackToSavepoint(STATEMENT_SAVEPOINT);
        } catch (undo) {
          // The statement's part-done writes cannot be undone alone: the whole transaction goes,
          // and the client hears so rather than committing a half statement later.
          forget();
          await this.rollback().catch(() => undefined);
          const why = hasMysqlCode(undo) ? undo.message : String(undo);
          throw new ExecutorError(ER_ERROR_DURING_ROLLBACK, 'HY000', `the statement failed (${hasMysqlCode(err) ? err.message : String(err)}) and undoing it failed (${why}): the transaction was rolled back`);
        }
        forget();
      }
      throw err;
    }
  }

  /** `USE ks:-80`: the statement goes as-is to the targeted shard(s). */
  private async runTargeted(ctx: QueryContext, sql: string, planned: PlannedQuery | null, out: RowReceiver): Promise<OkOutcome | void> {
    const ks = this.keyspace!;
    const shards = this.targetShards ?? [this.runtime.routing.shardsOf(ks).shards[0]];
    ctx.onRouteVariant('ByDestination');
    let affected = 0n;
    let insertId = 0n;
    let rowsSeen = false;
    await Promise.all(
      shards.map(async (shard) => {
        const r = await ctx.access.query(ks, shard, sql, ctx.signal);
        if (r.isResultSet) {
          rowsSeen = true;
          ctx.holdRows(r.rows.length);
          out.fields(r.fields);
          if (r.rows.length > 0) await out.rows(r.rows.slice());
        } else {
          affected += r.affectedRows;
          if (r.insertId !== 0n) insertId = r.insertId;
        }
      }),
    );
    void planned;
    return rowsSeen ? undefined : { affectedRows: affected, insertId };
  }

  /** The abort signal of one statement: client disconnect, session close, or query timeout. */
  async withStatementSignal<T>(sink: ResultSink | null, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const statement = this.signals.open(sink?.signal ?? null, timeoutMs);
    try {
      return await fn(statement.signal);
    } finally {
      statement.close();
    }
  }

  // ---------------------------------------------------------------- transactions

  async begin(readOnly?: boolean): Promise<void> {
    if (this.inTransaction) await this.commit();
    this.inTransaction = true;
    this.transactionReadOnly = readOnly ?? this.takeNextAccessMode();
  }

  /** `SET [SESSION] TRANSACTION READ ONLY | READ WRITE`. */
  setTransactionAccess(scope: 'session' | 'next', readOnly: boolean): void {
    if (scope === 'session') this.readOnlyByDefault = readOnly;
    else {
      if (this.inTransaction) throw new ExecutorError(1568, '25001', 'Transaction characteristics can\'t be changed while a transaction is in progress');
      this.nextTransactionReadOnly = readOnly;
    }
  }

  /** `SET TRANSACTION ISOLATION LEVEL x`: the next transaction's level only. */
  setNextTransactionIsolation(level: string): void {
    if (this.inTransaction) throw new ExecutorError(1568, '25001', 'Transaction characteristics can\'t be changed while a transaction is in progress');
    this.nextTransactionIsolation = level;
  }

  /** @@transaction_read_only as MariaDB shows it: the next transaction's mode, else the session's. */
  get readOnlyVariable(): boolean {
    return this.nextTransactionReadOnly ?? this.readOnlyByDefault;
  }

  /** The access mode of a transaction starting now (the one-shot mode and isolation are used up). */
  private takeNextAccessMode(): boolean {
    const readOnly = this.nextTransactionReadOnly ?? this.readOnlyByDefault;
    this.nextTransactionReadOnly = undefined;
    this.transactionIsolation = this.nextTransactionIsolation;
    this.nextTransactionIsolation = undefined;
    return readOnly;
  }

  // ---------------------------------------------------------------- savepoints

  /** `SAVEPOINT name`: outside a transaction there is nothing to mark (MariaDB answers OK too). */
  async savepoint(name: SavepointName): Promise<void> {
    if (!this.inTransaction) return;
    await this.onTransactionShards(`SAVEPOINT ${name.sql}`);
    // A name set again moves to the end (MariaDB replaces the older savepoint of that name).
    this.savepoints = [...this.savepoints.filter((s) => s.key !== name.key), name];
    this.ownLookupRowsOfTransaction.savepoint(name.key);
    this.lookupRowLocksOfTransaction.savepoint(name.key);
  }

  /** `ROLLBACK TO SAVEPOINT name`: later savepoints are gone; this one stays. */
  async rollbackToSavepoint(name: SavepointName): Promise<void> {
    const at = this.savepointIndex(name);
    await this.onTransactionShards(`ROLLBACK TO SAVEPOINT ${name.sql}`);
    this.savepoints = this.savepoints.slice(0, at + 1);
    this.ownLookupRowsOfTransaction.rollbackTo(name.key);
    this.lookupRowLocksOfTransaction.rollbackTo(name.key);
  }

  /** `RELEASE SAVEPOINT name`: this savepoint and later ones are gone. */
  async releaseSavepoint(name: SavepointName): Promise<void> {
    const at = this.savepointIndex(name);
    await this.onTransactionShards(`RELEASE SAVEPOINT ${name.sql}`);
    this.savepoints = this.savepoints.slice(0, at);
  }

  private savepointIndex(name: SavepointName): number {
    const at = this.inTransaction ? this.savepoints.findIndex((s) => s.key === name.key) : -1;
    if (at < 0) throw new ExecutorError(1305, '42000', `SAVEPOINT ${name.name} does not exist`);
    return at;
  }

  private savepointNames(): readonly string[] {
    // Most transactions set none: no array per reserved statement then.
    return this.savepoints.length === 0 ? NO_STATEMENTS : this.savepoints.map((s) => s.sql);
  }

  /** Pre, the session's own shards, then post: a savepoint covers lookup rows as well. */
  private async onTransactionShards(sql: string): Promise<void> {
    await this.preReservations.onTransactionShards(sql);
    await this.reservations.onTransactionShards(sql);
    await this.postReservations.onTransactionShards(sql);
  }

  async commit(): Promise<void> {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    this.savepoints = [];
    this.ownLookupRowsOfTransaction.clear();
    this.lookupRowLocksOfTransaction.clear();
    this.transactionReadOnly = false;
    this.transactionIsolation = undefined;
    try {
      await this.commitInOrder();
    } finally {
      await this.releaseAfterTransaction();
    }
  }

  /**
   * Pre, then the session's own shards, then post (Vitess's commit order for consistent lookups):
   * whatever fails part-way, a committed row always has its lookup row, and an orphan lookup row
   * is the worst case (readers tolerate it: it routes to a shard that has no such row).
   */
  private async commitInOrder(): Promise<void> {
    try {
      await this.preReservations.commit();
    } catch (err) {
      await this.reservations.rollback();
      await this.postReservations.rollback();
      throw err;
    }
    try {
      await this.reservations.commit();
    } catch (err) {
      await this.postReservations.rollback();
      throw err;
    }
    try {
      await this.postReservations.commit();
    } catch (err) {
      // The client's rows are committed; only lookup deletions were lost, leaving orphan lookup
      // rows. Failing the COMMIT would be untrue, so the client gets a warning instead.
      const why = hasMysqlCode(err) ? err.message : String(err);
      this.setWarnings([...this.warnings, { level: 'Warning', code: ER_UNKNOWN_ERROR, message: `lookup rows left behind (orphans) after commit: ${why}` }], this.unlistedWarningCount);
    }
  }

  async rollback(): Promise<void> {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    this.savepoints = [];
    this.ownLookupRowsOfTransaction.clear();
    this.lookupRowLocksOfTransaction.clear();
    this.transactionReadOnly = false;
    this.transactionIsolation = undefined;
    try {
      await this.postReservations.rollback();
      await this.reservations.rollback();
      await this.preReservations.rollback();
    } finally {
      await this.releaseAfterTransaction();
    }
  }

  /** Connections that carry no session state go back to their pools; pre/post never outlive a transaction. */
  private async releaseAfterTransaction(): Promise<void> {
    const clean = this.systemVariables.size === 0;
    if (clean) await this.reservations.releaseClean();
    await Promise.all([this.preReservations, this.postReservations].map((r) => (clean ? r.releaseClean() : r.releaseAll())));
  }

  /** SET statements for a fresh reserved connection, from the session's system variables. */
  setupStatements(): readonly string[] {
    if (this.systemVariables.size === 0) return NO_STATEMENTS;
    return [`SET SESSION ${[...this.systemVariables].map(([k, v]) => `${k} = ${v}`).join(', ')}`];
  }

  // ---------------------------------------------------------------- ShardAccess

  get mustBuffer(): boolean {
    return this.inTransaction || this.systemVariables.size > 0 || this.reservations.size > 0;
  }

  private get reserved(): boolean {
    return this.mustBuffer;
  }

  /** `sql` on the session's reserved connection to the shard (see ShardReservations.query). */
  private queryReserved(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    return this.reservations.query(keyspace, shard, sql, {
      inTransaction: this.inTransaction,
      savepoints: this.savepointNames(),
      readOnly: this.transactionReadOnly && !this.implicitTransaction,
      isolation: this.implicitTransaction ? undefined : this.transactionIsolation,
      transactionMode: this.implicitTransaction ? 'multi' : this.transactionMode,
      setup: this.setupStatements(),
      collation: this.connectionCollation,
      signal,
      read: SELECT_STATEMENT.test(sql),
    });
  }

  /** Not async: a pooled statement is one promise (queryOnce); every failure is a rejection all the same. */
  query(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    if (this.reserved) return this.queryReserved(keyspace, shard, sql, signal);
    let connector: ShardConnector;
    try {
      connector = this.runtime.connector(keyspace, shard);
    } catch (err) {
      return Promise.reject(err);
    }
    if (connector.queryOnce !== undefined) return connector.queryOnce(sql, signal, this.connectionCollation);
    return this.queryPooled(connector, sql, signal);
  }

  private async queryPooled(connector: ShardConnector, sql: string, signal: AbortSignal): Promise<ShardResult> {
    const conn = await connector.acquire(signal);
    try {
      return await conn.query(sql, { signal, collation: this.connectionCollation });
    } finally {
      await conn.release(false);
    }
  }

  async stream(keyspace: string, shard: string, sql: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
    if (this.reserved) {
      // Reserved connections run one statement at a time: read the whole result, then hand it on.
      const r = await this.queryReserved(keyspace, shard, sql, signal);
      if (r.warnings !== undefined || r.warningCount > 0) handlers.warnings?.(r.warnings ?? [], r.warningCount);
      handlers.fields(r.fields);
      if (r.rows.length > 0) await handlers.rows(r.rows.slice());
      return;
    }
    const conn = await this.runtime.connector(keyspace, shard).acquire(signal);
    try {
      await conn.stream(sql, handlers, { signal, collation: this.connectionCollation });
    } finally {
      await conn.release(false);
    }
  }

  async autonomous<T>(keyspace: string, shard: string, fn: (conn: ShardConnection) => Promise<T>, signal: AbortSignal): Promise<T> {
    const conn = await this.reservations.acquireUnreserved(keyspace, shard, signal);
    let ok = false;
    try {
      const r = await fn(conn);
      ok = true;
      return r;
    } finally {
      await conn.release(!ok);
    }
  }

  get ownLookupRows(): OwnLookupRows | undefined {
    return this.inTransaction ? this.ownLookupRowsOfTransaction : undefined;
  }

  get lookupRowLocks(): LookupRowLocks | undefined {
    return this.inTransaction ? this.lookupRowLocksOfTransaction : undefined;
  }

  async rollbackPostOn(keyspace: string, shard: string): Promise<void> {
    await this.postReservations.rollbackShard(keyspace, shard);
  }

  lookupWrite(keyspace: string, shard: string, sql: string, order: LookupWriteOrder, signal: AbortSignal): Promise<ShardResult> {
    return this.onLookupConnection(keyspace, shard, sql, order, signal);
  }

  lookupRead(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    // The pre transaction: where consistent lookups write their rows (see ShardAccess.lookupRead).
    return this.onLookupConnection(keyspace, shard, sql, 'pre', signal);
  }

  /** `sql` on the connection of the transaction `order` names (see LookupWriteOrder); outside a transaction, as query() (or pooled, for `autocommit`). */
  private async onLookupConnection(keyspace: string, shard: string, sql: string, order: LookupWriteOrder, signal: AbortSignal): Promise<ShardResult> {
    if (order === 'autocommit') return this.autonomous(keyspace, shard, (conn) => conn.query(sql, { signal }), signal);
    if (!this.inTransaction) return this.query(keyspace, shard, sql, signal);
    const reservations = order === 'pre' ? this.preReservations : order === 'post' ? this.postReservations : this.reservations;
    const conn = await reservations.reserve(keyspace, shard, {
      inTransaction: true,
      savepoints: this.savepointNames(),
      // Pre and post transactions are the gateway's own: the single-shard rule is for the client's.
      transactionMode: order === 'normal' && !this.implicitTransaction ? this.transactionMode : 'multi',
      setup: this.setupStatements(),
      signal,
      vindexOnly: true,
    });
    return conn.query(sql, { signal, collation: this.connectionCollation });
  }

  /** Applies changed system variables to every connection the session holds. */
  async applyToReserved(sql: string): Promise<void> {
    const all = [...this.reservations.all(), ...this.preReservations.all(), ...this.postReservations.all()];
    for (const r of all) {
      const conn = await r.connection;
      await conn.query(sql);
    }
  }

  /** Runs a statement (SHOW, system SELECT) on one shard through the session's connections. */
  async runOnShard(keyspace: string, sql: string, out: RowReceiver, signal: AbortSignal): Promise<void> {
    const shard = this.runtime.routing.shardsOf(keyspace).shards[0];
    const r = await this.query(keyspace, shard, sql, signal);
    out.fields(r.fields);
    if (r.rows.length > 0) await out.rows(r.rows.slice());
  }

  /** The keyspace statements without a keyspace run against (current, else the first one). */
  defaultKeyspace(): string {
    const ks = this.keyspace ?? this.runtime.keyspaceNames()[0];
    if (!ks) throw new ExecutorError(ER_NO_DB_ERROR, '3D000', 'No database selected');
    return ks;
  }
}

/**
 * An OLTP result read whole, to the client: its columns, then its rows (as the shard's packets
 * when every row is a shard row as it came, see row-packets.ts). Undefined when written at once.
 */
function writeCollected(writer: SinkWriter, result: CollectingReceiver): Promise<void> | undefined {
  if (result.fieldDefs === null) return undefined;
  writer.fields(result.fieldDefs);
  // The usual OLTP result: written in one go, awaiting only if the client socket is full. Chunk by
  // chunk as they came, each with its own packets (row-packets.ts), not copied into one array; a
  // chunk that waits for drain() holds back the ones after it, and its failure stops them.
  if (result.size <= 512) {
    const chunks = result.chunks;
    for (let i = 0; i < chunks.length; i++) {
      const waiting = writer.rows(chunks[i]);
      if (waiting !== undefined) return writeChunksAfter(writer, chunks, i + 1, waiting);
    }
    return undefined;
  }
  return writeInChunks(writer, result.collected, result.packets);
}

/** A shard result as a CollectingReceiver that keeps its packets (writeCollected's input). */
function collected(fields: readonly FieldInfo[], rows: Row[]): CollectingReceiver {
  const result = new CollectingReceiver(undefined, true);
  result.fields(fields);
  result.rows(rows);
  return result;
}

/** writeCollected's chunks from `from` on, once `waiting` (the chunk before) is written. */
async function writeChunksAfter(writer: SinkWriter, chunks: readonly Row[][], from: number, waiting: Promise<void>): Promise<void> {
  await waiting;
  for (let i = from; i < chunks.length; i++) {
    const next = writer.rows(chunks[i]);
    if (next !== undefined) await next;
  }
}

/** The warnings SHOW WARNINGS lists and those only counted (Session.diagnostics). */
export interface SessionDiagnostics {
  readonly listed: readonly Warning[];
  readonly unlisted: number;
}

/**
 * Whether a statement that raised no warning leaves the previous statement's (SHOW WARNINGS,
 * @@warning_count) as they are: MariaDB clears them only for a statement that uses a table, so
 * `SELECT 1` (a connection pool's ping), `SELECT @a` or `SELECT NOW()` keep them, while a statement
 * reading any table, a derived one included, clears them. Its own count, 0, is still its reply's.
 * A statement the gateway did not plan, or with a FROM clause (Plan.fromClause), clears them.
 */
function leavesDiagnostics(planned: PlannedQuery | null): boolean {
  return planned !== null && planned.plan.tablesUsed.length === 0 && planned.plan.fromClause !== true;
}

async function writeInChunks(writer: SinkWriter, rows: Row[], packets: CollectingReceiver['packets']): Promise<void> {
  for (let i = 0; i < rows.length; i += 512) {
    const chunk = rows.slice(i, i + 512);
    await writer.rows(packets === null ? chunk : withRowPackets(chunk, packets.sources.slice(i, i + 512), packets.bounds.slice(2 * i, 2 * (i + 512))));
  }
}

/**
 * A plan that is one read of an unsharded keyspace, every column shown: what runUnshardedRead
 * runs (one shard, rows passed on as they come, nothing trimmed, merged or evaluated here).
 */
function isWholeUnshardedRead(queryType: string, p: Primitive): boolean {
  if (queryType !== 'SELECT' || p.operator !== 'Route') return false;
  const route = p as RoutePrimitive;
  return route.variant === 'Unsharded' && visibleColumns(route) === undefined;
}

/**
 * The savepoint runWithStatementSavepoint sets before a statement in a transaction. Its key
 * cannot be a client's (a client's key is its name, lowercased), so ROLLBACK TO / RELEASE of a
 * client savepoint never finds it; its SQL name is unlikely enough not to meet a client's.
 */
const STATEMENT_SAVEPOINT: SavepointName = { name: 'shardgate statement', key: '\u0000statement', sql: '`__shardgate_statement`' };
const ER_ERROR_DURING_ROLLBACK = 1181;
const ER_LOCK_DEADLOCK = 1213;

/**
 * Whether an autocommitted write runs in a transaction of its own (runInImplicitTransaction), so
 * that it takes effect on every shard it reaches or on none, as one statement does on one MariaDB:
 * a duplicate key on one shard must not leave another shard's rows of the same INSERT written (or
 * a scatter UPDATE half done). Writes that maintain lookup vindexes, and writes to a reference
 * table of a sharded keyspace (which change every shard's copy), need it for the same reason.
 */
function needsOwnTransaction(p: Primitive, bv: BindVars): boolean {
  if (p.operator === 'Insert') {
    if ((p.ownedVindexes?.length ?? 0) > 0 || p.variant === 'Reference') return true;
    // INSERT … SELECT: how many rows, and to how many shards, is known only once they are read.
    if (p.source !== undefined) return p.variant === 'Sharded';
    const rows = bv[p.rowsBind];
    return p.variant === 'Sharded' && Array.isArray(rows) && rows.length > 1;
  }
  if (p.operator === 'Update' || p.operator === 'Delete') {
    if ((p.ownedVindexes?.length ?? 0) > 0) return true;
    const v = p.route.variant;
    return v !== 'EqualUnique' && v !== 'Unsharded' && v !== 'DBA';
  }
  return false;
}

/** The empty list of setup or savepoint statements, shared (frozen: no holder may add to it). */
const NO_STATEMENTS: readonly string[] = Object.freeze([]);
/**
 * A statement the gateway sends a shard that only reads (ShardReservations' `read`): a SELECT,
 * after optional comments. Anything else counts as a possible write.
 */
const SELECT_STATEMENT = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*select\b/i;

/** `ROLLBACK` (after optional comments): answered normally after an idle transaction was rolled back. */
const ROLLBACK_STATEMENT = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*rollback\b/i;

/**
 * The plan's route timeout, found once per plan: plans are immutable and shared, and walking one
 * with Object.values on every execution showed up in point-select profiles. Concurrency rule:
 * a WeakMap written synchronously; two sessions computing the same plan store the same value.
 */
const routeTimeouts = new WeakMap<Primitive, number | null>();

function routeTimeoutOf(p: Primitive): number | undefined {
  let t = routeTimeouts.get(p);
  if (t === undefined) {
    t = findRouteTimeout(p) ?? null;
    routeTimeouts.set(p, t);
  }
  return t ?? undefined;
}

function findRouteTimeout(p: Primitive): number | undefined {
  const anyP = p as unknown as Record<string, unknown>;
  if (typeof anyP.queryTimeoutMs === 'number') return anyP.queryTimeoutMs;
  for (const v of Object.values(anyP)) {
    if (v && typeof v === 'object') {
      if (Array.isArray(v)) {
        for (const item of v) {
          if (item && typeof item === 'object' && 'operator' in item) {
            const t = findRouteTimeout(item as Primitive);
            if (t !== undefined) return t;
          }
        }
      } else if ('operator' in v) {
        const t = findRouteTimeout(v as Primitive);
        if (t !== undefined) return t;
      }
    }
  }
  return undefined;
}

/**
 * Whether a statement names a user variable (`@x`, also inside a `/*! … *\/` comment). Only
 * statements sent as written (a shard target) ask; text the lexer rejects counts when it has an
 * `@` that does not start `@@`.
 */
function mentionsUserVariable(sql: string): boolean {
  if (!sql.includes('@')) return false;
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch {
    return /(^|[^@])@(?!@)/.test(sql);
  }
  for (const t of tokens) {
    if (t.kind === 'uservar') return true;
    if (t.kind === 'verbatim' && /(^|[^@])@(?!@)/.test(t.text)) return true;
  }
  return false;
}

/** Counts `?` placeholders outside quotes and comments. */
export function countPlaceholders(sql: string): number {
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const q = c;
      i++;
      while (i < sql.length && sql[i] !== q) {
        if (sql[i] === '\\' && q !== '`') i++;
        i++;
      }
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '#') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '?') n++;
  }
  return n;
}

/** The client's host as USER() shows it (`127.0.0.1`, not `::ffff:127.0.0.1`). */
function clientHost(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined || remoteAddress === '') return '%';
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}

/**
 * A client's statement text as the planner takes it: MySQL executable comments applied, and
 * INSERT … SET written as INSERT … VALUES (the same statement; see insertSetAsValues).
 */
function statementText(text: string): string {
  return insertSetAsValues(applyExecutableComments(text));
}
