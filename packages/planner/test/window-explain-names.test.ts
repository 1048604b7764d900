/**
 * Window functions only on single-shard plans, EXPLAIN of a statement planned onto its shard with
 * its values inlined, and aggregate names over literals as templates rendered per execution.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Planner } from '../src/planner.js';
import { renderQuery } from '../src/query-template.js';
import type { AggregatePrimitive, RoutePrimitive, SendPrimitive } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

const planners: Planner[] = [];
afterEach(() => {
  for (const p of planners.splice(0)) p.dispose();
});
function plan(sql: string) {
  const p = new Planner({ vschema: demoVSchema() });
  planners.push(p);
  return p.plan(sql, { keyspace: 'commerce' });
}
const refused = { errno: 1235, sqlState: '42000' };

describe('window functions', () => {
  it('plans them when the whole statement goes to one shard', async () => {
    for (const [q, variant] of [
      ['select id, row_number() over (order by id) from customer where id = 1', 'EqualUnique'],
      ['select id, sum(id) over w from main.settings window w as (order by id)', 'Unsharded'],
      ['select name, rank() over (order by name) from countries', 'Reference'],
      ['select * from (select id, row_number() over (order by id) rn from customer where id = 1) t', 'EqualUnique'],
      ['select row_number() over ()', 'Reference'],
    ] as const) {
      expect(((await plan(q)).plan.instructions as RoutePrimitive).variant, q).toBe(variant);
    }
  });

  it('refuses them (1235) wherever a shard would compute them over its own rows only', async () => {
    for (const q of [
      'select id, row_number() over (order by id) from customer',
      'select id, max(name) over () from customer where id in (1, 2)',
      'select id, rank() over w from customer window w as (order by id)',
      'select * from (select id, row_number() over (order by id) rn from customer) t where id = 1',
      'select c.id, row_number() over () from customer c join main.settings s on s.id = c.id where c.id = 1',
      'select id from customer where name in (select max(name) over () from customer)',
    ]) {
      await expect(plan(q), q).rejects.toMatchObject({ ...refused, message: expect.stringContaining('window function') });
    }
  });

  it('checks each UNION part and pulled-out subquery on its own', async () => {
    const u = await plan('select count(*) over () from customer where id = 1 union all select id from customer where id = 2');
    expect(u.plan.instructions.operator).toBe('Concatenate');
    const sq = await plan('select * from customer where id in (select row_number() over () from main.settings)');
    expect(sq.plan.instructions.operator).toBe('UncorrelatedSubquery');
  });
});

describe('EXPLAIN of a statement', () => {
  it('keeps the route of a single-shard statement, with its values inlined', async () => {
    const { plan: pl, bindVars } = await plan('explain select * from customer where id = 1');
    const r = pl.instructions as RoutePrimitive;
    expect(pl.queryType).toBe('EXPLAIN');
    expect([r.operator, r.variant, r.vindex]).toEqual(['Route', 'EqualUnique', 'hash']);
    expect(r.values).toEqual([{ kind: 'literal', value: 1n }]);
    expect(renderQuery(r.query, bindVars)).toBe('explain select * from customer where id = 1');
    const d = (await plan("describe update customer set name = 'x' where id = 5")).plan.instructions as RoutePrimitive;
    expect([d.variant, renderQuery(d.query, {})]).toEqual(['EqualUnique', "describe update customer set name = 'x' where id = 5"]);
    const j = (await plan('explain format=json select * from main.settings where id = 3')).plan.instructions as RoutePrimitive;
    expect([j.variant, renderQuery(j.query, {})]).toEqual(['Unsharded', 'explain format=json select * from settings where id = 3']);
  });

  it('sends a statement that reaches several shards through one route to any one shard', async () => {
    for (const [q, sent] of [
      ['explain select * from customer where id in (1, 2)', 'explain select * from customer where id in (1, 2)'],
      ["explain select count(1) from customer where name = 'a'", "explain select count(1) from customer where name = 'a'"],
      ['explain insert into customer (id, name) values (1, 2), (3, 4)', 'explain insert into customer(id, name) values (1, 2), (3, 4)'],
    ]) {
      const s = (await plan(q)).plan.instructions as SendPrimitive;
      expect([s.operator, s.allShards, s.keyspace.name], q).toEqual(['Send', false, 'commerce']);
      expect(renderQuery(s.query, {}).replace(/\s+/g, ' ').replace(' (id', '(id')).toBe(sent);
    }
  });

  it('refuses a statement that needs several routes, and leaves DESCRIBE t and VEXPLAIN alone', async () => {
    await expect(plan('explain select c.id from customer c join main.settings s on s.id = c.id')).rejects.toMatchObject(refused);
    const d = (await plan('describe customer')).plan.instructions as SendPrimitive;
    expect(renderQuery(d.query, {})).toBe('describe `customer`');
    expect((await plan('vexplain plan select * from customer where id = 1')).plan.instructions.operator).toBe('Session');
  });
});

describe('names of aggregates computed at the gateway', () => {
  it('are templates over the literals, rendered with each execution\'s values', async () => {
    const { plan: pl, bindVars } = await plan('select count(1), sum(2) as s, avg(3), count(*) from customer');
    const agg = pl.instructions as AggregatePrimitive;
    expect(agg.aggregates.map((a) => (a.nameTemplate ? renderQuery(a.nameTemplate, bindVars) : a.alias))).toEqual(['count(1)', 's', 'avg(3)', 'count(*)']);
    const again = await plan('select count(7), sum(2) as s, avg(3), count(*) from customer');
    expect(renderQuery((again.plan.instructions as AggregatePrimitive).aggregates[0]!.nameTemplate!, again.bindVars)).toBe('count(7)');
  });
});
