import type { CacheEntry } from './cache-entry.js';
import type { SlotTable } from './slot-table.js';

const NONE = -1;

/**
 * A doubly-linked list of entries, most recently used first, with its length and total cost; the links live in a
 * SlotTable shared by the policy's lists (an entry is in at most one list). Every method is synchronous and O(1).
 * Concurrency rule: owned by one stripe's policy and mutated only in synchronous code, either on the lock-free hit
 * path (moveToHead) or by the holder of the stripe's lock.
 */
export class EntryList<K, V> {
  private head = NONE;
  private tail = NONE;
  length = 0;
  cost = 0;

  constructor(private readonly slots: SlotTable<K, V>) {}

  get first(): CacheEntry<K, V> | undefined {
    return this.head === NONE ? undefined : this.slots.entry(this.head);
  }

  get last(): CacheEntry<K, V> | undefined {
    return this.tail === NONE ? undefined : this.slots.entry(this.tail);
  }

  /** The entry after `e` (towards the least recently used end). */
  after(e: CacheEntry<K, V>): CacheEntry<K, V> | undefined {
    const n = this.slots.next[e.slot];
    return n === NONE ? undefined : this.slots.entry(n);
  }

  /** Links `e` at the head, giving it a slot if it has none. */
  pushHead(e: CacheEntry<K, V>): void {
    if (e.slot === NONE) e.slot = this.slots.allocate(e);
    const { prev, next } = this.slots;
    const s = e.slot;
    prev[s] = NONE;
    next[s] = this.head;
    if (this.head === NONE) this.tail = s;
    else prev[this.head] = s;
    this.head = s;
    e.list = this;
    this.length++;
    this.cost += e.cost;
  }

  /** Unlinks `e` but keeps its slot, to push it onto another list of the same table. */
  unlink(e: CacheEntry<K, V>): void {
    const { prev, next } = this.slots;
    const s = e.slot;
    const p = prev[s];
    const n = next[s];
    if (p === NONE) this.head = n;
    else next[p] = n;
    if (n === NONE) this.tail = p;
    else prev[n] = p;
    e.list = undefined;
    this.length--;
    this.cost -= e.cost;
  }

  /** Unlinks `e` and frees its slot: it leaves the policy. */
  remove(e: CacheEntry<K, V>): void {
    this.unlink(e);
    this.slots.release(e.slot);
    e.slot = NONE;
  }

  /** The hit path: integer stores only. */
  moveToHead(e: CacheEntry<K, V>): void {
    const s = e.slot;
    const head = this.head;
    if (head === s) return;
    const { prev, next } = this.slots;
    const p = prev[s]; // not NONE: s is not the head
    const n = next[s];
    next[p] = n;
    if (n === NONE) this.tail = p;
    else prev[n] = p;
    prev[s] = NONE;
    next[s] = head;
    prev[head] = s;
    this.head = s;
  }

  /** Removes every entry, freeing their slots. */
  clear(): void {
    for (let s = this.head; s !== NONE; ) {
      const e = this.slots.entry(s);
      const n = this.slots.next[s];
      this.slots.release(s);
      e.slot = NONE;
      e.list = undefined;
      s = n;
    }
    this.head = this.tail = NONE;
    this.length = 0;
    this.cost = 0;
  }
}
