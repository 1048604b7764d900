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
 * Hooks per signal. Concurrency rule: a set is changed only synchronously by onAbort/offAbort and
 * emptied in one step when its signal aborts, before any hook runs.
 */
const hooksBySignal = new WeakMap<AbortSignal, Set<() => void>>();

export function onAbort(signal: AbortSignal, hook: () => void): void {
  let hooks = hooksBySignal.get(signal);
  if (hooks === undefined) {
    const set = new Set<() => void>();
    hooks = set;
    hooksBySignal.set(signal, set);
    signal.addEventListener('abort', () => runHooks(set), { once: true });
  }
  hooks.add(hook);
}

export function offAbort(signal: AbortSignal, hook: () => void): void {
  hooksBySignal.get(signal)?.delete(hook);
}

function runHooks(hooks: Set<() => void>): void {
  if (hooks.size === 0) return;
  const due = [...hooks];
  hooks.clear();
  for (const hook of due) {
    try {
      hook();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
