import { describe, expect, it } from 'vitest';
import { SavepointJournal } from '../src/savepoint-journal.js';

describe('SavepointJournal', () => {
  it('undoes the changes since a savepoint, newest first, and drops the savepoints after it', () => {
    const j = new SavepointJournal<string>();
    const undone: string[] = [];
    j.record('a');
    j.savepoint('s1');
    j.record('b');
    j.savepoint('s2');
    j.record('c');
    expect(j.rollbackTo('s1', (c) => undone.push(c))).toBe(true);
    expect(undone).toEqual(['c', 'b']);
    // s2 is gone; s1 stays, and rolling back to it again undoes nothing more.
    expect(j.rollbackTo('s2', (c) => undone.push(c))).toBe(false);
    expect(j.rollbackTo('s1', (c) => undone.push(c))).toBe(true);
    expect(undone).toEqual(['c', 'b']);
  });

  it('a savepoint set again moves; clear() forgets every change and savepoint', () => {
    const j = new SavepointJournal<number>();
    const undone: number[] = [];
    j.savepoint('s');
    j.record(1);
    j.savepoint('s');
    j.record(2);
    j.rollbackTo('s', (c) => undone.push(c));
    expect(undone).toEqual([2]);
    j.clear();
    expect(j.rollbackTo('s', (c) => undone.push(c))).toBe(false);
  });
});
