import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';

const base = {
  users: [{ user: 'app', password: 'secret' }],
  vschema: './vschema.json',
  keyspaces: { commerce: { shards: { '0': 'local' } } },
};

function issuePaths(raw: unknown): string[] {
  try {
    parseConfig(raw, '/etc/shardgate/gw.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => i.path);
  }
  throw new Error('expected a ConfigError');
}

describe('maxConnections', () => {
  it('is unlimited when left out and taken as given otherwise', () => {
    expect(parseConfig(base, '/etc/shardgate/gw.yaml').maxConnections).toBeUndefined();
    expect(parseConfig({ ...base, maxConnections: 500 }, '/etc/shardgate/gw.yaml').maxConnections).toBe(500);
  });

  it('rejects zero, negatives and non-integers by path', () => {
    for (const bad of [0, -1, 1.5, 'many']) expect(issuePaths({ ...base, maxConnections: bad })).toEqual(['maxConnections']);
  });
});

describe('tls and users[].requireTls', () => {
  it('resolves tls paths from the config folder and reads requireTls', () => {
    const config = parseConfig(
      { ...base, users: [{ user: 'app', password: 'secret', requireTls: true }, { user: 'b', password: 'x' }], tls: { cert: 'certs/gw.pem', key: '/keys/gw.key' } },
      '/etc/shardgate/gw.yaml',
    );
    expect(config.tls).toEqual({ certFile: '/etc/shardgate/certs/gw.pem', keyFile: '/keys/gw.key', caFile: undefined });
    expect(config.users.map((u) => u.requireTls)).toEqual([true, false]);
    expect(parseConfig(base, '/etc/shardgate/gw.yaml').tls).toBeUndefined();
  });

  it('reports missing or unknown tls keys, a non-boolean requireTls, and requireTls without tls, by path', () => {
    expect(issuePaths({ ...base, tls: { cert: 'a.pem' } })).toEqual(['tls.key']);
    expect(issuePaths({ ...base, tls: { cert: 'a.pem', key: 'b.pem', passphrase: 'x' } })).toEqual(['tls.passphrase']);
    expect(issuePaths({ ...base, tls: 'a.pem' })).toEqual(['tls']);
    expect(issuePaths({ ...base, users: [{ user: 'app', password: 'x', requireTls: 'yes' }], tls: { cert: 'a', key: 'b' } })).toEqual(['users[0].requireTls']);
    expect(issuePaths({ ...base, users: [{ user: 'app', password: 'x', requireTls: true }] })).toEqual(['users']);
    expect(issuePaths({ ...base, users: [{ user: 'app', password: 'x', plugin: 'sha256_password' }] })).toEqual(['users[0].plugin']);
    expect(parseConfig({ ...base, users: [{ user: 'app', password: 'x', plugin: 'caching_sha2_password' }] }, '/etc/gw.yaml').users[0].plugin).toBe('caching_sha2_password');
  });
});
