import { describe, expect, it } from 'vitest';
import { offAbort, onAbort } from '../src/abort-hooks.js';

describe('abort hooks', () => {
  it('run once each, in the order they were added, across the single slot and the set', () => {
    const ac = new AbortController();
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
    const ac = new AbortController();
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
    const ac = new AbortController();
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
    const x = new AbortController();
    const y = new AbortController();
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
