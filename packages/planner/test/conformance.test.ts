import { describe, expect, it } from 'vitest';
import { conformanceAvailable, runConformance, summarize } from '../scripts/conformance-runner.js';

/**
 * Vitess's planbuilder cases (read from ../shared/conformance/vitess-planbuilder, never copied):
 * zero wrong routes, and the single-Route match ratio never drops below the level reached.
 */
describe.skipIf(!conformanceAvailable())('Vitess planbuilder conformance', () => {
  it('routes no case wrong and matches at least 98% of the single-Route cases', async () => {
    const results = await runConformance();
    const total = summarize(results).at(-1)!;
    const wrong = results.filter((r) => r.outcome === 'wrong').map((r) => `${r.file}: ${r.query} → ${r.detail}`);
    expect(wrong).toEqual([]);
    expect(total.routeCases).toBe(197);
    expect(total.routeMatched / total.routeCases).toBeGreaterThanOrEqual(0.98);
    // Every error case is refused too, but for Vitess's own restrictions that shardgate answers as
    // MariaDB does (BEYOND_VITESS, each with its differential test).
    expect(total.errorMatched + total.beyondVitess).toBe(total.errorCases);
  });
});
