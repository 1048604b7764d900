/**
 * The `mariadb` npm connector against the gateway, the way pools use it: TLS with a CA, a
 * requireTls user, conn.reset() (COM_RESET_CONNECTION) between borrowers, binary-protocol
 * execute, and a pool. One real MariaDB shard behind the gateway. (The connector refuses its own
 * changeUser() on servers that announce MySQL, as the gateway does, for MySQL bug #83472;
 * COM_CHANGE_USER is covered with mysql2 in session-reset.int.test.ts.)
 */
import * as mariadb from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempGateway, type TempGateway } from './support/temp-gateway.js';

let gw: TempGateway;
let port: number;
let ca: string;

beforeAll(async () => {
  gw = await startTempGateway({
    prefix: 'sg-mariadb-connector-',
    selfSignedCert: true,
    files: {
      'vschema.json': JSON.stringify({ keyspaces: { main: { sharded: false, tables: { notes: {} } } } }),
      'main.sql': 'CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(64)) ENGINE=InnoDB;',
    },
    config: {
      listen: { mysql: '127.0.0.1:0', http: null },
      users: [
        { user: 'app', password: 'secret' },
        { user: 'secure', password: 'pw', requireTls: true },
      ],
      tls: { cert: './gw.pem', key: './gw.key' },
      vschema: './vschema.json',
      keyspaces: { main: { schema: './main.sql', shards: { '0': 'local' } } },
    },
  });
  port = gw.port;
  ca = gw.ca!;
});

afterAll(async () => {
  await gw?.stop();
});

const login = () => ({ host: '127.0.0.1', port, database: 'main', user: 'app', password: 'secret' });

describe('the mariadb connector', () => {
  it('connects over TLS with the gateway CA; a requireTls user is refused without TLS', async () => {
    await expect(mariadb.createConnection({ ...login(), user: 'secure', password: 'pw' })).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
    const conn = await mariadb.createConnection({ ...login(), user: 'secure', password: 'pw', ssl: { ca } });
    try {
      expect(conn.info?.isMariaDB?.() === true || conn.info?.serverVersion !== undefined).toBe(true);
      await conn.query('insert into notes values (?, ?)', [1, 'over tls']);
      expect(await conn.query('select id, body from notes where id = 1')).toEqual([{ id: 1, body: 'over tls' }]);
    } finally {
      await conn.end();
    }
  });

  it('reset() rolls back the open transaction and drops user variables; the connection stays usable', async () => {
    const conn = await mariadb.createConnection(login());
    try {
      await conn.beginTransaction();
      await conn.query("insert into notes values (2, 'rolled back')");
      await conn.query('set @borrower = 42');
      await conn.reset();
      const [row] = await conn.query('select @borrower as v, @@autocommit as ac');
      expect(row).toEqual({ v: null, ac: 1n });
      expect(await conn.query('select count(*) as n from notes where id = 2')).toEqual([{ n: 0n }]);
      await conn.query("insert into notes values (3, 'after reset')");
      expect(await conn.query('select body from notes where id = 3')).toEqual([{ body: 'after reset' }]);
    } finally {
      await conn.end();
    }
  });

  it('a pool runs binary-protocol execute and text queries across borrowers', async () => {
    const pool = mariadb.createPool({ ...login(), connectionLimit: 4 });
    try {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => pool.execute('insert into notes values (?, ?)', [100 + i, `row ${i}`])),
      );
      const rows = await pool.execute('select id, body from notes where id >= ? order by id', [100]);
      expect(rows.map((r: { id: number }) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => 100 + i));
      const [count] = await pool.query('select count(*) as n from notes where id >= 100');
      expect(count).toEqual({ n: 12n });
    } finally {
      await pool.end();
    }
  });
});
