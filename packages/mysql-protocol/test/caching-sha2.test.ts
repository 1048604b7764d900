import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as netConnect } from 'node:net';
import { cachingSha2Token } from '../src/auth-caching-sha2.js';
import { framePacket, handshakeResponse, parseHandshake, splitPackets } from '../src/testing/packets.js';
import { makeCertificate, startServer, type TestServer } from './helpers.js';

/** Logs in with a caching_sha2 token in the handshake response; returns the server's replies up to OK or ERR. */
async function rawSha2Login(port: number, user: string, password: string): Promise<{ sequenceId: number; payload: Buffer }[]> {
  const socket = netConnect(port, '127.0.0.1');
  const replies: { sequenceId: number; payload: Buffer }[] = [];
  let buf: Buffer = Buffer.alloc(0);
  let greeted = false;
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const { packets, rest } = splitPackets(buf);
      buf = rest;
      for (const p of packets) {
        if (!greeted) {
          greeted = true;
          const { scramble } = parseHandshake(p.payload);
          const token = cachingSha2Token(password, scramble);
          socket.write(framePacket(handshakeResponse({ user, authResponse: token, authPlugin: 'caching_sha2_password' }), 1));
          continue;
        }
        replies.push(p);
        if (p.payload[0] === 0x00 || p.payload[0] === 0xff || (p.payload[0] === 0x01 && p.payload[1] === 0x04)) resolve();
      }
    });
  });
  socket.destroy();
  return replies;
}

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

const accounts: Record<string, { password: string; plugin: 'caching_sha2_password' }> = {
  rsa: { password: 'rsa-pw', plugin: 'caching_sha2_password' },
  tls: { password: 'tls-pw', plugin: 'caching_sha2_password' },
  py: { password: 'py-pw', plugin: 'caching_sha2_password' },
  pytls: { password: 'pytls-pw', plugin: 'caching_sha2_password' },
  empty: { password: '', plugin: 'caching_sha2_password' },
  fresh: { password: 'fresh-pw', plugin: 'caching_sha2_password' },
};

describe('caching_sha2_password', () => {
  let dir: string;
  let pem: { cert: string; key: string };
  let t: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardgate-sha2-'));
    pem = makeCertificate(dir);
    t = await startServer(undefined, { tls: pem, lookupUser: (user) => accounts[user] ?? null });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mysql2 over plain TCP: full auth with the RSA public key first, fast auth from the cache after', async () => {
    for (let i = 0; i < 2; i++) {
      const conn = await t.connect({ user: 'rsa', password: 'rsa-pw' });
      const [rows] = await conn.query('select 1');
      expect(rows).toEqual([{ 1: '1' }]);
      await conn.end();
    }
    await expect(t.connect({ user: 'rsa', password: 'wrong' })).rejects.toMatchObject({
      errno: 1045,
      sqlState: '28000',
      message: "Access denied for user 'rsa'@'127.0.0.1' (using password: YES)",
    });
  });

  it('after a full auth, a login with the right token gets fast_auth_success (0x01 0x03) then OK; a wrong one 1045', async () => {
    const conn = await t.connect({ user: 'rsa', password: 'rsa-pw' });
    await conn.end();
    const ok = await rawSha2Login(t.port, 'rsa', 'rsa-pw');
    expect(ok.map((p) => [p.sequenceId, [...p.payload.subarray(0, 2)]])).toEqual([
      [2, [0x01, 0x03]],
      [3, [0x00, 0x00]],
    ]);
    const denied = await rawSha2Login(t.port, 'rsa', 'nope');
    expect(denied).toHaveLength(1);
    expect(denied[0].payload.readUInt16LE(1)).toBe(1045);
    // A user never verified is sent to full authentication (0x01 0x04) even with the right token.
    const full = await rawSha2Login(t.port, 'fresh', 'fresh-pw');
    expect(full.map((p) => [p.sequenceId, [...p.payload]])).toEqual([[2, [0x01, 0x04]]]);
  });

  it('mysql2 over TLS: full auth with the cleartext password, then fast auth', async () => {
    await expect(t.connect({ user: 'tls', password: 'wrong', ssl: { ca: pem.cert } })).rejects.toMatchObject({ errno: 1045 });
    for (let i = 0; i < 2; i++) {
      const conn = await t.connect({ user: 'tls', password: 'tls-pw', ssl: { ca: pem.cert } });
      expect(t.sessions.at(-1)!.info).toMatchObject({ user: 'tls', tls: true });
      await conn.end();
    }
  });

  it('an empty password', async () => {
    const conn = await t.connect({ user: 'empty', password: '' });
    await conn.end();
    await expect(t.connect({ user: 'empty', password: 'x' })).rejects.toMatchObject({ errno: 1045 });
  });

  it.skipIf(!existsSync(PYTHON))('PyMySQL (Debian python3-pymysql) over plain TCP and over TLS, twice each', async () => {
    const hasPymysql = await run(PYTHON, ['-c', 'import pymysql']).then(
      () => true,
      () => false,
    );
    if (!hasPymysql) throw new Error('python3-pymysql is not installed: run scripts/setup.sh --test-tools');
    const script = join(dir, 'login.py');
    writeFileSync(
      script,
      [
        'import sys, pymysql',
        'port, user, password, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]',
        'ssl = {"ca": ca} if ca else None',
        'for _ in range(2):',
        '    c = pymysql.connect(host="127.0.0.1", port=port, user=user, password=password, ssl=ssl)',
        '    cur = c.cursor(); cur.execute("select 1"); print(cur.fetchone()[0]); c.close()',
      ].join('\n'),
    );
    const plain = await run(PYTHON, [script, String(t.port), 'py', 'py-pw', ''], { timeout: 20_000 });
    expect(plain.stdout.trim().split('\n')).toEqual(['1', '1']);
    const secure = await run(PYTHON, [script, String(t.port), 'pytls', 'pytls-pw', join(dir, 'cert.pem')], { timeout: 20_000 });
    expect(secure.stdout.trim().split('\n')).toEqual(['1', '1']);
    expect(t.sessions.at(-1)!.info).toMatchObject({ user: 'pytls', tls: true });
  });

  it('no internal errors were reported', () => {
    expect(t.errors).toEqual([]);
  });
});
