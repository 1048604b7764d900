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
import type { ShardConnection, ShardConnector } from './shard-pool.js';
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
}

export interface ReserveOptions {
  /** The statement runs in a transaction: the shard must be part of it. */
  readonly inTransaction: boolean;
  /** The transaction is READ ONLY: each shard joins it with START TRANSACTION READ ONLY. */
  readonly readOnly?: boolean;
  readonly transactionMode: TransactionMode;
  /** Statements that set the session's variables up on a newly reserved connection. */
  readonly setup: readonly string[];
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
    if (this.closed) return Promise.reject(new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', 'session is closed'));
    const key = `${keyspace}/${shard}`;
    let r = this.reservations.get(key);
    if (!r) {
      const connector = this.connectors(keyspace, shard);
      const wait: PendingWait = { keyspace, shard, poolSize: connector.size, timeoutMs: opts.waitTimeoutMs ?? DEFAULT_RESERVED_WAIT_MS, limit: new AbortController(), timer: null };
      const created: Reservation = { keyspace, shard, connection: this.open(connector, wait, opts), begun: null, vindexOnly: opts.vindexOnly === true };
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
      const reservation = r;
      const start = opts.readOnly === true ? 'START TRANSACTION READ ONLY' : 'START TRANSACTION';
      const savepoints = opts.savepoints ?? [];
      reservation.begun = reservation.connection.then(async (c) => {
        await c.query(start, { signal: opts.signal });
        for (const name of savepoints) await c.query(`SAVEPOINT ${name}`, { signal: opts.signal });
      });
      reservation.begun.catch(() => {
        // The shard never joined the transaction: drop it from the transaction.
        if (reservation.begun !== null) reservation.begun = null;
      });
    }
    const begun = r.begun;
    // ---- end of prologue ----
    return begun === null ? r.connection : begun.then(() => r.connection);
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

  async rollback(): Promise<void> {
    await this.rollbackEach(this.transactionShards());
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
