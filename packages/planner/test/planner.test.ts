import { afterEach, describe, expect, it } from 'vitest';
import { loadVSchema } from '@shardgate/vschema';
import { Planner } from '../src/planner.js';
import { collationKeySql, collationSortKeySql, joinKeySql } from '../src/collation-key-sql.js';
import { renderQuery } from '../src/query-template.js';
import { toVitessJson } from '../src/vitess-json.js';
import type { BindVars, DmlPrimitive, InsertPrimitive, Plan, PlannedQuery, Primitive, RoutePrimitive } from '../src/plan-types.js';
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
async function plan(sql: string, keyspace: string | null = null, params?: bigint[]): Promise<PlannedQuery> {
  return planner().plan(sql, { keyspace, ...(params ? { params } : {}) });
}
/** The plan as data: operator, variant, keyspace, vindex, and the shard SQL rendered with its binds. */
function route(p: Primitive, binds: BindVars) {
  const r = p as RoutePrimitive;
  return {
    operator: r.operator,
    variant: r.variant,
    keyspace: r.keyspace.name,
    vindex: r.vindex,
    sql: renderQuery(r.query, { __vtdbname: 'commerce', __lastInsertId: 0n, ...binds }),
  };
}
async function expectRoute(sql: string, expected: ReturnType<typeof route>, keyspace: string | null = null) {
  const { plan: pl, bindVars } = await plan(sql, keyspace);
  expect(route(pl.instructions, bindVars)).toEqual(expected);
  return pl;
}

describe('single-table SELECT routing', () => {
  it('routes equality on the primary vindex to one shard (EqualUnique)', async () => {
    const pl = await expectRoute('select * from customer where id = 5', {
      operator: 'Route', variant: 'EqualUnique', keyspace: 'commerce', vindex: 'hash', sql: 'select * from customer where id = 5',
    });
    expect((pl.instructions as RoutePrimitive).values).toEqual([{ kind: 'bind', name: 'v1' }]);
    expect(pl.tablesUsed).toEqual(['commerce.customer']);
  });

  it('routes IN to the shards involved, with the list bind var the executor narrows per shard', async () => {
    const { plan: pl, bindVars } = await plan('select name from customer where id in (1, 2, 3)');
    const r = pl.instructions as RoutePrimitive;
    expect(route(r, bindVars)).toEqual({ operator: 'Route', variant: 'IN', keyspace: 'commerce', vindex: 'hash', sql: 'select name from customer where id in (1, 2, 3)' });
    expect(r.inListBind).toBe('v1');
    expect(bindVars.v1).toEqual([1n, 2n, 3n]);
  });

  it('scatters other predicates, and routes unsharded and reference tables', async () => {
    await expectRoute("select * from customer where name = 'x'", { operator: 'Route', variant: 'Scatter', keyspace: 'commerce', vindex: undefined, sql: "select * from customer where name = 'x'" });
    await expectRoute('select * from settings', { operator: 'Route', variant: 'Unsharded', keyspace: 'main', vindex: undefined, sql: 'select * from settings' });
    await expectRoute('select * from countries', { operator: 'Route', variant: 'Reference', keyspace: 'commerce', vindex: undefined, sql: 'select * from countries' });
  });

  it('strips keyspace qualifiers from the shard SQL and honours USE', async () => {
    await expectRoute('select commerce.customer.name from commerce.customer where commerce.customer.id = 7', {
      operator: 'Route', variant: 'EqualUnique', keyspace: 'commerce', vindex: 'hash', sql: 'select customer.name from customer where customer.id = 7',
    });
    await expectRoute('select * from customer where id = 7', { operator: 'Route', variant: 'EqualUnique', keyspace: 'commerce', vindex: 'hash', sql: 'select * from customer where id = 7' }, 'commerce');
  });

  it('routes a None route for a predicate that matches no shard', async () => {
    const { plan: pl } = await plan('select * from customer where id = null');
    expect((pl.instructions as RoutePrimitive).variant).toBe('None');
  });

  it('answers dual queries on a Reference route with the session bind vars', async () => {
    await expectRoute('select database(), last_insert_id(), 1 as one', {
      operator: 'Route', variant: 'Reference', keyspace: 'main', vindex: undefined, sql: "select if(1, 'commerce', database()) as `database()`, if(1, cast(0 as unsigned), last_insert_id()) as `last_insert_id()`, 1 as one",
    });
    await expectRoute('select now()', { operator: 'Route', variant: 'Reference', keyspace: 'commerce', vindex: undefined, sql: 'select now()' }, 'commerce');
  });

  it('merges ORDER BY across shards with weight strings, and pushes LIMIT offset+count', async () => {
    const { plan: pl, bindVars } = await plan('select id, name from customer order by name desc limit 10, 5');
    expect(pl.instructions.operator).toBe('Limit');
    const lim = pl.instructions as Extract<Primitive, { operator: 'Limit' }>;
    expect(lim.count).toEqual({ kind: 'literal', value: 5n });
    expect(lim.offset).toEqual({ kind: 'literal', value: 10n });
    const r = lim.input as RoutePrimitive;
    expect(route(r, bindVars).sql).toBe('select id, name, ' + collationKeySql('name') + ' from customer order by name desc limit 15');
    expect(r.orderBy).toEqual([{ column: 1, weightStringColumn: 2, desc: true }]);
    expect(r.resultColumns).toBe(2);
  });

  it('aggregates across shards: count becomes a sum of counts, groups stream in order', async () => {
    const { plan: pl, bindVars } = await plan('select name, count(*), avg(id) from customer group by name');
    const agg = pl.instructions as Extract<Primitive, { operator: 'Aggregate' }>;
    expect(agg.operator).toBe('Aggregate');
    expect(agg.variant).toBe('Ordered');
    expect(agg.aggregates).toEqual([
      { opcode: 'count_star', column: 1, alias: 'count(*)' },
      { opcode: 'avg', column: 2, countColumn: 3, alias: 'avg(id)' },
    ]);
    expect(route(agg.input, bindVars).sql).toBe('select name, count(*), sum(id), count(id), ' + collationKeySql('name') + ' from customer group by name order by ' + collationSortKeySql('name') + ' asc, name asc');
  });

  it('pushes a join on the shared vindex down as one route', async () => {
    await expectRoute('select c.name, o.id from customer c join orders o on o.customer_id = c.id where c.id = 3', {
      operator: 'Route', variant: 'EqualUnique', keyspace: 'commerce', vindex: 'hash',
      sql: 'select c.name, o.id from customer c join orders o on o.customer_id = c.id where c.id = 3',
    });
  });
});

describe('DML', () => {
  it('plans multi-row INSERT once for every row count, each row routed by its vindex value', async () => {
    const p = planner();
    const a = await p.plan("insert into customer(id, email, name) values (1, 'a@x', 'A')", {});
    const b = await p.plan("insert into customer(id, email, name) values (2, 'b@x', 'B'), (3, 'c@x', 'C'), (4, 'd@x', 'D')", {});
    expect(b.plan).toBe(a.plan);
    const ins = a.plan.instructions as InsertPrimitive;
    expect(ins).toMatchObject({
      operator: 'Insert', variant: 'Sharded', table: 'customer', prefix: 'insert into customer(id, email, name) values ',
      rowTemplate: { parts: ['(', { bind: '$0' }, ', ', { bind: '$1' }, ', ', { bind: '$2' }, ')'] },
      rowsBind: '__rows',
      primaryVindex: [{ vindex: 'hash', valueIndex: 0 }],
      ownedVindexes: [{ vindex: 'email_lookup', valueIndex: 1 }],
      autoIncrement: { column: 'id', valueIndex: 0, sequence: 'main.customer_seq' },
    });
    expect(b.bindVars.__rows).toEqual([[2n, 'b@x', 'B'], [3n, 'c@x', 'C'], [4n, 'd@x', 'D']]);
  });

  it('adds a missing auto-increment column as one more row value for the generated id', async () => {
    const { plan: pl } = await plan("insert into commerce.customer(email, name) values ('a@x', 'A'), ('b@x', 'B')");
    const ins = pl.instructions as InsertPrimitive;
    expect(ins.prefix).toBe('insert into `customer`(email, name, id) values ');
    expect(renderQuery(ins.rowTemplate, { $0: 'a@x', $1: 'A', $2: 77n })).toBe("('a@x', 'A', 77)");
    expect(ins.primaryVindex).toEqual([{ vindex: 'hash', valueIndex: 2 }]);
    expect(ins.autoIncrement).toEqual({ column: 'id', valueIndex: 2, sequence: 'main.customer_seq' });
  });

  it('plans an expression for a vindex or auto-increment column as a value the executor computes and sends', async () => {
    const { plan: pl, bindVars } = await plan("insert into customer(id, email, name) values (1 + ?, concat('a', '@x'), 'A')", null, [2n]);
    const ins = pl.instructions as InsertPrimitive;
    // The row's own values are $0…$4; each computed column gets the value sent ($5, $7) and the value routed on ($6, $8).
    expect(bindVars.__rows).toEqual([[1n, 2n, 'a', '@x', 'A']]);
    expect(renderQuery(ins.rowTemplate, { $4: 'A', $5: 3n, $7: 'a@x' })).toBe("(3, 'a@x', 'A')");
    expect(ins.computedValues).toEqual([
      { column: 'id', exprs: [{ kind: 'call', fn: '+', args: [{ kind: 'bind', name: '$0' }, { kind: 'bind', name: '$1' }] }], sendIndex: 5, routeIndex: 6, integerColumn: true },
      { column: 'email', exprs: [{ kind: 'call', fn: 'concat', args: [{ kind: 'bind', name: '$2' }, { kind: 'bind', name: '$3' }] }], sendIndex: 7, routeIndex: 8, integerColumn: false },
    ]);
    expect(ins.primaryVindex).toEqual([{ vindex: 'hash', valueIndex: 6 }]);
    expect(ins.ownedVindexes).toEqual([{ vindex: 'email_lookup', valueIndex: 8 }]);
    expect(ins.autoIncrement).toEqual({ column: 'id', valueIndex: 6, sequence: 'main.customer_seq' });
  });

  it('computes per row when rows differ in shape, next to the generated id of an omitted auto-increment column', async () => {
    const { plan: pl } = await plan("insert into orders(customer_id) values (1), (2 * 3)");
    const ins = pl.instructions as InsertPrimitive;
    expect(ins.rowTemplates?.map((t) => renderQuery(t, { $2: 9n }))).toEqual(['(9)', '(9)']);
    expect(ins.computedValues?.[0]?.exprs).toEqual([{ kind: 'bind', name: '$0' }, { kind: 'call', fn: '*', args: [{ kind: 'bind', name: '$0' }, { kind: 'bind', name: '$1' }] }]);
    const { plan: withSeq } = await plan("insert into customer(email, name) values (lower('A@X'), 'A')");
    const c = withSeq.instructions as InsertPrimitive;
    expect(c.prefix).toBe('insert into customer(email, name, id) values ');
    expect(renderQuery(c.rowTemplate, { $1: 'A', $2: 77n, $3: 'a@x' })).toBe("('a@x', 'A', 77)");
    expect(c.computedValues?.[0]).toMatchObject({ column: 'email', sendIndex: 3, routeIndex: 4 });
  });

  it.each([
    ["insert into customer(id, email, name) values (now(), 'a', 'A')", 'function now()'],
    ["insert into customer(id, email, name) values (rand(), 'a', 'A')", 'function rand()'],
    ["insert into customer(id, email, name) values (name, 'a', 'A')", 'column in the value of auto-increment column id'],
    ["insert into customer(id, email, name) values ((select 1), 'a', 'A')", 'the value of auto-increment column id'],
    ["insert into orders(customer_id) values (customer_id + 1)", 'column in the value of primary vindex column customer_id'],
    ["insert into customer(id, email, name) values (1, concat(name, 'x'), 'A')", 'column in the value of lookup vindex column email'],
  ])('refuses a vindex value that is not deterministic over literals: %s', async (sql, what) => {
    await expect(plan(sql)).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining(what) });
  });

  it('routes UPDATE and DELETE by vindex or scatter', async () => {
    const u = await plan("update customer set name = 'n' where id = 9");
    const upd = u.plan.instructions as DmlPrimitive;
    expect(route(upd.route, u.bindVars)).toEqual({ operator: 'Route', variant: 'EqualUnique', keyspace: 'commerce', vindex: 'hash', sql: "update customer set name = 'n' where id = 9" });
    const d = await plan('delete from orders where note = 1');
    const del = d.plan.instructions as DmlPrimitive;
    expect(del.route.variant).toBe('Scatter');
    const d2 = await plan('delete from customer where id = 4');
    const del2 = d2.plan.instructions as DmlPrimitive;
    expect(del2.ownedVindexes).toEqual(['email_lookup']);
    expect(renderQuery(del2.ownedVindexQuery!, d2.bindVars)).toBe('select id, email from customer where id = 4 for update');
    expect(del2.ownedVindexColumns).toEqual(['id', 'email']);
  });

  it('an UPDATE of an owned lookup column carries its new value; an expression is refused (1235)', async () => {
    const u = await plan("update customer set email = 'n@x', name = 'N' where id = 4");
    const upd = u.plan.instructions as DmlPrimitive;
    expect(upd.ownedVindexes).toEqual(['email_lookup']);
    expect(upd.ownedVindexColumns).toEqual(['id', 'email']);
    expect(upd.changedVindexValues).toHaveLength(1);
    const change = upd.changedVindexValues![0]!;
    expect(change.column).toBe('email');
    expect(change.value.kind === 'bind' ? u.bindVars[change.value.name] : change.value.kind === 'literal' ? change.value.value : undefined).toBe('n@x');
    expect((await plan("update customer set name = 'N' where id = 4")).plan.instructions).not.toHaveProperty('changedVindexValues');
    await expect(plan("update customer set email = concat(name, '@x') where id = 4")).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('lookup vindex column email') });
  });

  it('refuses changing a primary vindex column and scatter DML with LIMIT (1235)', async () => {
    await expect(plan('update customer set id = 2 where id = 1')).rejects.toMatchObject({ errno: 1235, sqlState: '42000', message: expect.stringContaining('primary vindex column id') });
    await expect(plan('delete from orders limit 10')).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('multi shard DELETE with LIMIT') });
    const ok = await plan('delete from orders where customer_id = 1 limit 10');
    expect((ok.plan.instructions as DmlPrimitive).limit).toEqual({ kind: 'literal', value: 10n });
  });

  it('writes to a reference table go to every shard', async () => {
    const { plan: pl } = await plan("update countries set name = 'x'");
    expect((pl.instructions as DmlPrimitive).route.variant).toBe('Reference');
    const ins = await plan("insert into countries(code) values ('fr')");
    expect((ins.plan.instructions as InsertPrimitive).variant).toBe('Reference');
  });
});

describe('session statements and DDL', () => {
  const stmt = async (sql: string, ks: string | null = null) => ((await plan(sql, ks)).plan.instructions as Extract<Primitive, { operator: 'Session' }>).statement;

  it('plans USE with shard targets', async () => {
    expect(await stmt('use commerce')).toEqual({ kind: 'use', keyspace: 'commerce' });
    expect(await stmt('use commerce:-80')).toEqual({ kind: 'use', keyspace: 'commerce', target: '-80' });
    expect(await stmt('use `commerce:80-`')).toEqual({ kind: 'use', keyspace: 'commerce', target: '80-' });
    expect(await stmt('use commerce[-80]')).toEqual({ kind: 'use', keyspace: 'commerce', target: '-80' });
    await expect(plan('use nope')).rejects.toMatchObject({ errno: 1049 });
  });

  it('plans transactions and SET', async () => {
    expect(await stmt('begin')).toEqual({ kind: 'begin' });
    expect(await stmt('start transaction')).toEqual({ kind: 'begin' });
    expect(await stmt('commit')).toEqual({ kind: 'commit' });
    expect(await stmt('rollback')).toEqual({ kind: 'rollback' });
    expect(await stmt("set names utf8mb4, autocommit = 0, @@session.sql_mode = 'ANSI', workload = 'olap', transaction_mode = 'multi', query_timeout = 100, @u = -3")).toEqual({
      kind: 'set',
      assignments: [
        { scope: 'session', name: 'names', value: { kind: 'literal', value: 'utf8mb4' } },
        { scope: 'session', name: 'autocommit', value: { kind: 'literal', value: 0n } },
        { scope: 'session', name: 'sql_mode', value: { kind: 'literal', value: 'ANSI' } },
        { scope: 'session', name: 'workload', value: { kind: 'literal', value: 'olap' } },
        { scope: 'session', name: 'transaction_mode', value: { kind: 'literal', value: 'multi' } },
        { scope: 'session', name: 'query_timeout', value: { kind: 'literal', value: 100n } },
        { scope: 'user', name: 'u', value: { kind: 'literal', value: -3n } },
      ],
    });
  });

  it('plans SHOW statements', async () => {
    expect(await stmt('show databases')).toEqual({ kind: 'show', what: 'databases' });
    expect(await stmt('show full tables from commerce like "c%"')).toEqual({ kind: 'show', what: 'tables', keyspace: 'commerce', like: 'c%', full: true });
    expect(await stmt('show vschema tables')).toEqual({ kind: 'show', what: 'vschema tables' });
    const cols = (await plan('show columns from commerce.customer')).plan.instructions;
    expect(cols).toMatchObject({ operator: 'Send', keyspace: { name: 'commerce' }, allShards: false, query: { parts: ['show columns from `customer`'] } });
  });

  it('sends DDL to every shard of the keyspace, qualifier stripped', async () => {
    const { plan: pl } = await plan('alter table commerce.orders add column note int');
    expect(pl).toMatchObject({ queryType: 'DDL', instructions: { operator: 'Send', keyspace: { name: 'commerce', sharded: true }, allShards: true, query: { parts: ['alter table orders add column note int'] } } });
    await expect(plan('create table t (a int)')).rejects.toMatchObject({ errno: 1046 });
  });

  it('refuses CREATE TEMPORARY TABLE, which would live on a pooled shard connection other clients share', async () => {
    for (const sql of ['create temporary table commerce.tt (a int)', 'create temporary table if not exists commerce.orders (a int)', 'CREATE TEMPORARY TABLE commerce.t2 SELECT 1 AS a']) {
      await expect(plan(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
  });

  it('shows plans as Vitess JSON through VEXPLAIN PLAN', async () => {
    const { plan: pl } = await plan('vexplain plan select * from customer where id = 1');
    expect(pl.queryType).toBe('EXPLAIN');
    const inner = (pl.instructions as Extract<Primitive, { operator: 'Session' }>).statement as { kind: 'vexplain'; plan: Plan };
    expect(toVitessJson(inner.plan)).toEqual({
      QueryType: 'SELECT',
      Instructions: { OperatorType: 'Route', Variant: 'EqualUnique', Keyspace: { Name: 'commerce', Sharded: true }, Query: 'select * from customer where id = :v1', Table: 'customer', Values: [':v1'], Vindex: 'hash' },
      TablesUsed: ['commerce.customer'],
    });
  });

  it('targets a shard with USE ks:-80 (ByDestination)', async () => {
    const { plan: pl, bindVars } = await plan("select * from customer where name = 'q'", 'commerce:-80');
    expect(pl.instructions).toMatchObject({ operator: 'Route', variant: 'ByDestination', targetShards: ['-80'] });
    expect(renderQuery((pl.instructions as RoutePrimitive).query, bindVars)).toBe("select * from customer where name = 'q'");
  });
});

describe('errors', () => {
  it('uses MySQL error numbers', async () => {
    await expect(plan('select * from nosuch')).rejects.toMatchObject({ errno: 1146, sqlState: '42S02' });
    await expect(plan('select * from commerce.nosuch')).rejects.toMatchObject({ errno: 1146, message: "Table 'commerce.nosuch' doesn't exist" });
    await expect(plan('select * from nokeyspace.t')).rejects.toMatchObject({ errno: 1049 });
    await expect(plan('selec * from customer')).rejects.toMatchObject({ errno: 1064, sqlState: '42000', message: expect.stringContaining('You have an error in your SQL syntax') });
    await expect(plan('select * from customer where')).rejects.toMatchObject({ errno: 1064 });
    await expect(plan('lock tables customer read')).rejects.toMatchObject({ errno: 1235 });
  });

  it('plans are frozen in development', async () => {
    const { plan: pl } = await plan('select * from customer where id = 1');
    expect(Object.isFrozen(pl)).toBe(true);
    expect(Object.isFrozen(pl.instructions)).toBe(true);
  });
});

describe('cross-shard plans', () => {
  it('joins routes in different keyspaces with a nested loop, binding the join column', async () => {
    const { plan: pl, bindVars } = await plan('select c.name, s.v from customer c join settings s on s.k = c.email where c.id = 5');
    const j = pl.instructions as Extract<Primitive, { operator: 'Join' }>;
    expect(j.operator).toBe('Join');
    expect(j.variant).toBe('Join');
    expect(j.cols).toEqual([-1, 1]);
    expect(j.joinVars).toEqual({ c_email: 1 });
    expect(route(j.left, bindVars)).toEqual({ operator: 'Route', variant: 'EqualUnique', keyspace: 'commerce', vindex: 'hash', sql: `select c.name, c.email, ${joinKeySql('c.email')} from customer c where (c.id = 5)` });
    expect(route(j.right, { ...bindVars, c_email: 'a@x' })).toEqual({ operator: 'Route', variant: 'Unsharded', keyspace: 'main', vindex: undefined, sql: "select s.v from settings s where (s.k = 'a@x')" });
    // The same inner side for a batch of outer values: one IN list, matched at the gateway on the key columns.
    expect(j.keyedLookup).toMatchObject({ keysBind: '__sg_join_keys', joinVar: 'c_email', leftKeyColumn: 2 });
    expect(route(j.keyedLookup!.route, { ...bindVars, __sg_join_keys: ['a@x', 'b@y'] })).toEqual({
      operator: 'Route',
      variant: 'Unsharded',
      keyspace: 'main',
      vindex: undefined,
      sql: `select s.k, ${joinKeySql('s.k')}, s.v from settings s where (s.k in ('a@x', 'b@y'))`,
    });
  });

  it('looks a join up in IN-list batches only when one equality is its whole dependence on the outer row', async () => {
    const keyed = async (sql: string) => ((await plan(sql)).plan.instructions as Extract<Primitive, { operator: 'Join' }>).keyedLookup;
    // The inner side's vindex: the IN list routes each value to its shard.
    const byVindex = (await keyed('select s.v, o.id from settings s join orders o on o.customer_id = s.id'))!;
    expect(byVindex.route).toMatchObject({ variant: 'IN', vindex: 'hash', inListBind: '__sg_join_keys' });
    expect(await keyed('select o.id, c.name from orders o left join customer c on c.id = o.id')).toBeDefined();
    // NULL-safe equality, a second dependent term, an expression over both sides: row by row.
    expect(await keyed('select s.v, o.id from settings s join orders o on o.customer_id <=> s.id')).toBeUndefined();
    expect(await keyed('select s.v, o.id from settings s join orders o on o.customer_id = s.id and o.id > s.k')).toBeUndefined();
    expect(await keyed('select s.v, o.id + s.id from settings s join orders o on o.customer_id = s.id')).toBeUndefined();
    expect(await keyed('select s.v, o.id from settings s join orders o on o.customer_id = s.id + 1')).toBeUndefined();
  });

  it('pulls an uncorrelated subquery out and routes the outer query on its result', async () => {
    const { plan: pl, bindVars } = await plan("select name from customer where id in (select v from settings where k = 'x')");
    const u = pl.instructions as Extract<Primitive, { operator: 'UncorrelatedSubquery' }>;
    expect(u).toMatchObject({ operator: 'UncorrelatedSubquery', variant: 'PulloutIn', resultBind: '__sq1', hasValuesBind: '__sq_has_values1' });
    expect(route(u.subquery, bindVars).sql).toBe("select v from settings where k = 'x'");
    const outer = u.outer as RoutePrimitive;
    expect(outer).toMatchObject({ variant: 'IN', vindex: 'hash', values: [{ kind: 'bindList', name: '__sq1' }], inListBind: '__sq1' });
    expect(renderQuery(outer.query, { ...bindVars, __sq1: [], __sq_has_values1: 0n })).toBe('select name from customer where 0 = 1 and id in (NULL)');
  });

  it('sorts shard rows of an aggregation by the group expression itself, weight strings only ride along', async () => {
    const { plan: pl, bindVars } = await plan('select year(created) as y, count(*) from orders group by year(created) order by y');
    const agg = pl.instructions as Extract<Primitive, { operator: 'Aggregate' }>;
    expect(agg).toMatchObject({ operator: 'Aggregate', variant: 'Ordered', groupBy: [{ column: 0, weightStringColumn: 2 }], resultColumns: 2 });
    expect(route(agg.input, bindVars).sql).toBe('select year(created) as `y`, count(*), ' + collationKeySql('year(created)') + ' from orders group by year(created) order by ' + collationSortKeySql('year(created)') + ' asc, year(created) asc');
    const { plan: byPosition } = await plan('select year(created), month(created), count(*) from orders group by 1, 2');
    expect((byPosition.instructions as Extract<Primitive, { operator: 'Aggregate' }>).groupBy.map((g) => g.column)).toEqual([0, 1]);
  });

  it('groups by a name that is an alias and maybe a column as the shards resolve it, (select name)', async () => {
    // MariaDB's GROUP BY takes a column of that name before the alias; orders' column list is not
    // authoritative, so the shards resolve it, and the aliased expression is any value of its group.
    const { plan: pl, bindVars } = await plan('select year(created) as y, count(*) from orders group by y order by y');
    const sort = pl.instructions as Extract<Primitive, { operator: 'Sort' }>;
    expect(sort).toMatchObject({ operator: 'Sort', orderBy: [{ column: 0, weightStringColumn: 3 }], resultColumns: 2 });
    const agg = sort.input as Extract<Primitive, { operator: 'Aggregate' }>;
    expect(agg).toMatchObject({ operator: 'Aggregate', variant: 'Ordered', groupBy: [{ column: 2, weightStringColumn: 4 }] });
    expect(agg.aggregates).toContainEqual({ opcode: 'any_value', column: 0, alias: 'y' });
    expect(route(agg.input, bindVars).sql).toBe(
      'select year(created) as `y`, count(*), (select y), ' + collationKeySql('year(created)') + ', ' + collationKeySql('(select y)') +
        ' from orders group by (select y) order by ' + collationSortKeySql('(select y)') + ' asc, (select y) asc',
    );
    // HAVING reads the name as the GROUP BY did.
    const { plan: h } = await plan('select upper(note) as y, count(*) from orders group by y having y > 1');
    expect(h.instructions).toMatchObject({ operator: 'Projection', input: { operator: 'Filter', predicate: { kind: 'call', fn: '>', args: [{ kind: 'column', index: 2 }, { kind: 'bind' }] } } });
    // An alias of the same-named column, or a name no table can have, groups as before.
    const { plan: same } = await plan('select note as note, count(*) from orders group by note');
    expect((same.instructions as Extract<Primitive, { operator: 'Aggregate' }>).groupBy.map((g) => g.column)).toEqual([0]);
    // Over a join across shards each side is its own query: no shard can resolve it.
    await expect(plan('select year(o.created) as y, count(*) from customer c join orders o on o.note = c.name group by y')).rejects.toThrow(/GROUP BY 'y', the alias of another expression and maybe a column/);
  });

  it('evaluates a searched CASE over aggregates as IF at the gateway; a simple CASE and NULLIF are refused', async () => {
    const { plan: c } = await plan("select case when count(*) > 1 then sum(id) when count(*) = 1 then 0 end from customer");
    const proj = c.instructions as Extract<Primitive, { operator: 'Projection' }>;
    expect(proj.expressions[0]).toMatchObject({ kind: 'call', fn: 'if', args: [{ fn: '>' }, { kind: 'column' }, { kind: 'call', fn: 'if', args: [{ fn: '=' }, { kind: 'bind' }, { kind: 'literal', value: null }] }] });
    // NULLIF stays refused: MariaDB 10.11 answers a prepared `nullif(count(*), ?)` per group as if never equal.
    await expect(plan('select nullif(count(*), 3) from customer')).rejects.toThrow(/function nullif\(\)/);
    await expect(plan("select case count(*) when 3 then 'x' end from customer")).rejects.toThrow(/case in an expression over aggregates/);
  });

  it('plans count(DISTINCT), HAVING and expressions over aggregates with gateway operators', async () => {
    const { plan: d, bindVars: db } = await plan('select count(*), count(distinct name) from customer');
    const agg = d.instructions as Extract<Primitive, { operator: 'Aggregate' }>;
    expect(agg.aggregates).toEqual([
      { opcode: 'count_star', column: 0, alias: 'count(*)' },
      { opcode: 'count_distinct', column: 1, alias: 'count(distinct name)', weightStringColumn: 2 },
    ]);
    expect(route(agg.input, db).sql).toBe('select count(*), name, ' + collationKeySql('name') + ' from customer group by name order by name asc');
    const { plan: h } = await plan('select name, count(*) as c from customer group by name having c > 1');
    expect(h.instructions).toMatchObject({ operator: 'Projection', input: { operator: 'Filter', predicate: { kind: 'call', fn: '>', args: [{ kind: 'column', index: 1 }, { kind: 'bind', name: 'v1' }] } } });
    const { plan: e, bindVars: eb } = await plan('select sum(id) / count(*) from customer');
    const proj = e.instructions as Extract<Primitive, { operator: 'Projection' }>;
    expect(proj.expressions).toEqual([{ kind: 'call', fn: '/', args: [{ kind: 'column', index: 1 }, { kind: 'column', index: 2 }] }]);
    expect(proj.fieldFrom).toEqual([0]);
    expect(route((proj.input as Extract<Primitive, { operator: 'Aggregate' }>).input, eb).sql).toBe('select sum(id) / count(*), sum(id), count(*) from customer');
  });

  it('plans <=> as NULL-safe equality (the parser reads it as >=; each node gets its operator back)', async () => {
    // Beside real >= comparisons, parenthesized, nested in a function and with a literal on its left.
    const { plan: h } = await plan('select name, count(*) as c from customer group by name having (c) <=> 1 and c >= 2 and coalesce(null, c >= 3) <=> null and 4 <=> c >= 0');
    const filter = (h.instructions as Extract<Primitive, { operator: 'Projection' }>).input as Extract<Primitive, { operator: 'Filter' }>;
    const ops: string[] = [];
    const visit = (e: unknown): void => {
      if (e === null || typeof e !== 'object') return;
      const x = e as { kind?: string; fn?: string; args?: unknown[] };
      if (x.kind === 'call' && x.fn !== undefined && ['<=>', '>='].includes(x.fn)) ops.push(x.fn);
      for (const a of x.args ?? []) visit(a);
    };
    visit(filter.predicate);
    expect(ops.sort()).toEqual(['<=>', '<=>', '<=>', '>=', '>=', '>='].sort());
    // Constant folding: NULL <=> NULL is true (it was folded as NULL >= NULL: no shard asked).
    const { plan: n } = await plan('select id from customer where null <=> null');
    expect(JSON.stringify(n.instructions)).not.toMatch(/"variant":"None"/);
    const { plan: ge } = await plan('select id from customer where null >= null');
    expect(JSON.stringify(ge.instructions)).toMatch(/"variant":"None"/);
  });

  it('plans a UNION that needs the gateway part by part: Concatenate, Distinct, Sort, Limit', async () => {
    const { plan: pl } = await plan("select id from customer where name = 'a' union select id from customer where name = 'b' order by id limit 2");
    // Every part also returns its column's collation key and the collation it was made in; one
    // Concatenate dedupes (all parts converted to the UNION's types first), the Sort drops them.
    expect(pl.instructions).toMatchObject({
      operator: 'Limit',
      input: { operator: 'Sort', orderBy: [{ column: 0, weightStringColumn: 1, desc: false }], collationTagColumn: 2, resultColumns: 1, input: { operator: 'Concatenate', distinct: { through: 1, weightStringColumns: [1], collationTagColumn: 2 } } },
    });
    const sorted = pl.instructions as Extract<Primitive, { operator: 'Limit' }>;
    const concat = (sorted.input as Extract<Primitive, { operator: 'Sort' }>).input as Extract<Primitive, { operator: 'Concatenate' }>;
    expect(route(concat.inputs[0]!, { v1: 'a' }).sql).toBe(`select id, ${collationKeySql('id')}, concat_ws(',', collation(id)) from customer where name = 'a'`);
    const { plan: parts, bindVars } = await plan('(select id from customer order by id limit 3) union all (select id from customer where id = 5)');
    const c = parts.instructions as Extract<Primitive, { operator: 'Concatenate' }>;
    expect(c.inputs.map((i) => i.operator)).toEqual(['Limit', 'Route']);
    expect(route(c.inputs[1]!, bindVars)).toMatchObject({ variant: 'EqualUnique', sql: 'select id from customer where id = 5' });
    await expect(plan('select id, name from customer where id = 1 union select id from customer')).rejects.toMatchObject({ errno: 1222 });
  });

  it('answers system variables at the gateway and refuses INSERT without a column list into a sharded table', async () => {
    const { plan: pl } = await plan('select @@version_comment limit 1');
    expect(pl.instructions).toEqual({ operator: 'Session', statement: { kind: 'select-system', columns: [{ name: '@@version_comment', expr: '@@version_comment' }] } });
    const { plan: two } = await plan('select @@session.workload as w, database()');
    expect(two.instructions).toMatchObject({ statement: { columns: [{ name: 'w', expr: '@@session.workload' }, { name: 'database()', expr: 'database()' }] } });
    await expect(plan('insert into orders values (1, 2)')).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('column list') });
  });

  it('plans GROUP_CONCAT across shards as per-ORDER BY-key pieces joined at the gateway', async () => {
    const { plan: pl } = await plan("select name, group_concat(id order by email desc separator ';') from customer group by name");
    const agg = pl.instructions as unknown as { operator: string; aggregates: { opcode: string; groupConcat?: unknown }[]; input: { query: { parts: unknown[] } } };
    expect(agg.operator).toBe('Aggregate');
    expect(agg.aggregates[0]).toMatchObject({ opcode: 'group_concat', groupConcat: { separator: ';', orderBy: [{ desc: true }] } });
    const sql = agg.input.query.parts.filter((x) => typeof x === 'string').join('');
    // The shards also group by the ORDER BY key, so each piece has one key, and send their limit.
    expect(sql).toMatch(/group_concat\(id order by email desc separator ';'\).*@@group_concat_max_len.* group by name, email/);
  });

  it('sends a SELECT its parser rejects to the one unsharded keyspace all its tables are in, as written', async () => {
    const nested = '(select k from settings union select k from settings) union (select k from settings s where k = 1 union select 2 from dual)';
    const { plan: pl } = await plan(nested);
    expect(pl.instructions).toMatchObject({ operator: 'Route', variant: 'Unsharded', keyspace: { name: 'main' } });
    // A sharded table, a keyspace qualifier or a session function keep the syntax error.
    for (const sql of [
      '(select k from settings union select k from settings) union (select id from customer union select 1)',
      '(select k from settings union select k from settings) union (select k from main.settings union select 1)',
      '(select k from settings union select k from settings) union (select database() from settings union select 1)',
      '(select k from settings union select k from settings) union (select k from settings, customer union select 1)',
    ]) {
      await expect(plan(sql), sql).rejects.toMatchObject({ errno: 1064 });
    }
  });

  it('passes FOR UPDATE to both sides of a join across shards', async () => {
    const { plan: pl } = await plan('select c.id, o.id from customer c join orders o on o.note = c.name where c.id > 1 for update');
    const text = JSON.stringify(pl.instructions);
    expect(text.match(/"operator":"Route"/g)).toHaveLength(2);
    expect(text.match(/ for update/g)).toHaveLength(2);
  });

  it('plans an expression over both sides of a LEFT JOIN across shards with the nullRow asked for per unmatched left row', async () => {
    const { plan: pl } = await plan('select c.id + s.k from customer c left join settings s on s.k = c.email');
    const text = JSON.stringify(pl.instructions);
    expect(text).toContain('"variant":"LeftJoin"');
    expect(text).toContain('"nullRowPerRow":true');
    expect(text).toMatch(/left join `?settings`? (as )?`?s`? on 0/);
  });

  it('refuses what it cannot plan exactly, naming the construct', async () => {
    await expect(plan('select group_concat(c.id, s.k order by s.k) from customer c join settings s on s.k = c.email')).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('GROUP_CONCAT of several arguments ordered by one of them') });
    await expect(plan('select s.k from main.settings s left join customer c on c.name = s.k where rand() > c.id or c.name is null', 'commerce')).rejects.toMatchObject({ errno: 1235 });
    await expect(plan("select a from (select distinct name as a from customer limit 5) t where a = 'x'")).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('derived table') });
    // Syntax the parser lacks: named (1235), not a syntax error (1064) for SQL MariaDB accepts.
    await expect(plan("select * from customer where match (name) against ('x' in boolean mode)", 'commerce')).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('MATCH … AGAINST') });
    await expect(plan("select * from customer where name sounds like 'x'", 'commerce')).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('SOUNDS LIKE') });
    await expect(plan('select * from customer natural join orders', 'commerce')).rejects.toMatchObject({ errno: 1235, message: expect.stringContaining('NATURAL JOIN') });
  });
});

describe('aggregation over a join across shards', () => {
  it('plans the join of the raw rows under a hash Aggregate, then HAVING, ORDER BY and LIMIT at the gateway', async () => {
    const { plan: p } = await plan('select s.k, count(*), max(c.id) from customer c join settings s on s.k = c.email group by s.k having count(*) > 1 order by s.k limit 5');
    expect(p.instructions).toMatchObject({
      operator: 'Limit',
      input: { operator: 'Sort', input: { operator: 'Filter', input: { operator: 'Aggregate', variant: 'Hash', input: { operator: 'Join' } } } },
    });
    const agg = (p.instructions as any).input.input.input;
    expect(agg.aggregates.map((a: { opcode: string }) => a.opcode)).toEqual(['count_star', 'max']);
    // The string group key is compared by its collation key, a helper column the Sort drops.
    expect(agg.groupBy[0].column).toBe(0);
    expect(agg.groupBy[0].weightStringColumn).toBeGreaterThanOrEqual(3);
  });

  it('computes expressions over aggregates, and ORDER BY keys over them that are not selected, in a typed Projection before the Sort', async () => {
    const { plan: p } = await plan('select s.k, sum(c.id) / count(*) from customer c join settings s on s.k = c.email group by s.k order by max(c.id) + 1 desc');
    expect(p.instructions).toMatchObject({ operator: 'Sort', resultColumns: 2, input: { operator: 'Projection', typeFromExpression: true, input: { operator: 'Aggregate', variant: 'Hash' } } });
    const sort = p.instructions as any;
    const projection = sort.input;
    // Column 1 is sum / count over helper aggregate columns; the ORDER BY key is a helper column computed alike.
    expect(projection.expressions[1]).toMatchObject({ kind: 'call', fn: '/' });
    expect(sort.orderBy).toEqual([{ column: expect.any(Number), desc: true, noCollationKey: true }]);
    expect(projection.expressions[sort.orderBy[0].column]).toMatchObject({ kind: 'call', fn: '+' });
    expect(projection.columnNames[1]).toBe('sum(c.id) / count(*)');
  });

  it('aggregates the rows of a correlated EXISTS that does not merge: an Aggregate over the SemiJoin', async () => {
    const { plan: p } = await plan('select c.name, count(*) from customer c where exists (select 1 from orders o where o.id = c.id) group by c.name', 'commerce');
    expect(p.instructions).toMatchObject({ operator: 'Projection', input: { operator: 'Aggregate', variant: 'Hash', input: { operator: 'SemiJoin', variant: 'Semi' } } });
  });
});

describe('LEFT JOIN across shards with a WHERE on the right side', () => {
  it('filters the joined rows at the gateway for IS [NOT] NULL and numbers, and refuses text', async () => {
    const { plan: p } = await plan('select s.k from main.settings s left join customer c on c.name = s.k where c.id is null or c.id > 10', 'commerce');
    expect(p.instructions).toMatchObject({ operator: 'Projection', expressions: [{ kind: 'column', index: 0 }], input: { operator: 'Filter', input: { operator: 'Join', variant: 'LeftJoin', cols: [-1, 1] } } });
    // `c.name = 'x'` is NULL on a NULL-extended row: the LEFT JOIN is an inner join.
    const { plan: inner } = await plan("select s.k from main.settings s left join customer c on c.name = s.k where c.name = 'x'", 'commerce');
    expect(inner.instructions).toMatchObject({ operator: 'Join', variant: 'Join' });
    // Other terms over the right side: a 0/1 column the right shard computes, and the nullRow.
    const { plan: onShard } = await plan("select s.k from main.settings s left join customer c on c.name = s.k where ifnull(c.name, 'none') != 'x'", 'commerce');
    expect(onShard.instructions).toMatchObject({ operator: 'Projection', input: { operator: 'Filter', predicate: { kind: 'column', index: 1 }, input: { operator: 'Join', variant: 'LeftJoin', nullRow: { operator: 'Route' } } } });
  });
});

describe('a join of three routes', () => {
  it('nests Joins: the left two routes are planned as a statement of their own, keyspace qualifiers kept', async () => {
    const { plan: p } = await plan("select c.id, c2.id from customer c join main.settings s on s.k = c.email join customer c2 on c2.name = s.v where c.name = 'y'", 'commerce');
    expect(p.instructions).toMatchObject({
      operator: 'Join',
      left: { operator: 'Join', left: { operator: 'Route', keyspace: { name: 'commerce' } }, right: { operator: 'Route', variant: 'Unsharded', keyspace: { name: 'main' } } },
      right: { operator: 'Route', keyspace: { name: 'commerce' } },
    });
  });
});

describe('expressions over both sides of a join across shards', () => {
  it('sends them to the right route with the left values bound, and sums the joined rows at the gateway', async () => {
    const { plan: p } = await plan('select c.id * s.v as amount from customer c join settings s on s.k = c.email order by c.id + s.v');
    expect(p.instructions).toMatchObject({ operator: 'Projection', input: { operator: 'Sort', input: { operator: 'Join', valueJoinVars: ['c_id'] } } });
    const join = (p.instructions as any).input.input;
    expect(join.right.query.parts.join('')).toContain(' * s.v as `amount`');
    const { plan: s } = await plan('select sum(c.id), avg(s.v) from customer c join settings s on s.k = c.email');
    // avg's count is a helper column the Projection drops.
    expect(s.instructions).toMatchObject({ operator: 'Projection', input: { operator: 'Aggregate', variant: 'Scalar' } });
    expect((s.instructions as any).input.aggregates).toMatchObject([{ opcode: 'sum', rowValues: true }, { opcode: 'avg', rowValues: true }]);
  });
});

describe('derived tables evaluated at the gateway', () => {
  it('plans the derived table on its own and the outer WHERE, select list, ORDER BY and LIMIT as gateway operators', async () => {
    const { plan: p } = await plan('select n as cnt from (select note, count(*) as n from orders group by note) t where n > 3 order by n desc limit 2', 'commerce');
    expect(p.instructions).toMatchObject({
      operator: 'Projection',
      columnNames: ['cnt'],
      expressions: [{ kind: 'column', index: 1 }],
      input: { operator: 'Limit', input: { operator: 'Sort', orderBy: [{ column: 1, desc: true }], input: { operator: 'Filter', predicate: { kind: 'column', index: 2 } } } },
    });
  });

  it('has the shards compute outer expressions, WHERE terms and collation keys over the derived table, added to its select list', async () => {
    const { plan: p } = await plan("select upper(a) as u from (select name as a from customer order by id limit 5) t where a <> 'x' order by a", 'commerce');
    expect(p.instructions).toMatchObject({
      operator: 'Projection',
      columnNames: ['u'],
      expressions: [{ kind: 'column', index: 1 }],
      input: { operator: 'Sort', orderBy: [{ column: 0, weightStringColumn: 3 }], input: { operator: 'Filter', predicate: { kind: 'column', index: 2 } } },
    });
    const route = JSON.stringify(p.instructions, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    expect(route).toContain('select name as a, upper((name)) as `__sg_d0`, ((name) <> ');
  });

  it('groups and aggregates the rows of a derived table at the gateway, as over a join', async () => {
    const { plan: p } = await plan('select a, count(*) from (select name as a from customer limit 5) t group by a', 'commerce');
    expect(p.instructions).toMatchObject({ operator: 'Projection', input: { operator: 'Aggregate', variant: 'Hash', groupBy: [{ column: 0, weightStringColumn: 2 }] } });
    const { plan: nested } = await plan('select id from orders where id in (select * from (select * from (select id from orders limit 10) a) b)', 'commerce');
    expect(nested.instructions).toMatchObject({ operator: 'UncorrelatedSubquery', variant: 'PulloutIn', subquery: { operator: 'Limit' } });
  });
});

describe('correlated subqueries across shards', () => {
  it('plans a correlated NOT EXISTS as an anti SemiJoin: the outer route without the condition, its column bound per row', async () => {
    const { plan: p } = await plan('select c.name from customer c where not exists (select 1 from orders o where o.id = c.id)', 'commerce');
    expect(p.instructions).toMatchObject({
      operator: 'SemiJoin',
      variant: 'Anti',
      cols: [0],
      joinVars: { __sj1_0: 1 },
      outer: { operator: 'Route', variant: 'Scatter' },
      inner: { operator: 'Route', variant: 'Scatter' },
    });
  });

  it('plans a correlated x IN (subquery) as a SemiJoin over the equivalent EXISTS, and leaves NOT IN refused', async () => {
    const { plan: p } = await plan('select c.id from customer c where c.name in (select o.note from orders o where o.id > c.id)', 'commerce');
    expect(p.instructions).toMatchObject({ operator: 'SemiJoin', variant: 'Semi', joinVars: { __sj1_0: 1, __sj1_1: 2 } });
    await expect(plan('select c.id from customer c where c.name not in (select o.note from orders o where o.id > c.id)', 'commerce')).rejects.toMatchObject({ errno: 1235 });
  });

  it('refuses INTERSECT and EXCEPT across shards (each shard would see only its own rows), routes them on one shard', async () => {
    for (const sql of ['select id from customer intersect select customer_id from orders', 'select id from customer except select customer_id from orders', 'select name from customer where id in (select id from customer except select customer_id from orders)']) {
      await expect(plan(sql, 'commerce')).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
    const { plan: one } = await plan('select id from customer where id = 1 except select customer_id from orders where customer_id = 1', 'commerce');
    expect(one.instructions).toMatchObject({ operator: 'Route', variant: 'EqualUnique' });
  });
});

describe('WITH (common table expressions)', () => {
  it('plans on an unsharded keyspace and over sharded tables; a recursive one over sharded tables is refused clearly', async () => {
    const { plan: unsharded } = await plan('with t as (select * from settings) select * from t', 'main');
    expect(unsharded.instructions).toMatchObject({ operator: 'Route', variant: 'Unsharded' });
    const { plan: sharded } = await plan('with t as (select id from customer) select * from t', 'commerce');
    expect(sharded.instructions).toMatchObject({ operator: 'Route', variant: 'Scatter' });
    await expect(plan('with recursive t as (select id from customer union all select id + 1 from t where id < 9) select * from t', 'commerce')).rejects.toMatchObject({
      errno: 1235,
      sqlState: '42000',
      message: expect.stringContaining('recursive WITH (common table expressions)'),
    });
  });
});

describe('named locks', () => {
  it('refuses GET_LOCK and its family: a lock on a pooled shard connection would not be the client\'s', async () => {
    for (const sql of ["select get_lock('k', 0)", "select release_lock('k')", "select is_free_lock('k')", "select is_used_lock('k') from customer where id = 1", 'select release_all_locks()']) {
      await expect(plan(sql, 'commerce'), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000', message: expect.stringContaining('named locks') });
    }
  });
});

describe('a single-column vindex listing several columns', () => {
  it('routes on the first column, as Vitess does', async () => {
    const vs = loadVSchema({
      keyspaces: { ks: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ columns: ['user_id', 'extra_info'], name: 'hash' }] } } } },
    });
    const p = new Planner({ vschema: vs });
    planners.push(p);
    const ins = (await p.plan("insert into t(extra_info, user_id) values ('a', 1)", { keyspace: 'ks' })).plan.instructions as InsertPrimitive;
    expect(ins.primaryVindex).toEqual([{ vindex: 'hash', valueIndex: 1 }]);
    const point = (await p.plan('select * from t where user_id = 1', { keyspace: 'ks' })).plan.instructions as RoutePrimitive;
    expect([point.variant, point.vindex]).toEqual(['EqualUnique', 'hash']);
    const other = (await p.plan("select * from t where extra_info = 'a'", { keyspace: 'ks' })).plan.instructions as RoutePrimitive;
    expect(other.variant).toBe('Scatter');
  });
});

describe('parenthesized UNION parts', () => {
  it('parse as the bare parts when they have no clauses of their own; a part holding a union keeps its parentheses', async () => {
    const { parseStatement } = await import('../src/sql-parser.js');
    const { tokenize } = await import('../src/lexer.js');
    const parse = (sql: string) => parseStatement(sql, tokenize(sql));
    expect(() => parse('select id from a union all (select id from b)')).not.toThrow();
    expect(() => parse('(select id from a) union (select id from b) order by id')).not.toThrow();
    expect(() => parse('select x from (select id as x from a union all (select id from b)) as t')).not.toThrow();
    // `x IN (…) UNION …`: the parentheses are the IN list's, kept.
    const inList = parse('select id from a where id in (select id from b) union select 1');
    expect(JSON.stringify(inList.ast)).toContain('"operator":"IN","left":{"type":"column_ref"');
    expect(JSON.stringify(inList.ast)).toContain('"set_op":"union"');
  });
});

describe('an aggregate subquery over no rows (it still answers: COUNT(*) is 0)', () => {
  it('does not make the outer rows match nothing, nor send a reference table to every shard (random differential, seed 31 #10184)', async () => {
    const overReference = await plan('select id from orders where id >= (select count(*) from countries where code not in (1, null))', 'commerce');
    expect((overReference.plan.instructions as RoutePrimitive).variant).toBe('Scatter');
    const fromReference = await plan('select code from countries where code >= (select count(*) from orders where customer_id in (null))', 'commerce');
    const top = fromReference.plan.instructions as { operator: string; outer?: RoutePrimitive; subquery?: RoutePrimitive };
    expect(top.operator).toBe('UncorrelatedSubquery');
    expect(top.outer?.variant).toBe('Reference');
    expect(top.subquery?.variant).toBe('None');
  });
});
