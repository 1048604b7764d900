/**
 * Adapts one client connection of the MySQL listener to one executor session.
 *
 * The protocol package and the executor agree structurally on ResultSink and column metadata, so
 * this adapter forwards calls; around each statement it times it (metrics, plan statistics, the
 * slow-query log) and tracks whether one is running (the drain on SIGTERM waits for those).
 */
import type { ExecutorSession } from '@shardgate/executor';
import { Capability, type ColumnDefinition, type ConnectionInfo, type ParamValue, type ResultSink, type SessionHandler } from '@shardgate/mysql-protocol';
import { ignoreSpaceBeforeCalls, syntaxError } from '@shardgate/planner';
import type { GatewayLog } from './logger.js';
import { statementType, type GatewayMetrics } from './metrics.js';
import type { QueryPlanStats, StatementContext } from './query-plan-stats.js';
import type { RecentActivity } from './recent-activity.js';
import { splitStatements } from './statement-splitter.js';

/** What every session of one gateway shares. */
export interface SessionServices {
  readonly metrics: GatewayMetrics;
  readonly planStats: QueryPlanStats;
  readonly activity: RecentActivity;
  readonly log: GatewayLog;
  readonly slowQueryMs: number;
  readonly defaultWorkload: string;
  /** Sessions of this gateway; the session adds and removes itself. */
  readonly sessions: Set<ClientSessionHandler>;
  /** True once the gateway drains: new statements are refused with 1053. */
  draining(): boolean;
  /** Called when a statement ends, so a drain can notice the last one. */
  statementEnded(): void;
}

const ER_SERVER_SHUTDOWN = { errno: 1053, sqlState: '08S01', message: 'Server shutdown in progress' };

/** Forwards to the client's sink and counts the rows (one small object per statement). */
class RowCountingSink implements ResultSink {
  rows = 0;
  readonly signal: AbortSignal;

  /** takeRawRows where `out` has rawRows (the shared prototype function: nothing allocated per statement). */
  readonly rawRows: ResultSink['rawRows'];

  constructor(private readonly out: ResultSink) {
    this.signal = out.signal;
    this.rawRows = out.rawRows !== undefined ? this.takeRawRows : undefined;
  }

  private takeRawRows(sources: readonly Uint8Array[], bounds: readonly number[], from: number, to: number): number {
    const taken = this.out.rawRows!(sources, bounds, from, to);
    this.rows += taken - from;
    return taken;
  }

  columns(defs: readonly ColumnDefinition[]): void {
    this.out.columns(defs);
  }

  row(values: readonly (Uint8Array | string | null)[]): boolean {
    this.rows++;
    return this.out.row(values);
  }

  rawRow(source: Uint8Array, start: number, end: number, values: readonly (Uint8Array | null)[]): boolean {
    this.rows++;
    return this.out.rawRow !== undefined ? this.out.rawRow(source, start, end, values) : this.out.row(values);
  }

  get acceptsRowPackets(): boolean {
    return this.out.acceptsRowPackets === true && this.out.rowPackets !== undefined;
  }

  rowPackets(source: Uint8Array, start: number, end: number, count: number): boolean {
    this.rows += count;
    return this.out.rowPackets!(source, start, end, count);
  }

  drain(): Promise<void> {
    return this.out.drain();
  }

  end(info?: Parameters<ResultSink['end']>[0]): void {
    this.out.end(info);
  }

  ok(info?: Parameters<ResultSink['ok']>[0]): void {
    this.out.ok(info);
  }

  error(err: Parameters<ResultSink['error']>[0]): void {
    this.out.error(err);
  }
}

export class ClientSessionHandler implements SessionHandler {
  /** Statements running now: 0 or 1 (the protocol runs one command at a time per connection). */
  running = 0;

  constructor(
    private readonly session: ExecutorSession,
    private readonly services: SessionServices,
    /** The connection's live info: its capabilities follow COM_SET_OPTION. */
    private readonly connection?: ConnectionInfo,
    /** Told of each statement text before any work on it, so that a stall can be attributed to it. */
    private readonly onStatement?: (sql: string) => void,
  ) {
    services.metrics.sessionOpened();
    services.sessions.add(this);
  }

  query(sql: string, out: ResultSink): Promise<void> {
    this.onStatement?.(sql);
    sql = this.asClientMeant(sql);
    // Fast path: most queries have no `;` at all, so they need no splitting.
    if (sql.includes(';')) {
      const statements = splitStatements(sql);
      if (statements.length > 1) {
        // Without CLIENT_MULTI_STATEMENTS, MySQL parses the text as one statement and fails at the
        // second one: a client that did not ask for batches (the usual guard against injected
        // `; drop table …`) must never have them run.
        if (!this.multiStatementsAllowed()) {
          out.error(syntaxError(sql, sql.indexOf(statements[1]!, sql.indexOf(';'))));
          return Promise.resolve();
        }
        return this.queryMany(statements, out);
      }
      if (statements.length === 1) sql = statements[0];
    }
    return this.observe(sql, out, undefined);
  }

  /**
   * A statement's text as MariaDB reads it for this client: its last byte, if a NUL, ends it (C
   * clients may send the terminator; MariaDB's lexer takes a NUL at the end as the end of input,
   * one anywhere else outside a string as a syntax error, which the planner gives too). MariaDB
   * drops trailing blanks and `;` before its lexer reads the text (alloc_query), so a NUL before
   * them is at the end too. Under CLIENT_IGNORE_SPACE, `count (*)` is `count(*)`.
   */
  private asClientMeant(sql: string): string {
    let end = sql.length;
    // Usually no step at all: most texts end in neither a blank nor `;`.
    while (end > 0 && isTrailingDropped(sql.charCodeAt(end - 1))) end--;
    if (end > 0 && sql.charCodeAt(end - 1) === 0) sql = sql.slice(0, end - 1);
    const caps = this.connection?.capabilities;
    return caps !== undefined && (caps & Capability.IGNORE_SPACE) !== 0 ? ignoreSpaceBeforeCalls(sql) : sql;
  }

  private multiStatementsAllowed(): boolean {
    const caps = this.connection?.capabilities;
    return caps === undefined || (caps & Capability.MULTI_STATEMENTS) !== 0;
  }

  /**
   * CLIENT_MULTI_STATEMENTS: every result but the last carries SERVER_MORE_RESULTS_EXISTS. As in
   * MySQL, the first error ends the batch: the client gets it in place of the remaining results.
   */
  private async queryMany(statements: readonly string[], out: ResultSink): Promise<void> {
    for (let i = 0; i < statements.length; i++) {
      const last = i === statements.length - 1;
      const sink: ResultSink = last
        ? out
        : {
            columns: (defs) => out.columns(defs),
            row: (values) => out.row(values),
            rawRow: (source, start, end, values) => (out.rawRow !== undefined ? out.rawRow(source, start, end, values) : out.row(values)),
            rawRows: out.rawRows !== undefined ? (sources, bounds, from, to) => out.rawRows!(sources, bounds, from, to) : undefined,
            acceptsRowPackets: out.acceptsRowPackets === true && out.rowPackets !== undefined,
            rowPackets: (source, start, end, count) => out.rowPackets!(source, start, end, count),
            drain: () => out.drain(),
            end: (info) => out.end({ ...info, moreResults: true }),
            ok: (info) => out.ok({ ...info, moreResults: true }),
            error: (err) => out.error(err),
            signal: out.signal,
          };
      await this.observe(statements[i], sink, undefined);
    }
  }

  /**
   * Runs one statement with its timing, counting, plan statistics and drain bookkeeping. Not
   * async: the statement's promise gets one `then` (statementSettled runs as a `finally` would, before
   * the returned promise settles); an async function's frame per statement showed in a point
   * select's allocations.
   */
  private observe(sql: string, out: ResultSink, params: readonly ParamValue[] | undefined, preparedIn?: string | null): Promise<void> {
    const s = this.services;
    if (s.draining()) {
      // Refused rather than started: the drain only waits for statements already running.
      out.error(ER_SERVER_SHUTDOWN);
      return Promise.resolve();
    }
    this.running++;
    const ctx: StatementContext = { plan: null, sql };
    const counting = new RowCountingSink(out);
    const started = performance.now();
    let running: Promise<void>;
    try {
      running = s.planStats.runStatement(ctx, () => this.session.execute(this.session.inSqlMode(sql), counting, params, preparedIn));
    } catch (err) {
      return Promise.reject(this.statementFailed(ctx, counting, started, err));
    }
    // A session that broke its type and returned no promise is done, as `await` treated it.
    if (!(running instanceof Promise)) running = Promise.resolve(running);
    return running.then(
      () => this.statementSettled(ctx, counting, started, undefined),
      (err: unknown) => {
        throw this.statementFailed(ctx, counting, started, err);
      },
    );
  }

  /** observe()'s bookkeeping for a statement that failed; returns `err`, for the caller to rethrow. */
  private statementFailed(ctx: StatementContext, counting: RowCountingSink, started: number, err: unknown): unknown {
    let errno = 1105;
    try {
      const e = (err as { errno?: unknown }).errno;
      errno = typeof e === 'number' ? e : 1105;
      this.services.activity.error(errno, (err as Error).message, ctx.sql);
    } finally {
      this.statementSettled(ctx, counting, started, errno);
    }
    return err;
  }

  /** observe()'s bookkeeping once a statement settled (`errno` undefined: it succeeded). */
  private statementSettled(ctx: StatementContext, counting: RowCountingSink, started: number, errno: number | undefined): void {
    const s = this.services;
    this.running--;
    const seconds = (performance.now() - started) / 1000;
    const slow = s.slowQueryMs > 0 && seconds * 1000 >= s.slowQueryMs;
    const sql = ctx.sql;
    const kind = statementType(sql);
    s.metrics.statementDone(kind, this.workload(), seconds, errno, slow);
    const rows = counting.rows;
    s.planStats.record(ctx, seconds, rows, errno !== undefined);
    s.activity.statement(seconds);
    if (slow) {
      // The normalized text (no literal values) is logged: values may be personal data or secrets.
      s.log.warn({ durationMs: Math.round(seconds * 1000), statement: kind, query: ctx.plan ? s.planStats.normalized(ctx.plan) : kind, rows, errno, user: this.connection?.user }, 'slow query');
    }
    s.statementEnded();
  }

  /** The session's current workload (the executor session keeps it; `set workload` changes it). */
  private workload(): string {
    const w = (this.session as { workload?: unknown }).workload;
    return typeof w === 'string' ? w : this.services.defaultWorkload;
  }

  initDb(database: string): Promise<void> {
    return this.session.useDatabase(database);
  }

  /** The statement's handle is the keyspace it was prepared in (see ExecutorSession.execute). */
  prepare(sql: string): Promise<{ paramCount: number; columns: readonly ColumnDefinition[]; handle: string | null }> {
    this.onStatement?.(sql);
    sql = this.asClientMeant(sql);
    try {
      sql = this.session.inSqlMode(sql);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.session.prepare(sql).then((r) => ({ paramCount: r.paramCount, columns: r.columns, handle: r.preparedIn }));
  }

  execute(sql: string, params: readonly ParamValue[], out: ResultSink, handle?: unknown): Promise<void> {
    sql = this.asClientMeant(sql);
    return this.observe(sql, out, params, typeof handle === 'string' || handle === null ? handle : undefined);
  }

  status(): { inTransaction: boolean; autocommit: boolean } {
    return this.session.status();
  }

  idleTimeoutSeconds(): number {
    return this.session.waitTimeoutSeconds();
  }

  async close(): Promise<void> {
    this.services.sessions.delete(this);
    await this.session.close();
  }
}

/** What MariaDB drops from a statement's end before reading it (alloc_query): `;` and blanks (space, tab, LF, VT, FF, CR). */
function isTrailingDropped(c: number): boolean {
  return c === 0x3b || c === 0x20 || (c >= 0x09 && c <= 0x0d);
}
