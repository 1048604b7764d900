import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import type { SqlValue } from '@shardgate/planner';
import type { Executor } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { FixturePlanner, bind, bindExpr, ks, list, plan, planned, route, sql, tpl } from './support/plan-builders.js';
import { COMMERCE_SHARDS, testCluster, type TestCluster } from './support/test-cluster.js';

const commerce = ks('commerce');
const main = ks('main', false);

function commercePlanner(): FixturePlanner {
  return new FixturePlanner()
    .on(/^insert into customer/i, (_m, params) =>
      planned(
        plan(
          {
            operator: 'Insert',
            variant: 'Sharded',
            keyspace: commerce,
            table: 'customer',
            prefix: 'insert into customer(id, name, balance, created) values ',
            rowTemplate: tpl`(${bind('$0')}, ${bind('$1')}, ${bind('$2')}, ${bind('$3')})`,
            rowsBind: '__rows',
            suffix: sql(''),
            primaryVindex: [{ vindex: 'hash', valueIndex: 0 }],
          },
          'INSERT',
        ),
        { __rows: chunk(params, 4) as unknown as SqlValue[] },
      ),
    )
    .on(/^insert into named_customer/i, (_m, params) =>
      planned(
        plan(
          {
            operator: 'Insert',
            variant: 'Sharded',
            keyspace: commerce,
            table: 'customer',
            prefix: 'insert into customer(name, id) values ',
            rowTemplate: tpl`(${bind('$0')}, ${bind('$1')})`,
            rowsBind: '__rows',
            suffix: sql(''),
            primaryVindex: [{ vindex: 'hash', valueIndex: 1 }],
            autoIncrement: { column: 'id', valueIndex: -1, sequence: 'main.customer_seq' },
          },
          'INSERT',
        ),
        { __rows: params.map((p) => [p]) as unknown as SqlValue[] },
      ),
    )
    .on(/^select id, name, balance from customer where id = \?$/i, (_m, params) =>
      planned(plan(route('EqualUnique', commerce, tpl`select id, name, balance from customer where id = ${bind('v1')}`, { vindex: 'hash', values: [bindExpr('v1')] })), { v1: params[0] }),
    )
    .on(/^select id, name from customer where id in/i, (_m, params) =>
      planned(
        plan(route('IN', commerce, tpl`select id, name from customer where id in ${list('__vals')}`, { vindex: 'hash', values: [{ kind: 'bindList', name: 'vals' }], inListBind: '__vals' })),
        { vals: [...params] },
      ),
    )
    .on(/^select id, name from customer order by id$/i, () =>
      plan(route('Scatter', commerce, sql('select id, name from customer order by id'), { orderBy: [{ column: 0, desc: false }] })),
    )
    .on(/^select id, name from customer$/i, () => plan(route('Scatter', commerce, sql('select id, name from customer'))))
    .on(/^update customer set balance = balance \+ 1 where id = \?$/i, (_m, params) =>
      planned(
        plan({ operator: 'Update', route: route('EqualUnique', commerce, tpl`update customer set balance = balance + 1 where id = ${bind('v1')}`, { vindex: 'hash', values: [bindExpr('v1')] }) }, 'UPDATE'),
        { v1: params[0] },
      ),
    )
    .on(/^update customer set name = upper\(name\)$/i, () => plan({ operator: 'Update', route: route('Scatter', commerce, sql('update customer set name = upper(name)')) }, 'UPDATE'))
    .on(/^delete from customer where id in/i, (_m, params) =>
      planned(
        plan(
          { operator: 'Delete', route: route('IN', commerce, tpl`delete from customer where id in ${list('__vals')}`, { vindex: 'hash', values: [{ kind: 'bindList', name: 'vals' }], inListBind: '__vals' }) },
          'DELETE',
        ),
        { vals: [...params] },
      ),
    )
    .on(/^insert into product/i, (_m, params) =>
      planned(
        plan(
          { operator: 'Insert', variant: 'Unsharded', keyspace: main, table: 'product', prefix: 'insert into product(id, title) values ', rowTemplate: tpl`(${bind('$0')}, ${bind('$1')})`, rowsBind: '__rows', suffix: sql('') },
          'INSERT',
        ),
        { __rows: chunk(params, 2) as unknown as SqlValue[] },
      ),
    )
    .on(/^select id, title from product/i, () => plan(route('Unsharded', main, sql('select id, title from product order by id'))))
    .on(/^alter table customer add column/i, () => plan({ operator: 'Send', keyspace: commerce, query: sql('alter table customer add column extra int'), allShards: true }, 'DDL'))
    .on(/^select count\(\*\) from customer where ss/i, () => plan(route('Scatter', commerce, sql('select count(*) from customer'))));
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

describe('routing on a 4-shard cluster (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let shardMap: ShardMap;
  let hash: FunctionalVindex;
  const ids = Array.from({ length: 60 }, (_, i) => BigInt(i + 1));

  const run = async (text: string, params?: SqlValue[], s = executor.openSession({ user: 'test', database: 'commerce' })) => {
    const sink = new CollectingSink();
    await s.execute(text, sink, params);
    return sink;
  };
  const shardOf = (id: bigint) => shardMap.shardFor(hash.map(id)!);

  beforeAll(async () => {
    tc = await testCluster('exec_routing');
    executor = tc.executor(commercePlanner());
    await executor.start();
    shardMap = new ShardMap([...COMMERCE_SHARDS]);
    hash = tc.vschema.keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
  });
  afterAll(async () => {
    await tc?.drop();
  });

  it('inserts each row on the shard its hash says', async () => {
    const params: SqlValue[] = [];
    for (const id of ids) params.push(id, `name ${id}`, `${id}.50`, '2024-01-02 03:04:05');
    const sink = await run('insert into customer values ...', params);
    expect(sink.okInfo?.affectedRows).toBe(60n);
    const seen = new Map<string, string>();
    for (const shard of COMMERCE_SHARDS) {
      const c = await tc.direct(shard);
      const [rows] = await c.query<any[]>('select id from customer');
      for (const r of rows) seen.set(String(r.id), shard);
    }
    expect(seen.size).toBe(60);
    for (const id of ids) expect(seen.get(id.toString())).toBe(shardOf(id));
    // rows really are spread
    expect(new Set(seen.values()).size).toBe(4);
  });

  it('point, IN and scatter selects return exactly the rows', async () => {
    const point = await run('select id, name, balance from customer where id = ?', [7n]);
    expect(point.rows).toEqual([['7', 'name 7', '7.50']]);
    expect(point.names).toEqual(['id', 'name', 'balance']);
    expect(point.fields![0].schema).toBe('commerce');
    expect(executor.stats().queriesByVariant.EqualUnique).toBeGreaterThan(0);

    const inList = await run('select id, name from customer where id in (...)', [3n, 4n, 5n, 6n, 1000n]);
    expect(inList.rows.map((r) => r[0]).sort((a, b) => Number(a) - Number(b))).toEqual(['3', '4', '5', '6']);

    const all = await run('select id, name from customer');
    expect(all.rows.length).toBe(60);
    const sorted = await run('select id, name from customer order by id');
    expect(sorted.rows.map((r) => Number(r[0]))).toEqual(ids.map(Number));
  });

  it('UPDATE and DELETE touch only the right shards', async () => {
    const before = new Map<string, unknown[]>();
    for (const shard of COMMERCE_SHARDS) {
      const [rows] = await (await tc.direct(shard)).query<any[]>('select id, balance from customer order by id');
      before.set(shard, rows);
    }
    const upd = await run('update customer set balance = balance + 1 where id = ?', [9n]);
    expect(upd.okInfo?.affectedRows).toBe(1n);
    for (const shard of COMMERCE_SHARDS) {
      const [rows] = await (await tc.direct(shard)).query<any[]>('select id, balance from customer order by id');
      if (shard === shardOf(9n)) expect(rows.find((r) => r.id === '9').balance).toBe('10.50');
      else expect(rows).toEqual(before.get(shard));
    }
    const del = await run('delete from customer where id in (...)', [10n, 11n]);
    expect(del.okInfo?.affectedRows).toBe(2n);
    for (const shard of COMMERCE_SHARDS) {
      const [rows] = await (await tc.direct(shard)).query<any[]>('select id from customer');
      const expected = (before.get(shard) as any[]).filter((r) => r.id !== '10' && r.id !== '11').length;
      expect(rows.length).toBe(expected);
    }
    const scatter = await run('update customer set name = upper(name)');
    expect(scatter.okInfo?.affectedRows).toBe(58n);
  });

  it('BIGINT 9223372036854775807 routes and returns exactly', async () => {
    const max = 9223372036854775807n;
    await run('insert into customer values ...', [max, 'max', '99999999999.99', null]);
    const got = await run('select id, name, balance from customer where id = ?', [max]);
    expect(got.rows).toEqual([['9223372036854775807', 'max', '99999999999.99']]);
    const c = await tc.direct(shardOf(max));
    const [rows] = await c.query<any[]>('select id from customer where id = 9223372036854775807');
    expect(rows.length).toBe(1);
  });

  it('sequences fill missing ids, and last_insert_id reports the first', async () => {
    const s = executor.openSession({ user: 'test', database: 'commerce' });
    const sink = await run('insert into named_customer ...', ['seq a', 'seq b'], s);
    expect(sink.okInfo?.affectedRows).toBe(2n);
    expect(sink.okInfo?.lastInsertId).toBe(1000n);
    const last = await run('select last_insert_id()', [], s);
    expect(last.rows).toEqual([['1000']]);
    const [seq] = await (await tc.direct('main')).query<any[]>('select next_id from customer_seq');
    expect(seq[0].next_id).toBe('1002');
    await s.close();
  });

  it('unsharded keyspaces use their one shard; DDL goes to every shard', async () => {
    await run('insert into product ...', [1n, 'widget', 2n, 'gadget']);
    const got = await run('select id, title from product');
    expect(got.rows).toEqual([
      ['1', 'widget'],
      ['2', 'gadget'],
    ]);
    await run('alter table customer add column extra int');
    for (const shard of COMMERCE_SHARDS) {
      const [cols] = await (await tc.direct(shard)).query<any[]>("select column_name from information_schema.columns where table_schema = database() and table_name = 'customer' and column_name = 'extra'");
      expect(cols.length).toBe(1);
    }
  });

  it('session statements: USE, SHOW DATABASES, unknown database', async () => {
    const s = executor.openSession({ user: 'test' });
    await s.useDatabase('commerce:-40');
    await expect(s.useDatabase('nope')).rejects.toMatchObject({ errno: 1049, sqlState: '42000', message: "Unknown database 'nope'" });
    const dbs = await run('show databases', [], s);
    expect(dbs.rows.map((r) => r[0])).toEqual(['commerce', 'main']);
    const vc = await run('select @@version_comment limit 1', [], s);
    expect(vc.rows).toEqual([['shardgate']]);
    await s.close();
  });

  it('pools are back to idle after everything', () => {
    for (const p of executor.stats().pools) {
      expect(p.inUse).toBe(0);
      expect(p.open).toBeLessThanOrEqual(p.size);
    }
  });
});
