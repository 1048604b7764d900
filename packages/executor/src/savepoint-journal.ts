/**
 * An undo journal for a transaction's own bookkeeping that ROLLBACK TO SAVEPOINT must rewind as
 * the shards rewind their writes (OwnLookupRows, LookupRowLocks): each change is recorded, each
 * savepoint marks the journal's length, and rolling back to one undoes, newest first, the changes
 * recorded after its mark. A savepoint set again moves (as on MariaDB); rolling back to one drops
 * the savepoints set after it and keeps it.
 *
 * Concurrency rule: owned by the structure it journals, with that structure's rule (one session,
 * synchronous calls).
 */
export class SavepointJournal<T> {
  private entries: T[] = [];
  /** Savepoint key → the journal length when the savepoint was set. */
  private readonly marks = new Map<string, number>();

  record(change: T): void {
    this.entries.push(change);
  }

  /** `SAVEPOINT name`. */
  savepoint(name: string): void {
    this.marks.set(name, this.entries.length);
  }

  /** `ROLLBACK TO SAVEPOINT name`: `undo` gets each change since it, newest first; false for an unknown name. */
  rollbackTo(name: string, undo: (change: T) => void): boolean {
    const mark = this.marks.get(name);
    if (mark === undefined) return false;
    for (let i = this.entries.length - 1; i >= mark; i--) undo(this.entries[i]!);
    this.entries.length = mark;
    for (const [n, m] of this.marks) if (m > mark) this.marks.delete(n);
    return true;
  }

  /** The transaction ended. */
  clear(): void {
    this.entries = [];
    this.marks.clear();
  }
}
