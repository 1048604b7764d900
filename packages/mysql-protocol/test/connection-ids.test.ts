import { afterEach, describe, expect, it } from 'vitest';
import { createMysqlServer } from '../src/index.js';
import { startServer, waitFor, type TestServer } from './helpers.js';

describe('connectionIds', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('hands out the ids of its range in turn, in the handshake and to the session', async () => {
    t = await startServer(undefined, { connectionIds: { first: 3_000_000_001, last: 3_000_000_003 } });
    const a = await t.connect();
    const b = await t.connect();
    expect([a.threadId, b.threadId]).toEqual([3_000_000_001, 3_000_000_002]);
    expect(t.sessions.map((s) => s.info.connectionId)).toEqual([3_000_000_001, 3_000_000_002]);
    await a.end();
    await b.end();
    expect(t.errors).toEqual([]);
  });

  it('after a wrap, skips an id a connection still holds, and refuses with 1040 when the range is all open', async () => {
    t = await startServer(undefined, { connectionIds: { first: 10, last: 12 } });
    const a = await t.connect();
    const b = await t.connect();
    const c = await t.connect();
    expect([a.threadId, b.threadId, c.threadId]).toEqual([10, 11, 12]);
    // Every id is open: one more connection has no id to take.
    await expect(t.connect()).rejects.toMatchObject({ errno: 1040, sqlState: '08004' });
    await b.end();
    await waitFor(() => t!.server.connectionCount === 2, 'the closed connection to be released');
    // The turn wrapped to 10, which a is still on: the next free id is 11, never a second 10.
    const d = await t.connect();
    expect(d.threadId).toBe(11);
    const [rows] = await a.query('select 1');
    expect(rows).toEqual([{ 1: '1' }]);
    for (const conn of [a, c, d]) await conn.end();
    expect(t.errors).toEqual([]);
  });

  it('refuses a range that is empty or outside 1 to 2^32 - 1', () => {
    const base = { lookupUser: () => null, createSession: () => ({ query: async () => {}, initDb: async () => {}, close: () => {} }) };
    for (const connectionIds of [{ first: 0, last: 5 }, { first: 5, last: 4 }, { first: 1, last: 2 ** 32 }, { first: 1.5, last: 9 }]) {
      expect(() => createMysqlServer({ ...base, connectionIds } as never)).toThrow(RangeError);
    }
  });
});
