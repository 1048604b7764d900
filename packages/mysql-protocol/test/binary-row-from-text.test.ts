/**
 * writeBinaryRowFromText (a binary row built from a text row packet's bytes) against
 * writeBinaryRow of the cells decoded from the same packet, the encoder it replaces on the
 * forwarding path: byte for byte the same output, or the same error, for rows of every column
 * type, with cells in the forms a server sends and in forms it never sends (those must still be
 * encoded, or refused, exactly as before).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeBinaryRow, writeBinaryRowFromText } from '../src/binary-row-encoder.js';
import { decodeTextRow } from '../src/client/client-packets.js';
import { ColumnType, type ColumnDefinition } from '../src/column-types.js';
import { PacketWriter } from '../src/packet-writer.js';

const ALL_TYPES = Object.values(ColumnType);

function column(columnType: number, i: number): ColumnDefinition {
  return { catalog: 'def', schema: 's', table: 't', orgTable: 't', name: `c${i}`, orgName: `c${i}`, characterSet: 63, columnLength: 20, columnType, flags: 0, decimals: 0 };
}

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const digitString = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));

/** Text an integer column may hold: canonical values, the extremes, and malformed text. */
const integerText = fc.oneof(
  fc.integer({ min: -2147483648, max: 4294967295 }).map(String),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map(String),
  fc.tuple(fc.constantFrom('', '-', '+', ' ', '0'), digitString(0, 22)).map(([a, b]) => a + b),
  fc.constantFrom('-0', '007', '1e3', '1.5', ' 5', '5 ', '0x10', '-', '', 'abc', '99999999999999999999999', '-9223372036854775808', '18446744073709551615', '999999999999999', '-99999999999999'),
).map(ascii);

const floatText = fc.oneof(
  fc.double({ noNaN: false }).map(String),
  fc.float().map(String),
  fc.constantFrom('1.5', '-0', '1e308', '1e-320', 'nan', 'inf', 'abc', '', '3.4028234663852886e38', '0.1'),
).map(ascii);

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const dateText = fc.oneof(
  fc
    .record({ y: fc.integer({ min: 0, max: 9999 }), mo: fc.integer({ min: 0, max: 12 }), d: fc.integer({ min: 0, max: 31 }) })
    .map(({ y, mo, d }) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}`),
  fc
    .record({
      y: fc.integer({ min: 0, max: 9999 }),
      mo: fc.integer({ min: 0, max: 12 }),
      d: fc.integer({ min: 0, max: 31 }),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
      f: fc.option(digitString(0, 7), { nil: undefined }),
    })
    .map(({ y, mo, d, h, mi, s, f }) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${f === undefined ? '' : '.' + f}`),
  fc.constantFrom('0000-00-00', '0000-00-00 00:00:00', '2024-01-02 00:00:00.000000', '2024-1-2', '2024-01-02T03:04:05', '2024-01-02 3:04:05', '2024-01-02 03:04', '2024/01/02', 'x', '', '2024-01-02 03:04:05.1x', '2024-01-02 03:04:05.1234567'),
  fc.string({ maxLength: 30 }),
).map(ascii);

const timeText = fc.oneof(
  fc
    .record({ neg: fc.boolean(), h: fc.integer({ min: 0, max: 838 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }), f: fc.option(digitString(0, 7), { nil: undefined }) })
    .map(({ neg, h, mi, s, f }) => `${neg ? '-' : ''}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${f === undefined ? '' : '.' + f}`),
  fc.constantFrom('00:00:00', '-00:00:00', '838:59:59.999999', '1:2', ':12:00', '12:34', '12:3', '12:34:5', '-', '', '12', 'ab:cd:ef', '12:34:56.', '1:02:03x'),
  fc.string({ maxLength: 12 }),
).map(ascii);

const bytesText = fc.oneof(
  { weight: 20, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 240, maxLength: 300 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(70_000).fill(0x41)) },
);

function cellFor(type: number): fc.Arbitrary<Uint8Array> {
  switch (type) {
    case ColumnType.TINY:
    case ColumnType.SHORT:
    case ColumnType.LONG:
    case ColumnType.INT24:
    case ColumnType.LONGLONG:
    case ColumnType.YEAR:
      return fc.oneof({ weight: 4, arbitrary: integerText }, { weight: 1, arbitrary: bytesText });
    case ColumnType.FLOAT:
    case ColumnType.DOUBLE:
      return floatText;
    case ColumnType.DATE:
    case ColumnType.DATETIME:
    case ColumnType.TIMESTAMP:
    case ColumnType.NEWDATE:
      return dateText;
    case ColumnType.TIME:
      return timeText;
    default:
      return fc.oneof(bytesText, integerText, dateText);
  }
}

/** A cell's length prefix: minimal, as servers write it, or (rarely) wider than it needs to be. */
function lengthPrefix(len: number, wide: number): number[] {
  if (len < 0xfb && wide === 0) return [len];
  if (len <= 0xffff && wide <= 1) return [0xfc, len & 0xff, len >> 8];
  if (len <= 0xffffff && wide <= 2) return [0xfd, len & 0xff, (len >> 8) & 0xff, len >> 16];
  return [0xfe, len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, 0, 0, 0, 0, 0];
}

const row = fc
  .array(fc.constantFrom(...ALL_TYPES), { minLength: 1, maxLength: 12 })
  .chain((types) =>
    fc.record({
      types: fc.constant(types),
      cells: fc.tuple(...types.map((t) => fc.option(cellFor(t), { nil: null, freq: 5 }))),
      wide: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: types.length, maxLength: types.length }),
      // Bytes around the payload: a `:` after the cell must not be taken for the cell's.
      before: fc.uint8Array({ maxLength: 8 }),
      after: fc.constantFrom(new Uint8Array(0), ascii(':00:00.123456'), ascii('9999')),
    }),
  );

function payloadOf(cells: readonly (Uint8Array | null)[], wide: readonly number[]): Buffer {
  const parts: Uint8Array[] = [];
  cells.forEach((c, i) => {
    if (c === null) parts.push(Buffer.from([0xfb]));
    else parts.push(Buffer.from(lengthPrefix(c.length, wide[i] > 2 ? 0 : wide[i] + 1)), c);
  });
  return Buffer.concat(parts);
}

type Outcome = { bytes: string } | { error: string };

function encode(fn: (w: PacketWriter) => void): Outcome {
  const w = new PacketWriter(16);
  try {
    fn(w);
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
  return { bytes: w.take().toString('hex') };
}

describe('writeBinaryRowFromText', () => {
  it('writes exactly what writeBinaryRow writes for the decoded cells, or fails the same way', () => {
    fc.assert(
      fc.property(row, ({ types, cells, wide, before, after }) => {
        const columns = types.map(column);
        const payload = payloadOf(cells, wide);
        const source = Buffer.concat([before, payload, after]);
        const start = before.length;
        const end = start + payload.length;
        const expected = encode((w) => writeBinaryRow(w, columns, decodeTextRow(source, columns.length, start, end)));
        const got = encode((w) => writeBinaryRowFromText(w, columns, source, start, end));
        expect(got).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a payload that is not one cell per column, as decoding it does', () => {
    const columns = [column(ColumnType.LONG, 0), column(ColumnType.VAR_STRING, 1)];
    const whole = payloadOf([ascii('12'), ascii('abc')], [0, 0]);
    for (const [start, end] of [
      [0, whole.length - 1],
      [0, 3],
      [0, 0],
    ]) {
      expect(encode((w) => writeBinaryRowFromText(w, columns, whole, start, end))).toEqual({ error: 'MalformedPacketError: Malformed communication packet.' });
      expect(() => decodeTextRow(whole, columns.length, start, end)).toThrow('Malformed communication packet.');
    }
    const extra = Buffer.concat([whole, Buffer.from([0xfb])]);
    expect(encode((w) => writeBinaryRowFromText(w, columns, extra, 0, extra.length))).toEqual({ error: 'MalformedPacketError: Malformed communication packet.' });
    const hugeLength = Buffer.from([0xfe, 1, 0, 0, 0, 0, 0, 0, 1, 0x31, 0xfb]);
    expect(encode((w) => writeBinaryRowFromText(w, columns, hugeLength, 0, hugeLength.length))).toEqual({ error: 'MalformedPacketError: Malformed communication packet.' });
  });

  it('encodes the canonical cells of a wide row of every type like the values (a fixed case)', () => {
    const cells: [number, string | null][] = [
      [ColumnType.TINY, '-128'],
      [ColumnType.SHORT, '65535'],
      [ColumnType.INT24, '-8388608'],
      [ColumnType.LONG, '4294967295'],
      [ColumnType.LONGLONG, '-9223372036854775808'],
      [ColumnType.LONGLONG, '123456789012345'],
      [ColumnType.YEAR, '2024'],
      [ColumnType.FLOAT, '1.5'],
      [ColumnType.DOUBLE, '-2.5e-300'],
      [ColumnType.NEWDECIMAL, '-12.340'],
      [ColumnType.DATE, '2024-02-29'],
      [ColumnType.DATETIME, '2024-02-29 23:59:58.000100'],
      [ColumnType.TIMESTAMP, '0000-00-00 00:00:00'],
      [ColumnType.TIME, '-838:59:59.5'],
      [ColumnType.VAR_STRING, 'zoë'],
      [ColumnType.BLOB, null],
      [ColumnType.JSON, '{"a": 1}'],
      [ColumnType.BIT, '\u0001'],
      [ColumnType.ENUM, 'gold'],
    ];
    const columns = cells.map(([t], i) => column(t, i));
    const payload = payloadOf(
      cells.map(([, v]) => (v === null ? null : Buffer.from(v))),
      cells.map(() => 0),
    );
    const expected = encode((w) => writeBinaryRow(w, columns, decodeTextRow(payload, columns.length)));
    expect('bytes' in expected).toBe(true);
    expect(encode((w) => writeBinaryRowFromText(w, columns, payload, 0, payload.length))).toEqual(expected);
  });
});
