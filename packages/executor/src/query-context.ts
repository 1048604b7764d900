/**
 * Everything one execution of one statement needs, and nothing that outlives it. Operators get a
 * QueryContext and keep their per-query state in their own locals; the context itself holds only
 * per-query settings, the abort signal, and two append-only/counter fields documented below.
 */
import type { BindVars } from '@shardgate/planner';
import { offAbort as unhookAbort, onAbort as hookAbort, ScopeAbortController, type Aborter } from './abort-hooks.js';
import { rowLimitExceeded } from './errors.js';
import type { KeyspaceShards, VSchemaLike } from './keyspace-routing.js';
import type { ShardConnection, ShardResult, StreamHandlers } from './shard-pool.js';
import type { Workload } from './types.js';
import type { OwnLookupRows } from './own-lookup-rows.js';
import type { LookupRowLocks } from './lookup-row-locks.js';

/** How operators reach shards; implemented by the session (reserved or pooled connections). */
export interface ShardAccess {
  /**
   * True when the session's statements run on reserved connections (transaction or session
   * variables). A reserved connection runs one statement at a time, so a route must read its
   * whole result before handing rows on (a join's inner query may need the same connection).
   */
  readonly mustBuffer: boolean;
  query(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult>;
  stream(keyspace: string, shard: string, sql: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void>;
  /** Runs fn on a pooled connection outside the session's transaction (sequences). */
  autonomous<T>(keyspace: string, shard: string, fn: (conn: ShardConnection) => Promise<T>, signal: AbortSignal): Promise<T>;
  /**
   * A statement on a lookup vindex's backing table, in the transaction `order` names (see
   * LookupWriteOrder). Kept apart from query() so that lookup writes neither count as a second
   * shard in `single` transaction mode nor mix with the client's own statements.
   */
  lookupWrite(keyspace: string, shard: string, sql: string, order: LookupWriteOrder, signal: AbortSignal): Promise<ShardResult>;
  /**
   * A read (a SELECT) of a consistent lookup vindex's backing table, on the connection that holds
   * the transaction's consistent-lookup writes: in a transaction, its `pre` transaction on that
   * shard (opened if the transaction has none there yet), the same connection lookupWrite(…,
   * 'pre') uses. Consistent lookups create their rows in the pre transaction (lookup-upkeep.ts),
   * uncommitted until the session commits; only a read there sees the rows of owner rows this
   * transaction wrote (Vitess reads consistent lookups in CommitOrder_PRE too), and it reads them
   * without waiting for their locks. Outside a transaction it reads as query() does.
   * Concurrency rule: a transaction's pre transaction holds one connection per shard
   * (ShardReservations), shared by its lookup reads and writes; a read sees every lookup write the
   * transaction made on that shard before it, and none of another session's uncommitted ones.
   * Like lookupWrite, kept apart from query(): the gateway's own bookkeeping, not a shard the
   * client's statement touched (no `single`-mode shard count, no collected warnings).
   */
  lookupRead(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult>;
  /** In a transaction, the consistent-lookup rows it created in its pre transaction (undefined outside one). */
  readonly ownLookupRows?: OwnLookupRows;
  /** In a transaction, the consistent-lookup rows its pre and post transactions hold locks on without having created them (undefined outside one). */
  readonly lookupRowLocks?: LookupRowLocks;
  /**
   * Rolls back the transaction's post transaction on one lookup shard, releasing its locks there
   * (see LookupRowLocks); its next lookup write there begins it again.
   */
  rollbackPostOn?(keyspace: string, shard: string): Promise<void>;
}

/**
 * Which transaction a lookup-table statement runs in (Vitess's CommitOrder):
 * - `pre`: a transaction of its own, committed BEFORE the session's (consistent lookups create
 *   their rows there, so the row exists before its owner row does);
 * - `normal`: the session's own transaction (plain lookups);
 * - `post`: a transaction of its own, committed AFTER the session's (consistent lookups delete
 *   their rows there, so the row goes only once its owner row is gone);
 * - `autocommit`: a pooled connection, committed at once (the vindex's `autocommit` param).
 * A crash between commits leaves at most an orphan lookup row, never a row without its lookup.
 */
export type LookupWriteOrder = 'pre' | 'normal' | 'post' | 'autocommit';

export interface Warning {
  readonly level: 'Note' | 'Warning' | 'Error';
  readonly code: number;
  readonly message: string;
}

export interface QuerySettings {
  readonly workload: Workload;
  readonly maxMemoryRows: number;
  readonly scatterErrorsAsWarnings: boolean;
  readonly divPrecisionIncrement: number;
  /** The session's group_concat_max_len (MariaDB's default when absent): it decides GROUP_CONCAT's column type. */
  readonly groupConcatMaxLen?: number;
  /** Current keyspace of the session (for `__vtdbname`). */
  readonly keyspace: string | null;
  /**
   * Set when a statement runs only to learn its result columns (COM_STMT_PREPARE): every route
   * reads no rows, from one shard (see runRoute), so the operators above it see an empty input and
   * report the columns the real execution will.
   */
  readonly fieldsOnly?: boolean;
}

/** What the contexts of one statement share (see withSignal / buffered). */
interface SharedState {
  readonly warnings: Warning[];
  readonly unlistedWarnings: { count: number };
  readonly memoryRows: { count: number };
  readonly access: ShardAccess;
  readonly sessionAccess: ShardAccess;
  readonly foundRows: { value: bigint | undefined };
}

/**
 * A statement's view of the session's shard access: the warnings a shard reports with its result
 * (read with SHOW WARNINGS on the same connection, see ShardResult.warnings) join the statement's
 * warnings, so the OK/EOF packet's count and a following SHOW WARNINGS are what one MariaDB gives;
 * for a scatter, every shard's warnings, counted. Lookup-vindex writes and sequence reads are the
 * gateway's own bookkeeping (one MariaDB runs no such statements), so theirs are not collected.
 * Concurrency rule: `warnings` is only pushed to, synchronously, once a shard's result is in.
 */
class WarningCollectingAccess implements ShardAccess {
  constructor(
    private readonly session: ShardAccess,
    private readonly warnings: Warning[],
    private readonly unlisted: { count: number },
  ) {}

  get mustBuffer(): boolean {
    return this.session.mustBuffer;
  }

  get ownLookupRows(): OwnLookupRows | undefined {
    return this.session.ownLookupRows;
  }

  get lookupRowLocks(): LookupRowLocks | undefined {
    return this.session.lookupRowLocks;
  }

  rollbackPostOn(keyspace: string, shard: string): Promise<void> {
    return this.session.rollbackPostOn?.(keyspace, shard) ?? Promise.resolve();
  }

  query(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    // A `then` with one function per statement, not an async method: every shard query of a
    // scatter went through one more async frame and promise here.
    return this.session.query(keyspace, shard, sql, signal).then(this.collect);
  }

  private readonly collect = (r: ShardResult): ShardResult => {
    if (r.warnings !== undefined) for (const w of r.warnings) this.warnings.push(w);
    this.unlisted.count += unlistedWarnings(r.warningCount, r.warnings?.length ?? 0);
    return r;
  };

  stream(keyspace: string, shard: string, sql: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
    return this.session.stream(
      keyspace,
      shard,
      sql,
      {
        fields: (f) => handlers.fields(f),
        rows: (rows) => handlers.rows(rows),
        rowPacketTarget: handlers.rowPacketTarget,
        warnings: (ws, count) => {
          for (const w of ws) this.warnings.push(w);
          this.unlisted.count += unlistedWarnings(count, ws.length);
          handlers.warnings?.(ws, count);
        },
      },
      signal,
    );
  }

  autonomous<T>(keyspace: string, shard: string, fn: (conn: ShardConnection) => Promise<T>, signal: AbortSignal): Promise<T> {
    return this.session.autonomous(keyspace, shard, fn, signal);
  }

  lookupWrite(keyspace: string, shard: string, sql: string, order: LookupWriteOrder, signal: AbortSignal): Promise<ShardResult> {
    return this.session.lookupWrite(keyspace, shard, sql, order, signal);
  }

  lookupRead(keyspace: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    return this.session.lookupRead(keyspace, shard, sql, signal);
  }
}

export interface RoutingInfo {
  readonly vschema: VSchemaLike;
  shardsOf(keyspace: string): KeyspaceShards;
}

export class QueryContext {
  /**
   * Warnings of this statement. Concurrency rule: append-only (push is synchronous), read once
   * after the statement settles.
   */
  readonly warnings: Warning[];
  /**
   * Warnings the shards counted beyond those they listed (a shard lists at most @@max_error_count,
   * 64, as one MariaDB does): part of the statement's warning count, not of SHOW WARNINGS.
   * Concurrency rule: added to synchronously, once a shard's result is in; read after the
   * statement settles.
   */
  readonly unlistedWarnings: { count: number };
  /**
   * How operators reach shards: the session's access, with the warnings each shard result
   * reports added to `warnings` (see WarningCollectingAccess).
   */
  readonly access: ShardAccess;
  /**
   * The session's access itself: shard warnings are NOT added. For an operator that decides
   * itself which shards' warnings count (a DDL that every shard runs alike warns once).
   */
  readonly sessionAccess: ShardAccess;
  /**
   * Rows held in gateway memory by this OLTP statement. Concurrency rule: a counter changed only
   * synchronously, so concurrent siblings cannot lose an update.
   */
  private memoryRows: { count: number };
  /**
   * What SQL_CALC_FOUND_ROWS counted (the statement's rows without its LIMIT), for the session's
   * next FOUND_ROWS(); undefined when the statement has no such count. Concurrency rule: set once,
   * by the SQLCalcFoundRows operator after its count settles; read after the statement settles.
   */
  private readonly calcFoundRows: { value: bigint | undefined };
  /**
   * The context withSignal() made last, handed out again for the same signal (a context holds no
   * state of its own beyond its signal). Concurrency rule: replaced synchronously by withSignal.
   */
  private lastChild: QueryContext | null = null;
  /**
   * A controller of `signal` that belongs to the operator that made this context (a Limit), which
   * treats every error of its input as the input's failure: the first fan-out under it aborts its
   * targets through this controller instead of linking one more (takeOwnAbort). Concurrency rule:
   * set once at construction (withOwnAbort), taken and cleared synchronously, once.
   */
  private ownAbort: Aborter | null = null;

  constructor(
    access: ShardAccess,
    readonly routing: RoutingInfo,
    readonly settings: QuerySettings,
    readonly signal: AbortSignal,
    readonly onRouteVariant: (variant: string) => void = () => {},
    shared?: SharedState,
    /** Inner sides of joins and subqueries read whole results even in OLAP. */
    private readonly forceBuffered = false,
  ) {
    if (shared) {
      // A sub-context of the same statement: `access` is the statement's own collecting access.
      this.warnings = shared.warnings;
      this.unlistedWarnings = shared.unlistedWarnings;
      this.memoryRows = shared.memoryRows;
      this.access = shared.access;
      this.sessionAccess = shared.sessionAccess;
      this.calcFoundRows = shared.foundRows;
    } else {
      this.warnings = [];
      this.unlistedWarnings = { count: 0 };
      this.memoryRows = { count: 0 };
      this.calcFoundRows = { value: undefined };
      this.sessionAccess = access;
      this.access = new WarningCollectingAccess(access, this.warnings, this.unlistedWarnings);
    }
  }

  /** The same query under another signal (a Limit that stops its input early, a scatter group). */
  withSignal(signal: AbortSignal): QueryContext {
    // A lone shard of a route runs under the statement's own signal: nothing to rebind.
    if (signal === this.signal) return this;
    // The shards of a scatter all run under their fan-out's one signal: one context for them all.
    if (this.lastChild !== null && this.lastChild.signal === signal) return this.lastChild;
    const child = new QueryContext(this.access, this.routing, this.settings, signal, this.onRouteVariant, this.shared(), this.forceBuffered);
    this.lastChild = child;
    return child;
  }

  /**
   * The same query under `controller`'s signal, where the caller owns the controller and fails
   * with any error its input fails with (a Limit): see takeOwnAbort.
   */
  withOwnAbort(controller: Aborter): QueryContext {
    const child = new QueryContext(this.access, this.routing, this.settings, controller.signal, this.onRouteVariant, this.shared(), this.forceBuffered);
    child.ownAbort = controller;
    return child;
  }

  /**
   * The controller of this context's signal that withOwnAbort gave it, once (null afterwards, and
   * for any other context): a fan-out may abort its targets through it, since aborting it stops
   * only what runs under the operator that owns it, and that operator then fails anyway.
   */
  takeOwnAbort(): Aborter | null {
    const c = this.ownAbort;
    this.ownAbort = null;
    return c;
  }

  /** The same query, asking only for the columns (each route runs as `(…) LIMIT 0` on one shard). */
  columnsOnly(): QueryContext {
    if (this.settings.fieldsOnly === true) return this;
    return new QueryContext(this.access, this.routing, { ...this.settings, fieldsOnly: true }, this.signal, () => {}, this.shared(), this.forceBuffered);
  }

  /** The same query, reading whole results (per-row inner queries are small; buffering is cheaper). */
  buffered(): QueryContext {
    if (this.forceBuffered) return this;
    return new QueryContext(this.access, this.routing, this.settings, this.signal, this.onRouteVariant, this.shared(), true);
  }

  private shared(): SharedState {
    return { warnings: this.warnings, unlistedWarnings: this.unlistedWarnings, memoryRows: this.memoryRows, access: this.access, sessionAccess: this.sessionAccess, foundRows: this.calcFoundRows };
  }

  /** SQL_CALC_FOUND_ROWS: the row count FOUND_ROWS() returns after this statement (see calcFoundRows). */
  get foundRows(): bigint | undefined {
    return this.calcFoundRows.value;
  }

  set foundRows(n: bigint | undefined) {
    this.calcFoundRows.value = n;
  }

  get streaming(): boolean {
    return this.settings.workload === 'olap' && !this.access.mustBuffer && !this.forceBuffered;
  }

  /**
   * Accounts rows the gateway keeps in memory for this statement: an OLTP result buffered before
   * it goes out, and in both workloads what an operator holds (a sort's input, a hash aggregate's
   * groups, DISTINCT's seen keys, a pulled-out subquery's values, UNION parts waiting their turn).
   * OLAP streams rows through without calling this, so only those operators count there. Past
   * maxMemoryRows the statement fails with a clear error instead of growing the gateway's heap.
   */
  holdRows(n: number): void {
    this.memoryRows.count += n;
    if (this.memoryRows.count > this.settings.maxMemoryRows) throw rowLimitExceeded(this.settings.maxMemoryRows, this.settings.workload);
  }

  /** Gives back rows counted by holdRows that the statement no longer holds (a join's batch, once joined). */
  releaseRows(n: number): void {
    this.memoryRows.count -= n;
  }

  throwIfAborted(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }
}

/**
 * How many of the `counted` warnings of a shard's result its `listed` ones leave out: MariaDB
 * lists at most @@max_error_count of a statement's warnings (SHOW WARNINGS), but counts them all.
 */
export function unlistedWarnings(counted: number, listed: number): number {
  return counted > listed ? counted - listed : 0;
}

/** Bind vars for one sub-execution: a fresh object, never the caller's (plans and callers share theirs). */
export function extendBindVars(base: BindVars, extra: BindVars): BindVars {
  const out = copyBindVars(base);
  for (const k in extra) if (hasOwn.call(extra, k)) setBindVar(out, k, extra[k]);
  return out;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * A shallow copy of bind vars, to extend without touching the original: same keys, same order,
 * same values as `{ ...base }`. Built by assignment on purpose: bind vars are built key by key,
 * and V8 copies such objects with a spread and then adds keys on its slow runtime path (about
 * 1.5 µs a statement, measured; the assignment loop takes about 50 ns).
 */
export function copyBindVars(base: BindVars): BindVars {
  const out: BindVars = {};
  for (const k in base) if (hasOwn.call(base, k)) setBindVar(out, k, base[k]);
  return out;
}

/** `out[k] = v`, except that a key named `__proto__` becomes an own property, as in a spread. */
export function setBindVar(out: BindVars, k: string, v: BindVars[string]): void {
  if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

/**
 * An AbortController whose signal also fires when `parent` does. `dispose` unhooks it from the
 * parent, so long-lived parents (sessions) do not accumulate listeners.
 */
export function childAbort(parent: AbortSignal): { controller: Aborter; dispose: () => void } {
  // Its signal never leaves the statement's own code (see ScopeAbortController).
  const controller = new ScopeAbortController();
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, dispose: () => {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  hookAbort(parent, onAbort);
  return { controller, dispose: () => unhookAbort(parent, onAbort) };
}
