import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadVSchema, validateVSchema, VSchemaError, VSchemaLookupError, type VSchema } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
// packages/vschema/test -> /work (monorepo root's parent) /shared/conformance/vitess-planbuilder
const CONFORMANCE = [
  resolve(here, '../../../../shared/conformance/vitess-planbuilder/schema.json'),
  resolve(here, '../../../shared/conformance/vitess-planbuilder/schema.json'),
].find((p) => existsSync(p));

const minimal = {
  keyspaces: {
    user: {
      sharded: true,
      vindexes: { hash: { type: 'hash' }, name_lkp: { type: 'lookup', params: { table: 'lookup.name_ksid', from: 'name', to: 'ksid' }, owner: 'user' } },
      tables: {
        user: {
          column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'name', name: 'name_lkp' }],
          auto_increment: { column: 'id', sequence: 'lookup.user_seq' },
        },
        ref: { type: 'reference' },
      },
    },
    lookup: { tables: { user_seq: { type: 'sequence' }, name_ksid: {} } },
  },
};

function issuesOf(json: unknown): Record<string, string> {
  return Object.fromEntries(validateVSchema(json).map((i) => [i.path, i.message]));
}

describe('loadVSchema', () => {
  it('builds keyspaces, tables, column vindexes and ownership', () => {
    const vs = loadVSchema(minimal);
    const user = vs.findTable('user')!;
    expect(user.type).toBe('sharded');
    expect(user.keyspace.name).toBe('user');
    expect(user.columnVindexes.map((c) => [c.name, c.columns, c.owned, c.unique, c.cost])).toEqual([
      ['hash', ['id'], false, true, 1],
      ['name_lkp', ['name'], true, false, 20],
    ]);
    expect(user.autoIncrement).toEqual({ column: 'id', sequence: 'lookup.user_seq' });
    expect(user.sequenceTable?.type).toBe('sequence');
    expect(vs.findTable('ref')!.type).toBe('reference');
    expect(vs.findTable('user_seq')!.type).toBe('sequence');
    expect(vs.findTable('name_ksid')!.type).toBe('unsharded');
    expect(Object.isFrozen(user)).toBe(true);
  });

  it('resolves qualified names, implicit unsharded tables and the default keyspace', () => {
    const vs = loadVSchema(minimal);
    expect(vs.findTable('anything', 'lookup')).toMatchObject({ name: 'anything', type: 'unsharded', implicit: true });
    expect(vs.findTable('anything', 'user')).toBeUndefined();
    expect(vs.findTable('anything')).toBeUndefined();
    expect(vs.findTable('anything', null, 'lookup')?.keyspace.name).toBe('lookup');
    expect(() => vs.findTable('t', 'nope')).toThrow(VSchemaLookupError);
    try {
      vs.findTable('t', 'nope');
    } catch (e) {
      expect([(e as VSchemaLookupError).errno, (e as VSchemaLookupError).sqlState]).toEqual([1049, '42000']);
    }
  });

  it('a single unsharded keyspace resolves every bare name', () => {
    const vs = loadVSchema({ keyspaces: { main: {} } });
    expect(vs.findTable('t1')).toMatchObject({ name: 't1', type: 'unsharded' });
  });

  it('reports ambiguity of a bare name present in several keyspaces', () => {
    const vs = loadVSchema({ keyspaces: { a: { tables: { t: {} } }, b: { tables: { t: {} } } } });
    expect(() => vs.findTable('t')).toThrow('ambiguous table reference: t');
    expect(vs.findTable('t', 'b')!.keyspace.name).toBe('b');
    const explicit = loadVSchema({ keyspaces: { a: { tables: { t: {} } }, b: { require_explicit_routing: true, tables: { t: {} } } } });
    expect(explicit.findTable('t')!.keyspace.name).toBe('a');
  });

  it('throws VSchemaError with errno 1105 listing every issue', () => {
    let err: unknown;
    try {
      loadVSchema({ keyspaces: { ks: { sharded: true, tables: { t: {} }, vindexes: { v: { type: 'nope' } } } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VSchemaError);
    const ve = err as VSchemaError;
    expect([ve.errno, ve.sqlState]).toEqual([1105, 'HY000']);
    expect(ve.issues.map((i) => i.path).sort()).toEqual(['keyspaces.ks.tables.t.column_vindexes', 'keyspaces.ks.vindexes.v.type']);
  });
});

describe('validateVSchema issues carry the JSON path of the bad key', () => {
  it('unknown vindex type', () => {
    expect(issuesOf({ keyspaces: { ks: { sharded: true, vindexes: { v: { type: 'md6' } } } } })['keyspaces.ks.vindexes.v.type']).toMatch(
      /vindexType "md6" not found/,
    );
  });
  it('column vindex naming an undeclared vindex', () => {
    const i = issuesOf({ keyspaces: { user: { sharded: true, tables: { t: { column_vindexes: [{ column: 'id', name: 'nope' }] } } } } });
    expect(i['keyspaces.user.tables.t.column_vindexes[0].name']).toBe('vindex nope not found for table t (declare it under keyspaces.user.vindexes)');
  });
  it('a single-column vindex listing several columns routes on the first, as Vitess does', () => {
    const vs = loadVSchema({
      keyspaces: {
        ks: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ columns: ['user_id', 'extra_info'], name: 'hash' }] } } },
      },
    });
    expect(vs.findTable('t')!.columnVindexes.map((c) => [c.name, c.columns, c.unique, c.partial])).toEqual([['hash', ['user_id'], true, false]]);
  });
  it('sharded table without a primary vindex', () => {
    expect(issuesOf({ keyspaces: { ks: { sharded: true, tables: { t: {} } } } })['keyspaces.ks.tables.t.column_vindexes']).toMatch(
      /missing primary col vindex for table: t/,
    );
  });
  it('non-unique primary vindex', () => {
    const i = issuesOf({
      keyspaces: {
        ks: {
          sharded: true,
          vindexes: { l: { type: 'lookup', params: { table: 'x', from: 'a', to: 'b' } } },
          tables: { t: { column_vindexes: [{ column: 'a', name: 'l' }] } },
        },
      },
    });
    expect(i['keyspaces.ks.tables.t.column_vindexes[0].name']).toMatch(/primary vindex l is not Unique for table t/);
  });
  it('bad pinned keyspace id, bad table type, sequence in a sharded keyspace', () => {
    const i = issuesOf({
      keyspaces: {
        ks: { sharded: true, tables: { p: { pinned: 'xyz' }, q: { type: 'view', pinned: '80' }, s: { type: 'sequence' } } },
      },
    });
    expect(Object.keys(i).sort()).toEqual([
      'keyspaces.ks.tables.p.pinned',
      'keyspaces.ks.tables.q.type',
      'keyspaces.ks.tables.s.column_vindexes',
      'keyspaces.ks.tables.s.type',
    ]);
  });
  it('auto_increment naming a table that is not a sequence, or no table', () => {
    const i = issuesOf({
      keyspaces: {
        main: {
          tables: {
            a: { auto_increment: { column: 'id', sequence: 'b' } },
            b: {},
            c: { auto_increment: { column: 'id', sequence: 'other.seq' } },
          },
        },
        second: { sharded: true, tables: {} },
      },
    });
    expect(i['keyspaces.main.tables.a.auto_increment.sequence']).toMatch(/names table main.b, which is not a sequence table/);
    expect(i['keyspaces.main.tables.c.auto_increment.sequence']).toMatch(/unknown database 'other'/);
  });
  it('malformed JSON shape', () => {
    expect(issuesOf(42)).toEqual({ '': expect.stringMatching(/must be a JSON object/) });
    const i = issuesOf({
      keyspaces: { ks: { sharded: 'yes', vindexes: [], tables: { t: { column_vindexes: {}, columns: [{ name: 'a' }, { name: 'A' }] } } } },
      routing_rules: { rules: [{ from_table: 't', to_tables: 'ks.t' }] },
    });
    expect(Object.keys(i).sort()).toEqual([
      'keyspaces.ks.sharded',
      'keyspaces.ks.tables.t.column_vindexes',
      'keyspaces.ks.tables.t.columns[1].name',
      'keyspaces.ks.vindexes',
      'routing_rules.rules[0].to_tables',
    ]);
  });
  it('vindex params must be strings; column and columns are exclusive', () => {
    const i = issuesOf({
      keyspaces: {
        ks: {
          sharded: true,
          vindexes: { h: { type: 'hash' }, r: { type: 'region_experimental', params: { region_bytes: 1 } } },
          tables: { t: { column_vindexes: [{ column: 'a', columns: ['a', 'b'], name: 'h' }] } },
        },
      },
    });
    expect(Object.keys(i).sort()).toEqual([
      'keyspaces.ks.tables.t.column_vindexes[0].columns',
      'keyspaces.ks.vindexes.r.params.region_bytes',
      'keyspaces.ks.vindexes.r.params.region_bytes',
    ].filter((v, n, a) => a.indexOf(v) === n));
  });
});

describe.skipIf(!CONFORMANCE)('Vitess planbuilder conformance vschema (shared/conformance/vitess-planbuilder/schema.json)', () => {
  // Absent folder: the suite is skipped (describe.skipIf) — the file is read in place, never copied.
  const load = (): VSchema => loadVSchema(JSON.parse(readFileSync(CONFORMANCE!, 'utf8')));

  it('loads with zero issues', () => {
    expect(validateVSchema(JSON.parse(readFileSync(CONFORMANCE!, 'utf8')))).toEqual([]);
    expect(() => load()).not.toThrow();
  });

  it('models the test vindex types with the unique/cost/kind of Vitess plan_test.go', () => {
    const user = load().keyspace('user')!;
    const v = (n: string) => user.vindexes.get(n)!;
    expect([v('user_index').kind, v('user_index').unique, v('user_index').cost]).toEqual(['functional', true, 1]);
    expect([v('music_user_map').kind, v('music_user_map').unique, v('music_user_map').cost]).toEqual(['lookup', true, 2]);
    expect([v('name_user_map').kind, v('name_user_map').unique, v('name_user_map').cost]).toEqual(['lookup', false, 3]);
    expect([v('costly_map').unique, v('costly_map').cost]).toEqual([false, 10]);
    expect([v('unq_lkp_vdx').unique, v('unq_lkp_vdx').cost]).toEqual([false, 300]);
    const bf = v('unq_lkp_bf_vdx');
    expect(bf.kind === 'lookup' && [bf.writeOnly, bf.cost]).toEqual([true, 100]);
    expect([v('shard_index').type, v('cfc').type, v('multicolIdx').type]).toEqual(['xxhash', 'cfc', 'multiCol_test']);
    expect(v('user_index').testOnly).toBe(true);
  });

  it('resolves tables as the Vitess planner does', () => {
    const vs = load();
    const user = vs.findTable('user')!;
    expect(user.columnVindexes.map((c) => [c.name, c.columns[0], c.owned])).toEqual([
      ['user_index', 'Id', false],
      ['name_user_map', 'Name', true],
      ['costly_map', 'Costly', true],
    ]);
    expect(user.sequenceTable).toMatchObject({ name: 'seq', type: 'sequence' });
    expect(vs.findTable('route1')!.name).toBe('user');
    expect(vs.findTable('user', 'second_user')!.keyspace.name).toBe('user');
    expect(vs.findTable('foo', 'second_user')!.name).toBe('user');
    expect(vs.findTable('primary_redirect')!.name).toBe('user');
    expect(() => vs.findTable('disabled')).toThrow('table disabled has been disabled');
    expect(() => vs.findTable('bad_table')).toThrow(/unknown database 'noks'/);
    expect(vs.findTable('rerouted_ref', 'user')!.name).toBe('ref'); // rule user.rerouted_ref -> user.ref
    expect(vs.findTable('rerouted_ref', 'main')!.keyspace.name).toBe('main');
    expect(vs.findTable('unsharded')!.keyspace.name).toBe('main');
    expect(vs.findTable('ref')!.type).toBe('reference');
    expect(vs.findTable('pin_test')!.pinned).toBe('80');
    expect(vs.findTable('t1')!.columnVindexes.map((c) => c.name)).toEqual(['xxhash', 'lookup_t1', 'lookup_t1_2']);
    expect(vs.findTable('ambiguous_ref_with_source')!.keyspace.name).toBe('main');
    const mc = vs.findTable('multicol_tbl')!;
    expect(mc.columnVindexes.map((c) => [c.name, c.columns.join(','), c.partial, c.cost])).toEqual([
      ['multicolIdx', 'cola,colb', false, 1],
      ['multicolIdx', 'cola', true, 2],
      ['colc_map', 'colc', false, 2],
      ['name_muticoltbl_map', 'name', false, 3],
    ]);
    expect(vs.findTable('anything', 'main')!.implicit).toBe(true);
  });
});
