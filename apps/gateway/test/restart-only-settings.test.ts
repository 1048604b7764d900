import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.js';
import { restartOnlyChanges } from '../src/restart-only-settings.js';

const base = {
  listen: { mysql: '127.0.0.1:15306', http: '127.0.0.1:15000' },
  users: [{ user: 'app', password: 'secret' }],
  vschema: './vschema.json',
  keyspaces: {
    commerce: { schema: './commerce.sql', shards: { '-80': 'local', '80-': 'local' } },
    main: { shards: { '0': 'local' } },
  },
};
const parse = (raw: unknown) => parseConfig(raw, '/etc/shardgate/gw.yaml');

describe('restartOnlyChanges', () => {
  it('is empty when only the users or the vschema path changed, or keys were reordered', () => {
    const reordered = { keyspaces: { main: base.keyspaces.main, commerce: base.keyspaces.commerce }, vschema: './other.json', users: [{ user: 'b', password: 'x' }], listen: base.listen };
    expect(restartOnlyChanges(parse(base), parse(reordered))).toEqual([]);
  });

  it('names listeners, shards, pools and limits that a reload leaves as they were', () => {
    const changed = {
      ...base,
      listen: { mysql: '127.0.0.1:15307', http: '127.0.0.1:15000' },
      keyspaces: { ...base.keyspaces, main: { shards: { '0': 'mysql://u:p@127.0.0.1:3307/main' } } },
      poolSize: 99,
      maxConnections: 10,
    };
    expect(restartOnlyChanges(parse(base), parse(changed))).toEqual(['listen', 'keyspaces', 'poolSize', 'maxConnections']);
  });
});
