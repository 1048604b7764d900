/**
 * The keyed join's inner rows read in their shard packets (operators/keyed-inner-rows.ts) and the
 * hash keys of join values (operators/keyed-lookups.ts): a cell read in place is the cell a
 * decoded row holds, whatever its length header or NULL, and two values share a key exactly when
 * MariaDB's `=` finds them equal (numbers) or their bytes are equal (bytesKey).
 */
import { describe, expect, it } from 'vitest';
import { decodeTextRow } from '@shardgate/mysql-protocol';
import { KeyedInnerRows } from '../src/operators/keyed-inner-rows.js';
import { bytesKey, numberKey } from '../src/operators/keyed-lookups.js';

/** One text row payload: each cell length-encoded, 0xFB for NULL. */
function textRow(cells: readonly (string | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const c of cells) {
    if (c === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const b = Buffer.from(c, 'latin1');
    if (b.length < 0xfb) parts.push(Buffer.from([b.length]));
    else if (b.length < 0x10000) parts.push(Buffer.from([0xfc, b.length & 0xff, b.length >> 8]));
    else parts.push(Buffer.from([0xfd, b.length & 0xff, (b.length >> 8) & 0xff, b.length >> 16]));
    parts.push(b);
  }
  return Buffer.concat(parts);
}

const ROWS: (string | null)[][] = [
  ['7', 'k7', 'seven'],
  [null, 'x', ''],
  ['8', null, 'y'.repeat(300)],
  ['-12', 'k', 'z'.repeat(70_000)],
];

/** The rows as a connector with packets gives them: all in one socket buffer, with a prefix. */
function packetResult(rows: readonly (string | null)[][]) {
  const payloads = rows.map(textRow);
  const prefix = Buffer.from([1, 2, 3]);
  const source = Buffer.concat([prefix, ...payloads]);
  const bounds: number[] = [];
  let at = prefix.length;
  for (const p of payloads) {
    bounds.push(at, at + p.length);
    at += p.length;
  }
  return {
    get rows(): never {
      throw new Error('the rows of a result with packets must not be decoded');
    },
    packets: { sources: payloads.map(() => source), bounds },
    rowCount: rows.length,
  };
}

describe('KeyedInnerRows', () => {
  it('reads each cell in the packet as decodeTextRow does, and decoded rows alike', () => {
    const inner = new KeyedInnerRows();
    expect(inner.add(packetResult(ROWS))).toBe(4);
    const decoded = ROWS.map((r) => decodeTextRow(textRow(r), 3));
    expect(inner.add({ rows: decoded })).toBe(4);
    inner.seal();
    expect(inner.count).toBe(8);
    for (let g = 0; g < 8; g++) {
      for (let c = 0; c < 3; c++) {
        const want = ROWS[g % 4]![c]!;
        const cell = inner.cell(g, c);
        expect(cell === null ? null : Buffer.from(cell).toString('latin1')).toBe(want);
        inner.cellAt(g, c);
        expect(inner.cellStart < 0 ? null : Buffer.from(inner.cellSource!.subarray(inner.cellStart, inner.cellEnd)).toString('latin1')).toBe(want);
      }
    }
  });
});

describe('join value keys', () => {
  const key = (f: typeof numberKey, text: string) => {
    const b = Buffer.from(`xx${text}yy`, 'latin1');
    return f(b, 2, 2 + text.length);
  };
  it('numberKey: equal for equal values in any form, different otherwise, around the 15-digit fast path', () => {
    const groups = [
      ['7', '07', '7.00', '+7', '7.'],
      ['0', '-0', '0.00', '-0.000', '00'],
      ['-12', '-12.0', '-012'],
      ['1.5', '1.50', '01.500'],
      ['999999999999999', '999999999999999.00', '0999999999999999'],
      ['1000000000000000', '1000000000000000.0', '01000000000000000'],
      ['-999999999999999', '-999999999999999.0'],
      ['18446744073709551615', '18446744073709551615.000'],
      ['9223372036854775807'],
      ['9223372036854775806'],
      ['12345678901234567.5'],
    ];
    const keys = groups.map((g) => g.map((t) => key(numberKey, t)));
    for (const k of keys) for (const x of k) expect(x).toStrictEqual(k[0]);
    expect(new Set(keys.map((k) => k[0])).size).toBe(groups.length);
    expect(typeof key(numberKey, '42')).toBe('number');
  });
  it('bytesKey: equal exactly for equal bytes', () => {
    const texts = ['7', '07', '7.0', '-7', '-0', '0', 'a', 'A', '', '999999999999999', '1000000000000000', '\u00ff'];
    const keys = texts.map((t) => key(bytesKey, t));
    expect(new Set(keys).size).toBe(texts.length);
    for (const t of texts) expect(key(bytesKey, t)).toStrictEqual(key(bytesKey, t));
    expect(bytesKey(new Uint8Array([55, 55]), 0, 2)).toBe(77);
  });
});
