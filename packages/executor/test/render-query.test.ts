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

  it('renders a template of many parts (a 20,000-term OR chain) in slices of VALUES_PER_SLICE parts', async () => {
    const n = 20_000;
    const parts: (string | { bind: string } | { list: string })[] = ['select id from customer where id = '];
    const bv: Record<string, bigint | string | bigint[]> = {};
    for (let i = 0; i < n; i++) {
      if (i > 0) parts.push(' or id = ');
      parts.push({ bind: `v${i}` });
      bv[`v${i}`] = BigInt(i);
    }
    parts.push(' or id in ', { list: 'l' }, ' and name <> ', { bind: 's' });
    bv.l = Array.from({ length: 2 * VALUES_PER_SLICE + 1 }, (_, i) => BigInt(-i));
    bv.s = "it's";
    const many = { parts };
    let otherRuns = 0;
    let done = false;
    const other = (): void => {
      if (done) return;
      otherRuns++;
      setImmediate(other);
    };
    setImmediate(other);
    const sliced = renderTemplateInSlices(many, bv);
    expect(sliced).toBeInstanceOf(Promise);
    expect(await sliced).toBe(renderTemplate(many, bv));
    done = true;
    // One turn per VALUES_PER_SLICE parts or list values (not one step for the whole template).
    expect(otherRuns).toBeGreaterThanOrEqual(Math.floor((2 * n + 2 * VALUES_PER_SLICE) / VALUES_PER_SLICE) - 1);
  });

  it('renders a short list synchronously (no promise on the hot path)', () => {
    const bv = { v1: [1n, 2n, null], v2: 'x' };
    expect(renderTemplateInSlices(template, bv)).toBe(renderTemplate(template, bv));
  });
});
