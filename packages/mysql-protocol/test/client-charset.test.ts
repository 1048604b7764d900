/**
 * The connection speaks utf8mb4 whatever the handshake's collation: text that is not UTF-8 is
 * refused with 1300 rather than decoded to U+FFFD and sent on as different text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textColumn } from '../src/index.js';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer(() => ({
    query: async (sql, out) => {
      out.columns([textColumn('echo')]);
      out.row([sql]);
      out.end();
    },
    prepare: async () => ({ paramCount: 0, columns: [] }),
  }));
});
afterAll(() => server.close());

describe('client character sets', () => {
  it('a latin1 client (mysql2 charset LATIN1_SWEDISH_CI) gets 1300 for non-UTF-8 text, and the session stays usable', async () => {
    const c = await server.connect({ charset: 'LATIN1_SWEDISH_CI' });
    // mysql2 encodes the query in the connection's charset: é is the single byte 0xE9.
    await expect(c.query("select 'caf\u00e9 ok'")).rejects.toMatchObject({
      errno: 1300,
      sqlState: 'HY000',
      sqlMessage: "Invalid utf8mb4 character string: '\\xE9 ok''",
    });
    await expect(c.query("select 'caf\u00e9'", [])).rejects.toMatchObject({ errno: 1300 });
    await expect(c.prepare("select 'caf\u00e9'")).rejects.toMatchObject({ errno: 1300 });
    // ASCII is the same in both: answered, and the result (labelled utf8mb4) decodes correctly.
    const [rows] = await c.query<any[]>("select 'plain'");
    expect(rows).toEqual([{ echo: "select 'plain'" }]);
    await c.end();
    expect(server.sessions.flatMap((s) => s.queries).some((q) => q.includes('\ufffd'))).toBe(false);
  });

  it('a utf8mb4 client sends and reads back any text unchanged', async () => {
    const c = await server.connect({ charset: 'UTF8MB4_GENERAL_CI' });
    const [rows] = await c.query<any[]>("select 'caf\u00e9 \u{1F600} \u4e2d'");
    expect(rows).toEqual([{ echo: "select 'caf\u00e9 \u{1F600} \u4e2d'" }]);
    await c.end();
  });
});
