import desjs from 'des.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { vhash, vunhash } from '../src/index.js';
import { bytes, functional, hex } from './helpers.js';

const hash = functional('hash');

// Cross-check against des.js itself (single block, all-zero key, no padding), which is what Go's
// crypto/des NewCipher(make([]byte, 8)).Encrypt computes.
function desjsEncrypt(n: bigint): string {
  const block = Buffer.alloc(8);
  block.writeBigUInt64BE(n);
  const c = desjs.DES.create({ type: 'encrypt', key: new Array(8).fill(0), padding: false });
  return Buffer.from(c.update(block)).toString('hex');
}

describe('hash vindex', () => {
  it('has Vitess cost 1, is unique and reversible', () => {
    expect(hash.cost).toBe(1);
    expect(hash.unique).toBe(true);
    expect(hash.reverseMap).toBeTypeOf('function');
  });

  // go/vt/vtgate/vindexes/hash_test.go TestHashMap: NewInt64(1..6) and NULL -> DestinationNone.
  it.each([
    [1n, '166b40b44aba4bd6'],
    [2n, '06e7ea22ce92708f'],
    [3n, '4eb190c9a2fa169c'],
    [4n, 'd2fd8867d50d2dfe'],
    [5n, '70bb023c810ca87a'],
    [6n, 'f098480ac4c4be71'],
  ])('maps %s to %s (hash_test.go)', (id, ksid) => {
    expect(hex(hash.map(id))).toBe(ksid);
    expect(hex(hash.map(Number(id)))).toBe(ksid);
    expect(hex(hash.map(String(id)))).toBe(ksid);
  });

  it('maps NULL to no shard (hash_test.go)', () => {
    expect(hash.map(null)).toBeNull();
  });

  it('maps signed integers as their uint64 two\'s complement (hash.go: "ToUint64 with no check on negative values")', () => {
    expect(hex(hash.map(-1n))).toBe(hex(hash.map(0xffffffffffffffffn)));
    expect(hex(hash.map(-(1n << 63n)))).toBe(hex(hash.map(1n << 63n)));
    expect(hex(hash.map(-5))).toBe(desjsEncrypt((1n << 64n) - 5n));
  });

  it('rejects out-of-range integers and non-integral text like Vitess ToUint64 (no shard)', () => {
    expect(hash.map(1n << 64n)).toBeNull();
    expect(hash.map(-(1n << 63n) - 1n)).toBeNull();
    expect(hash.map('aa')).toBeNull(); // hash_test.go: "could not parse value: 'aa'"
    expect(hash.map('-1')).toBeNull(); // text goes through ToUint64: negative is an error
    expect(hash.map('1.5')).toBeNull();
    expect(hash.map(' 1')).toBeNull();
    expect(hash.map(1.5)).toBeNull();
    expect(hash.map('18446744073709551616')).toBeNull();
  });

  it('accepts integer text in the uint64 range, and binary holding digits', () => {
    expect(hex(hash.map('18446744073709551615'))).toBe(desjsEncrypt(0xffffffffffffffffn));
    expect(hex(hash.map('+7'))).toBe(desjsEncrypt(7n));
    expect(hex(hash.map(new TextEncoder().encode('1')))).toBe('166b40b44aba4bd6');
  });

  // hash_test.go TestHashReverseMap / TestHashReverseMapNeg.
  it('reverse-maps a keyspace id to its uint64', () => {
    expect(hash.reverseMap!(bytes('166b40b44aba4bd6'))).toBe(1n);
    expect(() => hash.reverseMap!(bytes('166b40b44aba4bd6166b40b44aba4bd6'))).toThrow(
      'invalid keyspace id: 166b40b44aba4bd6166b40b44aba4bd6',
    );
  });

  it('agrees with des.js on random uint64 values and round-trips through vunhash', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (n) => {
        const k = vhash(n);
        expect(hex(k)).toBe(desjsEncrypt(n));
        expect(vunhash(k)).toBe(n);
      }),
      { numRuns: 3000 },
    );
  });
});
