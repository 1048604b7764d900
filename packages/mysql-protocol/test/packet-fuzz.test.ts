/**
 * Packet fuzzing (fast-check): after a valid login, a client sends random bytes, frames with
 * random payloads and sequence ids, or headers whose length lies, then goes away. The server
 * must neither crash nor leak the connection, and must keep serving a healthy client.
 * Bounded: few runs, each ends when the fuzzing client closes its socket.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { framePacket, packetHeader, RawMysqlClient } from '../src/testing/packets.js';
import { PASSWORD, startServer, USER, waitFor, type TestServer } from './helpers.js';

describe('packet fuzzing', () => {
  let t: TestServer;
  let healthy: mysql.Connection;
  beforeAll(async () => {
    t = await startServer();
    healthy = await t.connect();
  });
  afterAll(async () => {
    // Nothing the fuzzer sent reached an internal error (a bug of ours, reported via onError).
    expect(t.errors.map((e) => e.message)).toEqual([]);
    await healthy?.end();
    await t?.close();
  });

  /** Sends the bytes on a fresh logged-in connection, closes it, and checks the server is intact. */
  async function survives(bytes: Buffer): Promise<void> {
    const { client } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    client.sendRaw(bytes);
    client.socket.end();
    await new Promise<void>((resolve) => (client.socket.destroyed ? resolve() : client.socket.once('close', () => resolve())));
    await waitFor(() => t.server.connectionCount === 1, 'the fuzzed connection to be released');
    const [rows] = await healthy.query('select 1');
    expect(rows).toEqual([{ 1: '1' }]);
  }

  const payload = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));

  it('survives random bytes after the handshake', async () => {
    await fc.assert(fc.asyncProperty(payload, (b) => survives(b)), { numRuns: 40 });
  });

  it('survives well-framed packets with random payloads (commands included) and wrong sequence ids', async () => {
    const command = fc.tuple(fc.integer({ min: 0, max: 0x20 }), payload).map(([c, rest]) => Buffer.concat([Buffer.from([c]), rest]));
    const frames = fc.array(fc.tuple(fc.oneof(command, payload), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
    await fc.assert(fc.asyncProperty(frames, (list) => survives(Buffer.concat(list.map(([p, seq]) => framePacket(p, seq))))), { numRuns: 60 });
  });

  it('survives truncated packets and lengths that lie', async () => {
    const lying = fc.tuple(fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 255 }), payload).map(([len, seq, body]) =>
      Buffer.concat([packetHeader(len, seq), body]),
    );
    await fc.assert(fc.asyncProperty(lying, (b) => survives(b)), { numRuns: 40 });
  });
});
