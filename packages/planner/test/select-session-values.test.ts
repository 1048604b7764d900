/**
 * What a SELECT leaves in the session. SELECT SQL_CALC_FOUND_ROWS … LIMIT: the statement's own
 * plan without the option, plus a plan of its row count without the LIMIT (a count(*) when every
 * row of FROM/WHERE is a row of the result, else the statement without ORDER BY and LIMIT, counted
 * by the gateway). FOUND_ROWS() alone is the session's to answer. A LAST_INSERT_ID(expr) column is
 * marked on the plan where MariaDB's last evaluation is the last row sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Planner } from '../src/planner.js';
import { templateText } from '../src/query-template.js';
import type { CalcFoundRowsPrimitive, Plan, Primitive, RoutePrimitive } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

const planners: Planner[] = [];
afterEach(() => {
  for (const p of planners.splice(0)) p.dispose();
});
async function planOf(sql: string): Promise<Plan> {
  const p = new Planner({ vschema: demoVSchema() });
  planners.push(p);
  return (await p.plan(sql, { keyspace: 'commerce' })).plan;
}
async function plan(sql: string): Promise<Primitive> {
  return (await planOf(sql)).instructions;
}
/** The shard SQL of the first route under a primitive. */
function routeSql(p: Primitive): string {
  if (p.operator === 'Route') return templateText((p as RoutePrimitive).query);
  const child = Object.values(p).find((v) => v && typeof v === 'object' && 'operator' in v) as Primitive | undefined;
  if (!child) throw new Error(`no route under ${p.operator}`);
  return routeSql(child);
}

describe('SQL_CALC_FOUND_ROWS with LIMIT', () => {
  it('counts with count(*) over the same FROM and WHERE when each row is a result row', async () => {
    const top = (await plan('select sql_calc_found_rows id, name from customer where id in (1, 2, 3) order by name limit 2')) as CalcFoundRowsPrimitive;
    expect(top.operator).toBe('SQLCalcFoundRows');
    expect(top.countIsScalar).toBe(true);
    expect(routeSql(top.limitQuery)).not.toMatch(/sql_calc_found_rows/i);
    expect(routeSql(top.limitQuery)).toMatch(/limit/i);
    expect(routeSql(top.countQuery)).toMatch(/^select count\(\*\) from customer where id in ::\w+$/);
  });

  it('counts the rows of the statement without ORDER BY and LIMIT when it groups, aggregates or dedupes', async () => {
    for (const sql of [
      'select sql_calc_found_rows name, count(*) from customer group by name having count(*) > 1 order by name limit 1',
      'select sql_calc_found_rows distinct name from customer order by name limit 3',
      'select sql_calc_found_rows count(*) from customer limit 1',
    ]) {
      const top = (await plan(sql)) as CalcFoundRowsPrimitive;
      expect(top.operator, sql).toBe('SQLCalcFoundRows');
      expect(top.countIsScalar, sql).toBe(false);
      expect(routeSql(top.countQuery), sql).not.toMatch(/\b(limit|sql_calc_found_rows)\b/i);
    }
  });

  it('refuses a UNION, and locking or INTO clauses, whose count would not be the one MariaDB keeps', async () => {
    for (const sql of [
      'select sql_calc_found_rows id from customer union all select id from orders limit 1',
      'select sql_calc_found_rows id from customer where id = 1 limit 1 for update',
      'select sql_calc_found_rows id from customer where id = 1 limit 1 lock in share mode',
    ]) {
      await expect(plan(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
  });

  it('plans SELECT FOUND_ROWS() as the session\'s, and refuses it inside a routed statement', async () => {
    expect(await plan('select found_rows() as total')).toMatchObject({ operator: 'Session', statement: { kind: 'select-system', columns: [{ name: 'total', expr: 'found_rows()' }] } });
    await expect(plan('select id, found_rows() from customer where id = 1')).rejects.toMatchObject({ errno: 1235 });
  });

  it('marks a SELECT that may aggregate without GROUP BY: MariaDB counts its empty input as 0 or 1 row', async () => {
    for (const sql of ['select count(*) from customer where id = 1', 'select max(id) from customer', 'select name from customer having name > 1', 'select name, count(*) from customer group by name union all select 1, count(*) from orders']) {
      expect((await planOf(sql)).foundRowsUncertain, sql).toBe(true);
    }
    for (const sql of ['select id from customer', 'select name, count(*) from customer group by name', 'select id, (select max(id) from orders) from customer group by id']) {
      expect((await planOf(sql)).foundRowsUncertain, sql).toBeUndefined();
    }
  });
});

describe('LAST_INSERT_ID(expr) in a SELECT with FROM', () => {
  it('marks its column on a single route (with a merge and LIMIT across shards)', async () => {
    const point = await planOf('select name, last_insert_id(id) from customer where id = 3');
    expect(point.lastInsertIdColumn).toBe(1);
    expect(point.instructions.operator).toBe('Route');
    const scatter = await planOf('select last_insert_id(id) as x, name from customer order by name limit 2');
    expect(scatter.lastInsertIdColumn).toBe(0);
    expect(['Route', 'Limit']).toContain(scatter.instructions.operator);
    expect((await planOf('select last_insert_id() from customer where id = 1')).lastInsertIdColumn).toBeUndefined();
  });

  it('refuses it where MariaDB evaluates it in another order than it sends rows', async () => {
    for (const sql of [
      'select last_insert_id(id) from customer group by id',
      'select distinct last_insert_id(id) from customer',
      'select last_insert_id(id) as x from customer order by x',
      'select last_insert_id(id) from customer order by 1',
      'select last_insert_id(id), count(*) from customer',
      'select *, last_insert_id(id) from customer',
      'select name from customer where last_insert_id(id) > 1',
      'select last_insert_id(c.id) from customer c join orders o on o.id = c.id',
      "select last_insert_id(c.id) from customer c join countries k on k.name = c.name where c.id = 1 order by c.name",
      'select last_insert_id(d.id) from (select id, name from customer where id = 1) d order by d.name',
      'select sql_buffer_result last_insert_id(id) from customer where id = 1',
    ]) {
      await expect(plan(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
  });
});
