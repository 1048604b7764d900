/**
 * A statement's text as MariaDB reads it, through a 2-shard gateway and on one plain MariaDB:
 * - CLIENT_IGNORE_SPACE, which mysql2 sets by default: MariaDB then reads `count (*)` as
 *   `count(*)`; a client without it gets 1064 there (with mysql2's default flags and with the
 *   flag taken off);
 * - `BINARY x` over a qualified column, a call or parentheses, and `SUBSTRING(s FROM p FOR n)`,
 *   which the gateway's SQL parser lacked (1064 even on one shard);
 * - index hints, HIGH_PRIORITY / STRAIGHT_JOIN / DISTINCTROW / ALL, VARIANCE() and a lock's WAIT n, which the
 *   parser lacked too (the shards get them as written: a hint naming no index fails there, 1176);
 * - `INSERT … SET a = 1, b = 2` (and REPLACE), planned as `INSERT … (a, b) VALUES (1, 2)`: it was
 *   refused with 1235;
 * - a NUL byte: the last byte of the text ends it (`select 1\0` is `select 1`, as C clients that
 *   send the terminator have it), also before trailing blanks and `;` (MariaDB drops those before
 *   reading); anywhere else outside a string or a C-style comment it is a syntax error, also in a
 *   `-- ` or `#` comment, which it ends.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKeyspace, type RunningGateway } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SCHEMA = 'create table t (id bigint primary key, k int, c varchar(20))';
const ROWS = `insert into t (id, k, c) values ${Array.from({ length: 12 }, (_, i) => `(${i + 1}, ${(i * 7) % 5}, 'row${i + 1}')`).join(', ')}`;
const QUERIES = [
  'select count (*) as n, sum (k) as s, max  (k) as m, min(k) as mi from t',
  'select k, count (*) as n from t group by k order by k',
  "select id, substring (c, 2) as s, trim ( c) as t from t where id < 4 order by id",
  'select count (distinct k) as n from t where id in (1, 2, 3)',
];

let pair: GatewayAndReference;
let gw: RunningGateway;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { ks: hashKeyspace({ t: 'id' }) } }, keyspaces: { ks: { shards: ['-80', '80-'], schema: SCHEMA } } }, 'ks', SCHEMA);
  gw = pair.gw;
  await pair.loadBoth([ROWS]);
});

afterAll(() => pair?.stop());

async function answer(c: mysql.Connection, sql: string, prepared = false): Promise<unknown> {
  try {
    return (prepared ? await c.execute(sql) : await c.query(sql))[0];
  } catch (err) {
    return { errno: (err as { errno: number }).errno };
  }
}

/** Through the gateway, the statement answers as on one MariaDB, text and prepared. */
async function sameAnswers(sql: string): Promise<void> {
  expect(await answer(pair.sub, sql)).toEqual(await answer(pair.ref, sql));
  expect(await answer(pair.sub, sql, true)).toEqual(await answer(pair.ref, sql, true));
}

describe('blanks before a function call, as MariaDB reads them for the client', () => {
  it.each(QUERIES)('with IGNORE_SPACE (mysql2 default): %s', async (sql) => {
    const want = await answer(pair.ref, sql);
    expect(want).not.toHaveProperty('errno');
    expect(await answer(pair.sub, sql)).toEqual(want);
    expect(await answer(pair.sub, sql, true)).toEqual(await answer(pair.ref, sql, true));
  });

  it('without IGNORE_SPACE: 1064 on both', async () => {
    const flags = ['-IGNORE_SPACE'];
    const sub = await gw.connect({ database: 'ks', flags, supportBigNumbers: true, bigNumberStrings: true });
    // The harness's connect decodes big numbers as strings.
    const ref = await mysql.createConnection({ ...pair.reference.shard('reference').connectionOptions(), flags, supportBigNumbers: true, bigNumberStrings: true });
    try {
      for (const sql of QUERIES.slice(0, 2)) {
        expect(await answer(ref, sql)).toEqual({ errno: 1064 });
        expect(await answer(sub, sql)).toEqual({ errno: 1064 });
      }
      expect(await answer(sub, 'select count(*) as n from t')).toEqual(await answer(ref, 'select count(*) as n from t'));
    } finally {
      await sub.end();
      await ref.end();
    }
  });
});

describe('a NUL byte in the statement text', () => {
  it.each([
    ['select 1\0', 'ends the text'],
    ["select id, c from t where id in (2, 3) order by id\0", 'ends the text'],
    ["select 'x' \0", 'ends the text'],
    ['select count(*) as n from t\0', 'ends the text'],
    ['select "a\0b" as s', 'is a character in a string'],
    ['select 1\0\0', 'is a syntax error before the last byte'],
    ['select 1\0 + 2', 'is a syntax error before the last byte'],
    ['select 1 \0 ', 'ends the text before trailing blanks (MariaDB drops them first)'],
    ['select id from t where id = 2\0 ;', 'ends the text before a trailing `;`'],
    ['select 1\0\t\n', 'ends the text before trailing blanks (MariaDB drops them first)'],
    ['select 1 -- \0 x', 'ends a `-- ` comment, and is then a syntax error before the last byte'],
    ['select 1 # \0 x', 'ends a `#` comment, and is then a syntax error before the last byte'],
    ['select 1 # x\0', 'ends the text in a `#` comment'],
    ['select 1 /* \0 */ + 1 as n', 'is a character in a C-style comment'],
  ])('%j: it %s', async (sql) => {
    await sameAnswers(sql);
  });
});

describe('BINARY and SUBSTRING … FROM … FOR', () => {
  it.each([
    "select t.id, binary t.c = 'ROW3' as b from t where t.id in (1, 3) order by t.id",
    "select id from t where binary t.c = 'row3'",
    "select id from t where binary upper(c) = 'ROW3' or binary (c) = 'Row4'",
    'select binary t.c from t where id = 2',
    'select substring(c from 2) from t order by id',
    'select id, substring(c from 2 for 2) as s, substr(c from 3) from t where id = 5',
    'select substring(c from -2 for 1) as s, count(*) as n from t group by substring(c from -2 for 1) order by s',
  ])('%s', async (sql) => {
    expect(await answer(pair.ref, sql)).not.toHaveProperty('errno');
    await sameAnswers(sql);
  });
});

describe('index hints, select options and VARIANCE()', () => {
  it.each([
    'select id from t force index (primary) where id in (1, 2, 7) order by id',
    'select id, c from t as x use index for order by (primary) where k > 1 order by id',
    'select id from t ignore key for join (primary) use index () where id < 4 order by id',
    'select id from t ignore index (no_such_index) where id = 1',
    'select high_priority straight_join distinctrow k from t order by k',
    'select all k, count(*) as n from t group by k order by k',
    'select variance(id) as v, var_pop(k) as p from t where id = 3',
    'select id from t where id = 3 for update wait 1',
    'select id from t where id in (1, 2) order by id lock in share mode wait 0',
  ])('%s', async (sql) => {
    await sameAnswers(sql);
  });
});

describe('INSERT … SET', () => {
  /** affectedRows and warnings of a write, or its errno. */
  async function wrote(c: mysql.Connection, sql: string, params?: unknown[]): Promise<unknown> {
    try {
      const [r] = params ? await c.execute(sql, params as never) : await c.query(sql);
      const h = r as mysql.ResultSetHeader;
      return { affected: h.affectedRows, warnings: h.warningStatus };
    } catch (err) {
      return { errno: (err as { errno: number }).errno };
    }
  }

  it.each([
    ["insert into t set id = 101, k = 5, c = 'set1'"],
    ["insert into t set id = 102, k = 2 * 3, c = concat('x', 'y')"],
    ["insert ignore into t set id = 101, k = 1, c = 'dup'"],
    ["insert into t set id = 101, k = 1, c = 'dup'"],
    ["insert into t set id = 103, k = 7, c = 'z' on duplicate key update k = k + 1"],
    ["insert into t set id = 103, k = 7, c = 'z' on duplicate key update k = k + 1"],
    ['replace into t set id = 102, k = 9, c = \'r\''],
    ["insert into t set id = 104, c = 'a', k = id + 1"],
    ['insert into t set id = ?, k = ?, c = ?', [105, 3, 'prep']],
    ["insert into t set c = 'no id', k = 1"],
  ] as [string, unknown[]?][])('%s %j', async (sql, params) => {
    expect(await wrote(pair.sub, sql, params)).toEqual(await wrote(pair.ref, sql, params));
    expect(await answer(pair.sub, 'select * from t where id > 100 order by id')).toEqual(await answer(pair.ref, 'select * from t where id > 100 order by id'));
  });
});

describe('sql_mode ANSI: double quotes name identifiers, || concatenates, blanks before ( are ignored', () => {
  const QUERIES = [
    'select "id", "c" from "t" where "id" = 3',
    'select t."k" + 1 as "next", \'it\'\'s\' as s, \'"\' as q from t where "id" in (1, 2) order by "id"',
    'select count (*) as n, max ("k") as m from t',
    'select "k", count(*) as "n" from t group by "k" order by "k"',
    'select "c" from t where "c" like \'row1%\' order by "id" limit 2',
    'select "no_such_column" from t',
  ];

  async function ansiPair(run: (sub: mysql.Connection, ref: mysql.Connection) => Promise<void>): Promise<void> {
    const sub = await gw.connect({ database: 'ks', supportBigNumbers: true, bigNumberStrings: true });
    const ref = await mysql.createConnection({ ...pair.reference.shard('reference').connectionOptions(), supportBigNumbers: true, bigNumberStrings: true });
    try {
      await sub.query("set sql_mode = 'ANSI,STRICT_TRANS_TABLES'");
      await ref.query("set sql_mode = 'ANSI,STRICT_TRANS_TABLES'");
      await run(sub, ref);
    } finally {
      await sub.end();
      await ref.end();
    }
  }

  it('answers as one MariaDB in that mode, text and prepared', async () => {
    await ansiPair(async (sub, ref) => {
      for (const sql of QUERIES) {
        expect(await answer(sub, sql), sql).toEqual(await answer(ref, sql));
        expect(await answer(sub, sql, true), sql).toEqual(await answer(ref, sql, true));
      }
      const [p1] = await sub.execute('select "c" from t where "id" = ?', [4]);
      const [p2] = await ref.execute('select "c" from t where "id" = ?', [4]);
      expect(p1).toEqual(p2);
      // SQL-level PREPARE reads its text in the mode of the PREPARE, as EXECUTE IMMEDIATE does.
      for (const c of [sub, ref]) await c.query('prepare s from \'select "c" from t where "id" = ?\'');
      for (const c of [sub, ref]) await c.query('set @i = 2');
      expect(await answer(sub, 'execute s using @i')).toEqual(await answer(ref, 'execute s using @i'));
      expect(await answer(sub, 'execute immediate \'select "k" from t where "id" = 5\'')).toEqual(await answer(ref, 'execute immediate \'select "k" from t where "id" = 5\''));
    });
  });

  it('writes through double-quoted names, and goes back to strings with the default sql_mode', async () => {
    await ansiPair(async (sub, ref) => {
      for (const c of [sub, ref]) await c.query('insert into "t" ("id", "k", "c") values (301, 9, \'ansi\')');
      const sql = 'select "id", "k", "c" from t where "id" = 301';
      expect(await answer(sub, sql)).toEqual(await answer(ref, sql));
      for (const c of [sub, ref]) await c.query('delete from t where "id" = 301');
      for (const c of [sub, ref]) await c.query('set sql_mode = default');
      expect(await answer(sub, 'select "c" as s from t where id = 1')).toEqual(await answer(ref, 'select "c" as s from t where id = 1'));
    });
  });

  it('refuses || under PIPES_AS_CONCAT (1235: the planner would read an OR), where MariaDB concatenates', async () => {
    await ansiPair(async (sub, ref) => {
      expect(await answer(ref, "select 'a' || 'b' as s")).toEqual([{ s: 'ab' }]);
      expect(await answer(sub, "select 'a' || 'b' as s")).toEqual({ errno: 1235 });
      // In a string or a double-quoted name it is no operator.
      expect(await answer(sub, "select '||' as s")).toEqual(await answer(ref, "select '||' as s"));
    });
  });
});

describe('DO', () => {
  /** What a DO answers: an OK's affected rows and warnings, or the errno. */
  async function done(c: mysql.Connection, sql: string, prepared = false): Promise<unknown> {
    try {
      const [r] = prepared ? await c.execute(sql) : await c.query(sql);
      const ok = r as mysql.ResultSetHeader;
      return { isOk: !Array.isArray(r), affectedRows: ok.affectedRows, warnings: ok.warningStatus };
    } catch (err) {
      return { errno: (err as { errno: number }).errno };
    }
  }

  it.each([
    'do 1',
    'do sleep(0), 1 + 1',
    'do (select count(*) from t)',
    'do 1 / 0',
    'DO  id from t',
    'do no_such_function(1)',
  ])('%s: an OK (or the error) as on one MariaDB, text and prepared', async (sql) => {
    const want = await done(pair.ref, sql);
    if ((want as { errno?: number }).errno === 1064) {
      // DO takes expressions only; the gateway refuses what is no DO.
      expect(await done(pair.sub, sql)).toHaveProperty('errno');
      return;
    }
    expect(await done(pair.sub, sql)).toEqual(want);
    expect(await done(pair.sub, sql, true)).toEqual(await done(pair.ref, sql, true));
  });

  it('refuses what the SELECT of its expressions refuses (named locks: 1235)', async () => {
    expect(await done(pair.sub, "do get_lock('sg_do', 0)")).toEqual(await done(pair.sub, "select get_lock('sg_do', 0)"));
    expect(await done(pair.sub, "do get_lock('sg_do', 0)")).toEqual({ errno: 1235 });
  });
});
