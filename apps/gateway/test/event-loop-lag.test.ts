import { afterEach, describe, expect, it } from 'vitest';
import { EventLoopLagMonitor, LastStatement } from '../src/event-loop-lag.js';

/** Holds the event loop, as a pathological statement would. */
function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('EventLoopLagMonitor', () => {
  let monitor: EventLoopLagMonitor | null = null;
  afterEach(() => monitor?.stop());

  it('reports a stall over 100 ms with the digest of the statement that was running, and counts it in the lag figures', async () => {
    const warnings: string[] = [];
    const last = new LastStatement();
    monitor = new EventLoopLagMonitor((m) => warnings.push(m), () => last.digest());
    await new Promise((r) => setTimeout(r, 30));
    last.started('select sleep_in_js()');
    blockFor(250);
    await new Promise((r) => setTimeout(r, 60));
    // At least the 250 ms block; a loaded machine may add stalls of its own.
    const pattern = new RegExp(`^event loop blocked for (\\d+) ms \\(statement digest ${last.digest()}\\)$`);
    expect(warnings.some((w) => Number(pattern.exec(w)?.[1]) >= 200)).toBe(true);
    expect(monitor.snapshot().maxMs).toBeGreaterThanOrEqual(200);
    monitor.resetWindow();
    expect(monitor.snapshot().maxMs).toBe(0);
  });
});

describe('LastStatement', () => {
  it('digests the last started statement, with a cost bounded whatever its size', () => {
    const last = new LastStatement();
    expect(last.digest()).toBeUndefined();
    last.started('select 1');
    const one = last.digest();
    expect(one).toMatch(/^[0-9a-f]{16}$/);
    last.started('select 2');
    expect(last.digest()).not.toBe(one);
    last.started('select 1');
    expect(last.digest()).toBe(one);
    // Same first 1024 characters, different length: different digests.
    const long = 'x'.repeat(5000);
    last.started(long);
    const a = last.digest();
    last.started(long + 'y');
    expect(last.digest()).not.toBe(a);
  });
});
