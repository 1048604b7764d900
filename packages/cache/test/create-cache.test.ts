import { describe, expect, it } from 'vitest';
import { createCache, hashKey, MutexCache, parseByteSize, ShardedCache } from '../src/index.js';

describe('createCache', () => {
  it('builds the variant the gateway config names', () => {
    const sharded = createCache<string, string>({ variant: 'sharded', stripes: 8, maxCost: parseByteSize('32MiB') });
    expect(sharded).toBeInstanceOf(ShardedCache);
    expect((sharded as ShardedCache<string, string>).stripeCount).toBe(8);
    expect(createCache({ variant: 'mutex', stripes: 16 })).toBeInstanceOf(MutexCache);
    expect(() => createCache({ variant: 'other' as never })).toThrow(/'mutex' or 'sharded'/);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['32MiB', 32 * 1024 ** 2],
    ['32 mib', 32 * 1024 ** 2],
    ['512KiB', 512 * 1024],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['64M', 64 * 1024 ** 2],
    ['16k', 16 * 1024],
    ['2TiB', 2 * 1024 ** 4],
    ['100kB', 100_000],
    ['3MB', 3_000_000],
    ['1GB', 1e9],
    ['4096', 4096],
    ['10B', 10],
    ['0', 0],
    [' 7 ', 7],
    [1234, 1234],
    [1.9, 1],
  ])('%j → %d', (input, bytes) => {
    expect(parseByteSize(input)).toBe(bytes);
  });

  it.each(['', 'MiB', '-1MiB', '32 XB', '1e3', '32MiBs', 'Infinity', '99999999999TiB'])('rejects %j with an actionable message', (input) => {
    expect(() => parseByteSize(input)).toThrow(/invalid byte size .*e\.g\. 32MiB/);
    expect(() => parseByteSize(input)).toThrow(expect.objectContaining({ errno: 1231, sqlState: '42000' }));
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseByteSize(-1)).toThrow(RangeError);
    expect(() => parseByteSize(Infinity)).toThrow(RangeError);
  });
});

describe('hashKey', () => {
  it('is deterministic, unsigned 32-bit and distinguishes string from number keys by value', () => {
    expect(hashKey('plan')).toBe(hashKey('plan'));
    expect(hashKey(42)).toBe(hashKey(42));
    for (const key of ['', 'a', 0, -1, 2 ** 31, 1.5, 2n, Symbol.for('s').description]) {
      const h = hashKey(key);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
    expect(hashKey('a')).not.toBe(hashKey('b'));
  });
});
