import { rowKey, type NormalizedRow } from './result-normalizer.js';

export interface RowDifference {
  /** Position in the ordered comparison; for multisets, the position in the side the row came from. */
  index: number;
  subject: NormalizedRow | undefined;
  reference: NormalizedRow | undefined;
  description: string;
}

/** Exact order: the first index where the two sides differ (or where one side runs out). */
export function firstOrderedDifference(subject: readonly NormalizedRow[], reference: readonly NormalizedRow[]): RowDifference | undefined {
  const n = Math.max(subject.length, reference.length);
  for (let i = 0; i < n; i++) {
    const s = subject[i];
    const r = reference[i];
    if (s === undefined || r === undefined || rowKey(s) !== rowKey(r)) {
      const description =
        s === undefined
          ? `subject has only ${subject.length} rows; reference row ${i} is ${rowKey(r!)}`
          : r === undefined
            ? `reference has only ${reference.length} rows; subject row ${i} is ${rowKey(s)}`
            : `row ${i}: subject ${rowKey(s)} ≠ reference ${rowKey(r)}`;
      return { index: i, subject: s, reference: r, description };
    }
  }
  return undefined;
}

/**
 * Multiset comparison (ORDER BY-less queries): the first subject row the reference has fewer copies
 * of, else the first reference row the subject lacks.
 */
export function firstMultisetDifference(subject: readonly NormalizedRow[], reference: readonly NormalizedRow[]): RowDifference | undefined {
  const counts = new Map<string, number>();
  for (const r of reference) counts.set(rowKey(r), (counts.get(rowKey(r)) ?? 0) + 1);
  const remaining = new Map(counts);
  for (let i = 0; i < subject.length; i++) {
    const key = rowKey(subject[i]);
    const left = remaining.get(key) ?? 0;
    if (left === 0) {
      return {
        index: i,
        subject: subject[i],
        reference: undefined,
        description: `subject row ${i} ${key} occurs ${countOf(subject, key)}× in subject but ${counts.get(key) ?? 0}× in reference`,
      };
    }
    remaining.set(key, left - 1);
  }
  for (let i = 0; i < reference.length; i++) {
    const key = rowKey(reference[i]);
    if ((remaining.get(key) ?? 0) > 0) {
      return {
        index: i,
        subject: undefined,
        reference: reference[i],
        description: `reference row ${i} ${key} occurs ${counts.get(key)}× in reference but ${countOf(subject, key)}× in subject`,
      };
    }
  }
  return undefined;
}

function countOf(rows: readonly NormalizedRow[], key: string): number {
  let n = 0;
  for (const r of rows) if (rowKey(r) === key) n++;
  return n;
}
