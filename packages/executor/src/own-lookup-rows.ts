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
export class OwnLookupRows {
  private readonly rows = new Set<string>();
  /** Every change to `rows` since the transaction began, oldest first, to undo savepoint by savepoint. */
  private journal: { readonly added: boolean; readonly key: string }[] = [];
  /** Savepoint key → the journal length when the savepoint was set. */
  private readonly marks = new Map<string, number>();

  has(key: string): boolean {
    return this.rows.has(key);
  }

  add(key: string): void {
    if (this.rows.has(key)) return;
    this.rows.add(key);
    this.journal.push({ added: true, key });
  }

  remove(key: string): void {
    if (!this.rows.delete(key)) return;
    this.journal.push({ added: false, key });
  }

  /** `SAVEPOINT name` (set again, it moves, as on MariaDB). */
  savepoint(name: string): void {
    this.marks.set(name, this.journal.length);
  }

  /** `ROLLBACK TO SAVEPOINT name`: the changes since it are undone; later savepoints are gone. */
  rollbackTo(name: string): void {
    const mark = this.marks.get(name);
    if (mark === undefined) return;
    for (let i = this.journal.length - 1; i >= mark; i--) {
      const { added, key } = this.journal[i]!;
      if (added) this.rows.delete(key);
      else this.rows.add(key);
    }
    this.journal.length = mark;
    for (const [n, m] of this.marks) if (m > mark) this.marks.delete(n);
  }

  /** The transaction ended (committed or rolled back). */
  clear(): void {
    this.rows.clear();
    this.journal = [];
    this.marks.clear();
  }
}

/** The key of one lookup row: where it lives, and the condition naming it exactly (from values and `to`). */
export function ownLookupRowKey(keyspace: string, shard: string, table: string, condition: string): string {
  return `${keyspace}\u0000${shard}\u0000${table}\u0000${condition}`;
}
