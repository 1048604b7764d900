import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { unicodeLooseKey, VSchemaLookupError } from '../src/index.js';
import { functional, hex } from './helpers.js';

// Collation keys from go/vt/vtgate/vindexes/unicode_test.go TestNormalization (hex of the Go strings).
const NORMALIZED: [string, string][] = [
  ['Test', '1816164c17f31816'],
  ['TEST', '1816164c17f31816'],
  ['Te\u0301st', '1816164c17f31816'],
  ['Tést', '1816164c17f31816'],
  ['Bést', '1605164c17f31816'],
  ['Test ', '1816164c17f31816'],
  [' Test', '01091816164c17f31816'],
  ['Test\t', '1816164c17f318160100'],
  ['TéstLooong', '1816164c17f318161711177117711771174f1691'],
  ['T', '1816'],
];

// unicodeloosemd5_test.go TestUnicodeLooseMD5Map (hex of the Go strings).
const MD5: [string, string][] = [
  ['Test', '0b5edbb401fd7524393690491d64f1f5'],
  ['TEST', '0b5edbb401fd7524393690491d64f1f5'],
  ['Te\u0301st', '0b5edbb401fd7524393690491d64f1f5'],
  ['Tést', '0b5edbb401fd7524393690491d64f1f5'],
  ['Bést', 'c2b2332e4f73d00741026249706f2fb6'],
  ['Test ', '0b5edbb401fd7524393690491d64f1f5'],
  [' Test', 'a2e3515c7e8df1ffd2ccfc11c6b19dd1'],
  ['Test\t', '82456dd87a9c7a02b1c2056b5abaa272'],
  ['TéstLooong', '9683e12b80430cd453f5dfdfba81c9a5'],
  ['T', 'ac0f9179f51db87fe8ecc0cf40cab97a'],
];

// unicodeloosexxhash_test.go TestUnicodeLooseXXHashMap (hex of the Go strings).
const XX: [string | null, string][] = [
  ['Test', '42d21361087a4c07'],
  ['TEst', '42d21361087a4c07'],
  ['Te\u0301st', '42d21361087a4c07'],
  ['Tést', '42d21361087a4c07'],
  ['Bést', '926975b9ce2ec316'],
  ['Test ', '42d21361087a4c07'],
  [' Test', '4fcb8be34ec05775'],
  ['Test\t', '20af87fc36e3fd51'],
  ['TéstLooong', 'd3ea873942b484a7'],
  ['T', 'f81c3be2d501fe18'],
  [null, '99e9d85137db46ef'],
];

describe('unicode loose collation key (unicode_test.go TestNormalization)', () => {
  it.each(NORMALIZED)('%j', (input, key) => {
    expect(hex(unicodeLooseKey(input))).toBe(key);
    expect(hex(unicodeLooseKey(new TextEncoder().encode(input)))).toBe(key);
  });

  it('folds case and accents across Latin letters', () => {
    expect(hex(unicodeLooseKey('ÀÉÎÕÜÇÑÝ'))).toBe(hex(unicodeLooseKey('aeioucny')));
    expect(hex(unicodeLooseKey('façade'))).toBe(hex(unicodeLooseKey('FACADE')));
  });

  it('rejects invalid UTF-8 like Vitess (unicodeloosemd5_test.go TestInvalidUnicodeNormalization)', () => {
    const bad = Buffer.from('99eb9d18a4478404', 'hex');
    expect(() => unicodeLooseKey(new Uint8Array(bad))).toThrow(/invalid UTF-8/);
  });

  it('refuses characters outside the transcribed repertoire instead of guessing', () => {
    let err: unknown;
    try {
      unicodeLooseKey('Ωmega');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VSchemaLookupError);
    expect((err as VSchemaLookupError).errno).toBe(1105);
    expect((err as Error).message).toContain('U+03A9');
    expect(() => unicodeLooseKey('straße')).toThrow(/U\+00DF/);
  });
});

describe('unicode_loose_md5 (unicodeloosemd5_test.go)', () => {
  const v = functional('unicode_loose_md5');
  it('is unique, cost 1', () => expect([v.unique, v.cost]).toEqual([true, 1]));
  it.each(MD5)('%j', (input, out) => {
    expect(hex(v.map(input))).toBe(out);
  });
  it('hashes the collation key with md5', () => {
    expect(hex(v.map('Test'))).toBe(createHash('md5').update(Buffer.from('1816164c17f31816', 'hex')).digest('hex'));
  });
});

describe('unicode_loose_xxhash (unicodeloosexxhash_test.go)', () => {
  const v = functional('unicode_loose_xxhash');
  it.each(XX)('%j', (input, out) => {
    expect(hex(v.map(input))).toBe(out);
  });
});
