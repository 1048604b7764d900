import { describe, expect, it } from 'vitest';
import { ExactNumber, type EvalExpr, type InsertComputedValue, type SqlValue } from '@shardgate/planner';
import { copyGeneratedIds, fillComputedValues } from '../src/values/insert-computed-values.js';

const b = (k: number): EvalExpr => ({ kind: 'bind', name: '$' + k });
const call = (fn: string, ...args: EvalExpr[]): EvalExpr => ({ kind: 'call', fn, args });

/** Computes `expr` over `values` for a column: [the value sent to the shard, the value routed on]. */
function compute(expr: EvalExpr, values: SqlValue[], integerColumn = false): [SqlValue, SqlValue] {
  const cv: InsertComputedValue = { column: 'id', exprs: [expr], sendIndex: values.length, routeIndex: values.length + 1, integerColumn };
  const rows = [values.slice()];
  fillComputedValues([cv], rows, false, {}, 4);
  return [rows[0]![cv.sendIndex]!, rows[0]![cv.routeIndex]!];
}

describe('INSERT values computed at the gateway', () => {
  it('types the value as MariaDB types the expression, and routes on it as the column stores it', () => {
    expect(compute(call('+', b(0), b(1)), [1n, 1n])).toEqual([2n, 2n]);
    // A string in arithmetic is a DOUBLE: sent as a DOUBLE literal.
    expect(compute(call('+', b(0), b(1)), ['7', 0n])).toEqual([new ExactNumber('7e0'), 7n]);
    // MariaDB's digits of a quotient (scale rounded up to 9); 2.5 rounds to 3 only in a declared integer column.
    expect(compute(call('/', b(0), b(1)), [5n, 2n], true)).toEqual([new ExactNumber('2.500000000'), 3n]);
    expect(compute(call('/', b(0), b(1)), [5n, 2n], false)).toEqual([new ExactNumber('2.500000000'), new ExactNumber('2.500000000')]);
    expect(compute(call('/', b(0), b(1)), [-5n, 2n], true)[1]).toBe(-3n);
    // A DOUBLE rounds half to even (rint), as MariaDB stores one in an integer column.
    expect(compute(call('/', b(0), b(1)), ['5', '2'], true)).toEqual([new ExactNumber('2.5e0'), 2n]);
    expect(compute(call('/', b(0), b(1)), ['3', '2'], true)[1]).toBe(2n);
    expect(compute(call('concat', b(0), b(1)), ['1', 2n])).toEqual(['12', '12']);
    expect(compute(call('+', b(0), b(1)), [null, 1n])).toEqual([null, null]);
    // CAST AS SIGNED: a DECIMAL half away from zero, a DOUBLE half to even, a string spelling an integer.
    expect(compute(call('cast_signed', b(0)), [new ExactNumber('2.5')])).toEqual([3n, 3n]);
    expect(compute(call('cast_signed', b(0)), [new ExactNumber('2.5e0')])).toEqual([2n, 2n]);
    expect(compute(call('cast_signed', b(0)), [' 12'])).toEqual([12n, 12n]);
    expect(compute(call('cast_char', b(0)), [12n])).toEqual(['12', '12']);
  });

  it.each([
    ['a string that is not a clean number in arithmetic', call('+', b(0), b(1)), ['7abc', 0n]],
    ['an integer overflow', call('+', b(0), b(1)), [9223372036854775807n, 1n]],
    ['a division by zero', call('/', b(0), b(1)), [1n, 0n]],
    ['a DOUBLE as text', call('concat', b(0)), [1.5]],
    ['a quotient as text', call('concat', call('/', b(0), b(1))), [1n, 3n]],
    ['non-ASCII through UPPER', call('upper', b(0)), ['ß']],
    ['IF over different types', call('if', b(0), b(1), b(2)), [1n, 2.5, 'x']],
    ['a binary string', call('concat', b(0)), [Uint8Array.of(1)]],
    ['CAST of a string that is not an integer AS SIGNED', call('cast_signed', b(0)), ['2.5']],
    ['CAST of a negative number AS UNSIGNED', call('cast_unsigned', b(0)), [-1n]],
    ['CAST of a quotient AS CHAR', call('cast_char', call('/', b(0), b(1))), [5n, 2n]],
  ])('refuses %s with 1235', (_what, expr, values) => {
    expect(() => compute(expr, values as SqlValue[])).toThrow(expect.objectContaining({ errno: 1235, sqlState: '42000' }));
  });

  it('gives the shard the id the sequence put in the routed value', () => {
    const cv: InsertComputedValue = { column: 'id', exprs: [call('+', b(0), b(1))], sendIndex: 2, routeIndex: 3, integerColumn: true };
    const rows: SqlValue[][] = [[null, 1n]];
    fillComputedValues([cv], rows, false, {}, 4);
    rows[0]![3] = 1000n;
    copyGeneratedIds([cv], rows);
    expect(rows[0]).toEqual([null, 1n, 1000n, 1000n]);
  });
});
