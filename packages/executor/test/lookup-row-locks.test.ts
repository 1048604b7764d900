import { describe, expect, it } from 'vitest';
import { LookupRowLocks, type LookupRowAt } from '../src/lookup-row-locks.js';

const row = (shard: string, table: string, condition: string): LookupRowAt => ({ keyspace: 'main', shard, table, condition });

describe('LookupRowLocks', () => {
  it('lists the rows each side locked, per table and shard', () => {
    const locks = new LookupRowLocks();
    locks.lockedInPre(row('0', 'email_lkp', "`email` = 'a'"));
    locks.lockedInPre(row('0', 'email_lkp', "`email` = 'a'"));
    locks.deletedInPost(row('0', 'email_lkp', "`email` = 'b' and `ksid` = 1"));
    locks.deletedInPost(row('1', 'email_lkp', "`email` = 'c' and `ksid` = 2"));
    expect(locks.preLockedOn('main', '0', 'email_lkp')).toEqual(["`email` = 'a'"]);
    expect(locks.preLockedOn('main', '0', 'phone_lkp')).toEqual([]);
    expect(locks.postLockedOn('main', '0', 'email_lkp')).toEqual(["`email` = 'b' and `ksid` = 1"]);
    expect(locks.postLockedOn('main', '1', 'email_lkp')).toEqual(["`email` = 'c' and `ksid` = 2"]);
  });

  it('post rolled back on a shard: returns the deletes still in effect there and forgets its locks there only', () => {
    const locks = new LookupRowLocks();
    const b = row('0', 'email_lkp', 'b');
    const p = row('0', 'phone_lkp', 'p');
    const c = row('1', 'email_lkp', 'c');
    locks.deletedInPost(b);
    locks.deletedInPost(c);
    locks.deletedInPost(p);
    expect(locks.postRolledBack('main', '0')).toEqual([b, p]);
    expect(locks.postLockedOn('main', '0', 'email_lkp')).toEqual([]);
    expect(locks.postLockedOn('main', '0', 'phone_lkp')).toEqual([]);
    expect(locks.postLockedOn('main', '1', 'email_lkp')).toEqual(['c']);
    expect(locks.postRolledBack('main', '0')).toEqual([]);
  });

  it('ROLLBACK TO SAVEPOINT undoes the post deletes since it, not the locks', () => {
    const locks = new LookupRowLocks();
    const before = row('0', 't', 'before');
    const after = row('0', 't', 'after');
    locks.deletedInPost(before);
    locks.savepoint('s');
    locks.deletedInPost(after);
    locks.lockedInPre(row('0', 't', 'dup'));
    locks.rollbackTo('s');
    // The lock on `after` is still post's (InnoDB keeps it), but its delete is undone.
    expect(locks.postLockedOn('main', '0', 't')).toEqual(['before', 'after']);
    expect(locks.preLockedOn('main', '0', 't')).toEqual(['dup']);
    expect(locks.postRolledBack('main', '0')).toEqual([before]);
  });

  it('a savepoint set before deletes that post then gave back brings them back on ROLLBACK TO it', () => {
    const locks = new LookupRowLocks();
    const b = row('0', 't', 'b');
    locks.deletedInPost(b);
    locks.savepoint('s');
    expect(locks.postRolledBack('main', '0')).toEqual([b]);
    locks.rollbackTo('s');
    expect(locks.postRolledBack('main', '0')).toEqual([b]);
  });

  it('clear() forgets everything', () => {
    const locks = new LookupRowLocks();
    locks.deletedInPost(row('0', 't', 'b'));
    locks.lockedInPre(row('0', 't', 'a'));
    locks.savepoint('s');
    locks.clear();
    expect(locks.postLockedOn('main', '0', 't')).toEqual([]);
    expect(locks.preLockedOn('main', '0', 't')).toEqual([]);
    expect(locks.postRolledBack('main', '0')).toEqual([]);
    locks.rollbackTo('s');
    expect(locks.postRolledBack('main', '0')).toEqual([]);
  });
});
