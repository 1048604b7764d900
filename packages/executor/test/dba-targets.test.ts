/**
 * Which shards an information_schema (DBA) route goes to, and the SQL each one gets: the shards'
 * own database names stand in for the keyspace names the query compares schema columns with.
 * Pure target resolution over a real planner's plans; no shard is queried.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Planner, type RoutePrimitive } from '@shardgate/planner';
import { loadVSchema } from '@shardgate/vschema';
import { KeyspaceShards } from '../src/keyspace-routing.js';
import { resolveRouteTargets, withSpecialBinds } from '../src/operators/route.js';
import { QueryContext, type ShardAccess } from '../src/query-context.js';
import { renderTemplate } from '../src/values/render-query.js';

const vschema = loadVSchema({
  keyspaces: {
    commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
    main: { sharded: false, tables: { settings: {} } },
  },
});
// Shards whose databases are not named after their keyspace (mysql://…/db shards).
const topology: Record<string, KeyspaceShards> = {
  commerce: new KeyspaceShards('commerce', ['-80', '80-'], { '-80': 'shop_a', '80-': 'shop_b' }),
  main: new KeyspaceShards('main', ['0'], { '0': 'main_db' }),
};
const noAccess = new Proxy({}, { get: () => () => Promise.reject(new Error('no shard access in this test')) }) as ShardAccess;
const planner = new Planner({ vschema });
afterAll(() => planner.dispose());

async function targets(sql: string, keyspace: string | null, params?: unknown[]) {
  const ctx = new QueryContext(
    noAccess,
    { vschema, shardsOf: (ks) => topology[ks] ?? (() => { throw new Error(`no ${ks}`); })() },
    { workload: 'oltp', maxMemoryRows: 1000, scatterErrorsAsWarnings: false, divPrecisionIncrement: 4, keyspace },
    new AbortController().signal,
  );
  const { plan, bindVars } = await planner.plan(sql, { keyspace, ...(params ? { params: params as bigint[] } : {}) });
  const route = plan.instructions as RoutePrimitive;
  expect(route.variant).toBe('DBA');
  const bv = withSpecialBinds(ctx, bindVars);
  const resolved = resolveRouteTargets(ctx, route, bv);
  const list = resolved instanceof Promise ? await resolved : resolved;
  return list.map((t) => ({ keyspace: t.keyspace ?? route.keyspace.name, shard: t.shard, sql: renderTemplate(route.query, t.bindVars) }));
}

describe('DBA route targets', () => {
  it('no schema comparison: the session keyspace, first shard, SQL as written', async () => {
    expect(await targets('select schema_name from information_schema.schemata', 'commerce')).toEqual([
      { keyspace: 'commerce', shard: '-80', sql: 'select schema_name from information_schema.schemata' },
    ]);
  });

  it('table_schema = another keyspace: that keyspace, its database name in the SQL', async () => {
    expect(await targets("select table_name from information_schema.tables where table_schema = 'main'", 'commerce')).toEqual([
      { keyspace: 'main', shard: '0', sql: "select table_name from information_schema.tables where table_schema = 'main_db'" },
    ]);
  });

  it('an IN list of two keyspaces: one shard of each, each seeing only its own database', async () => {
    expect(await targets("select table_name from information_schema.tables where table_schema in ('commerce', 'main')", 'main')).toEqual([
      { keyspace: 'commerce', shard: '-80', sql: "select table_name from information_schema.tables where table_schema in ('shop_a', NULL)" },
      { keyspace: 'main', shard: '0', sql: "select table_name from information_schema.tables where table_schema in (NULL, 'main_db')" },
    ]);
  });

  it('database() names the session keyspace; select-list uses of it are untouched', async () => {
    expect(await targets('select database(), table_name from information_schema.tables where table_schema = database()', 'commerce')).toEqual([
      { keyspace: 'commerce', shard: '-80', sql: "select if(1, 'commerce', database()) as `database()`, table_name from information_schema.tables where table_schema = 'shop_a'" },
    ]);
  });

  it('a literal shared with table_name keeps its value there', async () => {
    expect(await targets("select table_name from information_schema.tables where table_schema = 'main' and table_name = 'main'", null)).toEqual([
      { keyspace: 'main', shard: '0', sql: "select table_name from information_schema.tables where table_schema = 'main_db' and table_name = 'main'" },
    ]);
  });

  it('names of no keyspace go to the session keyspace unchanged, beside the keyspaces named', async () => {
    expect(await targets("select schema_name from information_schema.schemata where schema_name = 'information_schema'", 'main')).toEqual([
      { keyspace: 'main', shard: '0', sql: "select schema_name from information_schema.schemata where schema_name = 'information_schema'" },
    ]);
    expect(await targets("select schema_name from information_schema.schemata where schema_name in ('commerce', 'mysql')", 'main')).toEqual([
      { keyspace: 'commerce', shard: '-80', sql: "select schema_name from information_schema.schemata where schema_name in ('shop_a', NULL)" },
      { keyspace: 'main', shard: '0', sql: "select schema_name from information_schema.schemata where schema_name in (NULL, 'mysql')" },
    ]);
  });

  it('refuses several keyspaces where concatenated rows would be wrong (1235)', async () => {
    await expect(targets("select count(*) from information_schema.tables where table_schema in ('commerce', 'main')", 'main')).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    await expect(
      targets("select 1 from information_schema.tables t, information_schema.columns c where t.table_schema = 'main' and c.table_schema = 'commerce'", 'main'),
    ).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
  });
});
