import { describe, expect, it } from 'vitest';
import { addDecimal, divideDecimal, formatDecimal, parseDecimal } from '../src/values/decimal.js';
import { equalityKey } from '../src/values/cell-compare.js';
import { rowKey } from '../src/operators/distinct.js';
import { countPlaceholders } from '../src/session.js';
import { stripKeyspace } from '../src/session-statements.js';
import { compareValues } from '../src/values/eval-expr.js';

const d = (s: string) => parseDecimal(s)!;

describe('exact decimals', () => {
  it('adds without rounding at 65 digits', () => {
    expect(formatDecimal(addDecimal(d('99999999999999999999999999999999999.999999999999999999999999999999'), d('0.000000000000000000000000000001')))).toBe(
      '100000000000000000000000000000000000.000000000000000000000000000000',
    );
  });
  it('divides with MariaDB rounding (half away from zero)', () => {
    expect(formatDecimal(divideDecimal(d('2'), d('3'), 4))).toBe('0.6667');
    expect(formatDecimal(divideDecimal(d('-2'), d('3'), 4))).toBe('-0.6667');
    expect(formatDecimal(divideDecimal(d('1.25'), d('2'), 6))).toBe('0.625000');
    expect(formatDecimal(divideDecimal(d('-0.5'), d('1'), 0))).toBe('-1');
  });
});

describe('collation-equal keys', () => {
  const text = { catalog: 'def', schema: '', table: '', orgTable: '', name: 'n', orgName: '', characterSet: 45, columnLength: 0, columnType: 253, flags: 0, decimals: 0 };
  const dec = { ...text, characterSet: 63, columnType: 246 };
  it('alice, Alice and Ålice are one group under general_ci; 1.50 and 1.5 are one value', () => {
    const k = (s: string) => equalityKey(Buffer.from(s), text);
    expect(k('alice')).toBe(k('Alice'));
    expect(k('alice')).toBe(k('Ålice'));
    expect(k('alice ')).toBe(k('alice'));
    expect(equalityKey(Buffer.from('1.50'), dec)).toBe(equalityKey(Buffer.from('1.5'), dec));
    expect(equalityKey(null, text)).not.toBe(k(''));
  });
  it('keys rows by their collation keys (WEIGHT_STRING) without one column running into the next', () => {
    // A key: weight unit, PAD SPACE flag, the space's weight, then the weights (any byte, 0x01 too).
    const w = (...weights: number[]) => Buffer.from([1, 1, 0x20, ...weights]);
    const row = (a: Buffer, b: Buffer) => rowKey([Buffer.from('x'), Buffer.from('y'), a, b], [text, text, text, text], 2, [2, 3]);
    expect(row(w(0x41, 0x01), w(0x42))).not.toBe(row(w(0x41), w(0x01, 0x42)));
    expect(row(w(0x41, 0x20, 0x20), w(0x42))).toBe(row(w(0x41), w(0x42, 0x20)));
    expect(row(w(0x41), w(0x42))).not.toBe(row(w(0x41), w(0x43)));
  });
});

describe('statement helpers', () => {
  it('counts placeholders outside quotes and comments', () => {
    expect(countPlaceholders("select ?, '?', `?`, \"?\" /* ? */ from t where a = ? -- ?\n and b = ?")).toBe(3);
  });
  it('strips keyspace qualifiers for shards', () => {
    expect(stripKeyspace('show create table commerce.customer', ['commerce'])).toBe('show create table customer');
    expect(stripKeyspace('show columns from customer from commerce', ['commerce'])).toBe('show columns from customer');
  });
});

describe('compareValues: a string against a DOUBLE, as MariaDB compares them', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  it('reads the string as a DOUBLE (its numeric prefix), never as NaN', () => {
    // A prepared statement's parameter 5 arrives as a DOUBLE: `min(status) >= ?` over 'paid' is 0 >= 5.
    expect(compareValues(text('paid'), 5)).toBe(-1);
    expect(compareValues(5, text('paid'))).toBe(1);
    expect(compareValues(text('12abc'), 12.5)).toBe(-1);
    expect(compareValues(text(' 7'), 7)).toBe(0);
    expect(compareValues('1e3', 999.5)).toBe(1);
  });
});
