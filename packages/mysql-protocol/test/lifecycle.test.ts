import { afterEach, describe, expect, it } from 'vitest';
import { textColumn, type ResultSink } from '../src/index.js';
import { comQuery, handshakeResponse, parseTextRow, RawMysqlClient } from '../src/testing/packets.js';
import { PASSWORD, startServer, USER, waitFor, type TestServer } from './helpers.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('connection lifecycle', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('applies backpressure: row() returns false for a slow reader, drain() resolves once it reads', async () => {
    const blocked = deferred<number>();
    const finished = deferred<number>();
    const ROW = 'r'.repeat(4096);
    const LIMIT = 40_000; // 160 MB: far more than any socket buffer, so a missing backpressure signal fails loudly
    t = await startServer(() => ({
      query: async (_sql: string, out: ResultSink) => {
        out.columns([textColumn('n'), textColumn('pad')]);
        let sent = 0;
        let sawFalse = false;
        while (sent < LIMIT) {
          const more = out.row([String(sent++), ROW]);
          if (!more) {
            sawFalse = true;
            blocked.resolve(sent);
            await out.drain();
            break;
          }
        }
        for (let i = 0; i < 10; i++) out.row([String(sent++), ROW]);
        out.end();
        finished.resolve(sawFalse ? sent : -1);
      },
    }));
    const { client } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    client.socket.pause(); // a client that does not read
    client.send(comQuery('stream'));
    const sentWhenBlocked = await blocked.promise;
    expect(sentWhenBlocked).toBeLessThan(LIMIT);
    client.socket.resume();
    const result = await client.readResult();
    const total = await finished.promise;
    expect(total).toBe(sentWhenBlocked + 10);
    expect(result.rows.length).toBe(total);
    expect(parseTextRow(result.rows[total - 1], 2)[0]).toBe(String(total - 1));
    expect(result.last[0]).toBe(0xfe);
    client.close();
  });

  it("closes a client idle past its session's idleTimeoutSeconds, not one running a statement that long", async () => {
    const slow = deferred();
    t = await startServer(() => ({
      idleTimeoutSeconds: () => 1,
      query: async (sql: string, out: ResultSink) => {
        if (sql === 'slow') await slow.promise;
        out.ok();
      },
    }));
    const idle = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    const busy = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
    const idleClosed = new Promise<void>((resolve) => idle.client.socket.once('close', () => resolve()));
    busy.client.send(comQuery('slow'));
    await idleClosed;
    await waitFor(() => t!.sessions[0]!.closeCalls === 1, 'the idle session closed');
    // The busy one's statement has run for as long; it is not idle, so it is answered.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    slow.resolve();
    expect((await busy.client.readResult()).last[0]).toBe(0x00);
    expect(t.sessions[1]!.closeCalls).toBe(0);
    busy.client.close();
  });

  it('closes the session exactly once on QUIT, on abrupt disconnect and on server close', async () => {
    t = await startServer();
    const quitter = await t.connect();
    await quitter.query('select 1');
    await quitter.end(); // COM_QUIT
    const dropper = await t.connect();
    await dropper.query('select 1');
    dropper.destroy(); // no QUIT, just a closed socket
    const survivor = await t.connect();
    await survivor.query('select 1');
    survivor.on('error', () => {});
    await waitFor(() => t!.sessions[0].closeCalls === 1 && t!.sessions[1].closeCalls === 1, 'sessions 1 and 2 to close');
    expect(t.server.connectionCount).toBe(1);
    await t.close();
    expect(t.server.connectionCount).toBe(0);
    expect(t.sessions.map((s) => s.closeCalls)).toEqual([1, 1, 1]);
  });

  it('aborts the signal when the client disconnects mid-query, then closes the session once', async () => {
    const started = deferred();
    const aborted = deferred<unknown>();
    t = await startServer(() => ({
      query: (_sql, out) =>
        new Promise<void>((resolve) => {
          started.resolve();
          out.signal.addEventListener('abort', () => {
            aborted.resolve(out.signal.reason);
            // Writing after the disconnect must be harmless.
            out.columns([textColumn('late')]);
            expect(out.row(['x'])).toBe(false);
            out.end();
            resolve();
          });
        }),
    }));
    const c = await t.connect();
    c.on('error', () => {});
    void c.query('wait forever').catch(() => {}); // mysql2 never settles queries cut off by destroy()
    await started.promise;
    c.destroy();
    const reason = await aborted.promise;
    expect(reason).toMatchObject({ errno: 1317 });
    await waitFor(() => t!.sessions[0].closeCalls === 1, 'session close');
    await waitFor(() => t!.server.connectionCount === 0, 'connection cleanup');
    expect(t.sessions[0].signal?.aborted).toBe(true);
  });

  it('server.close() resolves while a handler is stuck and destroys its connection', async () => {
    const started = deferred();
    t = await startServer(() => ({
      query: (_sql, out) =>
        new Promise<void>((resolve) => {
          started.resolve();
          out.signal.addEventListener('abort', () => resolve());
        }),
    }));
    const c = await t.connect();
    c.on('error', () => {});
    const pending = c.query('stuck').catch((e: unknown) => e);
    await started.promise;
    await t.close();
    expect(await pending).toMatchObject({ code: expect.stringMatching(/PROTOCOL_CONNECTION_LOST|ECONNRESET/) });
    expect(t.server.connectionCount).toBe(0);
    expect(t.sessions[0].closeCalls).toBe(1);
  });

  it('never calls createSession for a client that disconnects during an async user lookup', async () => {
    const lookupStarted = deferred();
    const release = deferred();
    let lookupFinished = false;
    t = await startServer(() => ({}), {
      lookupUser: async () => {
        lookupStarted.resolve();
        await release.promise;
        lookupFinished = true;
        return { password: PASSWORD };
      },
    });
    const c = await RawMysqlClient.connect(t.port);
    c.send(handshakeResponse({ user: USER, password: PASSWORD, scramble: c.handshake.scramble }), 1);
    await lookupStarted.promise;
    c.close();
    await waitFor(() => t!.server.connectionCount === 0, 'the connection to close');
    release.resolve();
    await waitFor(() => lookupFinished, 'the lookup to finish');
    await new Promise((r) => setImmediate(r));
    expect(t.sessions).toHaveLength(0);
  });

  it('stopAccepting closes the port at once and leaves open connections working until close()', async () => {
    const release = deferred();
    t = await startServer(() => ({
      query: async (sql: string, out: ResultSink) => {
        if (sql === 'wait') await release.promise;
        out.columns([textColumn('x')]);
        out.row([sql]);
        out.end();
      },
    }));
    const open = await t.connect();
    const running = open.query('wait');
    await waitFor(() => t!.sessions[0]?.queries.includes('wait') ?? false, 'the statement runs');
    t.server.stopAccepting();
    await expect(t.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    release.resolve();
    expect((await running)[0]).toEqual([{ x: 'wait' }]);
    expect((await open.query('after'))[0]).toEqual([{ x: 'after' }]);
    expect(t.server.connectionCount).toBe(1);
    const sessions = t.sessions;
    await t.close();
    t = undefined;
    expect(sessions[0]!.closeCalls).toBe(1);
    open.destroy();
  });
});
