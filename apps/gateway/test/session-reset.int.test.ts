/**
 * COM_CHANGE_USER and COM_RESET_CONNECTION through the gateway, against real MariaDB: both end the
 * client's session (an open transaction is rolled back, user and session variables are dropped).
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comQuery, comResetConnection, isOkPacket, parseTextRow, RawMysqlClient } from '@shardgate/mysql-protocol/testing';
import { startTempGateway, type TempGateway } from './support/temp-gateway.js';

let gw: TempGateway;
let port: number;
const login = { host: '127.0.0.1', user: 'app', password: 'secret', database: 'main' };

beforeAll(async () => {
  gw = await startTempGateway({
    prefix: 'sg-reset-int-',
    files: {
      'vschema.json': JSON.stringify({ keyspaces: { main: { sharded: false, tables: { settings: {} } } } }),
      'main.sql': 'CREATE TABLE settings (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB;',
    },
    config: {
      listen: { mysql: '127.0.0.1:0', http: null },
      users: [{ user: 'app', password: 'secret' }],
      vschema: './vschema.json',
      keyspaces: { main: { schema: './main.sql', shards: { '0': 'local' } } },
    },
  });
  port = gw.port;
});

afterAll(async () => {
  await gw?.stop();
});

describe('session reset through the gateway', () => {
  it('mysql2 changeUser rolls back the open transaction and drops user and session variables', async () => {
    const c = await mysql.createConnection({ ...login, port });
    const observer = await mysql.createConnection({ ...login, port });
    const [[fresh]] = await observer.query<mysql.RowDataPacket[]>('select @@time_zone as tz');
    await c.query("set @a = 1, session time_zone = '+03:00'");
    await c.query('begin');
    await c.query("insert into settings values ('change-user', 'x')");
    await c.changeUser({ user: 'app', password: 'secret', database: 'main' });
    expect(fresh.tz).not.toBe('+03:00');
    const [rows] = await c.query<mysql.RowDataPacket[]>('select @a as a, @@time_zone as tz');
    expect(rows).toEqual([{ a: null, tz: fresh.tz }]);
    const [left] = await observer.query<mysql.RowDataPacket[]>("select count(*) as n from settings where k = 'change-user'");
    expect(left).toEqual([{ n: 0 }]);
    await c.end();
    await observer.end();
  });

  it('COM_RESET_CONNECTION rolls back and drops user variables, keeping user and database', async () => {
    const { client } = await RawMysqlClient.login(port, { user: 'app', password: 'secret', database: 'main' });
    const query = async (sql: string) => {
      client.send(comQuery(sql));
      return client.readResult();
    };
    await query('set @b = 2');
    await query('begin');
    await query("insert into settings values ('reset', 'y')");
    client.send(comResetConnection());
    expect(isOkPacket((await client.nextPacket()).payload)).toBe(true);
    const result = await query("select @b, database(), (select count(*) from settings where k = 'reset')");
    expect(parseTextRow(result.rows[0], 3)).toEqual([null, 'main', '0']);
    client.close();
  });
});
