import { currentRaceContextId, isRaceContextLive } from './race-context.js';

/**
 * JavaScript's version of Go's `fatal error: concurrent map writes`: one async operation wrote a key
 * that another, still-running operation had read as missing and has not filled yet — the classic
 * check-then-act across an await. Carries errno/sqlState so it is a well-formed error if it ever
 * reaches a MySQL client (1105 ER_UNKNOWN_ERROR, HY000).
 */
export class ConcurrentMapWriteError extends Error {
  override readonly name = 'ConcurrentMapWriteError';
  readonly errno = 1105;
  readonly sqlState = 'HY000';
  constructor(
    readonly mapName: string,
    readonly key: unknown,
    readonly writer: number,
    readonly missedBy: readonly number[],
  ) {
    super(
      `concurrent map writes on ${mapName}: key ${describeKey(key)} written by race context ${writer} ` +
        `while race context(s) ${missedBy.join(', ')} read it as missing and have not written it yet ` +
        '(check-then-act across an await; store the in-flight promise before awaiting)',
    );
  }
}

function describeKey(key: unknown): string {
  try {
    return typeof key === 'string' ? JSON.stringify(key) : String(key);
  } catch {
    return '<key>';
  }
}

/**
 * A Map that detects check-then-act races between async operations. Operations are told apart by
 * race context (runInRaceContext(), or each task of an explore() run); code outside any race
 * context is not tracked.
 *
 * Rule: a `get`/`has` that finds the key missing is recorded as "intends to fill". It stays pending
 * until the same context sets or deletes the key, or the context ends. A `set` by any other context
 * while such a miss is pending throws ConcurrentMapWriteError — before writing, like Go's fatal error.
 * Consequence: a context that looks a key up, finds nothing and never fills it, while staying alive,
 * will flag a later writer; read such keys through a plain Map.
 */
class RaceCheckedMap<K, V> extends Map<K, V> {
  /**
   * key → race contexts with a pending miss.
   * Concurrency rule: only touched synchronously inside get/has/set/delete, so each check and its
   * bookkeeping are atomic with respect to other async operations.
   */
  private readonly misses = new Map<K, Set<number>>();

  constructor(private readonly mapName: string) {
    super();
  }

  override get(key: K): V | undefined {
    if (!super.has(key)) this.recordMiss(key);
    return super.get(key);
  }

  override has(key: K): boolean {
    const found = super.has(key);
    if (!found) this.recordMiss(key);
    return found;
  }

  override set(key: K, value: V): this {
    // Map's constructor may call set before our fields exist.
    if (this.misses !== undefined) {
      const writer = currentRaceContextId();
      const pending = this.misses.get(key);
      if (pending !== undefined) {
        pending.delete(writer);
        const others = [...pending].filter(isRaceContextLive);
        if (writer !== 0 && others.length > 0) {
          throw new ConcurrentMapWriteError(this.mapName, key, writer, others);
        }
        if (pending.size === 0) this.misses.delete(key);
      }
    }
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    const pending = this.misses.get(key);
    if (pending !== undefined) {
      pending.delete(currentRaceContextId());
      if (pending.size === 0) this.misses.delete(key);
    }
    return super.delete(key);
  }

  override clear(): void {
    this.misses.clear();
    super.clear();
  }

  private recordMiss(key: K): void {
    const id = currentRaceContextId();
    if (id === 0) return;
    let pending = this.misses.get(key);
    if (pending === undefined) {
      pending = new Set();
      this.misses.set(key, pending);
    }
    // Drop misses of finished contexts so long-lived maps don't accumulate them.
    for (const other of pending) if (!isRaceContextLive(other)) pending.delete(other);
    pending.add(id);
  }
}

/** A Map that throws `concurrent map writes` on check-then-act races between race contexts. */
export function raceCheckedMap<K, V>(name = 'raceCheckedMap'): Map<K, V> {
  return new RaceCheckedMap<K, V>(name);
}
