import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normalize, normalizeByTokens, ROWS_BIND } from '../src/normalizer.js';
import { scanInList, scanInsertRows } from '../src/literal-list-scanner.js';
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

/** Both paths must agree exactly: same text, bind vars, kind, placeholder count, or same error. */
// How many compared statements the scanner took (so that the comparisons are known to cover it).
let scannerTook = 0;
// SHARDGATE_FUZZ_SCALE=10 runs ten times the cases (a longer one-off check).
const scale = Number(process.env.SHARDGATE_FUZZ_SCALE ?? 1);

function expectSamePaths(sql: string, params?: SqlValue[]): void {
  const at = /\bvalues?\b/i.exec(sql);
  if (at !== null && /^\s*(insert|replace)\b/i.test(sql) && outcome(() => scanInsertRows(sql, at.index + at[0].length)) !== null) scannerTook++;
  for (const m of sql.matchAll(/\bin\b/gi)) if (outcome(() => scanInList(sql, m.index + 2)) !== null) scannerTook++;
  expect(outcome(() => normalize(sql, params)), sql).toEqual(outcome(() => normalizeByTokens(sql, params)));
}

const space = fc.constantFrom('', '', ' ', ' ', '  ', '\t', '\n', '\r\n', '\v');
const item = fc.oneof(
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
  fc.integer({ min: 0, max: 999 }).map((n) => `00${n}`),
  fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 0, max: 999 })).map(([a, b]) => `${a}.${b}`),
  fc.constantFrom('5.', '-0', '0', '-', '- 5', '--5', '.5', '1e5', '1.5e-3', '0x1F', '0b101', "X'ab'", "b'01'", '5abc', '1.2.3'),
  fc.constantFrom('NULL', 'null', 'Null', 'nullx', 'null5', 'NULL()', 'true', 'false', 'DEFAULT', 'now()', '1 + 2', '(1)', '?', '?', ':v1', '@x'),
  fc.constantFrom("'it''s'", "'a\\'b'", "'back\\\\slash'", "'\\0\\n\\Z'", "\"dq\"", "\"d\"\"q\"", "'é😀'", "''", "'a' 'b'", "_utf8mb4'x'", "N'x'", "'unterminated"),
  fc.string({ maxLength: 12 }).map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`),
);
const row = fc.array(fc.tuple(space, item, space), { minLength: 0, maxLength: 5 }).map((items) => `(${items.map(([a, x, b]) => a + x + b).join(',')})`);
const rowSep = fc.constantFrom(',', ', ', ' , ', ',\n', ' ', ' /* c */ , ', ',, ');
const prefix = fc.constantFrom(
  'insert into t values',
  'insert into t(a, b, c) values ',
  'INSERT INTO `t` (`a`) VALUES',
  'insert into t value',
  'replace into t values ',
  'insert ignore into t values',
  '/*vt+ QUERY_TIMEOUT_MS=5 */ insert into t values',
  'insert into t (a) values(',
  'insert into values values',
  'insert into t partition (p1) values',
  'select * from t where a in (1, 2) and b = ? or c = values',
  'insert into t(a) select 1 union select values',
  'insert into t set a = ?, b = values',
);
const tail = fc.constantFrom(
  '', '', ';', ' ;', '; ', ';;', '; select 1', ' on duplicate key update a = values(a)', ' ON DUPLICATE KEY UPDATE a = 5, b = \'x\' + ?',
  '.5', ' .5', ' -- c', '-- c', ' # c', '/* c */', ' returning id', 'x\'41\'', ' as new on duplicate key update a = new.a', ')', ' limit 1',
);

describe('INSERT rows and IN list scanners', () => {
  it('normalizes exactly as the token path on generated statements, errors included', () => {
    scannerTook = 0;
    fc.assert(
      fc.property(prefix, fc.array(row, { minLength: 1, maxLength: 4 }), rowSep, tail, fc.array(fc.oneof(fc.constant(null), fc.bigInt(), fc.string()), { maxLength: 8 }), (p, rows, sep, t, params) => {
        const sql = p + rows.join(sep) + t;
        expectSamePaths(sql, params);
        expectSamePaths(sql);
      }),
      { numRuns: 20_000 * scale },
    );
    expect(scannerTook).toBeGreaterThan(20_000 * scale * 0.02);
  });

  it('agrees with the token path on rows that repeat one layout (the form the scanner takes)', () => {
    scannerTook = 0;
    const plainItem = fc.oneof(
      fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }).map(String),
      fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 0, max: 99 })).map(([a, b]) => `${a}.${b}`),
      fc.constantFrom('NULL', 'null', '?'),
      fc.string({ unit: 'binary', maxLength: 10 }).map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(space, { minLength: 12, maxLength: 12 }), fc.integer({ min: 1, max: 6 }), fc.array(plainItem, { minLength: 36, maxLength: 36 }), tail, (width, spaces, count, items, t) => {
        const rows: string[] = [];
        for (let r = 0; r < count; r++) {
          rows.push('(' + Array.from({ length: width }, (_, k) => spaces[2 * k]! + items[(r * width + k) % 36]! + spaces[2 * k + 1]!).join(',') + ')');
        }
        const sql = `insert into t values ${rows.join(', ')}${t}`;
        const params = Array.from({ length: 40 }, (_, k) => BigInt(k));
        expectSamePaths(sql, params);
      }),
      { numRuns: 5_000 * scale },
    );
    expect(scannerTook).toBeGreaterThan(5_000 * scale * 0.4);
  });

  it('normalizes IN lists exactly as the token path, in any context', () => {
    scannerTook = 0;
    const inPrefix = fc.constantFrom(
      'select * from t where a in',
      'SELECT * FROM t WHERE a IN',
      'select * from t where a not in',
      'select * from t where 5 in',
      "select * from t where 'x' not in",
      'select * from t where ? in',
      'select * from t where (a, b) in',
      'delete from t where id in',
      'update t set a = ? where id in',
      'select a in',
      'select * from t where a in /* c */',
      'select * from t where x = (select 1 from u where b in',
      'set @x = 1 in',
      'show tables in',
      "select * into outfile 'f' from t where a in",
      'insert into t(a) select b from u where c in',
      "insert into t values (1, 'a') on duplicate key update b = if(c in",
      'insert into t values (1) on duplicate key update b = c in',
      'replace into t (a) values (?) , (?) on duplicate key update b = ? in',
      'select * from t where a in (1, 2) and b in',
    );
    const list = fc.array(fc.tuple(space, item, space), { minLength: 0, maxLength: 6 }).map((items) => `(${items.map(([a, x, b]) => a + x + b).join(',')})`);
    const inTail = fc.constantFrom('', ')', ' and b = 5', ' or c in (1, 2)', ' or c in (?, ?)', '.5', ' limit 1', ';', '; select 1', ' order by 1', ' and d in (1)', 'x', ')) and e in (3, -4)');
    fc.assert(
      fc.property(inPrefix, space, list, inTail, fc.array(fc.oneof(fc.constant(null), fc.bigInt(), fc.string()), { maxLength: 8 }), (p, sp, l, t, params) => {
        const sql = p + sp + l + t;
        expectSamePaths(sql, params);
        expectSamePaths(sql);
      }),
      { numRuns: 20_000 * scale },
    );
    expect(scannerTook).toBeGreaterThan(20_000 * scale * 0.1);
  });

  it('takes plain rows and returns their values', () => {
    const s = scanInsertRows("(1, 'a''b', NULL, -2.50, ?),(2, 'x', null, 3, ?)  on duplicate key update a = 1", 0);
    expect(s).not.toBeNull();
    expect(s!.text).toBe('(:__r0, :__r1, :__r2, :__r3, :__r4)');
    expect(s!.rows[0]!.slice(0, 3)).toEqual([1n, "a'b", null]);
    expect(s!.params).toEqual([0, 4, 1, 4]);
    // Rows spaced differently from the first, expressions and comments go to the token path.
    expect(scanInsertRows('(1, 2), (1,2)', 0)).toBeNull();
    expect(scanInsertRows('(now(), 2)', 0)).toBeNull();
    expect(scanInsertRows('(1) /* c */, (2)', 0)).toBeNull();
    expect(scanInsertRows('(1).5', 0)).toBeNull();
  });

  it('takes IN lists of two or more plain literals', () => {
    const s = scanInList(" (1, -2.5, 'a\\'b', ?) and x = 1", 0);
    expect(s).toMatchObject({ values: [1n, expect.anything(), "a'b", null], params: [3], start: 1, spaceBefore: true });
    expect(" (1, -2.5, 'a\\'b', ?) and x = 1".slice(s!.end)).toBe(' and x = 1');
    expect(scanInList('(1)', 0)).toBeNull();
    expect(scanInList('(1, null)', 0)).toBeNull();
    expect(scanInList('(1, a)', 0)).toBeNull();
    expect(scanInList('(1, 2 /* c */)', 0)).toBeNull();
    const n = normalize('select * from t where a in (?, 2) and b = ? and c not in (3, ?)', [10n, 20n, 30n]);
    expect(n.normalized).toBe('select * from t where a in ::v1 and b = :v2 and c not in ::v3');
    expect(n.bindVars).toEqual({ v1: [10n, 2n], v2: 20n, v3: [3n, 30n] });
  });

  it('answers an IN list left open at the end of the text with MariaDB\'s 1064 near \'\', without lexing it', () => {
    for (const sql of ['select id from t where id in (1, 2', 'select id from t where id in (1, 2,', 'select id from t where id in (1,\n2 ']) {
      expect(outcome(() => normalize(sql))).toEqual({
        error: `1064 You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '' at line ${sql.split('\n').length}`,
      });
    }
    // A long one: the scanner's own error (the token path would have normalized it for the parser).
    const long = `select id from t where id in (${'1,'.repeat(100_000)}1`;
    expect(outcome(() => normalize(long))).toMatchObject({ error: expect.stringMatching(/^1064 .*near '' at line 1$/) });
    // A list that is closed later, or not a plain list, is not this error.
    expect(scanInList('(1, a', 0)).toBeNull();
  });

  it('fills ? params in text order after the ones before VALUES', () => {
    const n = normalize('insert into t(a, b) /* ? */ values (?, 1), (?, 2) on duplicate key update b = ?', [10n, 20n, 30n]);
    expect(n.bindVars[ROWS_BIND]).toEqual([[10n, 1n], [20n, 2n]]);
    expect(n.bindVars.v1).toBe(30n);
    expectSamePaths('insert into t(a, b) values (?, 1), (?, 2) on duplicate key update b = ?', [10n, 20n, 30n]);
  });
});
