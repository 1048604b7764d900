/**
 * `x IS TRUE` evaluated at the gateway (a WHERE over a derived table that the shards computed as a
 * 0/1 column, HAVING): never NULL, a string counts by its numeric prefix as MariaDB reads it. The
 * integration test derived-tables-differential.int.test.ts compares whole queries with MariaDB.
 */
import { describe, expect, it } from 'vitest';
import { ExactNumber, type SqlValue } from '@shardgate/planner';
import { evalExpr } from '../src/values/eval-expr.js';

const isTrue = (value: SqlValue): SqlValue => evalExpr({ kind: 'call', fn: 'istrue', args: [{ kind: 'literal', value }] }, { row: [], fields: [], bindVars: {}, divPrecisionIncrement: 4 });

describe('IS TRUE at the gateway', () => {
  it('is 1 for non-zero numbers and strings with a non-zero numeric prefix, 0 for zero, NULL and other strings', () => {
    expect([1n, -3n, 0.5, new ExactNumber('0.01'), '1abc', ' 2', '0.5x'].map(isTrue)).toEqual([1n, 1n, 1n, 1n, 1n, 1n, 1n]);
    expect([0n, 0, new ExactNumber('0.00'), null, 'abc', '', '0x1'].map(isTrue)).toEqual([0n, 0n, 0n, 0n, 0n, 0n, 0n]);
  });
});

describe('truth of a value in NOT / AND / OR at the gateway', () => {
  const not = (value: SqlValue): SqlValue => evalExpr({ kind: 'call', fn: 'not', args: [{ kind: 'literal', value }] }, { row: [], fields: [], bindVars: {}, divPrecisionIncrement: 4 });
  it('reads a string by its numeric prefix, as MariaDB does (NOT \'1abc\' is 0, NOT \'0x10\' is 1)', () => {
    expect(['1abc', ' 2', '0.5x', '1e3', '2024-01-02 10:00:00'].map(not)).toEqual([0n, 0n, 0n, 0n, 0n]);
    expect(['abc', '', '0x10', '0.0', 'Infinity'].map(not)).toEqual([1n, 1n, 1n, 1n, 1n]);
    expect(not(null)).toBe(null);
  });
});
