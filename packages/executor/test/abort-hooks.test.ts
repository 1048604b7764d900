import { describe, expect, it } from 'vitest';
import { offAbort, onAbort, ScopeAbortController, type Aborter } from '../src/abort-hooks.js';

describe.each([
  ['AbortController', (): Aborter => new AbortController()],
  ['ScopeAbortController', (): Aborter => new ScopeAbortController()],
])('abort hooks on an %s', (_kind, make) => {
  it('run once each, in the order they were added, across the single slot and the set', () => {
    const ac = make();
    const ran: string[] = [];
    const a = () => ran.push('a');
    const b = () => ran.push('b');
    const c = () => ran.push('c');
    const d = () => ran.push('d');
    onAbort(ac.signal, a);
    onAbort(ac.signal, b);
    offAbort(ac.signal, a);
    // `a`'s slot is free but `b` is still hooked: `c` must run after it.
    onAbort(ac.signal, c);
    onAbort(ac.signal, a);
    onAbort(ac.signal, c); // twice: still once, as with addEventListener
    onAbort(ac.signal, d);
    offAbort(ac.signal, d);
    ac.abort();
    ac.abort();
    expect(ran).toEqual(['b', 'c', 'a']);
  });

  it('a hook removed before the abort never runs; one added again does', () => {
    const ac = make();
    const ran: string[] = [];
    const a = () => ran.push('a');
    for (let i = 0; i < 1000; i++) {
      onAbort(ac.signal, a);
      offAbort(ac.signal, a);
      const fresh = () => ran.push('fresh');
      onAbort(ac.signal, fresh);
      offAbort(ac.signal, fresh);
    }
    expect(ran).toEqual([]);
    onAbort(ac.signal, a);
    ac.abort();
    expect(ran).toEqual(['a']);
  });

  it('hooks added while the signal aborts, or after, never run; a throwing hook does not stop the others', async () => {
    const ac = make();
    const ran: string[] = [];
    const late = () => ran.push('late');
    const thrown: unknown[] = [];
    const onUncaught = (err: unknown) => thrown.push(err);
    process.prependListener('uncaughtException', onUncaught);
    try {
      onAbort(ac.signal, () => {
        ran.push('first');
        onAbort(ac.signal, late);
        throw new Error('boom');
      });
      onAbort(ac.signal, () => ran.push('second'));
      ac.abort();
      onAbort(ac.signal, late);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.removeListener('uncaughtException', onUncaught);
    }
    expect(ran).toEqual(['first', 'second']);
    expect(thrown.map((e) => (e as Error).message)).toEqual(['boom']);
  });

  it('keeps signals apart', () => {
    const x = make();
    const y = make();
    const ran: string[] = [];
    const hook = () => ran.push('hook');
    onAbort(x.signal, hook);
    onAbort(y.signal, hook);
    offAbort(x.signal, hook);
    x.abort();
    expect(ran).toEqual([]);
    y.abort();
    expect(ran).toEqual(['hook']);
  });
});

describe('ScopeAbortController', () => {
  it('aborts as an AbortController does: once, with its reason or an AbortError, listeners in order', () => {
    const scope = new ScopeAbortController();
    const node = new AbortController();
    const ran: string[] = [];
    for (const [name, c] of [['scope', scope], ['node', node]] as const) {
      const first = (e: Event) => ran.push(`${name} first ${e.type}`);
      const removed = () => ran.push(`${name} removed`);
      c.signal.addEventListener('abort', first, { once: true });
      c.signal.addEventListener('abort', removed);
      onAbort(c.signal, () => ran.push(`${name} hook`));
      c.signal.addEventListener('abort', { handleEvent: () => ran.push(`${name} object`) });
      c.signal.removeEventListener('abort', removed);
      expect(c.signal.aborted).toBe(false);
      expect(() => c.signal.throwIfAborted()).not.toThrow();
      c.abort();
      c.abort(new Error('second'));
      expect(c.signal.aborted).toBe(true);
      expect(c.signal.reason).toMatchObject({ name: 'AbortError' });
      expect(() => c.signal.throwIfAborted()).toThrow(c.signal.reason as Error);
      onAbort(c.signal, () => ran.push(`${name} late`));
    }
    expect(ran).toEqual(['scope first abort', 'scope hook', 'scope object', 'node first abort', 'node hook', 'node object']);
    const reason = new Error('why');
    const withReason = new ScopeAbortController();
    withReason.abort(reason);
    expect(withReason.signal.reason).toBe(reason);
  });
});
