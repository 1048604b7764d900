import { afterEach, describe, expect, it } from 'vitest';
import { startServer, waitFor, type TestServer } from './helpers.js';

describe('maxConnections', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses one connection past the limit with 1040 (08004) and keeps serving the others', async () => {
    t = await startServer(undefined, { maxConnections: 2 });
    const a = await t.connect();
    const b = await t.connect();
    await expect(t.connect()).rejects.toMatchObject({ errno: 1040, sqlState: '08004', message: 'Too many connections' });
    // The connections inside the limit are unaffected.
    expect(await a.query('select 1')).toBeDefined();
    expect(await b.query('select 1')).toBeDefined();
    // A freed slot is usable again.
    await a.end();
    await waitFor(() => t!.server.connectionCount === 1, 'the closed connection to be released');
    const c = await t.connect();
    const [rows] = await c.query('select 1');
    expect(rows).toEqual([{ 1: '1' }]);
    await b.end();
    await c.end();
    expect(t.errors).toEqual([]);
  });
});
