import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { Capability } from '../src/index.js';
import { framePacket, handshakeResponse, parseHandshake, splitPackets } from '../src/testing/packets.js';
import { makeCertificate, PASSWORD, startServer, USER, type TestServer } from './helpers.js';

const run = promisify(execFile);
const MARIADB = '/usr/bin/mariadb';

describe('TLS', () => {
  let dir: string;
  let pem: { cert: string; key: string };
  let t: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardgate-tls-'));
    pem = makeCertificate(dir);
    t = await startServer(undefined, {
      tls: pem,
      lookupUser: (user) => (user === USER ? { password: PASSWORD } : user === 'secure' ? { password: 'pw', requireTls: true } : null),
    });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mysql2 with ssl: { ca } continues on TLS 1.2+ and runs queries', async () => {
    const conn = await t.connect({ ssl: { ca: pem.cert } });
    const [rows] = await conn.query('select 1');
    expect(rows).toEqual([{ 1: '1' }]);
    expect(t.sessions.at(-1)!.info.tls).toBe(true);
    const tlsSocket = (conn as unknown as { connection: { stream: { getProtocol(): string } } }).connection.stream;
    expect(['TLSv1.2', 'TLSv1.3']).toContain(tlsSocket.getProtocol());
    await conn.end();
  });

  it('a plain client still works when TLS is configured', async () => {
    const conn = await t.connect();
    const [rows] = await conn.query('select 1');
    expect(rows).toEqual([{ 1: '1' }]);
    expect(t.sessions.at(-1)!.info.tls).toBe(false);
    await conn.end();
  });

  it('requireTls: refused with 1045 (28000) over plain TCP, accepted over TLS', async () => {
    await expect(t.connect({ user: 'secure', password: 'pw' })).rejects.toMatchObject({
      errno: 1045,
      sqlState: '28000',
      message: "Access denied for user 'secure'@'127.0.0.1' (using password: YES)",
    });
    const conn = await t.connect({ user: 'secure', password: 'pw', ssl: { ca: pem.cert } });
    const [rows] = await conn.query('select 1');
    expect(rows).toEqual([{ 1: '1' }]);
    await conn.end();
  });

  it('a client refusing TLS below 1.2 is not served over TLS 1.1', async () => {
    await expect(t.connect({ ssl: { ca: pem.cert, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' } })).rejects.toThrow();
    const conn = await t.connect({ ssl: { ca: pem.cert } });
    await conn.end();
  });

  it.skipIf(!existsSync(MARIADB))('the mariadb CLI with --ssl --ssl-ca', async () => {
    const { stdout } = await run(
      MARIADB,
      ['--no-defaults', '-h', '127.0.0.1', '-P', String(t.port), '--protocol=TCP', '-u', 'secure', '-ppw', '--ssl', `--ssl-ca=${join(dir, 'cert.pem')}`, '-N', '-e', 'select 1'],
      { timeout: 20_000 },
    );
    expect(stdout.trim()).toBe('1');
    expect(t.sessions.at(-1)!.info).toMatchObject({ user: 'secure', tls: true });
  });

  it('a ClientHello in the same TCP chunk as the SSLRequest reaches TLS, and the login continues with sequence id 2', async () => {
    const raw = netConnect(t.port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const greeting = await new Promise<Buffer>((resolve, reject) => {
      raw.once('error', reject);
      raw.on('data', function onGreeting(chunk: Buffer) {
        received = Buffer.concat([received, chunk]);
        const { packets } = splitPackets(received);
        if (packets.length === 0) return;
        raw.off('data', onGreeting);
        resolve(packets[0].payload);
      });
    });
    const hello = parseHandshake(greeting);
    expect(hello.capabilities & Capability.SSL).toBe(Capability.SSL);
    const response = handshakeResponse({ user: USER, password: PASSWORD, scramble: hello.scramble, capabilities: undefined });
    const caps = response.readUInt32LE(0) | Capability.SSL;
    const sslRequest = Buffer.from(response.subarray(0, 32));
    sslRequest.writeUInt32LE(caps >>> 0, 0);
    // The TLS client writes through this stream; its first write goes out glued to the SSLRequest.
    let first = true;
    const transport = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, done) {
        raw.write(first ? Buffer.concat([framePacket(sslRequest, 1), chunk]) : chunk, done);
        first = false;
      },
    });
    raw.on('data', (chunk) => transport.push(chunk));
    raw.on('close', () => transport.push(null));
    const secure = tlsConnect({ socket: transport, ca: pem.cert, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const full = Buffer.from(response);
    full.writeUInt32LE(caps >>> 0, 0);
    secure.write(framePacket(full, 2));
    const reply = await new Promise<{ sequenceId: number; payload: Buffer }>((resolve) => {
      let buf = Buffer.alloc(0);
      secure.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        const { packets } = splitPackets(buf);
        if (packets.length > 0) resolve(packets[0]);
      });
    });
    expect(reply.sequenceId).toBe(3);
    expect(reply.payload[0]).toBe(0x00); // OK
    secure.destroy();
    raw.destroy();
  });

  it('no internal errors were reported', () => {
    expect(t.errors).toEqual([]);
  });
});
