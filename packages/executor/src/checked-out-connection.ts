/**
 * What every shard connection checked out of a pool does the same way, whatever client library
 * carries it: KILL QUERY on abort, an abandon timer for a shard that never answers the kill, and
 * the checks at release (the killed statement really stopped; a dirty session is rolled back and
 * reset) that decide whether the connection goes back to its pool or is destroyed.
 *
 * Concurrency rule: `killed`, `killCheck`, `broken` and `returned` are set synchronously in
 * callbacks; they are read at release, after every statement of the caller has settled, and at
 * the start of each statement (lateKillChecked); the client underneath runs a connection's
 * commands one after another in call order.
 */
import { ER_QUERY_INTERRUPTED, toShardError } from './errors.js';
import type { Warning } from './query-context.js';
import type { ShardConnection, ShardResult, StatementOptions, StreamHandlers } from './shard-pool.js';

/** How long an aborted statement may take to stop after KILL QUERY before its connection is dropped. */
export const ABORT_GRACE_MS = 500;

/** The pool side a checked-out connection reports back to. */
export interface ConnectionOwner {
  readonly keyspace: string;
  readonly shard: string;
  /** The statement that puts a connection's session variables back to what a fresh one has. */
  readonly resetStatement: string;
  /** KILL QUERY from a connection outside the pool, so it works even when the pool is exhausted. */
  kill(threadId: number): Promise<void>;
  /** The connection left the caller's hands (released or destroyed). */
  connectionReturned(): void;
}

const LEVELS: Record<string, Warning['level']> = { Note: 'Note', Warning: 'Warning', Error: 'Error' };

/** `SHOW WARNINGS` rows (Level, Code, Message) as Warnings; `text` reads one cell. */
export function toWarnings<C>(rows: readonly (readonly C[])[], text: (cell: C | undefined) => string): Warning[] {
  return rows.map((r) => ({ level: LEVELS[text(r[0])] ?? 'Warning', code: Number(text(r[1])), message: text(r[2]) }));
}

/**
 * The collation_connection each pooled client's shard session has, as the gateway last set it
 * (absent: not known, e.g. a fresh client). Keyed by the client object, so it lives exactly as
 * long as the client and follows it through the pool. Concurrency rule: a client is in one
 * caller's hands at a time and runs its commands in order; an entry is deleted before a SET is
 * sent and written only once the shard acknowledged it, so it never names a collation the
 * session might not have. The reset on a dirty release (resetStatement) leaves collation_connection
 * alone, so the entry stays true across it.
 */
const connectionCollations = new WeakMap<object, string>();

/** The collation_connection a pooled client is known to have (see connectionCollations), if any. */
export function knownCollation(client: object): string | undefined {
  return connectionCollations.get(client);
}

/** A collation name as it may be written into SQL: the session validates names before it uses them. */
const COLLATION_NAME = /^[a-z0-9_]+$/;

export abstract class CheckedOutConnection implements ShardConnection {
  /** The KILL QUERY of an aborted statement (settles once the shard answered it); null: none since the last check. */
  private killed: Promise<void> | null = null;
  /** The check after that KILL (checkAfterKill), shared by the statements that wait for it. */
  private killCheck: Promise<void> | null = null;
  /** Set when the connection must not be reused (fatal error, failed kill, abandoned statement). */
  protected broken = false;
  private returned = false;
  readonly keyspace: string;
  readonly shard: string;

  constructor(protected readonly owner: ConnectionOwner) {
    this.keyspace = owner.keyspace;
    this.shard = owner.shard;
  }

  /** See ShardConnection.lost. */
  get lost(): boolean {
    return this.broken;
  }

  abstract readonly threadId: number;
  abstract query(sql: string, opts?: StatementOptions): Promise<ShardResult>;
  abstract stream(sql: string, handlers: StreamHandlers, opts?: StatementOptions): Promise<void>;
  /** Runs a statement whose result is not needed; rejects with the shard's error. */
  protected abstract simpleQuery(sql: string): Promise<void>;
  /** Closes the socket at once; a pending command fails (or, for mysql2, is never called back). */
  protected abstract destroySocket(): void;
  /** Hands the client back to its pool: healthy, or to be destroyed. */
  protected abstract handBack(broken: boolean): void;
  /** The pooled client underneath (what its known collation is kept by). */
  protected abstract readonly client: object;

  /**
   * Null when the connection already runs in `collation` (or none is asked for): the statement
   * goes as it is, with no extra round trip. Otherwise the promise of `SET collation_connection`,
   * which the statement must wait for; it rejects as a failed statement does.
   */
  protected collationSwitch(collation: string | undefined): Promise<void> | null {
    if (collation === undefined) return null;
    const client = this.client;
    if (connectionCollations.get(client) === collation) return null;
    if (!COLLATION_NAME.test(collation)) return Promise.reject(new Error(`invalid collation name ${JSON.stringify(collation)}`));
    connectionCollations.delete(client);
    return this.simpleQuery(`SET collation_connection = ${collation}`).then(
      () => {
        connectionCollations.set(client, collation);
      },
      (err: unknown) => {
        throw this.fail(err);
      },
    );
  }
  /**
   * The last statement's warnings, read before the connection runs anything else. A failure
   * loses only the warnings (never the statement's result); a fatal one sets `broken`.
   */
  protected abstract readWarnings(): Promise<Warning[]>;

  /**
   * Settles a stream once its consumer is done with the last chunk: a consumer error or abort
   * (`stopError`) wins over the shard's "query interrupted" it caused; a result that ended with
   * warnings hands them on before the stream settles (the count arrives with the last packet, so
   * they are read now, on this connection).
   */
  protected settleStream(
    stopError: unknown,
    queryError: unknown,
    warningCount: number,
    signal: AbortSignal | undefined,
    handlers: StreamHandlers,
    resolve: () => void,
    reject: (err: unknown) => void,
  ): void {
    if (stopError !== null) {
      if (queryError) this.fail(queryError);
      reject(stopError);
    } else if (queryError) {
      reject(this.fail(queryError, signal));
    } else if (warningCount > 0 && !this.broken) {
      void this.readWarnings().then((warnings) => {
        try {
          handlers.warnings?.(warnings, warningCount);
        } catch (err) {
          reject(err);
          return;
        }
        resolve();
      });
    } else {
      resolve();
    }
  }

  protected kill(): void {
    if (!this.killed)
      this.killed = this.owner.kill(this.threadId).catch(() => {
        // The admin connection failed: we cannot prove the statement stopped, so never reuse.
        this.broken = true;
      });
  }

  /**
   * Null when the connection may take its next statement now. After an aborted statement's KILL
   * QUERY, the promise of checkAfterKill, which the next statement must wait for: KILL QUERY comes
   * from another connection, so it may land after the aborted statement ended, on whatever the
   * connection runs next. A connection held across statements (a transaction's) had its next
   * statement interrupted that way (1317), and, since one KILL was sent per checkout, a second
   * aborted statement was never killed (its connection was then dropped after the grace period,
   * and the transaction with it). An abandoned connection (broken) is not waited for: its KILL may
   * be stuck on an unreachable shard, and its statements fail on the closed socket anyway.
   */
  protected lateKillChecked(): Promise<void> | null {
    if (this.killed === null || this.broken) return null;
    return (this.killCheck ??= this.checkAfterKill());
  }

  /**
   * Waits for the KILL QUERY to be answered (the server has then marked the thread), then runs
   * SELECT 1 on the connection, which a late KILL interrupts instead of a real statement
   * (healthy). Then the next aborted statement sends a KILL of its own.
   */
  private async checkAfterKill(): Promise<void> {
    await this.killed;
    if (!this.broken && !(await this.healthy())) this.broken = true;
    this.killed = null;
    this.killCheck = null;
  }

  /**
   * After an abort, KILL QUERY normally ends the statement within milliseconds. A shard that is
   * hung or cut off never answers at all, and the client must not wait for it: past the grace
   * period the connection is destroyed and `settle` (if any) ends the statement.
   */
  protected abandonAfterGrace(settle?: () => void): () => void {
    const timer = setTimeout(() => {
      this.broken = true;
      this.destroySocket();
      settle?.();
    }, ABORT_GRACE_MS);
    timer.unref();
    return () => clearTimeout(timer);
  }

  /** The error a statement rejects with: the abort's reason wins; a fatal error retires the connection. */
  protected fail(err: unknown, signal?: AbortSignal): unknown {
    if ((err as { fatal?: boolean })?.fatal) this.broken = true;
    if (signal?.aborted) return signal.reason;
    return toShardError(err, this.keyspace, this.shard);
  }

  async release(dirty = false): Promise<void> {
    if (this.returned) return;
    this.returned = true;
    try {
      // KILL QUERY may land after the statement ended; make sure the connection answers normally
      // before anyone else gets it. A connection abandoned after an abort is destroyed below; its
      // KILL may still be waiting on an unreachable shard, and nobody needs to wait for that.
      const check = this.lateKillChecked();
      if (check !== null) await check;
      if (!this.broken && dirty) {
        await this.simpleQuery('ROLLBACK');
        await this.simpleQuery(this.owner.resetStatement);
      }
    } catch {
      this.broken = true;
    }
    this.owner.connectionReturned();
    this.handBack(this.broken);
  }

  /**
   * release(false) at once when it has nothing to wait for (no KILL QUERY was sent): true then.
   * False, doing nothing, when release() must check the connection first.
   */
  protected releaseNow(): boolean {
    if (this.killed !== null) return false;
    if (this.returned) return true;
    this.returned = true;
    this.owner.connectionReturned();
    this.handBack(this.broken);
    return true;
  }

  destroy(): void {
    if (this.returned) return;
    this.returned = true;
    this.owner.connectionReturned();
    this.handBack(true);
  }

  /** A connection answers SELECT 1 (once more if the first one met the late KILL QUERY). */
  private async healthy(): Promise<boolean> {
    for (let i = 0; i < 2; i++) {
      try {
        await this.simpleQuery('SELECT 1');
        return true;
      } catch (err) {
        if ((err as { errno?: number }).errno !== ER_QUERY_INTERRUPTED) return false;
      }
    }
    return false;
  }
}
