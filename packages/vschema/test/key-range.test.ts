import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatKeyRange,
  keyRangeContains,
  ksidToHex,
  parseShardName,
  ShardMap,
  validateShardNames,
  VSchemaError,
} from '../src/index.js';
import { bytes } from './helpers.js';

describe('parseShardName / formatKeyRange', () => {
  it('parses the Vitess shard name forms', () => {
    expect(formatKeyRange(parseShardName('-80'))).toBe('-80');
    expect(formatKeyRange(parseShardName('80-'))).toBe('80-');
    expect(formatKeyRange(parseShardName('40-80'))).toBe('40-80');
    expect(formatKeyRange(parseShardName('-'))).toBe('-');
    expect(formatKeyRange(parseShardName('0'))).toBe('-');
    expect(formatKeyRange(parseShardName('4000-8000'))).toBe('4000-8000');
    expect(formatKeyRange(parseShardName('AB-CD'))).toBe('ab-cd');
  });
  it('throws VSchemaError on bad hex and on start >= end', () => {
    for (const bad of ['8-', 'zz-', '80-40', '80-80', '80-8000', 'abc', '1-2-3', '']) {
      expect(() => parseShardName(bad), bad).toThrow(VSchemaError);
    }
  });
  it('round-trips any valid range', () => {
    const key = fc.uint8Array({ minLength: 0, maxLength: 4 }).map((b) => {
      // Shard bounds are written without trailing zero bytes in practice; keep them canonical.
      let n = b.length;
      while (n > 0 && b[n - 1] === 0) n--;
      return b.subarray(0, n);
    });
    fc.assert(
      fc.property(key, key, (a, b) => {
        const [s, e] = Buffer.compare(Buffer.from(a), Buffer.from(b)) <= 0 ? [a, b] : [b, a];
        if (e.length > 0 && Buffer.compare(Buffer.from(s), Buffer.from(e)) === 0) return;
        const name = `${ksidToHex(s)}-${ksidToHex(e)}`;
        expect(formatKeyRange(parseShardName(name))).toBe(name);
      }),
      { numRuns: 300 },
    );
  });
});

describe('keyRangeContains', () => {
  it('is half-open with unbounded empty ends and ignores trailing zeros', () => {
    const r = parseShardName('40-80');
    expect(keyRangeContains(r, bytes('40'))).toBe(true);
    expect(keyRangeContains(r, bytes('4000000000000000'))).toBe(true);
    expect(keyRangeContains(r, bytes('7fffffffffffffff'))).toBe(true);
    expect(keyRangeContains(r, bytes('80'))).toBe(false);
    expect(keyRangeContains(r, bytes('8000000000000000'))).toBe(false);
    expect(keyRangeContains(r, bytes('3f'))).toBe(false);
    expect(keyRangeContains(parseShardName('-'), bytes(''))).toBe(true);
  });
});

describe('validateShardNames', () => {
  it('accepts complete, non-overlapping sets in any order', () => {
    expect(validateShardNames(['80-', '-80'])).toEqual([]);
    expect(validateShardNames(['0'])).toEqual([]);
    expect(validateShardNames(['-40', '40-80', '80-c0', 'c0-'])).toEqual([]);
  });
  it('reports overlaps, gaps, bad names and duplicates with the shard name as path', () => {
    expect(validateShardNames(['-80', '40-'])).toEqual([{ path: '40-', message: 'overlaps shard -80' }]);
    expect(validateShardNames(['-40', '80-']).map((i) => i.path)).toEqual(['80-']);
    expect(validateShardNames(['-40', '40-80']).map((i) => i.path)).toEqual(['40-80']);
    expect(validateShardNames(['40-']).map((i) => i.path)).toEqual(['40-']);
    expect(validateShardNames(['-80', 'xx-']).map((i) => i.path)).toContain('xx-');
    expect(validateShardNames(['-80', '-80', '80-']).map((i) => i.path)).toEqual(['-80']);
    expect(validateShardNames(['0', '-80', '80-']).length).toBeGreaterThan(0);
  });
});

/** Random complete shard sets: sorted distinct cut points between 1 and 0xffff. */
const completeShardSet = fc
  .uniqueArray(fc.integer({ min: 1, max: 0xffff }), { maxLength: 12 })
  .map((cuts) => {
    const sorted = cuts.sort((a, b) => a - b).map((c) => {
      let h = c.toString(16).padStart(4, '0');
      while (h.endsWith('00')) h = h.slice(0, -2);
      return h;
    });
    const bounds = ['', ...sorted, ''];
    const names: string[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) names.push(`${bounds[i]}-${bounds[i + 1]}`);
    return names;
  });

describe('ShardMap', () => {
  it('finds the shard of a keyspace id', () => {
    const m = new ShardMap(['80-', '-40', '40-80']);
    expect(m.shards).toEqual(['-40', '40-80', '80-']);
    expect(m.shardFor(bytes('166b40b44aba4bd6'))).toBe('-40');
    expect(m.shardFor(bytes('4eb190c9a2fa169c'))).toBe('40-80');
    expect(m.shardFor(bytes('f098480ac4c4be71'))).toBe('80-');
    expect(m.shardFor(bytes(''))).toBe('-40');
    expect(m.shardFor(bytes('40'))).toBe('40-80');
    expect(m.shardsForRange(parseShardName('30-50'))).toEqual(['-40', '40-80']);
    expect(m.shardsForRange(parseShardName('-'))).toEqual(['-40', '40-80', '80-']);
    expect(new ShardMap(['0']).shardFor(bytes('ff'))).toBe('0');
  });
  it('refuses incomplete or overlapping sets', () => {
    expect(() => new ShardMap(['-80'])).toThrow(VSchemaError);
    expect(() => new ShardMap(['-80', '40-'])).toThrow(/overlaps/);
  });
  it('handles starts longer than 8 bytes', () => {
    const m = new ShardMap(['-808080808080808080', '808080808080808080-']);
    expect(m.shardFor(bytes('8080808080808080'))).toBe('-808080808080808080');
    expect(m.shardFor(bytes('808080808080808080'))).toBe('808080808080808080-');
  });
  it('agrees with a linear scan of keyRangeContains, and maps every keyspace id to exactly one shard', () => {
    fc.assert(
      fc.property(completeShardSet, fc.uint8Array({ minLength: 0, maxLength: 10 }), (names, ksid) => {
        const m = new ShardMap(names);
        const containing = names.filter((n) => keyRangeContains(parseShardName(n), ksid));
        expect(containing).toHaveLength(1);
        expect(m.shardFor(ksid)).toBe(containing[0]);
      }),
      { numRuns: 500 },
    );
  });
});
