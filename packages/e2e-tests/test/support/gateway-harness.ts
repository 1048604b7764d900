/**
 * Starts an in-process shardgate gateway on fresh local MariaDB shards, the way a new user would:
 * write a vschema and a config, then `new Gateway(parseConfig(...)).start()`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Gateway, parseConfig } from '@shardgate/gateway';

export const USER = 'app';
export const PASSWORD = 'secret';

export interface KeyspaceSpec {
  /** Shard names: key ranges such as '-80', '80-', or ['0'] for an unsharded keyspace. */
  shards: readonly string[];
  /** SQL applied to every shard at start (optional: tests may create tables through the gateway). */
  schema?: string;
}

export interface GatewaySpec {
  /** A Vitess-format vschema: `{ keyspaces: { ks: { sharded, vindexes, tables } } }`. */
  vschema: { keyspaces: Record<string, unknown> };
  keyspaces: Record<string, KeyspaceSpec>;
  /** Extra top-level config keys (workload, poolSize, transactionMode…). */
  config?: Record<string, unknown>;
}

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly port: number;
  /** mysql2 options for a client of the gateway (BIGINT and DECIMAL as exact strings). */
  clientOptions(extra?: mysql.ConnectionOptions): mysql.ConnectionOptions;
  connect(extra?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  /** A direct connection to one shard's MariaDB, bypassing the gateway (to check placement). */
  connectShard(keyspace: string, shard: string): Promise<mysql.Connection>;
  stop(): Promise<void>;
}

export async function startGateway(spec: GatewaySpec): Promise<RunningGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-e2e-'));
  writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(spec.vschema));
  const keyspaces: Record<string, unknown> = {};
  for (const [name, ks] of Object.entries(spec.keyspaces)) {
    const entry: Record<string, unknown> = { shards: Object.fromEntries(ks.shards.map((s) => [s, 'local'])) };
    if (ks.schema !== undefined) {
      writeFileSync(path.join(dir, `${name}.sql`), ks.schema);
      entry.schema = `./${name}.sql`;
    }
    keyspaces[name] = entry;
  }
  const config = parseConfig(
    {
      listen: { mysql: '127.0.0.1:0', http: null },
      users: [{ user: USER, password: PASSWORD }],
      vschema: './vschema.json',
      keyspaces,
      ...spec.config,
    },
    path.join(dir, 'shardgate.yaml'),
  );
  const gateway = new Gateway(config);
  let port: number;
  try {
    port = (await gateway.start()).mysql.port;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const clientOptions = (extra: mysql.ConnectionOptions = {}): mysql.ConnectionOptions => ({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: true,
    ...extra,
  });
  return {
    gateway,
    port,
    clientOptions,
    connect: (extra) => mysql.createConnection(clientOptions(extra)),
    connectShard: (keyspace, shard) => {
      const o = gateway.topology[keyspace][shard];
      return mysql.createConnection({ host: o.host, port: o.port, user: o.user, password: o.password, database: o.database, supportBigNumbers: true, bigNumberStrings: true });
    },
    stop: async () => {
      try {
        await gateway.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A `hash`-vindexed sharded keyspace whose tables are all sharded by the given column. */
export function hashKeyspace(tables: Record<string, string>): Record<string, unknown> {
  return {
    sharded: true,
    vindexes: { hash: { type: 'hash' } },
    tables: Object.fromEntries(Object.entries(tables).map(([t, col]) => [t, { column_vindexes: [{ column: col, name: 'hash' }] }])),
  };
}
