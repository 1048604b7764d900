/**
 * The consistent-lookup rows the open transaction created itself, in its pre transaction (see
 * LookupWriteOrder): inserted there, or orphans taken over there. Their row locks belong to the
 * pre connection until the transaction ends, so deleting one in the post transaction (where
 * consistent lookups delete) waited for the same client's own lock: 1205 after
 * innodb_lock_wait_timeout, where one MariaDB deletes the row. Such a row is deleted in the pre
 * transaction instead. That keeps the commit-order guarantee: nothing committed before the
 * transaction pointed at the new owner row, so whatever commits first, no committed owner row is
 * left without its lookup row.
 *
 * Savepoints: a ROLLBACK TO SAVEPOINT undoes the shards' writes, pre's included, so it undoes this
 * record's changes made since that savepoint too (an undo journal, marked at each savepoint).
 *
 * Concurrency rule: owned by one Session, which runs one statement at a time and whose lookup
 * writes run one after the other (lookup-upkeep.ts); every method is synchronous.
 */
import { SavepointJournal } from './savepoint-journal.js';

export class OwnLookupRows {
  private readonly rows = new Set<string>();
  /** Every change to `rows` since the transaction began, to undo savepoint by savepoint. */
  private readonly journal = new SavepointJournal<{ readonly added: boolean; readonly key: string }>();

  has(key: string): boolean {
    return this.rows.has(key);
  }

  add(key: string): void {
    if (this.rows.has(key)) return;
    this.rows.add(key);
    this.journal.record({ added: true, key });
  }

  remove(key: string): void {
    if (!this.rows.delete(key)) return;
    this.journal.record({ added: false, key });
  }

  /** `SAVEPOINT name` (set again, it moves, as on MariaDB). */
  savepoint(name: string): void {
    this.journal.savepoint(name);
  }

  /** `ROLLBACK TO SAVEPOINT name`: the changes since it are undone; later savepoints are gone. */
  rollbackTo(name: string): void {
    this.journal.rollbackTo(name, ({ added, key }) => {
      if (added) this.rows.delete(key);
      else this.rows.add(key);
    });
  }

  /** The transaction ended (committed or rolled back). */
  clear(): void {
    this.rows.clear();
    this.journal.clear();
  }
}

/** The key of one lookup row: where it lives, and the condition naming it exactly (from values and `to`). */
export function ownLookupRowKey(keyspace: string, shard: string, table: string, condition: string): string {
  return `${keyspace}\u0000${shard}\u0000${table}\u0000${condition}`;
}
