/**
 * information_schema through the gateway: a query that compares `table_schema` (or `schema_name`)
 * with keyspace names is answered by those keyspaces' shards, whatever the session's keyspace, as
 * schema tools and ORMs expect (knex hasTable, TypeORM and Sequelize introspection).
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempGateway, type TempGateway } from './support/temp-gateway.js';

const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: { settings: {}, audit: {} } },
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] }, orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] } },
    },
  },
};

let gw: TempGateway;
let port: number;

async function connect(database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', ...(database ? { database } : {}) });
}

async function names(conn: mysql.Connection, sql: string, params?: unknown[]): Promise<string[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(sql, params);
  return rows.map((r) => String(Object.values(r)[0])).sort();
}

beforeAll(async () => {
  gw = await startTempGateway({
    prefix: 'sg-gw-infoschema-',
    files: {
      'vschema.json': JSON.stringify(VSCHEMA),
      'commerce.sql': 'CREATE TABLE customer (id BIGINT PRIMARY KEY, name VARCHAR(64)); CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT);',
      'main.sql': 'CREATE TABLE settings (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64)); CREATE TABLE audit (id BIGINT PRIMARY KEY);',
    },
    config: {
      listen: { mysql: '127.0.0.1:0', http: null },
      users: [{ user: 'app', password: 'secret' }],
      vschema: './vschema.json',
      keyspaces: {
        commerce: { schema: './commerce.sql', shards: { '-80': 'local', '80-': 'local' } },
        main: { schema: './main.sql', shards: { '0': 'local' } },
      },
    },
  });
  port = gw.port;
});

afterAll(async () => {
  await gw?.stop();
});

describe('information_schema queries that name keyspaces', () => {
  it('from commerce: table_schema in (commerce, main) lists the tables of both', async () => {
    const c = await connect('commerce');
    try {
      expect(await names(c, "select table_name from information_schema.tables where table_schema in ('commerce', 'main')")).toEqual(['audit', 'customer', 'orders', 'settings']);
      expect(await names(c, "select table_name from information_schema.tables where table_schema = 'main'")).toEqual(['audit', 'settings']);
      // The schema column shows the keyspace each row belongs to.
      const [rows] = await c.query<mysql.RowDataPacket[]>("select table_schema as s, table_name as t from information_schema.tables where table_schema in ('main', 'commerce')");
      expect(rows.map((r) => `${r.s}.${r.t}`).sort()).toEqual(['commerce.customer', 'commerce.orders', 'main.audit', 'main.settings']);
    } finally {
      await c.end();
    }
  });

  it('from main: table_schema = commerce lists commerce tables; database() stays the session keyspace', async () => {
    const c = await connect('main');
    try {
      expect(await names(c, "select table_name from information_schema.tables where table_schema = 'commerce'")).toEqual(['customer', 'orders']);
      expect(await names(c, 'select table_name from information_schema.tables where table_schema = database()')).toEqual(['audit', 'settings']);
      // knex's hasTable: a prepared statement with the keyspace as a parameter.
      const [rows] = await c.execute<mysql.RowDataPacket[]>('select * from information_schema.tables where table_name = ? and table_schema = ?', ['customer', 'commerce']);
      expect(rows.map((r) => r.TABLE_NAME)).toEqual(['customer']);
      // Columns of a table of another keyspace (TypeORM, Sequelize describe), in order.
      expect(
        (await c.query<mysql.RowDataPacket[]>("select column_name as c from information_schema.columns where table_schema = 'commerce' and table_name = 'customer' order by ordinal_position"))[0].map((r) => r.c),
      ).toEqual(['id', 'name']);
    } finally {
      await c.end();
    }
  });

  it('from commerce: table_schema = database() still lists the session keyspace', async () => {
    const c = await connect('commerce');
    try {
      expect(await names(c, 'select table_name from information_schema.tables where table_schema = database()')).toEqual(['customer', 'orders']);
      expect(await names(c, "select count(*) from information_schema.tables where table_schema = 'main'")).toEqual(['2']);
      // EXPLAIN writes its values into its text: it is explained on the session keyspace's shard.
      const [plan] = await c.query<mysql.RowDataPacket[]>("explain select table_name from information_schema.tables where table_schema = 'main'");
      expect(plan.length).toBeGreaterThan(0);
    } finally {
      await c.end();
    }
  });

  it('schemata lists each keyspace asked for', async () => {
    const c = await connect('commerce');
    try {
      expect(await names(c, "select schema_name from information_schema.schemata where schema_name in ('commerce', 'main')")).toEqual(['commerce', 'main']);
      expect(await names(c, "select schema_name from information_schema.schemata where schema_name = 'main'")).toEqual(['main']);
    } finally {
      await c.end();
    }
  });

  it('a name that is no keyspace is asked of the session keyspace, as before', async () => {
    const c = await connect('commerce');
    try {
      expect(await names(c, "select schema_name from information_schema.schemata where schema_name = 'information_schema'")).toEqual(['information_schema']);
      expect(await names(c, "select table_name from information_schema.tables where table_schema = 'no_such_db'")).toEqual([]);
      // A keyspace and another name: the keyspace's shard answers for it, the session's for the other.
      expect(await names(c, "select schema_name from information_schema.schemata where schema_name in ('main', 'information_schema')")).toEqual(['information_schema', 'main']);
    } finally {
      await c.end();
    }
  });

  it('refuses what one shard per keyspace cannot answer with 1235', async () => {
    const c = await connect('commerce');
    try {
      await expect(c.query("select count(*) from information_schema.tables where table_schema in ('commerce', 'main')")).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
      await expect(
        c.query("select t.table_name from information_schema.tables t join information_schema.columns c on c.table_name = t.table_name where t.table_schema = 'commerce' and c.table_schema = 'main'"),
      ).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    } finally {
      await c.end();
    }
  });
});
