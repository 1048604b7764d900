import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { countPlaceholders, MARIADB_PARSER_STACK, MAX_PARENTHESIS_DEPTH, normalize, ROWS_BIND } from '../src/normalizer.js';
import { ExactNumber, type SqlValue } from '../src/plan-types.js';
import { encodeSqlValue, renderQuery, templateFromSql } from '../src/query-template.js';
import { decodeString, tokenize } from '../src/lexer.js';

const norm = (sql: string, params?: SqlValue[]) => normalize(sql, params);

describe('normalize', () => {
  it("keeps a type's arguments in INSERT rows, as in other clauses (they were row values: 1064)", () => {
    const n = norm("insert into t (id, v) values (1, cast(5 as decimal(4, 1))), (2, convert('a', char(3)))");
    expect(n.normalized).toBe('insert into t (id, v) values (:__r0, cast(:__r1 as decimal(4, 1))), (:__r0, convert(:__r1, char(3)))');
    expect(n.bindVars[ROWS_BIND]).toEqual([[1n, 5n], [2n, 'a']]);
  });

  it('turns literals into bind vars and reuses one bind var for identical literals', () => {
    const n = norm("select * from t where a = 5 and b = 'x' and c = 5 and d = '5'");
    expect(n.normalized).toBe('select * from t where a = :v1 and b = :v2 and c = :v1 and d = :v3');
    expect(n.bindVars).toEqual({ v1: 5n, v2: 'x', v3: '5' });
  });

  it('keeps the literals whose value changes the plan', () => {
    const n = norm("select a from t where x = 1 group by 2 order by 1 desc, a limit 10, 5");
    expect(n.normalized).toBe('select a from t where x = :v1 group by 2 order by 1 desc, a limit 10, 5');
    expect(norm('select a from t limit 3 offset 7').normalized).toBe('select a from t limit 3 offset 7');
    expect(norm('select 1 = 0, 5+5 from t where 1 in (2, 3)').normalized).toBe('select 1 = 0, 5+5 from t where 1 in (2, 3)');
    // A list element after a nested parenthesis still belongs to the literal's list (the nested one is its own frame).
    expect(norm('select a from t where 1 in (2, (3), 4) and x in (5, 6)').normalized).toBe('select a from t where 1 in (2, (:v1), 4) and x in ::v2');
    expect(norm("select cast(a as char(10)), date_add(d, interval 5 day), c->'$.x' as 'al' from t").normalized).toBe(
      "select cast(a as char(10)), date_add(d, interval 5 day), c->'$.x' as 'al' from t",
    );
    expect(norm("select * from t where a = _utf8mb4'x' and b = N'y' and c like 'a!%' escape '!'").normalized).toBe(
      "select * from t where a = _utf8mb4'x' and b = N'y' and c like :v1 escape '!'",
    );
    expect(norm('select * from t where a = null and b = true').normalized).toBe('select * from t where a = null and b = true');
  });

  it('aliases a select-list item the shard would name otherwise with its own text, and no other', () => {
    // A `?`, a literal the gateway writes otherwise, a folded sign, odd blanks or a comment.
    expect(norm('select ?, concat(?, c) from t', [1, 'x']).normalized).toBe('select :v1 as `?`, concat(:v2, c) as `concat(?, c)` from t');
    expect(norm("select x'41', - 1, 007 + 1, 'it''s' || c from t").normalized).toBe("select :v1 as `x'41'`, :v2 as `- 1`, 007 + 1 as `007 + 1`, :v3 || c as `'it''s' || c` from t");
    expect(norm('select 1  +  c, c\t* 2, c /* x */ + 1, concat(c , d), f(c)\n from t').normalized).toBe('select :v1 + c as `1  +  c`, c * :v2 as `c\t* 2`, c + :v1 as `c /* x */ + 1`, concat(c , d) as `concat(c , d)`, f(c) from t');
    // Spelled as the shard gets it: no alias, so literals still share one plan.
    expect(norm("select c + 1, count(1), concat('a', c), -1, X'41', 'a''b', N'x', * from t").normalized).toBe('select c + :v1, count(:v1), concat(:v2, c), :v3, :v4, :v5, N\'x\', * from t');
    expect(norm('select c + 2 from t').normalized).toBe(norm('select c + 3 from t').normalized);
    // An alias already there, one that may be there (`c  +  1 x`), and a lone string: none added.
    expect(norm("select c  +  1 as a, c  +  1 x, 'a''b' from t").normalized).toBe("select c + :v1 as a, c + :v1 x, :v2 from t");
    // A session value the planner writes in, inside an expression.
    expect(norm('select upper(database()), c from t').normalized).toBe('select upper(database()) as `upper(database())`, c from t');
    // Only the first SELECT's list names the columns.
    expect(norm('select 1  +  c from t union select 2  +  c from u').normalized).toBe('select :v1 + c as `1  +  c` from t union select :v2 + c from u');
  });

  it('collapses IN lists of two or more literals into one list bind var', () => {
    const n = norm('select * from t where id in (1, -2, 3) and x in (4) and y in (5, null)');
    expect(n.normalized).toBe('select * from t where id in ::v1 and x in (:v2) and y in (:v3, null)');
    expect(n.bindVars).toEqual({ v1: [1n, -2n, 3n], v2: 4n, v3: 5n });
  });

  it('fills ? placeholders from params, each with its own bind var; LIMIT ? is inlined', () => {
    const n = norm('select * from t where a = ? and b = ? and c in (?, ?) limit ?', [1n, 1n, 'p', 'q', 20n]);
    expect(n.normalized).toBe('select * from t where a = :v1 and b = :v2 and c in ::v3 limit 20');
    expect(n.bindVars).toEqual({ v1: 1n, v2: 1n, v3: ['p', 'q'] });
    expect(n.placeholders).toBe(5);
    expect(countPlaceholders("select '?', ? from t where a = ?")).toBe(2);
    expect(() => norm('select ? from t', [])).toThrowError(expect.objectContaining({ errno: 1210 }));
  });

  it('collapses multi-row VALUES of one shape into one row template (one plan for every row count)', () => {
    const one = norm("insert into t(a, b) values (1, 'x')");
    const five = norm("insert into t(a, b) values (1, 'x'), (2, 'y'), (3, 'z'), (-4, null), (5, 'w')");
    expect(one.normalized).toBe('insert into t(a, b) values (:__r0, :__r1)');
    expect(five.normalized).toBe(one.normalized);
    expect(five.bindVars[ROWS_BIND]).toEqual([[1n, 'x'], [2n, 'y'], [3n, 'z'], [-4n, null], [5n, 'w']]);
    const mixed = norm("insert into t(a, b) values (1, now()), (2, 'y') on duplicate key update b = 'z'");
    expect(mixed.normalized).toBe("insert into t(a, b) values (:__r0, now()), (:__r0, :__r1) on duplicate key update b = :v1");
    expect(mixed.bindVars).toEqual({ [ROWS_BIND]: [[1n], [2n, 'y']], v1: 'z' });
  });

  it('leaves SET, SHOW, USE and DDL text alone, and extracts vt+ directives', () => {
    expect(norm("SET @@session.sql_mode = 'ANSI'").normalized).toBe("SET @@session.sql_mode = 'ANSI'");
    expect(norm("create table t (a varchar(10) default 'x')").normalized).toBe("create table t (a varchar(10) default 'x')");
    const d = norm('select /*vt+ QUERY_TIMEOUT_MS=250 SCATTER_ERRORS_AS_WARNINGS */ 1 from t');
    expect(d.directives).toEqual({ queryTimeoutMs: 250, scatterErrorsAsWarnings: true });
    expect(d.directivesKey).not.toBe('');
    expect(d.normalized).toBe('select :v1 from t');
  });

  it('refuses several statements and empty queries', () => {
    expect(() => norm('select 1; select 2')).toThrowError(expect.objectContaining({ errno: 1235 }));
    expect(norm('select 1;').normalized).toBe('select :v1');
    expect(() => norm('  ')).toThrowError(expect.objectContaining({ errno: 1065 }));
  });
});

/** A literal generator: values and the SQL text that writes them. */
const literal = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map((v) => ({ text: v.toString(), value: v as SqlValue })),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => ({ text: encodeSqlValue(s), value: s as SqlValue })),
  fc.string({ maxLength: 20 }).map((s) => ({ text: "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'", value: s as SqlValue })),
  fc.uint8Array({ maxLength: 8 }).map((b) => ({ text: encodeSqlValue(b), value: b as SqlValue })),
  fc.tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: 999 })).map(([a, b]) => ({ text: `${a}.${b}`, value: new ExactNumber(`${a}.${b}`) as SqlValue })),
);

/** Token values of a query, with literals decoded, for equivalence checks. */
function tokenValues(sql: string): unknown[] {
  return tokenize(sql).map((t) => {
    if (t.kind === 'string') return ['s', decodeString(t.text)];
    if (t.kind === 'number') return ['n', /^-?\d+$/.test(t.text) ? BigInt(t.text) : t.text];
    if (t.kind === 'hex') return ['h', t.text.startsWith('0x') ? t.text.slice(2).toUpperCase() : t.text.slice(2, -1).toUpperCase()];
    return [t.kind, t.text.toLowerCase()];
  });
}

describe('normalize → render round trip (property)', () => {
  it('reproduces an equivalent query from the extracted bind vars', () => {
    fc.assert(
      fc.property(fc.array(literal, { minLength: 1, maxLength: 6 }), fc.array(literal, { minLength: 2, maxLength: 4 }), (lits, inList) => {
        const where = lits.map((l, i) => `c${i} = ${l.text}`).join(' and ');
        const sql = `select a, b from t where ${where} and k in (${inList.map((l) => l.text).join(', ')}) order by 1 limit 5`;
        const n = normalize(sql);
        const rendered = renderQuery(templateFromSql(n.normalized), n.bindVars);
        expect(tokenValues(rendered)).toEqual(tokenValues(sql.replace(/(\d+)\.(\d+)/g, '$1.$2')).map((x) => x));
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips hostile strings exactly through a bind var', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const n = normalize(`select * from t where a = ${encodeSqlValue(s)}`);
        expect(n.bindVars.v1).toBe(s);
        const rendered = renderQuery(templateFromSql(n.normalized), n.bindVars);
        expect(normalize(rendered).bindVars.v1).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it('collapses any number of insert rows into the same normalized text', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(literal, literal), { minLength: 1, maxLength: 20 }), (rows) => {
        const n = normalize(`insert into t(a, b) values ${rows.map(([x, y]) => `(${x.text}, ${y.text})`).join(', ')}`);
        expect(n.normalized).toBe('insert into t(a, b) values (:__r0, :__r1)');
        expect((n.bindVars[ROWS_BIND] as SqlValue[][]).length).toBe(rows.length);
      }),
      { numRuns: 100 },
    );
  });
});

describe('unpaired parentheses', () => {
  const errorOf = (sql: string): unknown => {
    try {
      normalize(sql);
      return null;
    } catch (e) {
      const err = e as { errno: number; sqlState: string; message: string };
      return { errno: err.errno, sqlState: err.sqlState, near: /near '(.*)' at line/.exec(err.message)?.[1] ?? err.message };
    }
  };

  it('refuses them as MariaDB does, before any parse: 1064 near the first unpaired `)`, or near the end', () => {
    expect(errorOf(`select ${'('.repeat(20_000)}1`)).toEqual({ errno: 1064, sqlState: '42000', near: '' });
    expect(errorOf('select (1)) + 2')).toEqual({ errno: 1064, sqlState: '42000', near: ') + 2' });
    expect(errorOf("select id from t where id in (1, 2) and name = ')' and (x")).toEqual({ errno: 1064, sqlState: '42000', near: '' });
    expect(errorOf(`insert into t values (1, 'a'), (2, (3`)).toEqual({ errno: 1064, sqlState: '42000', near: '' });
  });

  it('refuses balanced parentheses nested past MAX_PARENTHESIS_DEPTH with 1064, not counting those around a literal', () => {
    // node-sql-parser takes time growing with the cube of the depth to reject these.
    const deep = (d: number, inner: string): string => `select ${'('.repeat(d)}${inner}${')'.repeat(d)}`;
    const tooDeep = { errno: 1064, sqlState: '42000', near: '('.repeat(80) };
    expect(errorOf(deep(2000, '1 +'))).toEqual(tooDeep);
    expect(errorOf(deep(MAX_PARENTHESIS_DEPTH + 1, 'id'))).toEqual(tooDeep);
    expect(errorOf(`select 1 + ${deep(MAX_PARENTHESIS_DEPTH + 1, '(1 + 2)').slice(7)}`)).toEqual(tooDeep);
    expect(errorOf(`select id from t where ${'lower('.repeat(1000)}name${')'.repeat(1000)} = 'a'`)).toMatchObject({ errno: 1064, near: `(${'lower('.repeat(13)}l` });
    expect(() => normalize(deep(2000, '1 +'))).toThrow(/^Parentheses nested more than 600 deep \(shardgate's limit\) near '\(\(\(/);
    // Up to the limit they reach the parser, as before; so do any number around a literal alone.
    expect(errorOf(deep(MAX_PARENTHESIS_DEPTH, 'id'))).toBeNull();
    expect(errorOf(`select ${'1 + ('.repeat(MAX_PARENTHESIS_DEPTH)}1${')'.repeat(MAX_PARENTHESIS_DEPTH)}`)).toBeNull();
    expect(errorOf(`select id from t where id = ${deep(10_000, '3').slice(7)} and name = ${deep(5000, "'x'").slice(7)}`)).toBeNull();
    expect(errorOf(`select ${deep(MAX_PARENTHESIS_DEPTH, deep(5000, '3').slice(7) + ' + 1').slice(7)}`)).toBeNull();
    expect(errorOf(`select ${deep(MAX_PARENTHESIS_DEPTH + 1, deep(5000, '3').slice(7) + ' + 1').slice(7)}`)).toEqual(tooDeep);
    // An unpaired one anywhere still answers MariaDB's 1064 near it (or near '' for one unclosed).
    expect(errorOf(`select ${'('.repeat(20_000)}1`)).toEqual({ errno: 1064, sqlState: '42000', near: '' });
  });

  it('answers 1064 "memory exhausted" where MariaDB’s parser stack runs out, before the parser spends seconds on it', () => {
    const exhausted = (near: string) => ({ errno: 1064, sqlState: '42000', near });
    // Parentheses around a literal, and runs of prefix operators, however they mix.
    expect(errorOf(`select ${'('.repeat(MARIADB_PARSER_STACK + 1)}1${')'.repeat(MARIADB_PARSER_STACK + 1)}`)).toEqual(exhausted(`(1${')'.repeat(78)}`));
    expect(errorOf(`select ${'-'.repeat(200_000)}1`)).toEqual(exhausted('-'.repeat(80)));
    expect(errorOf(`select ${'!'.repeat(MARIADB_PARSER_STACK + 1)}1`)).toEqual(exhausted('!1'));
    expect(errorOf(`select id from t where ${'not '.repeat(MARIADB_PARSER_STACK + 1)}id`)).toEqual(exhausted('not id'));
    expect(errorOf(`select ${'-('.repeat(20_000)}1${')'.repeat(20_000)}`)).toMatchObject({ errno: 1064 });
    expect(() => normalize(`select ${'~'.repeat(50_000)}1`)).toThrow(/^memory exhausted near '~~~/);
    // Unclosed past the stack, MariaDB runs out of it before it finds them unclosed.
    expect(errorOf(`select ${'('.repeat(100_000)}1`)).toEqual(exhausted('('.repeat(80)));
    // MariaDB parses 30,000 of them: the parser gets them, as before.
    expect(errorOf(`select ${'('.repeat(30_000)}1${')'.repeat(30_000)}`)).toBeNull();
    expect(errorOf(`select ${'- '.repeat(30_000)}1, 1 ${'- 1 '.repeat(40_000)}`)).toBeNull();
    expect(errorOf(`select ${'not '.repeat(30_000)}1`)).toBeNull();
  });

  it('answers 1473 when the (SELECT nesting passed MariaDB’s limit of 64 before the fault', () => {
    expect(errorOf(`select ${'(select '.repeat(64)}1`)).toEqual({ errno: 1473, sqlState: 'HY000', near: 'Too high level of nesting for select' });
    expect(errorOf(`select ${'(select '.repeat(63)}1`)).toMatchObject({ errno: 1064 });
    expect(errorOf(`select ${'(select '.repeat(70)}1${')'.repeat(71)}`)).toMatchObject({ errno: 1473 });
  });

  it('leaves paired ones, and parentheses in strings, identifiers and comments, to the parser', () => {
    expect(errorOf("select '(', `a(`, \"(\" /* ( */ from t where (id = 1) -- (\n")).toBeNull();
    // An executable comment's parentheses are SQL the tokens do not show.
    expect(errorOf('select /*!50000 ( */ 1 )')).not.toMatchObject({ near: ')' });
  });
});

describe('placeholders in a text query', () => {
  it('are a syntax error near the `?` (1064, as MariaDB), not a missing parameter (1210)', () => {
    for (const [sql, near] of [
      ['select ?', '?'],
      ['select * from t where id = ?', '?'],
      ['select * from t where id in (1, ?, 3)', '?, 3)'],
      ["insert into t values (1, 'a'), (?, 'b')", "?, 'b')"],
    ] as const) {
      expect(() => normalize(sql), sql).toThrowError(expect.objectContaining({ errno: 1064, sqlState: '42000', message: expect.stringContaining(`near '${near}' at line 1`) }));
      expect(normalize(sql, [1]).placeholders, sql).toBe(1);
    }
    expect(normalize("select '?'").placeholders).toBe(0);
  });
});
