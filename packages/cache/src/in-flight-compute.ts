/**
 * One running compute and the callers waiting for it (single-flight). All callers share `promise`; a caller with an
 * abort signal gets a wrapper that rejects on abort without touching the compute.
 *
 * Concurrency rule: fields change only in synchronous code. `attached` is true while this record is the one the
 * cache's in-flight map holds for its key (new callers join it); it becomes false, never true again, when the compute
 * settles or an invalidate/clear/delete/set supersedes it. `signal` aborts only when nobody can use the result any
 * more: the record is detached and every caller has stopped waiting, or the cache is disposed.
 */
export class InFlightCompute<V> {
  readonly promise: Promise<V>;
  attached = true;
  private settled = false;
  /** Callers without a signal: they wait until the compute settles. */
  private steadyWaiters = 0;
  /** Callers with a signal that has not aborted yet. */
  private abortableWaiters = 0;
  /** Created on first use: building an AbortSignal costs microseconds, and most computes never look at theirs. */
  private controller: AbortController | undefined;
  /** Set once the compute should stop, so that a signal created later starts out aborted. */
  private abortReason: { reason: unknown } | undefined;
  private resolvePromise!: (value: V) => void;
  private rejectPromise!: (error: unknown) => void;

  constructor(
    /** The key's hash and stripe, remembered so that joining callers need not hash the key again. */
    readonly hash: number,
    readonly stripe: number,
    /** The cache's epoch when the compute began; its result may be cached only while the epoch is unchanged. */
    readonly epoch: number,
  ) {
    this.promise = new Promise<V>((resolve, reject) => {
      this.resolvePromise = resolve;
      this.rejectPromise = reject;
    });
  }

  /** The signal handed to `compute`. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason.reason);
    }
    return this.controller.signal;
  }

  /** A promise for this caller: the shared promise itself, or an abortable wrapper if the caller has a signal. */
  wait(signal: AbortSignal | undefined): Promise<V> {
    if (signal === undefined) {
      this.steadyWaiters++;
      return this.promise;
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    this.abortableWaiters++;
    return new Promise<V>((resolve, reject) => {
      // Whichever comes first, the abort or the result, ends this caller's wait; the other is ignored.
      let waiting = true;
      const stopWaiting = (): boolean => {
        if (!waiting) return false;
        waiting = false;
        this.abortableWaiters--;
        signal.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (!stopWaiting()) return;
        reject(signal.reason);
        this.cancelIfUnwanted();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (value) => {
          if (stopWaiting()) resolve(value);
        },
        (error: unknown) => {
          if (stopWaiting()) reject(error);
        },
      );
    });
  }

  /** The record is no longer the one new callers join; its result will not be cached. */
  detach(): void {
    this.attached = false;
    this.cancelIfUnwanted();
  }

  resolve(value: V): void {
    this.attached = false;
    this.settled = true;
    this.resolvePromise(value);
  }

  reject(error: unknown): void {
    this.attached = false;
    this.settled = true;
    this.rejectPromise(error);
  }

  abort(reason: unknown): void {
    if (this.settled || this.abortReason !== undefined) return;
    this.abortReason = { reason };
    this.controller?.abort(reason);
  }

  private cancelIfUnwanted(): void {
    if (!this.attached && !this.settled && this.steadyWaiters === 0 && this.abortableWaiters === 0) {
      this.abort(new Error('cache compute abandoned: superseded and no caller is waiting'));
    }
  }
}
