import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseBytes, parseConfig } from '../src/config.js';

const valid = {
  listen: { mysql: '127.0.0.1:15306', http: '127.0.0.1:15000' },
  users: [{ user: 'app', password: 'secret' }],
  workload: 'oltp',
  vschema: './vschema.json',
  keyspaces: {
    commerce: { schema: './commerce.sql', shards: { '-80': 'local', '80-': 'mysql://u:p%40ss@127.0.0.1:3307/commerce' } },
  },
};

function issuesOf(raw: unknown): { path: string; message: string }[] {
  try {
    parseConfig(raw, '/etc/shardgate/gw.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('bounds the packets of all connections at maxPacketMemory, 256MiB by default', () => {
    expect(parseConfig(valid, '/etc/shardgate/gw.yaml').maxPacketMemory).toBe(256 * 1024 * 1024);
    expect(parseConfig({ ...valid, maxPacketMemory: '1GiB' }, '/etc/shardgate/gw.yaml').maxPacketMemory).toBe(1024 * 1024 * 1024);
    expect(issuesOf({ ...valid, maxPacketMemory: '1KiB' }).map((i) => i.path)).toEqual(['maxPacketMemory']);
    expect(issuesOf({ ...valid, maxPacketMemory: 'lots' }).map((i) => i.path)).toEqual(['maxPacketMemory']);
  });

  it('bounds client packets at maxAllowedPacket, 16MiB by default as in MariaDB', () => {
    expect(parseConfig(valid, '/etc/shardgate/gw.yaml').maxAllowedPacket).toBe(16 * 1024 * 1024);
    expect(parseConfig({ ...valid, maxAllowedPacket: '4M' }, '/etc/shardgate/gw.yaml').maxAllowedPacket).toBe(4 * 1024 * 1024);
    expect(parseConfig({ ...valid, maxAllowedPacket: 65536 }, '/etc/shardgate/gw.yaml').maxAllowedPacket).toBe(65536);
    expect(issuesOf({ ...valid, maxAllowedPacket: 100 }).map((i) => i.path)).toEqual(['maxAllowedPacket']);
    expect(issuesOf({ ...valid, maxAllowedPacket: '2GiB' }).map((i) => i.path)).toEqual(['maxAllowedPacket']);
    expect(issuesOf({ ...valid, maxAllowedPacket: 'big' }).map((i) => i.path)).toEqual(['maxAllowedPacket']);
  });

  it('reads waitTimeoutMs, with MariaDB’s wait_timeout default of 8 hours, in whole seconds', () => {
    expect(parseConfig(valid, '/etc/shardgate/gw.yaml').waitTimeoutMs).toBe(28_800_000);
    expect(parseConfig({ ...valid, waitTimeoutMs: 60_000 }, '/etc/shardgate/gw.yaml').waitTimeoutMs).toBe(60_000);
    expect(issuesOf({ ...valid, waitTimeoutMs: 999 }).map((i) => i.path)).toEqual(['waitTimeoutMs']);
    expect(issuesOf({ ...valid, waitTimeoutMs: -1 }).map((i) => i.path)).toContain('waitTimeoutMs');
  });

  it('reads connectTimeoutMs and netReadTimeoutMs, with MariaDB’s defaults 10000 and 30000', () => {
    const d = parseConfig(valid, '/etc/shardgate/gw.yaml');
    expect([d.connectTimeoutMs, d.netReadTimeoutMs]).toEqual([10_000, 30_000]);
    const c = parseConfig({ ...valid, connectTimeoutMs: 2000, netReadTimeoutMs: 500 }, '/etc/shardgate/gw.yaml');
    expect([c.connectTimeoutMs, c.netReadTimeoutMs]).toEqual([2000, 500]);
    expect(issuesOf({ ...valid, connectTimeoutMs: 0, netReadTimeoutMs: -1 }).map((i) => i.path).sort()).toEqual(['connectTimeoutMs', 'netReadTimeoutMs']);
  });

  it('reads connectionIds, a range of 1 to 2^32 - 1 that a gateway hands its client connections', () => {
    expect(parseConfig(valid, '/etc/shardgate/gw.yaml').connectionIds).toBeUndefined();
    expect(parseConfig({ ...valid, connectionIds: { first: 1_000_000_001, last: 2_000_000_000 } }, '/etc/shardgate/gw.yaml').connectionIds).toEqual({ first: 1_000_000_001, last: 2_000_000_000 });
    for (const bad of [{ first: 0, last: 10 }, { first: 10, last: 9 }, { first: 1, last: 2 ** 32 }, { first: 1 }, { first: 1, last: 5, step: 2 }, 7, '1-5']) {
      expect(issuesOf({ ...valid, connectionIds: bad }).map((i) => i.path)).toEqual(['connectionIds']);
    }
  });

  it('reads planWorkers and planTimeoutMs, with defaults 2 and 5000', () => {
    const d = parseConfig(valid, '/etc/shardgate/gw.yaml');
    expect([d.planWorkers, d.planTimeoutMs]).toEqual([2, 5000]);
    const c = parseConfig({ ...valid, planWorkers: 0, planTimeoutMs: 250 }, '/etc/shardgate/gw.yaml');
    expect([c.planWorkers, c.planTimeoutMs]).toEqual([0, 250]);
    expect(issuesOf({ ...valid, planWorkers: -1, planTimeoutMs: 0 }).map((i) => i.path)).toEqual(['planTimeoutMs', 'planWorkers']);
  });

  it('accepts the documented keys and resolves paths from the config folder', () => {
    const c = parseConfig(valid, '/etc/shardgate/gw.yaml');
    expect(c.listen.mysql).toEqual({ host: '127.0.0.1', port: 15306 });
    expect(c.listen.http).toEqual({ host: '127.0.0.1', port: 15000 });
    expect(c.vschemaFile).toBe('/etc/shardgate/vschema.json');
    const ks = c.keyspaces.get('commerce')!;
    expect(ks.schemaFile).toBe('/etc/shardgate/commerce.sql');
    expect(ks.shards.get('-80')).toEqual({ kind: 'local' });
    expect(ks.shards.get('80-')).toEqual({ kind: 'remote', host: '127.0.0.1', port: 3307, user: 'u', password: 'p@ss', database: 'commerce' });
    expect(c.workload).toBe('oltp');
    expect(c.planCache.variant).toBe('sharded');
  });

  it('reports each wrong key by its path', () => {
    const issues = issuesOf({
      ...valid,
      workload: 'batch',
      listen: { mysql: 'nope' },
      users: [{ password: 'x' }],
      keyspaces: { commerce: { shards: { 'zz-80': 'local', '80-': 'postgres://x/y' } } },
      planCache: { variant: 'lfu', maxCost: 'lots' },
      extra: 1,
    });
    const paths = issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      [
        'extra',
        'keyspaces.commerce.shards.80-',
        'keyspaces.commerce.shards.zz-80',
        'listen.mysql',
        'planCache.maxCost',
        'planCache.variant',
        'users[0].user',
        'workload',
      ].sort(),
    );
  });

  it('requires vschema, users and keyspaces', () => {
    const paths = issuesOf({}).map((i) => i.path).sort();
    expect(paths).toEqual(['keyspaces', 'users', 'vschema']);
  });

  it('loads YAML and JSON files and reports unreadable or malformed files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-config-'));
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify(valid));
    expect(loadConfig(path.join(dir, 'a.json')).users[0].user).toBe('app');
    writeFileSync(path.join(dir, 'b.yaml'), 'users: [ { user: app, password: secret }\n');
    expect(() => loadConfig(path.join(dir, 'b.yaml'))).toThrow(/not valid YAML/);
    expect(() => loadConfig(path.join(dir, 'missing.yaml'))).toThrow(/cannot read/);
  });

  it('parses byte sizes', () => {
    expect(parseBytes('32MiB')).toBe(32 * 1024 * 1024);
    expect(parseBytes('1kb')).toBe(1024);
    expect(parseBytes(500)).toBe(500);
    expect(parseBytes('many')).toBeUndefined();
  });
});
