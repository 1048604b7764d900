/**
 * User variables are the session's: `@x` reads become bind vars holding the session's value, the
 * cache key does not depend on it, and statements that would assign one on a shard are refused.
 * Bit literals stay in the text outside INSERT rows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Planner } from '../src/planner.js';
import { normalize, normalizeByTokens, userVariableName, ROWS_BIND } from '../src/normalizer.js';
import { renderQuery } from '../src/query-template.js';
import type { BindVars, RoutePrimitive, SessionPrimitive, SqlValue } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

const planners: Planner[] = [];
afterEach(() => {
  for (const p of planners.splice(0)) p.dispose();
});
function planner(): Planner {
  const p = new Planner({ vschema: demoVSchema() });
  planners.push(p);
  return p;
}
const vars = (entries: Record<string, SqlValue>) => new Map(Object.entries(entries));
const shardSql = (r: RoutePrimitive, bv: BindVars) => renderQuery(r.query, { __vtdbname: 'commerce', __lastInsertId: 0n, ...bv });

function refusal(f: () => unknown): { errno?: number; sqlState?: string; message?: string } {
  try {
    f();
  } catch (e) {
    return e as { errno?: number; sqlState?: string; message?: string };
  }
  throw new Error('expected a refusal');
}

describe('user variable reads', () => {
  it('become one bind var per variable, holding the session value (NULL when unset)', () => {
    const n = normalize('select * from t where a = @x and b = @X+1 or c = @y', undefined, vars({ x: 5n }));
    expect(n.normalized).toBe('select * from t where a = :v1 and b = :v1+:v2 or c = :v3');
    expect(n.bindVars).toEqual({ v1: 5n, v2: 1n, v3: null });
  });

  it('name the columns of the select list as MariaDB does (by the text, not the value)', () => {
    const n = normalize('select distinct @x, @X+1, `@x`, concat(@y, 1) from t', undefined, vars({ x: 5n }));
    expect(n.normalized).toBe(
      'select distinct coalesce(:v1, -9223372036854775808) as `@x`, coalesce(:v1, -9223372036854775808)+:v2 as `@X+1`, `@x`, concat(:v3, :v2) as `concat(@y, 1)` from t',
    );
    expect(n.bindVars).toEqual({ v1: 5n, v2: 1n, v3: null });
    // Items that have (or may have) an alias keep it; nested selects and other clauses get none.
    expect(normalize("select @x as a, @x b, @x 'c', @x is null, (select @x) from t where (select @x) = 1").normalized).toBe(
      'select :v1 as a, :v1 b, :v1 :v2, :v1 is null as `@x is null`, (select :v1) as `(select @x)` from t where (select :v1) = :v3',
    );
    // A word or string that ends an operand is no alias.
    expect(normalize("select @s like 'h%', case when @x > 1 then 'a' end, @x is not true from t").normalized).toBe(
      "select :v1 like :v2 as `@s like 'h%'`, case when :v3 > :v4 then :v5 end as `case when @x > 1 then 'a' end`, :v3 is not true as `@x is not true` from t",
    );
    expect(normalize('(select @x) union select @y').normalized).toBe('(select :v1 as `@x`) union select :v2');
    expect(normalize('select @`a``b`').normalized).toBe('select :v1 as `@``a````b```');
  });

  it('keep an integer variable BIGINT in the select list, as MariaDB types it, and route on it elsewhere', () => {
    // A literal 5 is an INT column; MariaDB's `select @a` (and `@a + 1`) is a BIGINT.
    const n = normalize('select @a, @s, @u from t where id = @a', undefined, vars({ a: 5n, s: 'x', u: 2n ** 64n - 1n }));
    expect(n.normalized).toBe('select coalesce(:v1, -9223372036854775808) as `@a`, :v2 as `@s`, :v3 as `@u` from t where id = :v1');
    expect(n.bindVars).toEqual({ v1: 5n, v2: 'x', v3: 2n ** 64n - 1n });
  });

  it('name quoted variables case-insensitively', () => {
    expect(userVariableName("@'A b'")).toBe('a b');
    expect(userVariableName('@`Q``t`')).toBe('q`t');
    expect(userVariableName('@"d"')).toBe('d');
    expect(userVariableName('@Ab.c$')).toBe('ab.c$');
    const n = normalize("select @'A b', @`a b`, @\"a b\"", undefined, vars({ 'a b': 'v' }));
    expect(n.normalized).toBe("select :v1 as `@'A b'`, :v1 as `@``a b```, :v1 as `@\"a b\"`");
    expect(n.bindVars).toEqual({ v1: 'v' });
  });

  it('keep the normalized text, and so the cache key, independent of the values', () => {
    const a = normalize('select * from customer where id = @x', undefined, vars({ x: 1n }));
    const b = normalize('select * from customer where id = @x', undefined, vars({ x: 'other' }));
    expect(a.normalized).toBe(b.normalized);
    expect([a.bindVars.v1, b.bindVars.v1]).toEqual([1n, 'other']);
  });

  it('fill INSERT rows, IN lists and UPDATE assignments', () => {
    const uv = vars({ x: 5n, n: 'N' });
    const ins = normalize("insert into t (a, b) values (@x, 'a'), (2, @n)", undefined, uv);
    expect(ins.normalized).toBe('insert into t (a, b) values (:__r0, :__r1)');
    expect(ins.bindVars[ROWS_BIND]).toEqual([[5n, 'a'], [2n, 'N']]);
    expect(normalize('select a from t where b in (@x, 2)', undefined, uv).normalized).toBe('select a from t where b in (:v1, :v2)');
    const upd = normalize('update t set name = @n where id = @x', undefined, uv);
    expect(upd.normalized).toBe('update t set name = :v1 where id = :v2');
    expect(upd.bindVars).toEqual({ v1: 'N', v2: 5n });
  });

  it('agree between the text scans and the token path', () => {
    for (const sql of ['insert into t values (1, @x), (2, @x)', 'select * from t where a in (@x, 1) and b in (1, 2)', "insert into t values (@x), (b'1')"]) {
      expect(normalize(sql, undefined, vars({ x: 3n }))).toEqual(normalizeByTokens(sql, undefined, vars({ x: 3n })));
    }
  });

  it('route with the value: id = @x is a single-shard route to the value', async () => {
    const p = planner();
    const a = await p.plan('select * from customer where id = @x', { userVariables: vars({ x: 5n }) });
    const b = await p.plan('select * from customer where id = @x', { userVariables: vars({ x: 6n }) });
    expect(a.plan).toBe(b.plan); // one plan for both sessions
    expect(p.buildCount).toBe(1);
    const r = a.plan.instructions as RoutePrimitive;
    expect(r.variant).toBe('EqualUnique');
    expect(r.values).toEqual([{ kind: 'bind', name: 'v1' }]);
    expect(shardSql(r, a.bindVars)).toBe('select * from customer where id = 5');
    expect(shardSql(r, b.bindVars)).toBe('select * from customer where id = 6');
    const unset = await p.plan('select * from customer where id = @x', {});
    expect(shardSql(unset.plan.instructions as RoutePrimitive, unset.bindVars)).toBe('select * from customer where id = NULL');
  });
});

describe('user variable assignments', () => {
  it('refuses statements that would assign a user variable on a shard connection', () => {
    for (const [sql, construct] of [
      ['select @x := 1', '@x (:=)'],
      ['select id, @n := @n + 1 from customer', '@n (:=)'],
      ['update customer set name = (@x := name) where id = 1', '@x (:=)'],
      // Inside a subquery an INTO is the subquery's, never the session's.
      ['select id from customer where id in (select id from customer into @x)', 'INTO @x'],
      ['select 1 /*!, @x := 5 */', '@x (:=)'],
      ['select 1 /*!50000 into @x */', 'INTO @x'],
      ['show variables where (@x := 1) is not null', '@x (:=)'],
      ['create table t2 as select @x := 1', '@x (:=)'],
      ['explain select @x := 1', '@x (:=)'],
      ['set @y = (@x := 1)', '@x (:=)'],
    ]) {
      const e = refusal(() => normalize(sql!, undefined, vars({})));
      expect(e, sql).toMatchObject({ errno: 1235, sqlState: '42000' });
      expect(e.message, sql).toContain(construct);
    }
  });

  it('SET keeps its targets and inlines the values it reads', () => {
    const uv = vars({ x: 5n, s: "it's", b: new Uint8Array([0xa5]), z: null });
    expect(normalize("set @x = 1, @Y = 'a'", undefined, uv).normalized).toBe("set @x = 1, @Y = 'a'");
    expect(normalize('set @y = @X, session sql_mode = @s, @w := @b, @v = @z', undefined, uv).normalized).toBe(
      "set @y = 5, session sql_mode = 'it\\'s', @w := X'A5', @v = NULL",
    );
    expect(refusal(() => normalize('set @x = 1, @y = @x', undefined, uv))).toMatchObject({ errno: 1235, message: expect.stringContaining('after assigning it') });
  });

  it('plans SET @x = @y as a session assignment of the value', async () => {
    const { plan } = await planner().plan('set @y = @x', { userVariables: vars({ x: 7n }) });
    expect((plan.instructions as SessionPrimitive).statement).toEqual({ kind: 'set', assignments: [{ scope: 'user', name: 'y', value: { kind: 'literal', value: 7n } }] });
    // Any other expression is run as `SELECT expr` by the session (see session-scripts.int.test.ts).
    const sub = await planner().plan('set @y = (select 1)');
    expect((sub.plan.instructions as SessionPrimitive).statement).toEqual({ kind: 'set', assignments: [{ scope: 'user', name: 'y', value: { kind: 'query', sql: 'SELECT (select 1)' } }] });
  });

  it('plans SET @n = @n + 1 with the old value (a counter), and folds constant arithmetic', async () => {
    const { plan } = await planner().plan('set @n = @n + 1, @m = 2 * (3 - 1)', { userVariables: vars({ n: 41n }) });
    expect((plan.instructions as SessionPrimitive).statement).toEqual({
      kind: 'set',
      assignments: [
        { scope: 'user', name: 'n', value: { kind: 'literal', value: 42n } },
        { scope: 'user', name: 'm', value: { kind: 'literal', value: 4n } },
      ],
    });
    // A later assignment reading an earlier one of the same SET would need MariaDB's left-to-right order.
    expect(refusal(() => normalize('set @a = 1, @b = @a + 1', undefined, vars({})))).toMatchObject({ errno: 1235, message: expect.stringContaining('after assigning it') });
    const now = await planner().plan('set @d = now()');
    expect((now.plan.instructions as SessionPrimitive).statement).toMatchObject({ assignments: [{ value: { kind: 'query', sql: 'SELECT now()' } }] });
    // A session variable from an expression takes its SELECT's value too (MariaDB Connector/J's
    // `sql_mode = concat(@@sql_mode, …)` at connect); a global one is still refused.
    const mode = await planner().plan("set sql_mode = concat(@@sql_mode, ',STRICT_TRANS_TABLES')");
    expect((mode.plan.instructions as SessionPrimitive).statement).toMatchObject({ assignments: [{ scope: 'session', name: 'sql_mode', value: { kind: 'query', sql: "SELECT concat(@@sql_mode, ',STRICT_TRANS_TABLES')" } }] });
    await expect(Promise.resolve().then(() => planner().plan('set global sql_mode = concat(@@sql_mode, 1)'))).rejects.toMatchObject({ errno: 1235 });
  });
});

describe('bit literals', () => {
  it('stay in the text outside INSERT rows, and stay bound inside them', () => {
    expect(normalize("select id from types_t where bt = b'10100101' or bt = 0b1 or bt = B'0'").normalized).toBe(
      "select id from types_t where bt = b'10100101' or bt = 0b1 or bt = B'0'",
    );
    const list = normalize("select id from t where bt in (b'1', b'10') and id in (1, 2)");
    expect(list.normalized).toBe("select id from t where bt in (b'1', b'10') and id in ::v1");
    const ins = normalize("insert into t (id, bt) values (1, b'10100101'), (2, 0b1)");
    expect(ins.normalized).toBe('insert into t (id, bt) values (:__r0, :__r1)');
    expect(ins.bindVars[ROWS_BIND]).toEqual([[1n, new Uint8Array([0xa5])], [2n, new Uint8Array([1])]]);
  });
});
