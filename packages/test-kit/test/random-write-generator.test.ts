import { describe, expect, it } from 'vitest';
import { generateRandomWrites, randomWriteFixture } from '../src/oracle/index.js';

describe('generateRandomWrites', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(generateRandomWrites(7, 50)).toEqual(generateRandomWrites(7, 50));
    expect(generateRandomWrites(8, 50)).not.toEqual(generateRandomWrites(7, 50));
  });

  it('never writes a LIMIT without an ORDER BY (nondeterministic on one server too), and names only fixture tables', () => {
    const tables = new Set(randomWriteFixture().tables.map((t) => t.name));
    for (const w of generateRandomWrites(1, 2000)) {
      if (/\bLIMIT\b/.test(w.sql)) expect(w.sql, w.sql).toMatch(/\bORDER BY\b[^)]*\bLIMIT (\d+|\?)$/);
      for (const t of w.touches) expect(tables.has(t), t).toBe(true);
    }
  });
});
