/**
 * A session's reserved connections: at most ONE per shard, ever. This is the structure whose
 * Vitess (Go) twin was a map raced by concurrent goroutines; its async twin here is the
 * check-then-act across an await ("no connection for -80 yet → await pool.acquire() → store"),
 * which would let two concurrent statements of one session both acquire a connection for -80.
 *
 * Concurrency rule: `reservations` is only read and written in the synchronous prologue of
 * reserve(): the entry (holding the connection PROMISE) is stored before the first await, so a
 * concurrent caller for the same shard finds it and shares the same connection. The same holds
 * for `begun`: the BEGIN promise is stored synchronously, so a shard is begun exactly once, and
 * the single-transaction-mode check counts begun entries in that same synchronous step.
 *
 * Hold-and-wait: a session keeps its reserved connections until its transaction ends, and the
 * pools are shared by every session. A session holding a connection of shard A that waits with
 * no limit for one of shard B, while another session holds B and waits for A (pools exhausted),
 * is a deadlock that freezes the gateway for good. So, as Vitess's transaction pool does, a
 * session that holds or awaits another reserved connection waits at most `waitTimeoutMs` (default
 * 1 s, Vitess's default) for a new one; then the statement fails with transactionPoolTimeout()
 * and the cycle is broken. The transaction itself stays open: the client may retry or roll back.
 * A session waiting for its only connection holds nothing, so it cannot be part of a cycle and
 * waits as long as it takes (unless a second wait starts meanwhile: then both are bounded).
 */
import { ExecutorError, ER_UNKNOWN_ERROR, ER_ERROR_DURING_COMMIT, hasMysqlCode, transactionPoolTimeout } from './errors.js';
import type { ShardConnection, ShardConnector, ShardResult } from './shard-pool.js';
import type { TransactionMode } from './types.js';

export interface Reservation {
  readonly keyspace: string;
  readonly shard: string;
  readonly connection: Promise<ShardConnection>;
  /** START TRANSACTION sent on this connection for the current transaction, if any. */
  begun: Promise<void> | null;
  /**
   * Only lookup-vindex statements have used this shard (Vitess's ShardSession.VindexOnly): it does
   * not count as a second shard for `transactionMode: single`. Written in reserve()'s prologue.
   */
  vindexOnly: boolean;
  /**
   * A statement that may write ran on this shard in the current transaction (any statement not
   * marked `read`). Reset when the shard joins a transaction; written in reserve()'s prologue.
   */
  wrote: boolean;
  /**
   * connectionAfterBegin's promise and the `begun` it waits for; valid only while that `begun` is
   * still the reservation's. Read and written synchronously in connectionAfterBegin only.
   */
  afterBegin: { readonly begun: Promise<void>; readonly connection: Promise<ShardConnection> } | null;
}

export interface ReserveOptions {
  /** The statement runs in a transaction: the shard must be part of it. */
  readonly inTransaction: boolean;
  /** The transaction is READ ONLY: each shard joins it with START TRANSACTION READ ONLY. */
  readonly readOnly?: boolean;
  /** `SET TRANSACTION ISOLATION LEVEL` for this transaction only: sent right before each shard's START TRANSACTION. */
  readonly isolation?: string;
  readonly transactionMode: TransactionMode;
  /** Statements that set the session's variables up on a newly reserved connection. */
  readonly setup: readonly string[];
  /** The session's collation_connection, which query() runs its statement in (StatementOptions.collation). */
  readonly collation?: string;
  /**
   * The open transaction's savepoints, oldest first (as they are written in SQL). A shard that
   * joins the transaction later sets them all right after START TRANSACTION, so ROLLBACK TO one
   * of them also undoes everything that shard did since it joined (which is after the savepoint).
   */
  readonly savepoints?: readonly string[];
  readonly signal?: AbortSignal;
  /** The statement maintains a lookup vindex's table, not the rows the client named. */
  readonly vindexOnly?: boolean;
  /**
   * How long to wait for this connection while the session holds or awaits another one (see the
   * file comment). Default DEFAULT_RESERVED_WAIT_MS.
   */
  readonly waitTimeoutMs?: number;
  /**
   * The statement only reads (a SELECT): a transaction whose statements all read commits its
   * shards concurrently, and the shard's START TRANSACTION may be pipelined with it. Unset means
   * it may write.
   */
  readonly read?: boolean;
}

/** Statements one after the other on a connection (each waits for the previous reply). */
async function runInOrder(c: ShardConnection, sqls: readonly string[], signal: AbortSignal | undefined): Promise<void> {
  for (const sql of sqls) await c.query(sql, { signal });
}

/**
 * The statements that begin the shard's part of the transaction, then its first statement, in one
 * write when the connection can pipeline (the shard client), else one after the other. The first
 * promise settles once all the beginning statements succeeded (or one failed).
 */
function pipelined(c: ShardConnection, start: readonly string[], sql: string, signal: AbortSignal | undefined, collation: string | undefined): [Promise<void>, Promise<ShardResult>] {
  if (c.queryPipelined !== undefined) {
    const results = c.queryPipelined([...start, sql], { signal, collation });
    return [Promise.all(results.slice(0, -1)).then(() => undefined), results[results.length - 1]];
  }
  const begin = runInOrder(c, start, signal);
  return [begin, begin.then(() => c.query(sql, { signal, collation }))];
}

export type ConnectorLookup = (keyspace: string, shard: string) => ShardConnector;

/** Vitess's default transaction pool timeout (`queryserver-config-txpool-timeout`, 1 s). */
export const DEFAULT_RESERVED_WAIT_MS = 1000;

/** One acquisition in progress, whose wait may get bounded (armed) while it waits. */
interface PendingWait {
  readonly keyspace: string;
  readonly shard: string;
  readonly poolSize: number;
  readonly timeoutMs: number;
  readonly limit: AbortController;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * The reservation sets of one session (its own and, for lookup vindexes, its pre and post ones)
 * share a group, so a wait is bounded whenever the SESSION holds or awaits another connection,
 * whichever set that connection is in. A set built without a group has a group of its own.
 *
 * Concurrency rule: `members` and `waits` change only synchronously (a set's constructor,
 * reserve()'s prologue, an acquisition settling); arming a wait is a synchronous timer start.
 */
export class ReservationGroup {
  private readonly members: ShardReservations[] = [];
  private readonly waits = new Set<PendingWait>();

  join(member: ShardReservations): void {
    this.members.push(member);
  }

  /** Reservations of the session, held or still awaiting their connection. */
  count(): number {
    let n = 0;
    for (const m of this.members) n += m.size;
    return n;
  }

  /** Registers an acquisition; bounded at once if the session already has another reservation. */
  startWait(w: PendingWait): void {
    this.waits.add(w);
    if (this.count() > 1) for (const pending of this.waits) arm(pending);
  }

  endWait(w: PendingWait): void {
    this.waits.delete(w);
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
  }
}

function arm(w: PendingWait): void {
  if (w.timer !== null || w.limit.signal.aborted) return;
  w.timer = setTimeout(() => {
    w.timer = null;
    w.limit.abort(transactionPoolTimeout(w.keyspace, w.shard, w.timeoutMs, w.poolSize));
  }, w.timeoutMs);
}

/**
 * The reservation's connection once its current START TRANSACTION (if any) has run: one promise
 * per begin, shared by every statement of the transaction on that shard, rather than a
 * `begun.then(() => connection)` per statement. It is kept with the `begun` it was made from and
 * made again whenever `begun` is another promise (a new transaction, or none), so it never
 * outlives the begin it waits for. Statements still reach the connection in the order they were
 * issued: each chains one `then` on the same promise.
 */
function connectionAfterBegin(r: Reservation): Promise<ShardConnection> {
  const begun = r.begun;
  if (begun === null) return r.connection;
  const kept = r.afterBegin;
  if (kept !== null && kept.begun === begun) return kept.connection;
  const connection = begun.then(() => r.connection);
  r.afterBegin = { begun, connection };
  return connection;
}

export class ShardReservations {
  private readonly reservations = new Map<string, Reservation>();
  private closed = false;
  private readonly group: ReservationGroup;

  constructor(
    private readonly connectors: ConnectorLookup,
    /** Lets tests wrap the map (e.g. with the test-kit's raceCheckedMap). */
    map?: Map<string, Reservation>,
    /** Shared by all reservation sets of one session (see ReservationGroup). */
    group?: ReservationGroup,
  ) {
    if (map) this.reservations = map;
    this.group = group ?? new ReservationGroup();
    this.group.join(this);
  }

  get size(): number {
    return this.reservations.size;
  }

  /** Shards of the open transaction, in the order they joined it. */
  transactionShards(): Reservation[] {
    return [...this.reservations.values()].filter((r) => r.begun !== null);
  }

  all(): Reservation[] {
    return [...this.reservations.values()];
  }

  /** The session's connection to a shard, reserving (and beginning) it on first use. */
  reserve(keyspace: string, shard: string, opts: ReserveOptions): Promise<ShardConnection> {
    // ---- synchronous prologue: every read and write of the map happens here ----
    const claimed = this.claim(keyspace, shard, opts);
    if (claimed instanceof Promise) return claimed;
    const { r, start } = claimed;
    if (start !== null) this.markBegun(r, r.connection.then((c) => runInOrder(c, start, opts.signal)));
    const begun = r.begun;
    // ---- end of prologue ----
    return begun === null ? r.connection : begun.then(() => r.connection);
  }

  /**
   * A pooled connection for work outside the transaction (the session's `autonomous`: the column
   * probe of COM_STMT_PREPARE, autocommit lookup writes), to release to the pool after use. While
   * the session holds or awaits a reserved connection this is the same hold-and-wait as a second
   * reservation (see the file comment), so the wait is bounded the same way: a COM_STMT_PREPARE
   * in a transaction whose session held the shard's last pooled connection itself waited forever.
   */
  acquireUnreserved(keyspace: string, shard: string, signal: AbortSignal, waitTimeoutMs = DEFAULT_RESERVED_WAIT_MS): Promise<ShardConnection> {
    const connector = this.connectors(keyspace, shard);
    if (this.group.count() === 0) return connector.acquire(signal);
    const wait: PendingWait = { keyspace, shard, poolSize: connector.size, timeoutMs: waitTimeoutMs, limit: new AbortController(), timer: null };
    this.group.startWait(wait);
    arm(wait); // the session holds a reservation: bounded whatever the count of waits
    const acquired = connector.acquire(signal, wait.limit.signal);
    const done = (): void => this.group.endWait(wait);
    acquired.then(done, done);
    return acquired;
  }

  /**
   * Runs `sql` on the session's connection to a shard, reserving (and beginning) it on first use.
   * A read (`opts.read`) that is the shard's first statement in the transaction goes out in one
   * write with the shard's START TRANSACTION and savepoint replays (one round trip instead of two
   * or more). The server runs them
   * in that order, exactly as if sent one by one; should START TRANSACTION fail, the read may have
   * run outside the transaction, so its rows are dropped and the statement fails with that error.
   * A statement that may write is never pipelined: it would have run in autocommit.
   */
  query(keyspace: string, shard: string, sql: string, opts: ReserveOptions): Promise<ShardResult> {
    // ---- synchronous prologue (as reserve's) ----
    const claimed = this.claim(keyspace, shard, opts);
    if (claimed instanceof Promise) return claimed;
    const { r, start } = claimed;
    if (start === null || opts.read !== true) {
      if (start !== null) this.markBegun(r, r.connection.then((c) => runInOrder(c, start, opts.signal)));
      const signal = opts.signal;
      const collation = opts.collation;
      return connectionAfterBegin(r).then((c) => c.query(sql, { signal, collation }));
    }
    const both = r.connection.then((c) => pipelined(c, start, sql, opts.signal, opts.collation));
    this.markBegun(
      r,
      both.then(([begin]) => begin),
    );
    // ---- end of prologue ----
    return both.then(async ([begin, result]) => {
      result.catch(() => undefined); // the begin error, if any, is the one reported
      await begin;
      return result;
    });
  }

  /**
   * reserve()'s synchronous map work: finds or creates the reservation, checks the transaction
   * mode, and says which statements begin the shard's part of the transaction (START TRANSACTION
   * and the savepoints to replay; null: none, or already begun).
   * The caller must store the begin promise (markBegun) before its first await.
   */
  private claim(keyspace: string, shard: string, opts: ReserveOptions): { r: Reservation; start: readonly string[] | null } | Promise<never> {
    if (this.closed) return Promise.reject(new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', 'session is closed'));
    const key = `${keyspace}/${shard}`;
    let r = this.reservations.get(key);
    if (!r) {
      const connector = this.connectors(keyspace, shard);
      const wait: PendingWait = { keyspace, shard, poolSize: connector.size, timeoutMs: opts.waitTimeoutMs ?? DEFAULT_RESERVED_WAIT_MS, limit: new AbortController(), timer: null };
      const created: Reservation = { keyspace, shard, connection: this.open(connector, wait, opts), begun: null, vindexOnly: opts.vindexOnly === true, wrote: false, afterBegin: null };
      this.reservations.set(key, created);
      // After the set: the count includes this reservation.
      this.group.startWait(wait);
      // A reservation that never got its connection is forgotten, so a later statement can retry.
      created.connection.catch(() => {
        if (this.reservations.get(key) === created) this.reservations.delete(key);
      });
      r = created;
    }
    if (opts.vindexOnly !== true) r.vindexOnly = false;
    let start: readonly string[] | null = null;
    if (opts.inTransaction && r.begun === null) {
      // As in Vitess, lookup-table writes never make a single-mode transaction "multi-shard".
      if (opts.transactionMode === 'single' && opts.vindexOnly !== true && !r.vindexOnly) {
        const other = this.transactionShards().find((t) => t !== r && !t.vindexOnly);
        if (other) {
          return Promise.reject(
            new ExecutorError(
              ER_UNKNOWN_ERROR,
              'HY000',
              `multi-shard transaction attempted in single transaction mode: the transaction already uses ${other.keyspace}/${other.shard} and this statement needs ${keyspace}/${shard}; use SET transaction_mode = 'multi' or keep the transaction on one shard`,
            ),
          );
        }
      }
      // START TRANSACTION, then the savepoints the transaction set before this shard joined it.
      start = [
        ...(opts.isolation !== undefined ? [`SET TRANSACTION ISOLATION LEVEL ${opts.isolation}`] : []),
        opts.readOnly === true ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION',
        ...(opts.savepoints ?? []).map((name) => `SAVEPOINT ${name}`),
      ];
      r.wrote = false;
    }
    if (opts.read !== true) r.wrote = true;
    return { r, start };
  }

  /** Records the shard's START TRANSACTION; a failed one drops the shard from the transaction. */
  private markBegun(r: Reservation, begun: Promise<void>): void {
    r.begun = begun;
    begun.catch(() => {
      // The shard never joined the transaction: drop it from the transaction.
      if (r.begun !== null) r.begun = null;
    });
  }

  private async open(connector: ShardConnector, wait: PendingWait, opts: ReserveOptions): Promise<ShardConnection> {
    let conn: ShardConnection;
    try {
      conn = await connector.acquire(opts.signal, wait.limit.signal);
    } finally {
      this.group.endWait(wait);
    }
    try {
      for (const sql of opts.setup) await conn.query(sql, { signal: opts.signal });
    } catch (err) {
      await conn.release(true);
      throw err;
    }
    return conn;
  }

  /**
   * Commits shard by shard. A failure part-way leaves earlier shards committed (a multi-shard
   * commit is not atomic without 2PC); the error says exactly which shards committed, which one
   * failed and which were rolled back.
   */
  async commit(): Promise<void> {
    const shards = this.transactionShards();
    if (shards.length > 1 && !shards.some((r) => r.wrote)) return this.commitReadsConcurrently(shards);
    if (shards.length > 1) await this.refuseLostShards(shards);
    const committed: string[] = [];
    for (let i = 0; i < shards.length; i++) {
      const r = shards[i];
      try {
        await r.begun;
        const conn = await r.connection;
        await conn.query('COMMIT');
        r.begun = null;
        committed.push(`${r.keyspace}/${r.shard}`);
      } catch (err) {
        r.begun = null;
        await this.drop(r);
        const rest = shards.slice(i + 1);
        const rolledBack = await this.rollbackEach(rest);
        const what = hasMysqlCode(err) ? `${err.message} (errno ${err.errno})` : String(err);
        if (committed.length === 0) {
          // Nothing was committed: to the client this is a plain failed commit.
          throw new ExecutorError(
            ER_ERROR_DURING_COMMIT,
            'HY000',
            `commit failed on ${r.keyspace}/${r.shard}: ${what}; nothing was committed${rolledBack.length ? `; rolled back ${rolledBack.join(', ')}` : ''}`,
          );
        }
        throw new ExecutorError(
          ER_ERROR_DURING_COMMIT,
          'HY000',
          `transaction partially committed: committed on ${committed.join(', ')}; commit failed on ${r.keyspace}/${r.shard}: ${what}${rolledBack.length ? `; rolled back on ${rolledBack.join(', ')}` : ''}`,
        );
      }
    }
  }

  /**
   * Rolls back every shard and fails the commit when the connection of one of them is already
   * known lost (ShardConnection.lost): that shard's part of the transaction is gone, and committing
   * the others one by one would have committed the rest of it, reported as a partial commit
   * only afterwards.
   */
  private async refuseLostShards(shards: readonly Reservation[]): Promise<void> {
    const lost: Reservation[] = [];
    for (const r of shards) {
      const conn = await r.connection.catch(() => null);
      if (conn === null || conn.lost === true) lost.push(r);
    }
    if (lost.length === 0) return;
    for (const r of lost) {
      r.begun = null;
      await this.drop(r);
    }
    const rolledBack = await this.rollbackEach(shards.filter((r) => !lost.includes(r)));
    const names = lost.map((r) => `${r.keyspace}/${r.shard}`).join(', ');
    throw new ExecutorError(
      ER_ERROR_DURING_COMMIT,
      'HY000',
      `commit failed: the connection to ${names} was lost during the transaction, with the transaction's statements there; nothing was committed${rolledBack.length ? `; rolled back ${rolledBack.join(', ')}` : ''}`,
    );
  }

  /**
   * A transaction whose statements only read has nothing to lose on any shard, so its shards
   * commit at once rather than one after another (one round trip instead of one per shard). A
   * failed COMMIT still fails the client's COMMIT and drops that connection.
   */
  private async commitReadsConcurrently(shards: readonly Reservation[]): Promise<void> {
    const outcomes = await Promise.allSettled(
      shards.map(async (r) => {
        await r.begun;
        const conn = await r.connection;
        await conn.query('COMMIT');
      }),
    );
    const committed: string[] = [];
    const failed: string[] = [];
    for (let i = 0; i < shards.length; i++) {
      const r = shards[i];
      r.begun = null;
      const o = outcomes[i];
      if (o.status === 'fulfilled') {
        committed.push(`${r.keyspace}/${r.shard}`);
        continue;
      }
      await this.drop(r);
      const err = o.reason;
      failed.push(`${r.keyspace}/${r.shard}: ${hasMysqlCode(err) ? `${err.message} (errno ${err.errno})` : String(err)}`);
    }
    if (failed.length > 0) {
      throw new ExecutorError(
        ER_ERROR_DURING_COMMIT,
        'HY000',
        `commit failed on ${failed.join('; ')}; the transaction ran only SELECT statements${committed.length ? `; committed on ${committed.join(', ')}` : ''}`,
      );
    }
  }

  async rollback(): Promise<void> {
    await this.rollbackEach(this.transactionShards());
  }

  /**
   * Rolls back the open transaction on one shard only, releasing its row locks there; the
   * connection stays reserved, and the shard's next statement begins it again (with the
   * transaction's savepoints). For the gateway's own lookup transactions (see LookupRowLocks).
   */
  async rollbackShard(keyspace: string, shard: string): Promise<void> {
    const r = this.reservations.get(`${keyspace}/${shard}`);
    if (r === undefined || r.begun === null) return;
    await r.begun.catch(() => undefined);
    await this.rollbackEach([r]);
  }

  /**
   * Runs a savepoint statement (SAVEPOINT, ROLLBACK TO SAVEPOINT, RELEASE SAVEPOINT) on every
   * shard of the open transaction, in the order they joined it.
   */
  async onTransactionShards(sql: string): Promise<void> {
    for (const r of this.transactionShards()) {
      await r.begun;
      await (await r.connection).query(sql);
    }
  }

  private async rollbackEach(shards: readonly Reservation[]): Promise<string[]> {
    const done: string[] = [];
    for (const r of shards) {
      r.begun = null;
      try {
        const conn = await r.connection;
        await conn.query('ROLLBACK');
        done.push(`${r.keyspace}/${r.shard}`);
      } catch {
        await this.drop(r);
      }
    }
    return done;
  }

  /** Forgets a reservation whose connection can no longer be trusted, and destroys it. */
  private async drop(r: Reservation): Promise<void> {
    const key = `${r.keyspace}/${r.shard}`;
    if (this.reservations.get(key) === r) this.reservations.delete(key);
    try {
      (await r.connection).destroy();
    } catch {
      // never connected
    }
  }

  /** Returns every reserved connection to its pool, rolled back and reset (dirty release). */
  async releaseAll(): Promise<void> {
    const all = [...this.reservations.values()];
    this.reservations.clear();
    await Promise.all(
      all.map(async (r) => {
        let conn: ShardConnection;
        try {
          conn = await r.connection;
        } catch {
          return;
        }
        await r.begun?.catch(() => undefined);
        await conn.release(true);
      }),
    );
  }

  /** Returns connections that carry no session state any more (committed, no variables). */
  async releaseClean(): Promise<void> {
    const all = [...this.reservations.values()].filter((r) => r.begun === null);
    for (const r of all) this.reservations.delete(`${r.keyspace}/${r.shard}`);
    await Promise.all(
      all.map(async (r) => {
        try {
          await (await r.connection).release(false);
        } catch {
          // never connected
        }
      }),
    );
  }

  /** No reservation can be made after this. */
  close(): void {
    this.closed = true;
  }
}
