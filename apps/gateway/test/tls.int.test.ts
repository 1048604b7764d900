/** TLS and caching_sha2_password through the gateway's config keys, against a real MariaDB shard. */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempGateway, type TempGateway } from './support/temp-gateway.js';

let gw: TempGateway;
let port: number;
let ca: string;

beforeAll(async () => {
  gw = await startTempGateway({
    prefix: 'sg-tls-int-',
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
        { user: 'sha2', password: 'sha2-pw', plugin: 'caching_sha2_password' },
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

describe('TLS through the gateway', () => {
  it('a requireTls user writes and reads over TLS and is refused over plain TCP; a plain user still connects', async () => {
    const login = { host: '127.0.0.1', port, database: 'main' };
    await expect(mysql.createConnection({ ...login, user: 'secure', password: 'pw' })).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
    const secure = await mysql.createConnection({ ...login, user: 'secure', password: 'pw', ssl: { ca } });
    await secure.query("insert into notes values (1, 'over tls')");
    const plain = await mysql.createConnection({ ...login, user: 'app', password: 'secret' });
    const [rows] = await plain.query('select id, body from notes');
    expect(rows).toEqual([{ id: 1, body: 'over tls' }]);
    await secure.end();
    await plain.end();
  });

  it('a caching_sha2_password user logs in over plain TCP (RSA, then fast auth) and over TLS', async () => {
    const login = { host: '127.0.0.1', port, database: 'main', user: 'sha2', password: 'sha2-pw' };
    for (const options of [{}, {}, { ssl: { ca } }]) {
      const c = await mysql.createConnection({ ...login, ...options });
      const [rows] = await c.query('select count(*) as n from notes');
      expect(rows).toEqual([{ n: 1 }]);
      await c.end();
    }
    await expect(mysql.createConnection({ ...login, password: 'wrong' })).rejects.toMatchObject({ errno: 1045, sqlState: '28000' });
  });
});
