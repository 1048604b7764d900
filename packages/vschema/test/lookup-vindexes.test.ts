import { describe, expect, it } from 'vitest';
import { VSchemaError, validateVSchema } from '../src/index.js';
import { bytes, hex, lookup } from './helpers.js';

const base = { table: 'lkp.t', from: 'fromc', to: 'toc' };

describe('lookup vindexes (lookup.go, lookup_hash.go, consistent_lookup.go)', () => {
  it('carries Vitess unique/cost per type', () => {
    const got = Object.fromEntries(
      [
        'lookup',
        'lookup_unique',
        'consistent_lookup',
        'consistent_lookup_unique',
        'lookup_hash',
        'lookup_hash_unique',
        'lookup_unicodeloosemd5_hash',
        'lookup_unicodeloosemd5_hash_unique',
      ].map((t) => {
        const v = lookup(t, base);
        return [t, [v.unique, v.cost, v.consistent, v.toEncoding]];
      }),
    );
    expect(got).toEqual({
      lookup: [false, 20, false, 'keyspace_id'],
      lookup_unique: [true, 10, false, 'keyspace_id'],
      consistent_lookup: [false, 20, true, 'keyspace_id'],
      consistent_lookup_unique: [true, 10, true, 'keyspace_id'],
      lookup_hash: [false, 20, false, 'hash'],
      lookup_hash_unique: [true, 10, false, 'hash'],
      lookup_unicodeloosemd5_hash: [false, 20, false, 'hash'],
      lookup_unicodeloosemd5_hash_unique: [true, 10, false, 'hash'],
    });
  });

  it('parses from/to/table and boolean params; builds Vitess\'s lookup query', () => {
    const v = lookup('lookup', { table: 'lkp.t', from: 'a, b', to: 'ksid', ignore_nulls: 'true', autocommit: 'true' }, 'user');
    expect(v.from).toEqual(['a', 'b']);
    expect([v.table, v.to, v.ignoreNulls, v.autocommit, v.writeOnly, v.owner]).toEqual(['lkp.t', 'ksid', true, true, false, 'user']);
    expect(v.query).toEqual({ sql: 'select a, ksid from lkp.t where a in ::a', argument: 'a' });
  });

  it('maps rows like Vitess Map/MapResult', () => {
    const uniq = lookup('lookup_unique', base);
    expect(uniq.destinationFor([])).toEqual({ kind: 'none' });
    expect(hex((uniq.destinationFor([bytes('0102')]) as unknown as { ksids: Uint8Array[] }).ksids[0])).toBe('0102');
    expect(() => uniq.destinationFor([bytes('01'), bytes('02')])).toThrow(/unexpected multiple results/);
    const multi = lookup('lookup', base);
    const d = multi.destinationFor([bytes('01'), bytes('02')]);
    expect(d.kind === 'keyspaceIds' && d.ksids.map(hex)).toEqual(['01', '02']);
    expect(lookup('lookup', { ...base, write_only: 'true' }).destinationFor([])).toEqual({ kind: 'allShards' });
  });

  it('lookup_hash stores ids whose hash is the keyspace id; non-ids are skipped', () => {
    const v = lookup('lookup_hash_unique', base);
    const d = v.destinationFor([1n]);
    expect(d.kind === 'keyspaceIds' && hex(d.ksids[0])).toBe('166b40b44aba4bd6');
    expect(v.destinationFor(['abc'])).toEqual({ kind: 'none' });
  });

  it('lookup_unicodeloosemd5_hash looks up the uint64 of md5(collation key)', () => {
    const v = lookup('lookup_unicodeloosemd5_hash', base);
    // unicodeloosemd5_test.go: md5 key of "Test" starts 0b5edbb401fd7524.
    expect(v.fromValue('TEST')).toBe(0x0b5edbb401fd7524n);
    expect(lookup('lookup', base).fromValue('TEST')).toBe('TEST');
  });

  it('reports missing table/from/to and bad booleans with paths', () => {
    const issues = validateVSchema({
      keyspaces: { ks: { sharded: true, vindexes: { l: { type: 'lookup', params: { from: 'a', write_only: 'yes' } } } } },
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'keyspaces.ks.vindexes.l.params',
      'keyspaces.ks.vindexes.l.params',
      'keyspaces.ks.vindexes.l.params.write_only',
    ]);
    expect(() => lookup('lookup', {})).toThrow(VSchemaError);
  });
});
