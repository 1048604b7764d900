/**
 * The fields of scalar AVG columns (no GROUP BY) that an Aggregate computes from exact values
 * (integers, decimals), rounded to the AVG's scale or unrounded for an expression
 * (AggregateParam.unrounded). Either is MariaDB's DECIMAL AVG in decimal arithmetic and
 * comparisons, but beside a DOUBLE MariaDB reads a scalar AVG as sum / count computed in double
 * (Item_sum_avg::val_real), which neither decimal is (`avg(n) * 1e300` is 1.916666666666667e300
 * there, 1.916666666e300 from the decimal; `avg(n) > 1.66668e0` is false there and true for the
 * rounded 1.6667). So each such AVG cell carries that double too (withExactAvgDouble), and the
 * evaluator reads it beside a DOUBLE; a cell of such a field without it is refused. A grouped AVG
 * is read from MariaDB's temporary table, as the unrounded decimal: not marked.
 * Measured against MariaDB 10.11 (semantics-differential.int.test.ts).
 *
 * Concurrency rule: a field is added once, synchronously, when its Aggregate makes its output
 * fields, before any row; a cell's double is set once, synchronously, when its accumulator makes
 * the cell. Readers only look up. Fields and cells are per statement, and the weak collections
 * keep none of them alive.
 */
import type { Cell, FieldInfo } from '../types.js';
import { formatDecimal, type Decimal } from './decimal.js';

const exactAvgFields = new WeakSet<FieldInfo>();
const exactAvgDoubles = new WeakMap<Uint8Array, number>();

export function markExactAvgField(field: FieldInfo): FieldInfo {
  exactAvgFields.add(field);
  return field;
}

export function isExactAvgField(field: FieldInfo | undefined): boolean {
  return field !== undefined && exactAvgFields.has(field);
}

/** `cell`, an exact AVG's decimal, with the double MariaDB computes for it: the sum as a double over the count. */
export function withExactAvgDouble(cell: Uint8Array, sum: Decimal, count: bigint): Uint8Array {
  exactAvgDoubles.set(cell, Number(formatDecimal(sum)) / Number(count));
  return cell;
}

/** The double an exact AVG cell carries (withExactAvgDouble), or undefined. */
export function exactAvgDouble(cell: Cell | undefined): number | undefined {
  return cell === null || cell === undefined ? undefined : exactAvgDoubles.get(cell);
}
