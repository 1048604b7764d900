/**
 * information_schema queries (DBA routes): each value a schema column is compared with becomes a
 * schema-name bind in the shard SQL, which the executor binds per keyspace (see SysSchemaBind).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Planner } from '../src/planner.js';
import { templateText } from '../src/query-template.js';
import { parseSysSchemaBind, sysSchemaBindName, type RoutePrimitive } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

const planners: Planner[] = [];
afterEach(() => {
  for (const p of planners.splice(0)) p.dispose();
});

async function dba(sql: string, keyspace: string | null = 'commerce') {
  const p = new Planner({ vschema: demoVSchema() });
  planners.push(p);
  const { plan, bindVars } = await p.plan(sql, { keyspace });
  const r = plan.instructions as RoutePrimitive;
  return { operator: r.operator, variant: r.variant, keyspace: r.keyspace.name, sql: templateText(r.query), bindVars };
}

describe('schema-name binds of information_schema routes', () => {
  it('names the bind of an equality, keeping the client value in its own bind', async () => {
    expect(await dba("select table_name from information_schema.tables where table_schema = 'main'")).toEqual({
      operator: 'Route',
      variant: 'DBA',
      keyspace: 'commerce',
      sql: 'select table_name from information_schema.tables where table_schema = :__vtschema_c7_v1',
      bindVars: { v1: 'main' },
    });
  });

  it('an IN list of literals becomes one list bind; an IN list with database() one bind per item', async () => {
    expect((await dba("select table_name from information_schema.tables where table_schema in ('commerce', 'main')")).sql).toBe(
      'select table_name from information_schema.tables where table_schema in ::__vtschema_c7_v1',
    );
    expect((await dba("select schema_name from information_schema.schemata where schema_name in ('main', database())")).sql).toBe(
      'select schema_name from information_schema.schemata where schema_name in (:__vtschema_c7_v1, :__vtschema_c7___vtdbname)',
    );
  });

  it('database() compared with table_schema reads the session keyspace; elsewhere it stays __vtdbname', async () => {
    expect((await dba('select table_name, database() from information_schema.tables where table_schema = database()')).sql).toBe(
      'select table_name, if(1, :__vtdbname, database()) as `database()` from information_schema.tables where table_schema = :__vtschema_c13___vtdbname',
    );
  });

  it('a literal shared with other columns is only replaced where the schema is compared', async () => {
    const r = await dba("select 'main' as x, table_name from information_schema.tables where table_schema = 'main' and table_name = 'main'");
    expect(r.sql).toBe('select :v1 as x, table_name from information_schema.tables where table_schema = :__vtschema_c11_v1 and table_name = :v1');
    expect(r.bindVars).toEqual({ v1: 'main' });
  });

  it('value on the left, qualified columns, and the other schema columns', async () => {
    expect((await dba("select 1 from information_schema.tables t where 'main' = t.TABLE_SCHEMA")).sql).toBe('select :v1 from information_schema.tables t where :__vtschema_c10_v2 = t.TABLE_SCHEMA');
    expect((await dba("select constraint_name from information_schema.key_column_usage where constraint_schema = 'main'")).sql).toBe(
      'select constraint_name from information_schema.key_column_usage where constraint_schema = :__vtschema_c7_v1',
    );
  });

  it('marks statements whose rows cannot simply be concatenated across keyspaces', async () => {
    for (const sql of [
      "select count(*) from information_schema.tables where table_schema = 'main'",
      "select table_name from information_schema.tables where table_schema = 'main' order by table_name",
      "select table_name from information_schema.tables where table_schema = 'main' limit 1",
      "select distinct table_type from information_schema.tables where table_schema = 'main'",
      "select table_name from information_schema.tables where table_schema = 'main' and table_name in (select table_name from information_schema.columns)",
    ]) {
      const name = /:(__vtschema_\w+)/.exec((await dba(sql)).sql)![1]!;
      expect(parseSysSchemaBind(name)?.combinable, sql).toBe(false);
    }
  });

  it('leaves comparisons it cannot route by alone: OR, NOT IN, expressions, LIKE', async () => {
    for (const sql of [
      "select table_name from information_schema.tables where table_schema = 'main' or table_name = 'x'",
      "select table_name from information_schema.tables where table_schema not in ('main')",
      "select table_name from information_schema.tables where table_schema = lower('MAIN')",
      "select table_name from information_schema.tables where table_schema like 'ma%'",
      "select table_name from information_schema.tables left join information_schema.columns c on c.table_schema = 'main'",
    ]) {
      expect((await dba(sql)).sql, sql).not.toContain('__vtschema_');
    }
  });

  it('keeps the route DBA on the session keyspace (the executor picks the shards)', async () => {
    const r = await dba("select table_name from information_schema.tables where table_schema = 'commerce'", 'main');
    expect([r.variant, r.keyspace]).toEqual(['DBA', 'main']);
  });

  it('bind names round-trip', () => {
    const b = { source: '__vtdbname', comparison: 12, combinable: true };
    expect(parseSysSchemaBind(sysSchemaBindName(b))).toEqual(b);
    expect(parseSysSchemaBind('v1')).toBeNull();
  });
});
