import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xxhashBytes } from '../src/index.js';

// Straightforward BigInt XXH64 (seed 0) from the published algorithm, used only to check the
// u32-pair implementation on many lengths (every tail path: 32-byte stripes, 8-, 4- and 1-byte).
const M = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n, P2 = 0xc2b2ae3d27d4eb4fn, P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n, P5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, input: bigint) => (rotl((acc + input * P2) & M, 31n) * P1) & M;
const merge = (acc: bigint, val: bigint) => (((acc ^ round(0n, val)) * P1) + P4) & M;
function refXXH64(b: Uint8Array): bigint {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let i = 0;
  let h: bigint;
  if (b.length >= 32) {
    let v1 = (P1 + P2) & M, v2 = P2, v3 = 0n, v4 = (-P1) & M;
    for (; i + 32 <= b.length; i += 32) {
      v1 = round(v1, dv.getBigUint64(i, true));
      v2 = round(v2, dv.getBigUint64(i + 8, true));
      v3 = round(v3, dv.getBigUint64(i + 16, true));
      v4 = round(v4, dv.getBigUint64(i + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = P5;
  h = (h + BigInt(b.length)) & M;
  for (; i + 8 <= b.length; i += 8) h = ((rotl(h ^ round(0n, dv.getBigUint64(i, true)), 27n) * P1) + P4) & M;
  if (i + 4 <= b.length) {
    h = ((rotl(h ^ ((BigInt(dv.getUint32(i, true)) * P1) & M), 23n) * P2) + P3) & M;
    i += 4;
  }
  for (; i < b.length; i++) h = (rotl(h ^ ((BigInt(b[i]) * P5) & M), 11n) * P1) & M;
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h;
}

describe('xxhash64', () => {
  it('matches a BigInt reference on random inputs (little-endian output, as Vitess stores it)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const want = Buffer.alloc(8);
        want.writeBigUInt64LE(refXXH64(b));
        expect(Buffer.from(xxhashBytes(b)).toString('hex')).toBe(want.toString('hex'));
      }),
      { numRuns: 400 },
    );
  });
});
