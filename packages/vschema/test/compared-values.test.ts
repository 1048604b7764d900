/**
 * Values a query compares a vindex column with: mapped only when every value MariaDB finds equal
 * has the same keyspace id (the MariaDB behaviour each case relies on is in vindex-values.ts and
 * is checked end to end by packages/executor/test/vindex-compare.int.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ComparedMapping } from '../src/functional-vindexes.js';
import { comparedInteger } from '../src/vindex-values.js';
import { bytes, functional, hex } from './helpers.js';

const compared = (type: string, params: Record<string, string> = {}) => {
  const v = functional(type, params);
  return { v, mapCompared: (v as unknown as ComparedMapping).mapCompared };
};

describe('comparedInteger', () => {
  it.each<[string, string | bigint | number, boolean, bigint | 'none' | undefined]>([
    ['bigint', 3n, false, 3n],
    ['negative bigint', -1n, false, -1n],
    ['integral double', 3, false, 3n],
    ['negative zero', -0, false, 0n],
    ['double with a fraction', 3.5, false, 'none'],
    ['double above 2^53', 2 ** 53, false, undefined],
    ['decimal 3.0', '3.0', true, 3n],
    ['decimal -1.00', '-1.00', true, -1n],
    ['decimal .0', '.0', true, 0n],
    ['decimal 3.', '3.', true, 3n],
    ['decimal 3.5', '3.5', true, 'none'],
    ['decimal 3.000001', '3.000001', true, 'none'],
    ['big decimal', '9007199254740993.0', true, 9007199254740993n],
    ['double literal 3e0', '3e0', true, 3n],
    ['double literal .3E1', '.3E1', true, 3n],
    ['double literal 35e-1', '35e-1', true, 'none'],
    ['double literal above 2^53', '9007199254740993e0', true, undefined],
    ['double literal 1e400', '1e400', true, undefined],
    ["string '3'", '3', false, 3n],
    ["string '03'", '03', false, 3n],
    ["string '+3'", '+3', false, 3n],
    ["string '-1'", '-1', false, -1n],
    ["string '9007199254740993'", '9007199254740993', false, 9007199254740993n],
    ["string ' 3'", ' 3', false, undefined],
    ["string '3abc'", '3abc', false, undefined],
    ["string '3.0'", '3.0', false, undefined],
    ["string '3e0'", '3e0', false, undefined],
    ["string ''", '', false, undefined],
    ["string 'abc'", 'abc', false, undefined],
  ])('%s', (_, v, numberLiteral, out) => {
    expect(comparedInteger(v, numberLiteral)).toBe(out);
  });
  it('binary values are never sure (0x33 compares as 51, x\'33\' as 3)', () => {
    expect(comparedInteger(bytes('33'))).toBeUndefined();
  });
});

describe('mapCompared', () => {
  it('hash: the forms of 3 map as 3, -1 forms as the integer -1, the rest are not sure', () => {
    const { v, mapCompared } = compared('hash');
    const three = hex(v.map(3n));
    for (const [x, lit] of [[3n, false], [3, false], ['3.0', true], ['3e0', true], ['3', false], ['03', false]] as const) {
      expect(hex(mapCompared(x, lit)), String(x)).toBe(three);
    }
    const minusOne = hex(v.map(-1n));
    for (const [x, lit] of [['-1', false], ['-1.0', true], ['-1e0', true], [-1, false]] as const) {
      expect(hex(mapCompared(x, lit)), String(x)).toBe(minusOne);
    }
    // Vitess's map: the string '-1' maps nowhere; compared with an integer column it equals -1.
    expect(v.map('-1')).toBeNull();
    for (const [x, lit] of [[' 3', false], ['3abc', false], [bytes('03'), false], ['18446744073709551616', false]] as const) {
      expect(mapCompared(x, lit), String(x)).toBeNull();
    }
    // No integer equals 3.5: no shard holds a matching row (not "ask every shard").
    for (const [x, lit] of [['3.5', true], ['35e-1', true], [3.5, false]] as const) {
      expect(mapCompared(x, lit), String(x)).toBe('none');
    }
  });
  it('numeric and reverse_bits: negative values are not sure (never none)', () => {
    for (const type of ['numeric', 'reverse_bits']) {
      const { v, mapCompared } = compared(type);
      expect(hex(mapCompared('7.0', true))).toBe(hex(v.map(7n)));
      expect(mapCompared(-1n, false)).toBeNull();
    }
  });
  it('numeric_static_map maps the integer a value equals', () => {
    const { v, mapCompared } = compared('numeric_static_map', { json: '{"1": 2, "3": 9}' });
    expect(hex(mapCompared('3.00', true))).toBe(hex(v.map(3n)));
    expect(hex(mapCompared('3', false))).toBe(hex(v.map(3n)));
  });
  it('byte vindexes: strings, binary values and integers as before; decimals, doubles and big doubles are not sure', () => {
    for (const type of ['xxhash', 'binary', 'binary_md5', 'unicode_loose_md5', 'unicode_loose_xxhash']) {
      const { v, mapCompared } = compared(type);
      expect(hex(mapCompared('abc', false)), type).toBe(hex(v.map('abc')));
      expect(hex(mapCompared(bytes('616263'), false)), type).toBe(hex(v.map(bytes('616263'))));
      expect(hex(mapCompared(3n, false)), type).toBe(hex(v.map(3n)));
      expect(hex(mapCompared(3, false)), type).toBe(hex(v.map(3n)));
      expect(mapCompared('3.0', true), type).toBeNull();
      expect(mapCompared(3.5, false), type).toBeNull();
      expect(mapCompared(2 ** 60, false), type).toBeNull();
    }
  });
  it('null maps every value to 0x00', () => {
    const { mapCompared } = compared('null');
    expect(hex(mapCompared(' 3', false))).toBe('00');
  });
});
