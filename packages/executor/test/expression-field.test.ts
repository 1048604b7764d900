/**
 * The result column of an expression the gateway computes over an aggregation of a join across
 * shards (expression-field.ts), with the types MariaDB 10.11 sends for the same expressions
 * (join-aggregate-differential.int.test.ts compares them with a real server).
 */
import { describe, expect, it } from 'vitest';
import { ExactNumber, type EvalExpr } from '@shardgate/planner';
import { expressionField } from '../src/values/expression-field.js';
import { ColumnFlag, ColumnType } from '../src/values/column-types.js';
import type { FieldInfo } from '../src/types.js';

const field = (columnType: number, columnLength: number, decimals = 0, flags = 0): FieldInfo => ({ catalog: 'def', schema: '', table: '', orgTable: '', name: 'x', orgName: '', characterSet: 63, columnLength, columnType, flags, decimals });
// count(*), sum(int) (DECIMAL(32,0)), sum(decimal(10,2)), max(tinyint), max(int), sum(double), avg(decimal(8,3)).
const FIELDS = [field(ColumnType.LONGLONG, 21), field(ColumnType.NEWDECIMAL, 33), field(ColumnType.NEWDECIMAL, 12, 2), field(ColumnType.TINY, 4), field(ColumnType.LONG, 11), field(ColumnType.DOUBLE, 22, 31), field(ColumnType.NEWDECIMAL, 14, 7)];
const col = (index: number): EvalExpr => ({ kind: 'column', index });
const lit = (value: bigint | ExactNumber | string | null): EvalExpr => ({ kind: 'literal', value });
const call = (fn: string, ...args: EvalExpr[]): EvalExpr => ({ kind: 'call', fn, args });
const typeOf = (e: EvalExpr): string => {
  const f = expressionField(e, FIELDS, {}, 4, 'e', 'ks');
  return `${f.columnType}/${f.decimals}`;
};

describe('result types of expressions over aggregates', () => {
  it('follows MariaDB for arithmetic: BIGINT or INT by length, DECIMAL scales of +, * and /, DOUBLE over a double', () => {
    expect(typeOf(call('+', col(0), lit(1n)))).toBe(`${ColumnType.LONGLONG}/0`);
    expect(typeOf(call('+', col(3), lit(1n)))).toBe(`${ColumnType.LONG}/0`);
    expect(typeOf(call('+', col(4), col(3)))).toBe(`${ColumnType.LONGLONG}/0`);
    expect(typeOf(call('/', col(1), col(0)))).toBe(`${ColumnType.NEWDECIMAL}/4`);
    expect(typeOf(call('/', col(2), col(0)))).toBe(`${ColumnType.NEWDECIMAL}/6`);
    expect(typeOf(call('/', col(6), col(2)))).toBe(`${ColumnType.NEWDECIMAL}/11`);
    expect(typeOf(call('*', col(1), lit(new ExactNumber('1.5'))))).toBe(`${ColumnType.NEWDECIMAL}/1`);
    expect(typeOf(call('+', col(0), lit(new ExactNumber('1.50'))))).toBe(`${ColumnType.NEWDECIMAL}/2`);
    expect(typeOf(call('+', col(5), lit(1n)))).toBe(`${ColumnType.DOUBLE}/31`);
    expect(typeOf(call('-', col(0)))).toBe(`${ColumnType.LONGLONG}/0`);
    expect(typeOf(call('-', col(3)))).toBe(`${ColumnType.LONG}/0`);
  });

  it('follows MariaDB for ROUND, ABS, COALESCE, GREATEST and comparisons', () => {
    expect(typeOf(call('round', col(6), lit(2n)))).toBe(`${ColumnType.NEWDECIMAL}/2`);
    expect(typeOf(call('round', col(2), lit(3n)))).toBe(`${ColumnType.NEWDECIMAL}/3`);
    expect(typeOf(call('round', col(5), lit(1n)))).toBe(`${ColumnType.DOUBLE}/1`);
    expect(typeOf(call('round', col(3)))).toBe(`${ColumnType.TINY}/0`);
    expect(typeOf(call('abs', col(3)))).toBe(`${ColumnType.LONG}/0`);
    expect(typeOf(call('abs', col(4)))).toBe(`${ColumnType.LONGLONG}/0`);
    expect(typeOf(call('coalesce', col(3), lit(0n)))).toBe(`${ColumnType.LONG}/0`);
    expect(typeOf(call('ifnull', col(2), lit(0n)))).toBe(`${ColumnType.NEWDECIMAL}/2`);
    expect(typeOf(call('greatest', col(4), lit(new ExactNumber('2.5'))))).toBe(`${ColumnType.NEWDECIMAL}/1`);
    expect(typeOf(call('>', col(0), lit(1n)))).toBe(`${ColumnType.LONG}/0`);
    expect(typeOf(call('concat', col(0), lit('x')))).toBe(`${ColumnType.VAR_STRING}/39`);
  });

  it('refuses what it does not derive (1235) rather than guess', () => {
    expect(() => typeOf(call('round', col(0), lit(-1n)))).toThrow(/not supported/);
    expect(() => typeOf(call('greatest', col(0), lit(null)))).toThrow(/not supported/);
    expect(() => expressionField(col(0), [field(ColumnType.DATETIME, 19, 0, ColumnFlag.BINARY)], {}, 4, 'e', 'ks')).toThrow(/not supported/);
  });
});
