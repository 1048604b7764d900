/**
 * WITH (non-recursive CTEs planned as derived tables) and SQL-level PREPARE / EXECUTE /
 * DEALLOCATE plans, compared as data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Planner } from '../src/planner.js';
import { renderQuery } from '../src/query-template.js';
import type { PlannedQuery, RoutePrimitive } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

const planners: Planner[] = [];
afterEach(() => {
  for (const p of planners.splice(0)) p.dispose();
});
function plan(sql: string, keyspace: string | null = 'commerce'): PlannedQuery {
  const p = new Planner({ vschema: demoVSchema() });
  planners.push(p);
  return p.planUncached(sql, { keyspace });
}
function routeSql(pq: PlannedQuery): { variant: string; sql: string } {
  const r = pq.plan.instructions as RoutePrimitive;
  expect(r.operator).toBe('Route');
  return { variant: r.variant, sql: renderQuery(r.query, { __vtdbname: 'commerce', __lastInsertId: 0n, ...pq.bindVars }) };
}

describe('WITH over sharded tables', () => {
  it('inlines each reference as a derived table named after the CTE, and routes by its vindex', () => {
    expect(routeSql(plan('with c as (select id, name from customer where id = 5) select * from c'))).toEqual({
      variant: 'EqualUnique',
      sql: 'select * from (select id, name from customer where id = 5) as `c`',
    });
    // An alias of its own is kept; a later CTE reads an earlier one; a qualified name or a column is not a CTE.
    expect(routeSql(plan('with a as (select id from customer), b as (select id from a where id = 7) select x.id from b as x, b y where x.id = y.id'))).toEqual({
      variant: 'EqualUnique',
      sql: 'select x.id from (select id from (select id from customer) as `a` where id = 7) as x, (select id from (select id from customer) as `a` where id = 7) y where x.id = y.id',
    });
  });

  it('reads a CTE in a subquery of WHERE', () => {
    const p = plan('with paid as (select id from customer where id in (1, 2)) select id from customer where id in (select id from paid)');
    expect(routeSql(p)).toEqual({ variant: 'IN', sql: 'select id from customer where id in (select id from (select id from customer where id in (1, 2)) as `paid`)' });
  });

  it('refuses what it cannot inline exactly, with the reason', () => {
    expect(() => plan('with c (a) as (select id from customer) select a from c')).toThrow(expect.objectContaining({ errno: 1235, message: expect.stringContaining('column list') }));
    expect(() => plan('with recursive r as (select id from customer union all select id + 1 from r where id < 3) select * from r')).toThrow(expect.objectContaining({ errno: 1235, message: expect.stringContaining('recursive WITH') }));
    expect(() => plan('with c as (select 1), c as (select 2) select * from c')).toThrow(expect.objectContaining({ errno: 4004 }));
  });

  it('keeps a recursive WITH whole on an unsharded keyspace', () => {
    const r = plan('with recursive r as (select 1 as n union all select n + 1 from r where n < 3) select n from r, settings', 'main').plan.instructions as RoutePrimitive;
    expect(r.variant).toBe('Unsharded');
  });
});

describe('SQL-level prepared statements', () => {
  it('plans PREPARE, EXECUTE and DEALLOCATE as session statements, naming user variables', () => {
    expect(plan("prepare S1 from 'select * from customer where id = ?'").plan.instructions).toEqual({
      operator: 'Session',
      statement: { kind: 'prepare', name: 's1', text: { kind: 'literal', value: 'select * from customer where id = ?' } },
    });
    expect(plan('execute s1 using @A, 5, -2, null').plan.instructions).toEqual({
      operator: 'Session',
      statement: {
        kind: 'execute',
        name: 's1',
        using: [{ kind: 'userVariable', name: 'a' }, { kind: 'literal', value: 5n }, { kind: 'literal', value: -2n }, { kind: 'literal', value: null }],
      },
    });
    expect(plan('execute immediate @q').plan.instructions).toMatchObject({ statement: { kind: 'execute', text: { kind: 'userVariable', name: 'q' }, using: [] } });
    expect(plan('deallocate prepare s1').plan.instructions).toMatchObject({ statement: { kind: 'deallocate', name: 's1', verb: 'DEALLOCATE' } });
    expect(plan('drop prepare s1').plan.instructions).toMatchObject({ statement: { kind: 'deallocate', name: 's1', verb: 'DROP' } });
  });

  it('answers malformed statements with 1064 and expressions it does not evaluate with 1235', () => {
    for (const sql of ['prepare s1', "prepare s1 from 'x' extra", 'execute s1 using', 'execute s1 using @a,', 'deallocate prepare']) {
      expect(() => plan(sql), sql).toThrow(expect.objectContaining({ errno: 1064 }));
    }
    expect(() => plan('execute s1 using 1 + 1')).toThrow(expect.objectContaining({ errno: 1235 }));
    expect(() => plan("prepare s1 from concat('select ', 1)")).toThrow(expect.objectContaining({ errno: 1235 }));
  });
});
