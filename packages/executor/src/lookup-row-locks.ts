/**
 * The consistent-lookup rows an open transaction's pre and post transactions hold a lock on
 * without having created them (OwnLookupRows has those pre created). InnoDB keeps a row lock until
 * its transaction ends, so a later statement of the same client transaction that needs the row on
 * the other connection waited for its own lock: 1205 after innodb_lock_wait_timeout (50 s), where
 * one MariaDB goes on at once. Two ways in:
 * - post deleted the row (a DELETE of its owner row, or an UPDATE moving the owner's value), and
 *   the transaction then INSERTs that value again, which creates the row in pre
 *   (`DELETE … WHERE id = 1; INSERT … (2, 'a@x')`, or a value moved away and back). lookup-upkeep
 *   then rolls back post on that shard, releasing its locks, and deletes there again the rows it
 *   still has to delete (postDeletesOn);
 * - pre met the row as a duplicate (an INSERT whose value a live row holds failed with 1062:
 *   InnoDB locks the duplicate it met, and ROLLBACK TO SAVEPOINT does not release it), and the
 *   transaction then deletes that row's owner, which deletes the row in post. lookup-upkeep deletes
 *   it in pre instead.
 *
 * Rows are named by their SQL condition (ownLookupRowKey's); whether a value is one of them is
 * asked of the lookup table's shard, which compares in the column's collation ('A@x' is 'a@x'
 * under a _ci one).
 *
 * Locks outlive ROLLBACK TO SAVEPOINT, so the lock lists are never undone; the post deletes still
 * to be done are (a SavepointJournal, as OwnLookupRows' rows).
 *
 * Concurrency rule: owned by one Session, which runs one statement at a time and whose lookup
 * writes run one after the other (lookup-upkeep.ts); every method is synchronous.
 */
import { SavepointJournal } from './savepoint-journal.js';

/** One lookup row: where it lives and the condition naming it. */
export interface LookupRowAt {
  readonly keyspace: string;
  readonly shard: string;
  readonly table: string;
  readonly condition: string;
}

const tableKey = (keyspace: string, shard: string, table: string): string => `${keyspace}\u0000${shard}\u0000${table}`;
const shardKey = (keyspace: string, shard: string): string => `${keyspace}\u0000${shard}`;

export class LookupRowLocks {
  /** Table key → conditions of rows pre locked as duplicates. */
  private readonly preLocked = new Map<string, string[]>();
  /** Table key → conditions of rows post deleted (and so locked) since it last began on that shard. */
  private readonly postLocked = new Map<string, string[]>();
  /** The post deletes in effect, oldest first. */
  private postDeletes: LookupRowAt[] = [];
  /** Every change to `postDeletes`, to undo savepoint by savepoint. */
  private readonly journal = new SavepointJournal<{ readonly added: boolean; readonly row: LookupRowAt }>();

  /** Pre met this row as a duplicate: it holds a lock on it until the transaction ends. */
  lockedInPre(row: LookupRowAt): void {
    push(this.preLocked, tableKey(row.keyspace, row.shard, row.table), row.condition);
  }

  preLockedOn(keyspace: string, shard: string, table: string): readonly string[] {
    return this.preLocked.get(tableKey(keyspace, shard, table)) ?? NONE;
  }

  /** Post deleted this row. */
  deletedInPost(row: LookupRowAt): void {
    push(this.postLocked, tableKey(row.keyspace, row.shard, row.table), row.condition);
    this.postDeletes.push(row);
    this.journal.record({ added: true, row });
  }

  postLockedOn(keyspace: string, shard: string, table: string): readonly string[] {
    return this.postLocked.get(tableKey(keyspace, shard, table)) ?? NONE;
  }

  /**
   * Post was rolled back on this shard, its locks there released: returns the deletes it had done
   * there that are still in effect (to do again), forgetting them and the shard's locks.
   */
  postRolledBack(keyspace: string, shard: string): LookupRowAt[] {
    const prefix = shardKey(keyspace, shard) + '\u0000';
    for (const k of [...this.postLocked.keys()]) if (k.startsWith(prefix)) this.postLocked.delete(k);
    const taken: LookupRowAt[] = [];
    this.postDeletes = this.postDeletes.filter((d) => {
      if (d.keyspace !== keyspace || d.shard !== shard) return true;
      taken.push(d);
      this.journal.record({ added: false, row: d });
      return false;
    });
    return taken;
  }

  /** `SAVEPOINT name` (set again, it moves, as on MariaDB). */
  savepoint(name: string): void {
    this.journal.savepoint(name);
  }

  /** `ROLLBACK TO SAVEPOINT name`: the post deletes since it are undone; later savepoints are gone. */
  rollbackTo(name: string): void {
    this.journal.rollbackTo(name, ({ added, row }) => {
      if (!added) {
        this.postDeletes.push(row);
        return;
      }
      const at = this.postDeletes.lastIndexOf(row);
      if (at >= 0) this.postDeletes.splice(at, 1);
    });
  }

  /** The transaction ended (committed or rolled back). */
  clear(): void {
    this.preLocked.clear();
    this.postLocked.clear();
    this.postDeletes = [];
    this.journal.clear();
  }
}

const NONE: readonly string[] = [];

function push(map: Map<string, string[]>, key: string, condition: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [condition]);
  else if (!list.includes(condition)) list.push(condition);
}
