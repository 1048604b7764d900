import { AsyncLocalStorage } from 'node:async_hooks';
import type { RaceScheduler } from './race-scheduler.js';

/** What the current async context is: who it is (for the race detector) and which explore run owns it. */
interface RaceContextState {
  readonly id: number;
  readonly scheduler: RaceScheduler | undefined;
}

const storage = new AsyncLocalStorage<RaceContextState>();

/**
 * Ids of contexts whose function has not settled yet.
 * Concurrency rule: added and removed synchronously at context start/end; readers only test membership.
 */
const liveContexts = new Set<number>();
let nextContextId = 1;

/** Id of the race context running now; 0 means "not inside any race context" (untracked). */
export function currentRaceContextId(): number {
  return storage.getStore()?.id ?? 0;
}

export function isRaceContextLive(id: number): boolean {
  return liveContexts.has(id);
}

/** The explore() run that owns the current async context, if any. */
export function currentScheduler(): RaceScheduler | undefined {
  return storage.getStore()?.scheduler;
}

/**
 * Runs fn as its own top-level async operation: everything it awaits or starts shares a fresh
 * context id, which raceCheckedMap uses to tell concurrent operations apart. Inherits the explore
 * run of the caller, if any.
 */
export function runInRaceContext<T>(fn: () => T | Promise<T>): Promise<T> {
  return runWithScheduler(storage.getStore()?.scheduler, fn);
}

export function runWithScheduler<T>(scheduler: RaceScheduler | undefined, fn: () => T | Promise<T>): Promise<T> {
  const id = nextContextId++;
  liveContexts.add(id);
  return storage.run({ id, scheduler }, async () => {
    try {
      return await fn();
    } finally {
      liveContexts.delete(id);
    }
  });
}
