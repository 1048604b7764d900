/**
 * A prepared text's kept shape gives exactly what normalize() gives at every execution (bind var
 * names, values and their order, text, kind, directives), and texts whose normalization depends
 * on the params or on user variables are normalized at every execution.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { normalize, type NormalizedQuery } from '../src/normalizer.js';
import { PreparedNormalizer } from '../src/prepared-normalizer.js';
import { Planner } from '../src/planner.js';
import { ExactNumber, type SqlValue } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

const SHAPED = [
  'SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?',
  'SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?',
  'SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c',
  'SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c',
  "SELECT c FROM sbtest1 WHERE k = 5 AND id = ? AND c = 'x' OR pad = ? OR k = 5",
  'SELECT /*vt+ QUERY_TIMEOUT_MS=1000 */ c FROM sbtest1 WHERE id = ? AND k = -7',
  'UPDATE sbtest1 SET k = k + 1 WHERE id = ?',
  'SELECT c FROM sbtest1 WHERE id = :v1 AND k = ?',
  'SELECT c FROM sbtest1 WHERE id IN (?)',
  'SELECT c FROM sbtest1 WHERE id = ? ORDER BY 1 LIMIT 10',
];
const PER_EXECUTION = [
  'SELECT c FROM sbtest1 WHERE id > ? LIMIT ?',
  'SELECT c FROM sbtest1 WHERE id IN (?, ?, 3)',
  'INSERT INTO sbtest1 (id, k) VALUES (?, ?)',
  'SELECT c FROM sbtest1 WHERE id = ? AND k = @k',
  'SELECT c FROM sbtest1 WHERE id = ? AND k IN (1, 2)',
  "SELECT c FROM sbtest1 WHERE id = ? AND c = x'0a'",
];
const PARAM_SETS: SqlValue[][] = [
  [1n, 100n, 'a', 4n],
  [7, 'b', null, 2n],
  [new ExactNumber('3.5'), Buffer.from('zz'), 1n, 9n],
];

function params(sql: string, set: SqlValue[]): SqlValue[] {
  const n = sql.split('?').length - 1;
  return set.slice(0, n);
}

describe('PreparedNormalizer', () => {
  for (const sql of [...SHAPED, ...PER_EXECUTION]) {
    it(`answers as normalize() at every execution: ${sql}`, () => {
      const p = new PreparedNormalizer(100);
      for (const set of PARAM_SETS) {
        const ps = params(sql, set);
        const vars = new Map<string, SqlValue>([['k', 42n]]);
        const outcome = (f: () => NormalizedQuery): NormalizedQuery | Error => {
          try {
            return f();
          } catch (err) {
            return err as Error;
          }
        };
        const got = outcome(() => p.normalize(sql, ps, vars));
        const want = outcome(() => normalize(sql, ps, vars));
        if (want instanceof Error) {
          expect(got).toStrictEqual(want);
          continue;
        }
        expect(got).toStrictEqual(want);
        expect(Object.keys((got as NormalizedQuery).bindVars)).toEqual(Object.keys(want.bindVars));
      }
      expect(p.hasShape(sql)).toBe(SHAPED.includes(sql));
    });
  }

  it('gives each execution bind vars of its own', () => {
    const p = new PreparedNormalizer(100);
    const sql = SHAPED[0]!;
    const a = p.normalize(sql, [1n, 2n], undefined);
    (a.bindVars as Record<string, unknown>).__vtdbname = 'ks';
    const b = p.normalize(sql, [3n, 4n], undefined);
    expect(b.bindVars).toEqual({ v1: 3n, v2: 4n });
  });

  it('reads the session user variable at every execution', () => {
    const p = new PreparedNormalizer(100);
    const sql = 'SELECT c FROM sbtest1 WHERE id = ? AND k = @k';
    expect(p.normalize(sql, [1n], new Map([['k', 5n]])).bindVars).toEqual({ v1: 1n, v2: 5n });
    expect(p.normalize(sql, [1n], new Map([['k', 6n]])).bindVars).toEqual({ v1: 1n, v2: 6n });
  });

  it('raises 1210 when a param is missing', () => {
    const p = new PreparedNormalizer(100);
    const sql = SHAPED[0]!;
    p.normalize(sql, [1n, 2n], undefined);
    expect(() => p.normalize(sql, [1n], undefined)).toThrow(/placeholder 2 has no value/);
  });

  it('keeps at most maxEntries texts', () => {
    const p = new PreparedNormalizer(2);
    for (let i = 0; i < 5; i++) p.normalize(`SELECT c FROM t${i} WHERE id = ? AND k BETWEEN ? AND ?`, [1n, 2n, 3n], undefined);
    expect(p.size).toBe(2);
  });
});

describe('Planner with prepared texts', () => {
  const planners: Planner[] = [];
  afterEach(() => {
    for (const p of planners.splice(0)) p.dispose();
  });

  it('plans a kept shape under the keyspace and vschema epoch of each execution', async () => {
    const planner = new Planner({ vschema: demoVSchema() });
    planners.push(planner);
    const sql = 'SELECT name FROM customer WHERE customer_id BETWEEN ? AND ?';
    const first = await planner.plan(sql, { keyspace: 'commerce', params: [1n, 2n] });
    expect(planner.prepared.hasShape(sql)).toBe(true);
    const again = await planner.plan(sql, { keyspace: 'commerce', params: [3n, 4n] });
    expect(again.plan).toBe(first.plan);
    expect(again.bindVars).toEqual({ v1: 3n, v2: 4n });
    const other = await planner.plan(sql, { keyspace: null, params: [3n, 4n] });
    expect(other.plan).toEqual(planner.planUncached(sql, { keyspace: null, params: [3n, 4n] }).plan);
    planner.setVSchema(demoVSchema());
    const reloaded = await planner.plan(sql, { keyspace: 'commerce', params: [5n, 6n] });
    expect(reloaded.plan).not.toBe(first.plan);
    expect(reloaded.bindVars).toEqual({ v1: 5n, v2: 6n });
  });
});
