/**
 * ROUND() evaluated at the gateway (over aggregates across shards), with the values MariaDB gives:
 * exact numbers round half away from zero, doubles half to even (rint), and a double's text has
 * exactly d decimals. The integration test cross-shard-shapes.int.test.ts compares with MariaDB.
 */
import { describe, expect, it } from 'vitest';
import { ExactNumber, type EvalExpr, type SqlValue } from '@shardgate/planner';
import { evalExpr } from '../src/values/eval-expr.js';
import { ColumnType } from '../src/values/column-types.js';
import type { FieldInfo } from '../src/types.js';

const field = (columnType: number, decimals: number): FieldInfo => ({ catalog: 'def', schema: '', table: '', orgTable: '', name: 'x', orgName: '', characterSet: 63, columnLength: 20, columnType, flags: 0, decimals });

function round(cell: string, type: number, d?: SqlValue): string | null {
  const args: EvalExpr[] = [{ kind: 'column', index: 0 }];
  if (d !== undefined) args.push({ kind: 'literal', value: d });
  const v = evalExpr({ kind: 'call', fn: 'round', args }, { row: [Buffer.from(cell)], fields: [field(type, 0)], bindVars: {}, divPrecisionIncrement: 4 });
  return v === null ? null : v.toString();
}

describe('ROUND at the gateway', () => {
  it('rounds decimals half away from zero, to d decimals (padding), or to tens with d < 0', () => {
    expect(round('2.5', ColumnType.NEWDECIMAL)).toBe('3');
    expect(round('-2.5', ColumnType.NEWDECIMAL)).toBe('-3');
    expect(round('1.2345', ColumnType.NEWDECIMAL, 2n)).toBe('1.23');
    expect(round('1.235', ColumnType.NEWDECIMAL, 2n)).toBe('1.24');
    expect(round('1.5', ColumnType.NEWDECIMAL, 3n)).toBe('1.500');
    expect(round('-155.5', ColumnType.NEWDECIMAL, -1n)).toBe('-160');
    expect(round('155', ColumnType.LONGLONG, -1n)).toBe('160');
    expect(round('155', ColumnType.LONGLONG, 2n)).toBe('155');
    expect(round('155', ColumnType.LONGLONG, null)).toBe(null);
  });

  it('rounds doubles half to even and prints exactly d decimals', () => {
    expect(round('2.5', ColumnType.DOUBLE)).toBe('2');
    expect(round('-2.5', ColumnType.DOUBLE)).toBe('-2');
    expect(round('0.125', ColumnType.DOUBLE, 2n)).toBe('0.12');
    expect(round('1.15', ColumnType.DOUBLE, 1n)).toBe('1.2');
    expect(round('5.0', ColumnType.DOUBLE, 1n)).toBe('5.0');
    expect(round('-0.04', ColumnType.DOUBLE, 1n)).toBe('0.0');
    expect(round('123.456', ColumnType.DOUBLE, -1n)).toBe('120');
  });

  it('refuses what it cannot reproduce: non-integer d, a double past 2^53', () => {
    expect(() => round('1.5', ColumnType.NEWDECIMAL, new ExactNumber('1.5'))).toThrow(expect.objectContaining({ errno: 1235 }));
    expect(() => round('1e300', ColumnType.DOUBLE, 2n)).toThrow(expect.objectContaining({ errno: 1235 }));
  });

  it('rounds an expression over a DOUBLE column as the double MariaDB computes (1.25e0 * 2 = 2.5, half to even: 2)', () => {
    // A DOUBLE column's value is a DOUBLE in arithmetic (ExactNumber.isDouble), so the product is
    // the binary double MariaDB rounds, not a decimal.
    const overDouble: EvalExpr = { kind: 'call', fn: 'round', args: [{ kind: 'call', fn: '*', args: [{ kind: 'column', index: 0 }, { kind: 'literal', value: 2n }] }] };
    expect(String(evalExpr(overDouble, { row: [Buffer.from('1.25')], fields: [field(ColumnType.DOUBLE, 0)], bindVars: {}, divPrecisionIncrement: 4 }))).toBe('2');
  });
});
