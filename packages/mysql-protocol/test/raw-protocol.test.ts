import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Capability, ColumnType, ErrorCode, mysqlError, NATIVE_PASSWORD_PLUGIN, nativePasswordToken, textColumn, type ParamValue } from '../src/index.js';
import {
  comFieldList,
  comInitDb,
  comPing,
  comQuery,
  comQuit,
  comResetConnection,
  comSetOption,
  comStatistics,
  comStmtClose,
  comStmtExecute,
  comStmtPrepare,
  comStmtReset,
  comStmtSendLongData,
  handshakeResponse,
  parseColumnDefinition,
  parseEof,
  parseErr,
  parseOk,
  parseTextRow,
  RawMysqlClient,
} from '../src/testing/packets.js';
import { PASSWORD, startServer, USER, waitFor, type TestServer } from './helpers.js';

async function login(t: TestServer): Promise<RawMysqlClient> {
  const { client, reply } = await RawMysqlClient.login(t.port, { user: USER, password: PASSWORD });
  expect(reply.payload[0]).toBe(0x00);
  expect(reply.sequenceId).toBe(2);
  return client;
}

describe('raw protocol', () => {
  let t: TestServer;
  const executed: (readonly ParamValue[])[] = [];
  beforeAll(async () => {
    t = await startServer(() => ({
      query: async (sql, out) => {
        if (sql === 'select 1') {
          out.columns([textColumn('1')]);
          out.row(['1']);
          out.end();
        } else if (sql === 'misuse') {
          out.ok();
          out.row(['late']);
        } else {
          out.ok({ info: sql });
        }
      },
      initDb: async (db) => {
        if (db !== 'shop') throw mysqlError(ErrorCode.ER_BAD_DB_ERROR, `Unknown database '${db}'`);
      },
      execute: async (_sql, params, out) => {
        executed.push(params);
        out.ok({ affectedRows: params.length });
      },
    }));
  });
  afterAll(() => t.close());

  it('greets with HandshakeV10: version, 20-byte scramble, capabilities, native password plugin', async () => {
    const c = await RawMysqlClient.connect(t.port);
    const h = c.handshake;
    expect(h.protocolVersion).toBe(10);
    expect(h.serverVersion).toBe('8.0.31-shardgate');
    expect(h.scramble.length).toBe(20);
    expect(h.scramble.includes(0)).toBe(false);
    expect(h.authPlugin).toBe(NATIVE_PASSWORD_PLUGIN);
    for (const cap of [
      Capability.PROTOCOL_41,
      Capability.SECURE_CONNECTION,
      Capability.PLUGIN_AUTH,
      Capability.CONNECT_WITH_DB,
      Capability.MULTI_STATEMENTS,
      Capability.MULTI_RESULTS,
      Capability.PS_MULTI_RESULTS,
      Capability.TRANSACTIONS,
      Capability.LONG_PASSWORD,
      Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA,
      Capability.CONNECT_ATTRS,
    ]) {
      expect(h.capabilities & cap).toBe(cap);
    }
    expect(h.capabilities & Capability.SSL).toBe(0);
    expect(h.capabilities & Capability.DEPRECATE_EOF).toBe(0);
    c.close();
  });

  it('uses sequence ids that restart at each command', async () => {
    const c = await login(t);
    c.send(comQuery('select 1'));
    const r = await c.readResult();
    expect(r.sequenceIds).toEqual([1, 2, 3, 4, 5]);
    expect(parseTextRow(r.rows[0], 1)).toEqual(['1']);
    c.send(comPing());
    const ping = await c.nextPacket();
    expect(ping.sequenceId).toBe(1);
    expect(ping.payload[0]).toBe(0);
    c.close();
  });

  it('switches a caching_sha2_password client to mysql_native_password', async () => {
    const c = await RawMysqlClient.connect(t.port);
    c.send(handshakeResponse({ user: USER, authPlugin: 'caching_sha2_password', authResponse: Buffer.alloc(32, 7), attributes: { _client_name: 'raw' } }), 1);
    const sw = await c.nextPacket();
    expect(sw.sequenceId).toBe(2);
    expect(sw.payload[0]).toBe(0xfe);
    const nul = sw.payload.indexOf(0, 1);
    expect(sw.payload.toString('latin1', 1, nul)).toBe(NATIVE_PASSWORD_PLUGIN);
    const scramble = sw.payload.subarray(nul + 1, nul + 21);
    expect(scramble.equals(c.handshake.scramble)).toBe(true);
    c.send(nativePasswordToken(PASSWORD, scramble), 3);
    const ok = await c.nextPacket();
    expect(ok.sequenceId).toBe(4);
    expect(ok.payload[0]).toBe(0);
    expect(t.sessions.at(-1)!.info.connectAttributes).toEqual({ _client_name: 'raw' });
    c.close();

    const bad = await RawMysqlClient.connect(t.port);
    bad.send(handshakeResponse({ user: USER, authPlugin: 'caching_sha2_password', authResponse: Buffer.alloc(32, 7) }), 1);
    await bad.nextPacket();
    bad.send(nativePasswordToken('wrong', bad.handshake.scramble), 3);
    const err = await bad.nextPacket();
    expect(err.sequenceId).toBe(4);
    expect(parseErr(err.payload)).toMatchObject({ errno: 1045, sqlState: '28000' });
    await bad.closed;
  });

  it('answers unknown commands with ERR 1047 and stays usable', async () => {
    const c = await login(t);
    for (const payload of [Buffer.from([0x20]), Buffer.from([0x12, 1, 2, 3]), Buffer.alloc(0)]) {
      c.send(payload);
      const p = await c.nextPacket();
      expect(p.sequenceId).toBe(1);
      expect(parseErr(p.payload)).toEqual({ errno: 1047, sqlState: '08S01', message: 'Unknown command' });
    }
    c.send(comPing());
    expect((await c.nextPacket()).payload[0]).toBe(0);
    c.close();
  });

  it('handles COM_STATISTICS, COM_SET_OPTION, COM_FIELD_LIST, COM_INIT_DB and COM_RESET_CONNECTION', async () => {
    const c = await login(t);
    c.send(comStatistics());
    expect((await c.nextPacket()).payload.toString()).toMatch(/^Uptime: \d+ {2}Threads: \d+/);
    c.send(comSetOption(0));
    const eof = await c.nextPacket();
    expect(eof.payload[0]).toBe(0xfe);
    expect(parseEof(eof.payload).statusFlags & 2).toBe(2);
    c.send(comSetOption(9));
    expect(parseErr((await c.nextPacket()).payload).errno).toBe(1047);
    c.send(comFieldList('t'));
    expect((await c.nextPacket()).payload[0]).toBe(0xfe);

    c.send(comInitDb('shop'));
    expect((await c.nextPacket()).payload[0]).toBe(0);
    expect(t.sessions.at(-1)!.info.database).toBe('shop');
    c.send(comInitDb('other'));
    expect(parseErr((await c.nextPacket()).payload)).toEqual({ errno: 1049, sqlState: '42000', message: "Unknown database 'other'" });
    expect(t.sessions.at(-1)!.info.database).toBe('shop');

    c.send(comStmtPrepare('select ?'));
    const prep = await c.nextPacket();
    const id = prep.payload.readUInt32LE(1);
    await c.nextPacket(); // param def
    await c.nextPacket(); // EOF
    c.send(comResetConnection());
    expect((await c.nextPacket()).payload[0]).toBe(0);
    c.send(comStmtExecute(id, [{ type: ColumnType.LONGLONG, value: 1n }]));
    expect(parseErr((await c.nextPacket()).payload)).toMatchObject({ errno: 1243 });
    c.close();
  });

  it('processes pipelined commands strictly in order', async () => {
    const c = await login(t);
    c.sendRaw(
      Buffer.concat([
        Buffer.from([6, 0, 0, 0]),
        comQuery('first'),
        Buffer.from([1, 0, 0, 0]),
        comPing(),
        Buffer.from([7, 0, 0, 0]),
        comQuery('second'),
      ]),
    );
    const a = await c.readResult();
    const b = await c.readResult();
    const d = await c.readResult();
    expect(parseOk(a.last).info).toBe('first');
    expect(b.kind).toBe('ok');
    expect(parseOk(d.last).info).toBe('second');
    expect([a, b, d].map((r) => r.sequenceIds)).toEqual([[1], [1], [1]]);
    c.close();
  });

  it('prepares (counting placeholders itself), executes with bound and cached types, long data, reset and close', async () => {
    const c = await login(t);
    c.send(comStmtPrepare("select ?, '?', ? /* ? */"));
    const prep = await c.nextPacket();
    expect(prep.payload[0]).toBe(0);
    const id = prep.payload.readUInt32LE(1);
    expect(prep.payload.readUInt16LE(5)).toBe(0); // columns
    expect(prep.payload.readUInt16LE(7)).toBe(2); // params
    const defs = [await c.nextPacket(), await c.nextPacket()];
    expect(defs.map((d) => parseColumnDefinition(d.payload).name)).toEqual(['?', '?']);
    expect((await c.nextPacket()).payload[0]).toBe(0xfe);

    c.send(comStmtExecute(id, [{ type: ColumnType.LONGLONG, unsigned: true, value: 18446744073709551615n }, { type: ColumnType.VAR_STRING, value: 'x' }]));
    expect((await c.nextPacket()).payload[0]).toBe(0);
    c.send(comStmtExecute(id, [{ type: ColumnType.LONGLONG, value: 5n }, { type: ColumnType.VAR_STRING, value: null }], { newParamsBound: false }));
    expect((await c.nextPacket()).payload[0]).toBe(0);

    c.send(comStmtSendLongData(id, 1, 'hello '));
    c.send(comStmtSendLongData(id, 1, Buffer.from('wörld')));
    c.send(comStmtExecute(id, [{ type: ColumnType.LONGLONG, value: 1n }, { type: ColumnType.VAR_STRING, value: '', longData: true }]));
    expect((await c.nextPacket()).payload[0]).toBe(0);
    expect(executed.slice(-3)).toEqual([[18446744073709551615n, 'x'], [5n, null], [1n, 'hello wörld']]);

    c.send(comStmtSendLongData(id, 1, 'discarded'));
    c.send(comStmtReset(id));
    expect((await c.nextPacket()).payload[0]).toBe(0);
    c.send(comStmtExecute(id, [{ type: ColumnType.LONGLONG, value: 2n }, { type: ColumnType.VAR_STRING, value: 'after reset' }]));
    expect((await c.nextPacket()).payload[0]).toBe(0);
    expect(executed.at(-1)).toEqual([2n, 'after reset']);

    c.send(comStmtClose(id)); // no reply
    c.send(comStmtExecute(id, []));
    const err = await c.nextPacket();
    expect(parseErr(err.payload)).toEqual({ errno: 1243, sqlState: 'HY000', message: `Unknown prepared statement handler (${id}) given to mysqld_stmt_execute` });
    c.send(comStmtReset(999));
    expect(parseErr((await c.nextPacket()).payload).errno).toBe(1243);
    c.close();
  });

  it('answers a malformed command packet with ERR 1835 and keeps the connection', async () => {
    const c = await login(t);
    c.send(comStmtPrepare('select ?'));
    const id = (await c.nextPacket()).payload.readUInt32LE(1);
    await c.nextPacket();
    await c.nextPacket();
    c.send(Buffer.from([0x17, id, 0, 0, 0, 0, 1])); // truncated execute
    expect(parseErr((await c.nextPacket()).payload)).toMatchObject({ errno: 1835, sqlState: 'HY000' });
    c.send(comPing());
    expect((await c.nextPacket()).payload[0]).toBe(0);
    c.close();
  });

  it('reports handler misuse through onError without corrupting the reply', async () => {
    const c = await login(t);
    const before = t.errors.length;
    c.send(comQuery('misuse'));
    expect((await c.readResult()).kind).toBe('ok');
    c.send(comPing());
    const ping = await c.nextPacket();
    expect(ping.payload[0]).toBe(0);
    expect(c.idle).toBe(true);
    expect(t.errors.slice(before).map((e) => e.message)).toEqual([expect.stringContaining('after the command')]);
    c.close();
  });

  it('QUIT closes the connection and the session exactly once', async () => {
    const c = await login(t);
    const record = t.sessions.at(-1)!;
    c.send(comQuit());
    await c.closed;
    await waitFor(() => record.closeCalls === 1, 'session close');
    expect(record.closeCalls).toBe(1);
  });
});
