import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comPing, comQuery, framePacket, handshakeResponse, packetHeader, parseErr, RawMysqlClient } from '../src/testing/packets.js';
import { PASSWORD, startServer, USER, waitFor, type TestServer } from './helpers.js';

const MAX_PACKET = 64 * 1024;

/** After each hostile client: the server is still healthy and has leaked nothing. */
async function expectHealthy(t: TestServer): Promise<void> {
  await waitFor(() => t.server.connectionCount === 0, 'all connections to close');
  for (const s of t.sessions) expect(s.closeCalls).toBe(1);
  const c = await t.connect();
  const [rows] = await c.query('select 1');
  expect(rows).toEqual([{ '1': '1' }]);
  await c.end();
  await waitFor(() => t.server.connectionCount === 0, 'the check connection to close');
}

describe('robustness against hostile or broken clients', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(() => ({}), { maxPacketSize: MAX_PACKET, connectTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await t.close();
    // Hostile clients are answered by protocol errors, never by internal failures reported to onError.
    expect(t.errors).toEqual([]);
  });

  it('survives a client that closes before the handshake', async () => {
    for (let i = 0; i < 5; i++) {
      const s = connect(t.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('connect', () => s.destroy());
    }
    const early = await RawMysqlClient.connect(t.port, '127.0.0.1', false);
    early.close();
    await expectHealthy(t);
  });

  it('survives garbage (an HTTP request) instead of a handshake response', async () => {
    const c = await RawMysqlClient.connect(t.port);
    c.sendRaw(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'));
    // 'GET' as a length is ~5.5 MB > maxPacketSize here: the server refuses it at once.
    const err = await c.nextPacket();
    expect(parseErr(err.payload)).toMatchObject({ errno: 1153, sqlState: '08S01' });
    await c.closed;
    await expectHealthy(t);
  });

  it('answers a well-framed but meaningless handshake response with 1043 and closes', async () => {
    const c = await RawMysqlClient.connect(t.port);
    c.send(Buffer.from('definitely not a handshake'), 1);
    expect(parseErr((await c.nextPacket()).payload)).toEqual({ errno: 1043, sqlState: '08S01', message: 'Bad handshake' });
    await c.closed;
    await expectHealthy(t);
  });

  it('closes on a handshake response with the wrong sequence id (1156)', async () => {
    const c = await RawMysqlClient.connect(t.port);
    c.send(handshakeResponse({ user: USER, password: PASSWORD, scramble: c.handshake.scramble }), 0);
    expect(parseErr((await c.nextPacket()).payload)).toMatchObject({ errno: 1156, sqlState: '08S01' });
    await c.closed;
    await expectHealthy(t);
  });

  it('closes on a command with the wrong sequence id and closes the session once', async () => {
    const { client } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    client.send(comQuery('select 1'), 3);
    expect(parseErr((await client.nextPacket()).payload).errno).toBe(1156);
    await client.closed;
    await expectHealthy(t);
  });

  it('cleans up after a truncated packet and a client that vanishes', async () => {
    const { client } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    client.sendRaw(Buffer.concat([packetHeader(100, 0), Buffer.from([0x03, 0x73, 0x65])]));
    await new Promise((r) => setTimeout(r, 20));
    client.close();
    const half = await RawMysqlClient.connect(t.port);
    half.sendRaw(framePacket(handshakeResponse({ user: USER, password: PASSWORD, scramble: half.handshake.scramble }), 1).subarray(0, 20));
    half.close();
    await expectHealthy(t);
  });

  it('rejects an oversized packet header with 1153 and closes, before and after auth', async () => {
    const { client } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    client.sendRaw(packetHeader(0xffffff, 0));
    const err = await client.nextPacket();
    expect(err.sequenceId).toBe(1);
    expect(parseErr(err.payload)).toEqual({ errno: 1153, sqlState: '08S01', message: "Got a packet bigger than 'max_allowed_packet' bytes" });
    await client.closed;

    const c = await t.connect();
    await expect(c.query('select "' + 'x'.repeat(MAX_PACKET) + '"')).rejects.toMatchObject({ errno: 1153 });
    c.destroy();
    await expectHealthy(t);
  });

  it('drops a client that never authenticates once the connect timeout passes', async () => {
    const c = await RawMysqlClient.connect(t.port);
    await c.closed; // server-side timeout (1 s here)
    await expectHealthy(t);
  });

  it('ignores bytes sent after QUIT', async () => {
    const { client } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    client.sendRaw(Buffer.concat([framePacket(Buffer.from([0x01]), 0), framePacket(comPing(), 0), Buffer.from('trailing junk')]));
    await client.closed;
    expect(client.idle).toBe(true);
    await expectHealthy(t);
  });
});
