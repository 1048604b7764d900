import { describe, expect, it } from 'vitest';
import { renderTemplate, renderTemplateInSlices } from '../src/values/render-query.js';
import { VALUES_PER_SLICE } from '../src/event-loop-yield.js';

describe('renderTemplateInSlices', () => {
  const template = { parts: ['select id from customer where id in ', { list: 'v1' }, ' and name <> ', { bind: 'v2' }] };

  it("renders a long list as renderTemplate does, letting other callbacks run between slices", async () => {
    const bv = { v1: Array.from({ length: 3 * VALUES_PER_SLICE + 7 }, (_, i) => BigInt(i)), v2: "it's" };
    let otherRuns = 0;
    const other = (): void => {
      otherRuns++;
      if (otherRuns < 10) setImmediate(other);
    };
    setImmediate(other);
    const sliced = renderTemplateInSlices(template, bv);
    expect(sliced).toBeInstanceOf(Promise);
    expect(otherRuns).toBe(0);
    expect(await sliced).toBe(renderTemplate(template, bv));
    // One turn of the event loop per slice after the first.
    expect(otherRuns).toBeGreaterThanOrEqual(3);
  });

  it('renders a short list synchronously (no promise on the hot path)', () => {
    const bv = { v1: [1n, 2n, null], v2: 'x' };
    expect(renderTemplateInSlices(template, bv)).toBe(renderTemplate(template, bv));
  });
});
