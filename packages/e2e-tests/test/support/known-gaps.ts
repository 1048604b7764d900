/**
 * Known gaps: cases that fail today because shardgate lacks a feature. Each is listed with the
 * failing query, the error and the package where the fix belongs, and runs as `it.skip` so the
 * suite stays green. Set SHARDGATE_E2E_GAPS=1 to run them as real assertions and see which
 * still fail (a gap that passes should move back to the normal cases).
 */
import { it } from 'vitest';

export interface KnownGap {
  /** Where the fix belongs, e.g. 'planner (select-analyzer.ts)'. */
  readonly owner: string;
  /** Why it fails, with the error message seen. */
  readonly reason: string;
}

export const runGaps = process.env.SHARDGATE_E2E_GAPS === '1';

/** `it` for a case that is a known gap: skipped unless SHARDGATE_E2E_GAPS=1. */
export function gapIt(name: string, gap: KnownGap, fn: () => Promise<void>, timeout?: number): void {
  const title = `[known gap: ${gap.owner}] ${name} — ${gap.reason}`;
  if (runGaps) it(title, fn, timeout);
  else it.skip(title, fn, timeout);
}
