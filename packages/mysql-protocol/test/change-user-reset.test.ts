import { afterEach, describe, expect, it } from 'vitest';
import { comResetConnection, isOkPacket, parseErr, RawMysqlClient } from '../src/testing/packets.js';
import { PASSWORD, startServer, USER, type TestServer } from './helpers.js';

describe('COM_CHANGE_USER and COM_RESET_CONNECTION', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('mysql2 changeUser ends the old session and authenticates again into a fresh one with the new database', async () => {
    t = await startServer();
    const c = await t.connect({ database: 'd1' });
    await c.changeUser({ user: USER, password: PASSWORD, database: 'd2' });
    expect(t.sessions.map((s) => [s.info.user, s.closeCalls])).toEqual([
      [USER, 1],
      [USER, 0],
    ]);
    expect(t.sessions[1].info.database).toBe('d2');
    const [rows] = await c.query('select 1');
    expect(rows).toEqual([{ 1: '1' }]);
    expect(t.sessions[1].queries).toEqual(['select 1']);
    await c.changeUser({ user: USER, password: PASSWORD });
    expect(t.sessions.map((s) => s.closeCalls)).toEqual([1, 1, 0]);
    await c.end();
    expect(t.errors).toEqual([]);
  });

  it('a wrong password on changeUser gets 1045 worded as MariaDB, and the connection is closed', async () => {
    t = await startServer();
    const c = await t.connect();
    await expect(c.changeUser({ user: USER, password: 'wrong' })).rejects.toMatchObject({
      errno: 1045,
      sqlState: '28000',
      message: `Access denied for user '${USER}'@'127.0.0.1' (using password: YES)`,
    });
    expect(t.sessions[0].closeCalls).toBe(1);
    await expect(c.query('select 1')).rejects.toThrow();
    c.destroy();
  });

  it('COM_RESET_CONNECTION without a session reset of its own replaces the session, keeping user and database', async () => {
    t = await startServer();
    const { client } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD, database: 'd1' });
    client.send(comResetConnection());
    const reply = await client.nextPacket();
    expect(isOkPacket(reply.payload), isOkPacket(reply.payload) ? '' : parseErr(reply.payload).message).toBe(true);
    expect(t.sessions.map((s) => [s.info.user, s.info.database, s.closeCalls])).toEqual([
      [USER, 'd1', 1],
      [USER, 'd1', 0],
    ]);
    client.close();
  });
});
