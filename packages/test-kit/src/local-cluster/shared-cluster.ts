import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { LocalCluster, quoteIdent, type LocalClusterOptions, type SchemaSql, type ShardConnectionOptions } from '@shardgate/local-mariadb';

/** Serialisable description of a running cluster: what a vitest globalSetup `provide`s to test files. */
export interface SharedClusterInfo {
  shards: { name: string; host: string; port: number; user: string; password: string; database: string }[];
}

/** The part of vitest's TestProject that startSharedCluster needs (so this package does not depend on vitest). */
export interface ProvideTarget {
  provide(key: string, value: unknown): void;
}

export const SHARED_CLUSTER_KEY = 'shardgateCluster';

export function describeCluster(cluster: LocalCluster): SharedClusterInfo {
  return { shards: cluster.shards.map((s) => ({ name: s.name, ...s.connectionOptions() })) };
}

/**
 * For a vitest globalSetup: starts one LocalCluster for the whole run, provides its connection info
 * under `key` (default "shardgateCluster"), and returns the teardown that stops it.
 *
 *   // vitest.global-setup.ts
 *   export default (project: TestProject) => startSharedCluster(project, { shards: ['-80', '80-'] });
 */
export async function startSharedCluster(
  project: ProvideTarget,
  opts: LocalClusterOptions,
  key: string = SHARED_CLUSTER_KEY,
): Promise<() => Promise<void>> {
  const cluster = await LocalCluster.start(opts);
  project.provide(key, describeCluster(cluster));
  return () => cluster.stop();
}

export interface FreshDatabase {
  /** The generated database name (same on every shard). */
  name: string;
  /** Connection options per shard, pointing at the fresh database. */
  shards: (ShardConnectionOptions & { name: string })[];
  shard(name: string): ShardConnectionOptions;
  /** Drops the database on every shard. */
  drop(): Promise<void>;
}

let counter = 0;

/**
 * Creates a database named `<prefix>_<pid>_<n>_<random>` on every shard of a (shared) cluster and
 * applies the schema, so test files sharing one cluster never see each other's tables.
 */
export async function freshDatabase(
  cluster: LocalCluster | SharedClusterInfo,
  prefix: string,
  opts: { schema?: SchemaSql } = {},
): Promise<FreshDatabase> {
  const info = cluster instanceof LocalCluster ? describeCluster(cluster) : cluster;
  const safePrefix = prefix.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 32) || 'db';
  const name = `${safePrefix}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  const shards = info.shards.map((s) => ({ name: s.name, host: s.host, port: s.port, user: s.user, password: s.password, database: name }));
  await Promise.all(
    shards.map(async (s) => {
      const conn = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, multipleStatements: true });
      try {
        await conn.query(`CREATE DATABASE ${quoteIdent(name)}`);
        await conn.query(`USE ${quoteIdent(name)}`);
        const scripts = opts.schema === undefined ? [] : typeof opts.schema === 'string' ? [opts.schema] : opts.schema;
        for (const sql of scripts) if (sql.trim() !== '') await conn.query(sql);
      } finally {
        conn.destroy();
      }
    }),
  );
  return {
    name,
    shards,
    shard(shardName) {
      const s = shards.find((x) => x.name === shardName);
      if (s === undefined) throw new Error(`no shard named ${JSON.stringify(shardName)}`);
      const { name: _ignored, ...options } = s;
      return options;
    },
    async drop() {
      await Promise.all(
        shards.map(async (s) => {
          const conn = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password });
          try {
            await conn.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
          } finally {
            conn.destroy();
          }
        }),
      );
    },
  };
}
