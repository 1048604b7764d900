/**
 * Abort hooks for the statement path: `onAbort(signal, hook)` / `offAbort(signal, hook)` behave
 * like `addEventListener('abort', hook, { once: true })` / `removeEventListener('abort', hook)`,
 * but every hook of one signal shares a single real listener.
 *
 * Why: on Node 20 an EventTarget add/remove pair costs microseconds, and each shard statement
 * hooks its signal and unhooks it again (kill the statement on abort); with the statement signal
 * shared by a session's statements, that pair was the largest executor cost left in a point
 * select. A Set add/delete is a few dozen nanoseconds. The real listener stays on the signal for
 * the signal's lifetime; it holds only the hook set, which is empty between statements.
 *
 * Same semantics as the listeners they replace: a hook runs at most once, hooks added while the
 * signal is aborting or after it aborted never run, and a hook that throws does not keep the
 * others from running (its error is rethrown asynchronously, as EventTarget does).
 */

/**
 * The hooks of one signal. Nearly always there is at most one at a time (a session's statements
 * run one after another, each hooking and unhooking its shard statement), so the first hook takes
 * a plain slot and only further ones go to a Set: a Set add/delete of a fresh closure per
 * statement cost about a microsecond (a hash for the closure, and a rehash as deletions pile up).
 * Invariant: `first` is set only while `more` is empty, so `first` was added before every hook in
 * `more` and running `first` then `more` keeps the order they were added in.
 * Concurrency rule: changed only synchronously by onAbort/offAbort, and emptied in one step when
 * the signal aborts, before any hook runs; after that (`done`) nothing is added.
 */
class SignalHooks {
  first: (() => void) | null = null;
  more: Set<() => void> | null = null;
  done = false;

  add(hook: () => void): void {
    if (this.done || hook === this.first) return;
    if (this.first === null && (this.more === null || this.more.size === 0)) this.first = hook;
    else (this.more ??= new Set()).add(hook);
  }

  delete(hook: () => void): void {
    if (this.first === hook) this.first = null;
    else if (this.more !== null) this.more.delete(hook);
  }

  run(): void {
    this.done = true;
    const first = this.first;
    const more = this.more !== null && this.more.size > 0 ? [...this.more] : null;
    this.first = null;
    this.more = null;
    if (first !== null) runHook(first);
    if (more !== null) for (const hook of more) runHook(hook);
  }
}

const hooksBySignal = new WeakMap<AbortSignal, SignalHooks>();

/**
 * What aborts a signal: a Node AbortController, or a ScopeAbortController.
 */
export interface Aborter {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}

/**
 * A signal for the executor's own per-statement scopes (a fan-out's shard statements, a Limit's
 * input, a merge's inputs), made by ScopeAbortController. Node 20 builds an AbortSignal in about
 * 3 µs (an EventTarget whose prototype is then changed) and adds its first listener in about
 * 2 µs: in a 4-shard `SELECT SUM(k) … WHERE id BETWEEN ? AND ?` under callgrind, the fan-out's
 * signal was 27,000 of the gateway's 271,000 instructions. This one holds its hooks itself.
 *
 * It reads as an AbortSignal for the executor's code, which only reads `aborted` and `reason` and
 * hooks signals through onAbort/offAbort (or add/removeEventListener('abort'), kept for the same
 * semantics). It must never be handed to a Node API that takes an AbortSignal: those check the
 * class and throw. Concurrency rule: aborted once, synchronously, by its controller; the hooks
 * run in that same step, in the order they were added.
 */
class ScopeSignal {
  aborted = false;
  reason: unknown = undefined;
  readonly hooks = new SignalHooks();
  /** addEventListener's listeners, each with its hook (for removeEventListener). */
  private listeners: Map<unknown, () => void> | null = null;

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  addEventListener(type: string, listener: ((event: Event) => void) | { handleEvent(event: Event): void }, _options?: unknown): void {
    if (type !== 'abort' || this.listeners?.has(listener) === true) return;
    const hook = () => {
      this.listeners?.delete(listener);
      const event = new Event('abort');
      if (typeof listener === 'function') listener.call(this, event);
      else listener.handleEvent(event);
    };
    (this.listeners ??= new Map()).set(listener, hook);
    this.hooks.add(hook);
  }

  removeEventListener(type: string, listener: unknown): void {
    const hook = type === 'abort' ? this.listeners?.get(listener) : undefined;
    if (hook === undefined) return;
    this.listeners!.delete(listener);
    this.hooks.delete(hook);
  }
}

/** An Aborter whose signal is a ScopeSignal: for scopes inside one statement only (see ScopeSignal). */
export class ScopeAbortController implements Aborter {
  private readonly scope = new ScopeSignal();

  get signal(): AbortSignal {
    return this.scope as unknown as AbortSignal;
  }

  abort(reason?: unknown): void {
    const scope = this.scope;
    if (scope.aborted) return;
    scope.aborted = true;
    // As AbortController.abort() with no reason.
    scope.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    scope.hooks.run();
  }
}

export function onAbort(signal: AbortSignal, hook: () => void): void {
  if (signal instanceof ScopeSignal) {
    signal.hooks.add(hook);
    return;
  }
  let hooks = hooksBySignal.get(signal);
  if (hooks === undefined) {
    const created = new SignalHooks();
    hooks = created;
    hooksBySignal.set(signal, created);
    signal.addEventListener('abort', () => created.run(), { once: true });
  }
  hooks.add(hook);
}

export function offAbort(signal: AbortSignal, hook: () => void): void {
  if (signal instanceof ScopeSignal) signal.hooks.delete(hook);
  else hooksBySignal.get(signal)?.delete(hook);
}

function runHook(hook: () => void): void {
  try {
    hook();
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
