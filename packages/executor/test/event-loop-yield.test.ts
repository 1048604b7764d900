import { describe, expect, it } from 'vitest';
import { handOnInSlices, mapInSlices, RowSlices, VALUES_PER_SLICE } from '../src/event-loop-yield.js';

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
    // A check that throws at a turn (the statement was aborted) stops the map there.
    const aborted = new Error('interrupted');
    let mapped = 0;
    await expect(mapInSlices(values, () => mapped++, () => {
      throw aborted;
    })).rejects.toBe(aborted);
    expect(mapped).toBe(VALUES_PER_SLICE);
  });
});

describe('RowSlices', () => {
  it('asks for a turn of the event loop once a slice of rows is counted, by any of its callers', async () => {
    const slices = new RowSlices();
    let ran = false;
    setImmediate(() => (ran = true));
    expect(slices.spend(VALUES_PER_SLICE - 8)).toBeUndefined();
    // A second caller of the same statement completes the slice.
    const turn = slices.spend(8);
    expect(turn).toBeInstanceOf(Promise);
    expect(ran).toBe(false);
    await turn;
    // The queued callback ran in the turn; the count starts again.
    expect(ran).toBe(true);
    expect(slices.spend(VALUES_PER_SLICE - 1)).toBeUndefined();
    // With a check (the statement's abort), the turn rejects with what it throws.
    const aborted = new Error('interrupted');
    await expect(slices.spend(1, () => {
      throw aborted;
    })).rejects.toBe(aborted);
  });
});

describe('handOnInSlices', () => {
  it('hands every row on in order in chunks, checks before each chunk, and lets queued callbacks run every slice', async () => {
    const rows = Array.from({ length: 3 * VALUES_PER_SLICE + 100 }, (_, i) => i);
    let otherRuns = 0;
    const other = (): void => {
      otherRuns++;
      if (otherRuns < 100) setImmediate(other);
    };
    setImmediate(other);
    const got: number[] = [];
    const runsAtChunk: number[] = [];
    let checks = 0;
    await handOnInSlices(rows, 256, (chunk) => {
      runsAtChunk.push(otherRuns);
      got.push(...chunk);
    }, () => checks++);
    expect(got).toEqual(rows);
    expect(checks).toBe(runsAtChunk.length);
    const chunksPerSlice = VALUES_PER_SLICE / 256;
    // The first slice's chunks go at once; the next slice starts after a turn.
    expect(runsAtChunk[chunksPerSlice - 1]).toBe(0);
    expect(runsAtChunk[chunksPerSlice]).toBeGreaterThan(0);
    expect(runsAtChunk[3 * chunksPerSlice]).toBeGreaterThan(runsAtChunk[2 * chunksPerSlice]!);
    // A check that throws (the statement was aborted) stops it before the next chunk.
    const aborted = new Error('interrupted');
    let taken = 0;
    await expect(handOnInSlices(rows, 256, () => void taken++, () => {
      if (taken === 3) throw aborted;
    })).rejects.toBe(aborted);
    expect(taken).toBe(3);
  });
});
