import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normalize, normalizeByTokens } from '../src/normalizer.js';
import { normalizePointSelect } from '../src/point-select-normalizer.js';
import type { SqlValue } from '../src/plan-types.js';

/** Runs `f`, returning its result or the error's (code, message). */
function outcome<T>(f: () => T): T | { error: string } {
  try {
    return f();
  } catch (e) {
    const err = e as { errno?: number; code?: number; message?: string };
    return { error: `${err.errno ?? err.code ?? ''} ${err.message ?? String(e)}` };
  }
}

// SHARDGATE_FUZZ_SCALE=10 runs ten times the cases (a longer one-off check).
const scale = Number(process.env.SHARDGATE_FUZZ_SCALE ?? 1);

/** normalize() (fast path first) and the token path alone agree exactly; returns whether the fast path took it. */
function expectSameAsTokens(sql: string, params?: SqlValue[]): boolean {
  expect(outcome(() => normalize(sql, params)), sql).toEqual(outcome(() => normalizeByTokens(sql, params)));
  return normalizePointSelect(sql, params) !== null;
}

describe('point select fast path', () => {
  it('takes canonical point selects, with the token path’s text and value', () => {
    const cases: [string, SqlValue[] | undefined, string, SqlValue][] = [
      ['SELECT c FROM sbtest1 WHERE id=5', undefined, 'SELECT c FROM sbtest1 WHERE id=:v1', 5n],
      ['select c from sbtest1 where id = 12345678901234567890', undefined, 'select c from sbtest1 where id = :v1', 12345678901234567890n],
      ['SELECT c FROM sbtest1 WHERE id=?', [7n], 'SELECT c FROM sbtest1 WHERE id=:v1', 7n],
      ['SELECT c FROM sbtest1 WHERE id=?', ['x', 9n], 'SELECT c FROM sbtest1 WHERE id=:v1', 'x'],
      ["Select a, `b c`,d , e.f ,t.* FROM ks.t WHERE t.name= 'it is'", undefined, "Select a, `b c`,d , e.f ,t.* FROM ks.t WHERE t.name= :v1", 'it is'],
      ["SELECT * FROM `my table` WHERE `k`=''", undefined, 'SELECT * FROM `my table` WHERE `k`=:v1', ''],
      ['SELECT *FROM t WHERE id=007', undefined, 'SELECT *FROM t WHERE id=:v1', 7n],
      ["SELECT c FROM t WHERE id='é😀\n'", undefined, 'SELECT c FROM t WHERE id=:v1', 'é😀\n'],
      ['SELECT _utf8mb4 FROM t WHERE id=1', undefined, 'SELECT _utf8mb4 FROM t WHERE id=:v1', 1n],
    ];
    for (const [sql, params, normalized, value] of cases) {
      expect(normalizePointSelect(sql, params), sql).toEqual({ normalized, bindVars: { v1: value }, directives: {}, directivesKey: '', kind: 'select', placeholders: sql.endsWith('?') ? 1 : 0 });
      expect(expectSameAsTokens(sql, params)).toBe(true);
    }
  });

  it('leaves everything else to the token path: comments, quoting, introducers, escapes, spacing, LIMIT', () => {
    const refused: [string, SqlValue[]?][] = [
      ['SELECT c FROM t WHERE id=5;'],
      ['SELECT c FROM t WHERE id=5 '],
      [' SELECT c FROM t WHERE id=5'],
      ['SELECT  c FROM t WHERE id=5'],
      ['SELECT c FROM t WHERE id =  5'],
      ['SELECT c\tFROM t WHERE id=5'],
      ['SELECT c\nFROM t WHERE id=5'],
      ['SELECT c FROM t WHERE id=5 -- x'],
      ['SELECT c FROM t WHERE id=5 #x'],
      ['SELECT c FROM t WHERE id=5#x'],
      ['SELECT c FROM t WHERE id=5--x'],
      ['SELECT c FROM t WHERE id=/* c */5'],
      ['SELECT /*+ MAX_EXECUTION_TIME(1) */ c FROM t WHERE id=5'],
      ['/*vt+ QUERY_TIMEOUT_MS=5 */ SELECT c FROM t WHERE id=5'],
      ['SELECT c FROM t WHERE id=/*!50000 5 */'],
      ["SELECT c FROM t WHERE id=_utf8mb4'x'"],
      ["SELECT c FROM t WHERE id=_latin1'x'"],
      ["SELECT c FROM t WHERE id=N'x'"],
      ["SELECT c FROM t WHERE id=n'x'"],
      ["SELECT c FROM t WHERE id=X'0a'"],
      ["SELECT c FROM t WHERE id=b'01'"],
      ['SELECT c FROM t WHERE id=0x0a'],
      ['SELECT c FROM t WHERE id=0b01'],
      ["SELECT c FROM t WHERE id='a\\'b'"],
      ["SELECT c FROM t WHERE id='a\\\\'"],
      ["SELECT c FROM t WHERE id='it''s'"],
      ["SELECT c FROM t WHERE id='a' 'b'"],
      ["SELECT c FROM t WHERE id='a''"],
      ["SELECT c FROM t WHERE id='unterminated"],
      ['SELECT c FROM t WHERE id="dq"'],
      ['SELECT c FROM t WHERE id=-5'],
      ['SELECT c FROM t WHERE id=5.0'],
      ['SELECT c FROM t WHERE id=1e3'],
      ['SELECT c FROM t WHERE id=5abc'],
      ['SELECT c FROM t WHERE id=?'],
      ['SELECT c FROM t WHERE id=?', []],
      ['SELECT c FROM t WHERE id=??', [1n, 2n]],
      ['SELECT c FROM t WHERE id=:v1'],
      ['SELECT c FROM t WHERE id=@x'],
      ['SELECT c FROM t WHERE limit=5'],
      ['SELECT c FROM t WHERE t.LIMIT=5'],
      ['SELECT c FROM t WHERE id<=5'],
      ['SELECT c FROM t WHERE id==5'],
      ['SELECT c FROM t WHERE id=5 LIMIT 1'],
      ['SELECT c FROM t WHERE id=5 AND k=6'],
      ['SELECT c FROM t WHERE id IN (5)'],
      ['SELECT c FROM t WHERE a.b.c=5'],
      ['SELECT DISTINCT c FROM t WHERE id=5'],
      ['SELECT c AS x FROM t WHERE id=5'],
      ['SELECT c FROM t1, t2 WHERE id=5'],
      ['SELECT c FROM t WHERE id=5 FOR UPDATE'],
      ['SELECT c FROM t WHERE café=5'],
      ['SELECT c FROM t WHERE `a``b`=5'],
      ['SELECT c FROM t WHERE `a=5'],
      ['SELECT c FROM t WHERE 1abc=5'],
      ['SELECT c FROM t WHERE $a=5'],
      ['SELECTc FROM t WHERE id=5'],
      ['SELECT c FROMt WHERE id=5'],
      ['SELECT c FROM t WHEREid=5'],
      ['(SELECT c FROM t WHERE id=5)'],
      ['SELECT c FROM t WHERE id=5)'],
      ['SELECT c, FROM t WHERE id=5'],
      ['SELECT FROM t WHERE id=5'],
      ['SELECT c FROM t WHERE id='],
      ['SELECT c FROM t WHERE =5'],
    ];
    for (const [sql, params] of refused) {
      expect(normalizePointSelect(sql, params), sql).toBeNull();
      expectSameAsTokens(sql, params);
    }
  });

  it('agrees with the token path on generated statements around its form, errors included', () => {
    let took = 0;
    // Mostly the form the fast path takes, with one odd piece here and there.
    const mostly = <T,>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: usual }, { weight: 1, arbitrary: odd });
    const sep = mostly(fc.constantFrom(' ', ' ', ''), fc.constantFrom('  ', '\t', '\n', ' /* c */ ', '/**/', ' -- c\n', '#c\n', '\r\n'));
    const word = mostly(
      fc.constantFrom('c', 'id', 'K', 'sbtest1', '_x', 'a1$', '`q`', '`a b`', 'from', 'where', 'select', 'into', 'outfile', 'order', 'by', 'in', 'date', '_utf8mb4', 'N', 'x'),
      fc.constantFrom('limit', 'LIMIT', 'Limit', 'é', '`a``b`', '`lim`', '1a', '$d', 'n', 'b'),
    );
    const ref = mostly(fc.oneof(word, fc.tuple(word, word).map(([a, b]) => `${a}.${b}`)), fc.tuple(word, word).map(([a, b]) => `${a} . ${b}`));
    const item = mostly(fc.oneof(ref, fc.constant('*'), word.map((w) => `${w}.*`)), fc.constantFrom('1', "'s'", 'count(*)', 'c AS x', '@v', '-1'));
    const items = fc.array(fc.tuple(item, sep, sep), { minLength: 1, maxLength: 3 }).map((xs) => xs.map(([x, a, b], k) => (k === 0 ? x : `${a},${b}${x}`)).join(''));
    const literal = mostly(
      fc.oneof(
        fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
        fc.integer({ min: 0, max: 99 }).map((v) => `00${v}`),
        fc.string({ maxLength: 8 }).map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`),
        fc.constantFrom('?', "'x'", "''"),
      ),
      fc.constantFrom("'a''b'", "'a\\'b'", "'a\\nb'", "'a\\\\'", "'a' 'b'", '"d"', "_utf8mb4'x'", "N'x'", "X'0a'", "b'1'", '0x0a', '0b1', '5.0', '1e3', '.5', '-5', '- 5', '5abc', 'NULL', 'true', ':v1', '@x', "'unterminated", '', '(5)', '??'),
    );
    const op = mostly(fc.constant('='), fc.constantFrom('<=', '<=>', '!=', ' IN ', '=='));
    const kwCase = (k: string) => fc.constantFrom(k, k.toUpperCase(), k[0]!.toUpperCase() + k.slice(1));
    const tail = mostly(fc.constant(''), fc.constantFrom(';', ' ', '\n', ' LIMIT 1', ' -- c', '#', '/* c */', ' AND k=1', ')', ' FOR UPDATE'));
    const lead = mostly(fc.constant(''), fc.constantFrom(' ', '(', '/*vt+ QUERY_TIMEOUT_MS=5 */ ', '/*+ hint */'));
    fc.assert(
      fc.property(
        fc.record({ lead, select: kwCase('select'), s1: sep, items, s2: sep, from: kwCase('from'), s3: sep, table: ref, s4: sep, where: kwCase('where'), s5: sep, col: ref, s6: sep, op, s7: sep, literal, tail }),
        fc.array(fc.oneof(fc.constant(null), fc.bigInt(), fc.string()), { maxLength: 2 }),
        (p, params) => {
          const sql = `${p.lead}${p.select}${p.s1}${p.items}${p.s2}${p.from}${p.s3}${p.table}${p.s4}${p.where}${p.s5}${p.col}${p.s6}${p.op}${p.s7}${p.literal}${p.tail}`;
          if (expectSameAsTokens(sql, params)) took++;
          expectSameAsTokens(sql);
        },
      ),
      { numRuns: 10_000 * scale },
    );
    // The comparisons cover the fast path, not only its refusals.
    expect(took).toBeGreaterThan(10_000 * scale * 0.015);
  });
});
