/** Builds an Executor over a fresh database of the shared cluster (see global-setup.ts). */
import { inject } from 'vitest';
import mysql from 'mysql2/promise';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import { loadVSchema } from '@shardgate/vschema';
import { Executor, type ExecutorDefaults, type PlannerLike, type ShardConnectionOptions } from '../../src/index.js';

export const COMMERCE_SHARDS = ['-40', '40-80', '80-c0', 'c0-'] as const;

export const COMMERCE_VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: {
        customer: { column_vindexes: [{ column: 'id', name: 'hash' }], auto_increment: { column: 'id', sequence: 'main.customer_seq' } },
        orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
        country: { type: 'reference' },
      },
    },
    main: { sharded: false, tables: { customer_seq: { type: 'sequence' }, product: {} } },
  },
};

export const SCHEMA = [
  `create table customer (id bigint not null primary key, name varchar(64) collate utf8mb4_general_ci, balance decimal(14,2), created datetime, score double) engine=innodb`,
  `create table orders (id bigint not null primary key, customer_id bigint not null, amount decimal(12,2), note varchar(64)) engine=innodb`,
  `create table country (code char(2) primary key, name varchar(64)) engine=innodb`,
  `create table customer_seq (id int primary key, next_id bigint, cache bigint) engine=innodb`,
  `insert into customer_seq values (0, 1000, 100)`,
  `create table product (id bigint primary key, title varchar(64)) engine=innodb`,
];

export interface TestCluster {
  db: FreshDatabase;
  topology: Record<string, Record<string, ShardConnectionOptions>>;
  vschema: ReturnType<typeof loadVSchema>;
  executor(planner: PlannerLike, defaults?: ExecutorDefaults): Executor;
  /** A direct connection to one server (bypassing the executor). */
  direct(server: string): Promise<mysql.Connection>;
  drop(): Promise<void>;
}

/** `schema` and `vschema` replace the commerce ones (a test of its own tables). */
export async function testCluster(prefix: string, own: { schema?: readonly string[]; vschema?: unknown } = {}): Promise<TestCluster> {
  const info = inject('shardgateCluster');
  const db = await freshDatabase(info, prefix, { schema: [...(own.schema ?? SCHEMA)] });
  const topology: Record<string, Record<string, ShardConnectionOptions>> = {
    commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s), poolSize: 4 }])),
    main: { '0': { ...db.shard('main'), poolSize: 4 } },
  };
  const vschema = loadVSchema((own.vschema ?? COMMERCE_VSCHEMA) as typeof COMMERCE_VSCHEMA);
  const executors: Executor[] = [];
  const conns: mysql.Connection[] = [];
  return {
    db,
    topology,
    vschema,
    executor(planner, defaults) {
      const e = new Executor({ vschema, planner, topology, defaults });
      executors.push(e);
      return e;
    },
    async direct(server) {
      const c = await mysql.createConnection({ ...db.shard(server), supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
      conns.push(c);
      return c;
    },
    async drop() {
      await Promise.all(executors.map((e) => e.close()));
      await Promise.all(conns.map((c) => c.end()));
      await db.drop();
    },
  };
}
