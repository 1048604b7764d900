import { describe, expect, it } from 'vitest';
import { mapInSlices, VALUES_PER_SLICE } from '../src/event-loop-yield.js';

describe('mapInSlices', () => {
  it('maps like Array.map and lets queued callbacks run between slices, never within one', async () => {
    const values = Array.from({ length: 2 * VALUES_PER_SLICE + 5 }, (_, i) => i);
    let otherRuns = 0;
    // Another client's work, queued before the loop starts.
    const other = (): void => {
      otherRuns++;
      if (otherRuns < 10) setImmediate(other);
    };
    setImmediate(other);
    const seen: number[] = [];
    const out = await mapInSlices(values, (v, i) => {
      seen[i] = otherRuns;
      return v * 2;
    });
    expect(out).toEqual(values.map((v) => v * 2));
    // Within a slice nothing else runs; each slice boundary lets the queued callback run.
    expect(seen[0]).toBe(0);
    expect(seen[VALUES_PER_SLICE - 1]).toBe(0);
    expect(seen[VALUES_PER_SLICE]).toBeGreaterThan(0);
    expect(seen[2 * VALUES_PER_SLICE]).toBeGreaterThan(seen[VALUES_PER_SLICE - 1]!);
    // A short list never yields.
    let ran = false;
    setImmediate(() => (ran = true));
    await mapInSlices([1, 2, 3], (v) => expect(ran).toBe(false) ?? v);
  });
});
