import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatKeyRange, type KeyRange } from '../src/index.js';
import { bytes, functional, hex } from './helpers.js';

const kr = (r: Uint8Array | KeyRange | null): string | null =>
  r === null ? null : r instanceof Uint8Array ? hex(r) : formatKeyRange(r);

describe('xxhash (go/vt/vtgate/vindexes/xxhash_test.go TestXXHashMap)', () => {
  const v = functional('xxhash');
  it('is unique, cost 1', () => {
    expect([v.unique, v.cost]).toEqual([true, 1]);
  });
  it.each<[string, string | bigint | null, string]>([
    ['varchar test1', 'test1', 'd01ab7e4d6978f0b'],
    ['varchar test2', 'test2', '87eb11714c0a0e89'],
    ['long varchar', 'testaverylongvaluetomakesurethisworks', '81d8c38e0d850e6a'],
    ['int64 1', 1n, 'd46405367612b4b7'],
    ['NULL', null, '99e9d85137db46ef'],
    ['int64 -1', -1n, 'd8e2a6a7c8c7623d'],
    ['uint64 max', 18446744073709551615n, '477cfa8d6d8f1f8d'],
    ['int64 max', 9223372036854775807n, 'b37eb01f7bffafd8'],
    ['int64 min', -9223372036854775808n, '102c27ddb26a609e'],
  ])('%s', (_, input, out) => {
    expect(hex(v.map(input))).toBe(out);
  });
  it('hashes binary values as their bytes (TestXXHashVerify: x\'9efa\')', () => {
    expect(hex(v.map(bytes('9efa')))).toBe(hex(v.map(new Uint8Array([0x9e, 0xfa]))));
  });
});

describe('numeric (numeric_test.go)', () => {
  const v = functional('numeric');
  it('is unique, cost 0', () => expect([v.unique, v.cost]).toEqual([true, 0]));
  it('maps uint64 big-endian; 1.1 maps to no shard', () => {
    for (let i = 1n; i <= 8n; i++) expect(hex(v.map(i))).toBe(i.toString(16).padStart(16, '0'));
    expect(v.map(1.1)).toBeNull();
    expect(v.map('aa')).toBeNull();
    expect(v.map(-1n)).toBeNull(); // ToUint64 refuses negatives
  });
  it('reverse-maps', () => {
    expect(v.reverseMap!(bytes('0000000000000001'))).toBe(1n);
    expect(() => v.reverseMap!(new TextEncoder().encode('aa'))).toThrow('Numeric.ReverseMap: length of keyspaceId is not 8: 2');
  });
});

describe('binary (binary_test.go)', () => {
  const v = functional('binary');
  it('maps a value to its own bytes', () => {
    for (const s of ['test', 'test2', 'test3']) expect(Buffer.from(v.map(s)!).toString()).toBe(s);
    expect(hex(v.map(bytes('0001ff')))).toBe('0001ff');
    expect(hex(v.reverseMap!(bytes('0000000000000001')) as Uint8Array)).toBe('0000000000000001');
  });
});

describe('binary_md5 (binarymd5_test.go)', () => {
  const v = functional('binary_md5');
  it.each([
    ['Test', '0cbc6611f5540bd0809a388dc95a615b'],
    ['TEST', '033bd94b1168d7e4f0d644c3c95e35bf'],
  ])('%s', (input, out) => {
    expect(hex(v.map(input))).toBe(out);
    expect(hex(v.map(new TextEncoder().encode(input)))).toBe(out);
  });
  it('is case sensitive (TestBinaryMD5Verify: TEst != Test)', () => {
    expect(hex(v.map('TEst'))).not.toBe('0cbc6611f5540bd0809a388dc95a615b');
  });
});

describe('reverse_bits (reverse_bits_test.go)', () => {
  const v = functional('reverse_bits');
  it.each([
    [1n, '8000000000000000'],
    [2n, '4000000000000000'],
    [3n, 'c000000000000000'],
    [4n, '2000000000000000'],
    [5n, 'a000000000000000'],
    [6n, '6000000000000000'],
  ])('%s', (input, out) => {
    expect(hex(v.map(input))).toBe(out);
  });
  it('NULL maps to no shard; reverse map works', () => {
    expect(v.map(null)).toBeNull();
    expect(v.reverseMap!(bytes('8000000000000000'))).toBe(1n);
    expect(() => v.reverseMap!(bytes('80000000000000008000000000000000'))).toThrow(
      'invalid keyspace id: 80000000000000008000000000000000',
    );
  });
});

describe('null (null_test.go)', () => {
  const v = functional('null');
  it('maps every value to 0x00', () => {
    for (let i = 1n; i <= 6n; i++) expect(hex(v.map(i))).toBe('00');
    expect(hex(v.map(null))).toBe('00');
    expect(v.unique).toBe(true);
  });
});

describe('numeric_static_map (numeric_static_map_test.go)', () => {
  // testdata/numeric_static_map_test.json maps 1->1, 3->2 (the test expects 3 to map to 2).
  const dir = mkdtempSync(join(tmpdir(), 'vschema-nsm-'));
  const path = join(dir, 'map.json');
  writeFileSync(path, JSON.stringify({ '1': 1, '3': 2 }));
  const v = functional('numeric_static_map', { json_path: path });
  it('maps through the table, else as numeric; 1.1 and NULL to no shard', () => {
    const got = [1n, 2n, 3n, 1.1, 4n, 5n, 6n, 7n, 8n, null].map((x) => hex(v.map(x)));
    expect(got).toEqual([
      '0000000000000001',
      '0000000000000002',
      '0000000000000002',
      null,
      '0000000000000004',
      '0000000000000005',
      '0000000000000006',
      '0000000000000007',
      '0000000000000008',
      null,
    ]);
    expect(v.cost).toBe(1);
  });
  it('accepts the table inline', () => {
    expect(hex(functional('numeric_static_map', { json: '{"5": 9}' }).map(5n))).toBe('0000000000000009');
  });
});

describe('region_experimental (region_experimental_test.go)', () => {
  it('region_bytes 1: prefix byte + hash(id); region only -> key range; bad values -> no shard', () => {
    const v = functional('region_experimental', { region_bytes: '1' });
    expect(v.multiColumn).toBe(true);
    expect(v.columnCount).toBe(2);
    expect(kr(v.mapColumns([1n, 1n]))).toBe('01166b40b44aba4bd6');
    expect(kr(v.mapColumns([255n, 1n]))).toBe('ff166b40b44aba4bd6');
    expect(kr(v.mapColumns([256n, 1n]))).toBe('00166b40b44aba4bd6');
    expect(kr(v.mapColumns([1n]))).toBe('01-02');
    expect(v.mapColumns(['abcd', 256n])).toBeNull();
    expect(v.mapColumns([1n, 'abcd'])).toBeNull();
    expect(() => v.map(1n)).toThrow(/multi-column/);
  });
  it('region_bytes 2', () => {
    const v = functional('region_experimental', { region_bytes: '2' });
    expect(kr(v.mapColumns([1n, 1n]))).toBe('0001166b40b44aba4bd6');
    expect(kr(v.mapColumns([255n, 1n]))).toBe('00ff166b40b44aba4bd6');
    expect(kr(v.mapColumns([256n, 1n]))).toBe('0100166b40b44aba4bd6');
    expect(kr(v.mapColumns([0x10000n, 1n]))).toBe('0000166b40b44aba4bd6');
  });
});

describe('multicol (multicol_test.go TestMultiColMap)', () => {
  const v = functional('multicol', { column_count: '3' });
  it('defaults to hash per column, 3/3/2 bytes; prefixes map to key ranges', () => {
    expect(v.cost).toBe(3);
    expect(kr(v.mapColumns([1n, 1n, 1n]))).toBe('166b40166b40166b');
    expect(kr(v.mapColumns([255n, 1n, 1n]))).toBe('254e88166b40166b');
    expect(kr(v.mapColumns([256n, 1n, 1n]))).toBe('dd7c0b166b40166b');
    expect(kr(v.mapColumns([1n]))).toBe('166b40-166b41');
    expect(kr(v.mapColumns([1n, 1n]))).toBe('166b40166b40-166b40166b41');
    expect(v.mapColumns(['abcd', 256n, 256n])).toBeNull();
    expect(v.mapColumns([256n, 256n, 'abcd'])).toBeNull();
  });
  it('binary column vindexes cost 0 (TestMulticolCreateVindex "column vindex ok")', () => {
    expect(functional('multicol', { column_count: '3', column_bytes: '1,2,3', column_vindex: 'binary,binary,binary' }).cost).toBe(0);
  });
});

describe('cfc (cfc_test.go behaviour)', () => {
  it('without hash the key is the value itself', () => {
    const v = functional('cfc');
    expect(Buffer.from(v.map('abc')!).toString()).toBe('abc');
    expect(formatKeyRange(v.prefixRange!('ab%'))).toBe('6162-6163');
  });
  it('with md5 each component hash is cut to the component width', () => {
    const v = functional('cfc', { hash: 'md5', offsets: '[2,4]' });
    const md5 = (s: string) => functional('binary_md5').map(s)!;
    const want = Buffer.concat([md5('12').subarray(0, 2), md5('34').subarray(0, 2), md5('5678').subarray(0, 4)]);
    expect(hex(v.map('12345678'))).toBe(want.toString('hex'));
    expect(() => v.map('123')).toThrow('insufficient size for cfc vindex v. need 4, got 3');
    expect(formatKeyRange(v.prefixRange!('12%'))).toBe(formatKeyRange({ start: md5('12').subarray(0, 2), end: incr(md5('12').subarray(0, 2)) }));
    expect(formatKeyRange(v.prefixRange!('%'))).toBe('-');
  });
});

function incr(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] < 255) {
      out[i]++;
      return out;
    }
    out[i] = 0;
  }
  return new Uint8Array(0);
}
