/** The merge's byte-level comparators against their definitions (BigInt order; decoded collation keys). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCollationKeyRanges, compareCollationKeyViews, compareCollationKeys, compareIntegerBytes, compareIntegerRanges } from '../src/values/cell-compare.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
/** `cell` inside a larger buffer, between bytes that would change its order if read: [buffer, start, end]. */
const embedded = (cell: Uint8Array): [Uint8Array, number, number] => {
  const pre = (cell.length % 3) + 1;
  return [Uint8Array.from([...Array(pre).fill(0x39), ...cell, 0xff, 0x30, 0x00]), pre, pre + cell.length];
};

describe('compareIntegerBytes', () => {
  it('orders integer text exactly as BigInt does, ZEROFILL padding included', () => {
    const int = fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n });
    fc.assert(
      fc.property(int, int, fc.nat(6), fc.nat(6), (x, y, padX, padY) => {
        const text = (v: bigint, pad: number) => (v < 0n ? '-' + '0'.repeat(pad) + (-v).toString() : '0'.repeat(pad) + v.toString());
        const expected = x < y ? -1 : x > y ? 1 : 0;
        expect(compareIntegerBytes(bytes(text(x, padX)), bytes(text(y, padY)))).toBe(expected);
        // In place, as the merge reads keys inside row packets: other bytes around each cell.
        const [a, as, ae] = embedded(bytes(text(x, padX)));
        const [b, bs, be] = embedded(bytes(text(y, padY)));
        expect(compareIntegerRanges(a, as, ae, b, bs, be)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(compareIntegerBytes(bytes('0'), bytes('000'))).toBe(0);
    expect(compareIntegerBytes(bytes('-1'), bytes('0'))).toBe(-1);
    expect(compareIntegerBytes(bytes('18446744073709551615'), bytes('9223372036854775807'))).toBe(1);
  });
});

/** The decoding comparator this replaces, kept as the definition. */
function referenceCompare(a: Uint8Array, b: Uint8Array): number {
  const decode = (c: Uint8Array) => ({ pad: c[1] === 1 ? c.subarray(2, 2 + c[0]) : null, weights: c.subarray(2 + c[0]) });
  const x = decode(a);
  const y = decode(b);
  const n = Math.min(x.weights.length, y.weights.length);
  for (let i = 0; i < n; i++) if (x.weights[i] !== y.weights[i]) return x.weights[i] < y.weights[i] ? -1 : 1;
  if (x.weights.length === y.weights.length) return 0;
  if (x.pad === null || y.pad === null) return x.weights.length < y.weights.length ? -1 : 1;
  const longer = x.weights.length > y.weights.length ? x.weights : y.weights;
  const s = longer === x.weights ? 1 : -1;
  for (let i = n; i < longer.length; i++) {
    const d = longer[i] - x.pad[(i - n) % x.pad.length];
    if (d !== 0) return d < 0 ? -s : s;
  }
  return 0;
}

describe('compareCollationKeys', () => {
  it('orders keys as decoding them does, PAD SPACE and NO PAD, units of 1 to 3 bytes, in place and through DataViews (the merge)', () => {
    const key = (unit: number, pad: boolean, units: number[][]) => Uint8Array.from([unit, pad ? 1 : 0, ...(pad ? [0, 0x20, 0].slice(3 - unit) : Array(unit).fill(0)), ...units.flat()]);
    const arb = fc.integer({ min: 1, max: 3 }).chain((unit) =>
      fc.tuple(
        fc.constant(unit),
        fc.boolean(),
        fc.array(fc.array(fc.constantFrom(0, 0x09, 0x20, 0x21, 0x41, 0xff), { minLength: unit, maxLength: unit }), { maxLength: 12 }),
        fc.array(fc.array(fc.constantFrom(0, 0x09, 0x20, 0x21, 0x41, 0xff), { minLength: unit, maxLength: unit }), { maxLength: 12 }),
      ),
    );
    fc.assert(
      fc.property(arb, ([unit, pad, a, b]) => {
        const x = key(unit, pad, a);
        const y = key(unit, pad, b);
        expect(sign(compareCollationKeys(x, y))).toBe(referenceCompare(x, y));
        expect(sign(compareCollationKeys(y, x))).toBe(referenceCompare(y, x));
        const [xb, xs, xe] = embedded(x);
        const [yb, ys, ye] = embedded(y);
        expect(sign(compareCollationKeyRanges(xb, xs, xe, yb, ys, ye))).toBe(referenceCompare(x, y));
        expect(sign(compareCollationKeyRanges(yb, ys, ye, xb, xs, xe))).toBe(referenceCompare(y, x));
        const view = (u: Uint8Array) => new DataView(u.buffer, u.byteOffset, u.byteLength);
        expect(sign(compareCollationKeyViews(xb, xs, xe, view(xb), yb, ys, ye, view(yb)))).toBe(referenceCompare(x, y));
        expect(sign(compareCollationKeyViews(yb, ys, ye, view(yb), xb, xs, xe, view(xb)))).toBe(referenceCompare(y, x));
      }),
      { numRuns: 5000 },
    );
  });
});
