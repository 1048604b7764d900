import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sameValue, uniqueValues } from '../src/routing.js';
import { ExactNumber, type ValueExpr } from '../src/plan-types.js';

/** The definition uniqueValues must equal: keep each item no earlier kept one sameValue-matches. */
function quadratic(items: readonly ValueExpr[]): ValueExpr[] {
  const out: ValueExpr[] = [];
  for (const x of items) if (!out.some((u) => sameValue(u, x))) out.push(x);
  return out;
}

const literal = fc.oneof(
  fc.bigInt({ min: -3n, max: 3n }),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0, -0, 1.5, Number.NaN),
  fc.constantFrom('1', '2', 'a', '1.5', '1,2', ''),
  fc.constant(null),
  fc.constantFrom('1', '1.5', '2').map((t) => new ExactNumber(t)),
  fc.constantFrom([1, 2], [97]).map((b) => new Uint8Array(b)),
);
const value: fc.Arbitrary<ValueExpr> = fc.oneof(
  literal.map((v) => ({ kind: 'literal', value: v }) as ValueExpr),
  fc.constantFrom('v1', 'v2').map((name) => ({ kind: 'bind', name }) as ValueExpr),
  fc.constantFrom('v1', 'v2').map((name) => ({ kind: 'bindList', name }) as ValueExpr),
  fc.array(literal, { maxLength: 2 }).map((vs) => ({ kind: 'list', items: vs.map((v) => ({ kind: 'literal', value: v })) }) as ValueExpr),
);

describe('uniqueValues', () => {
  it('keeps exactly what comparing each value with every earlier one keeps', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 30 }), (items) => {
        expect(uniqueValues(items)).toEqual(quadratic(items));
      }),
      { numRuns: 2000 },
    );
  });
});
