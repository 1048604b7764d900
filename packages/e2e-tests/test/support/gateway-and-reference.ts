/**
 * A gateway and one plain MariaDB holding the same schema, side by side: the setup of every
 * differential test that compares the gateway's answers with one server's.
 */
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { startGateway, type GatewaySpec, type RunningGateway } from './gateway-harness.js';

/** Both clients read BIGINT and DECIMAL as exact strings and dates as text, so answers compare exactly. */
const EXACT_VALUES = { supportBigNumbers: true, bigNumberStrings: true, dateStrings: true } as const;

export interface GatewayAndReference {
  readonly gw: RunningGateway;
  readonly reference: LocalCluster;
  /** A connection to the plain MariaDB, in `database`. */
  readonly ref: mysql.Connection;
  /** A connection to the gateway, in `database`. */
  readonly sub: mysql.Connection;
  /** Runs each statement on the gateway and on the plain MariaDB (test data). */
  loadBoth(statements: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface ReferenceOptions {
  /**
   * More databases on the reference, name → schema (`;`-separated statements): another keyspace's
   * tables in a database of its own, as the gateway's `ks.table` names them.
   */
  readonly otherDatabases?: Readonly<Record<string, string>>;
}

/**
 * Starts the gateway of `spec` and a one-server reference whose database `database` holds
 * `schema` (the sharded keyspace's tables), in parallel.
 */
export async function startGatewayAndReference(spec: GatewaySpec, database: string, schema: string, options: ReferenceOptions = {}): Promise<GatewayAndReference> {
  const [gw, reference] = await Promise.all([startGateway(spec), LocalCluster.start({ shards: ['reference'], database, schema })]);
  if (options.otherDatabases !== undefined) {
    const admin = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), multipleStatements: true });
    try {
      for (const [name, sql] of Object.entries(options.otherDatabases)) await admin.query(`create database \`${name}\`; use \`${name}\`; ${sql}`);
    } finally {
      await admin.end();
    }
  }
  const ref = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), ...EXACT_VALUES });
  const sub = await gw.connect({ database, ...EXACT_VALUES });
  return {
    gw,
    reference,
    ref,
    sub,
    loadBoth: async (statements) => {
      for (const s of statements) {
        await ref.query(s);
        await sub.query(s);
      }
    },
    stop: async () => {
      await ref.end().catch(() => undefined);
      await sub.end().catch(() => undefined);
      await Promise.all([gw.stop(), reference.stop()]);
    },
  };
}
