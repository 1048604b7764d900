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
