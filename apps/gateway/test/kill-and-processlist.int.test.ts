/**
 * KILL [CONNECTION|QUERY] and SHOW PROCESSLIST through the gateway, against real MariaDB shards:
 * ids are the gateway's connection ids (what CONNECTION_ID() returns), a killed statement's shard
 * statements stop with it, a transaction survives KILL QUERY, and a user sees and kills only its
 * own connections (the gateway's accounts have no PROCESS or CONNECTION ADMIN privilege).
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comProcessInfo, comProcessKill, parseTextRow, RawMysqlClient } from '@shardgate/mysql-protocol/testing';
import { startTempGateway, type TempGateway } from './support/temp-gateway.js';

let gw: TempGateway;
const FIRST_ID = 3_000_000_001;
const open: mysql.Connection[] = [];

async function connect(user = 'app'): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: gw.port, user, password: 'secret', database: 'shop' });
  c.on('error', () => undefined); // a killed connection reports its end here
  open.push(c);
  return c;
}

async function connectionId(c: mysql.Connection): Promise<number> {
  const [[row]] = await c.query<mysql.RowDataPacket[]>('select connection_id() as id');
  return Number(row!.id);
}

function errnoOf(p: Promise<unknown>): Promise<number | string> {
  return p.then(
    () => 'ok',
    (e: { errno?: number; code?: string }) => e.errno ?? e.code ?? 'error',
  );
}

/** Waits until `id` shows in SHOW PROCESSLIST running a statement (polling: no sleeps that time the test). */
async function waitRunning(observer: mysql.Connection, id: number): Promise<mysql.RowDataPacket> {
  for (;;) {
    const [rows] = await observer.query<mysql.RowDataPacket[]>('show full processlist');
    const row = rows.find((r) => Number(r.Id) === id);
    if (row?.Command === 'Query') return row;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  gw = await startTempGateway({
    prefix: 'sg-kill-int-',
    files: {
      'vschema.json': JSON.stringify({ keyspaces: { shop: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { item: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } }),
      'shop.sql': 'CREATE TABLE item (id BIGINT PRIMARY KEY, name VARCHAR(32)) ENGINE=InnoDB;',
    },
    config: {
      listen: { mysql: '127.0.0.1:0', http: null },
      users: [
        { user: 'app', password: 'secret' },
        { user: 'other', password: 'secret' },
      ],
      vschema: './vschema.json',
      keyspaces: { shop: { schema: './shop.sql', shards: { '-80': 'local', '80-': 'local' } } },
      // As a second gateway behind the same load balancer would: ids above 2^31, every test below
      // reads and kills by them.
      connectionIds: { first: FIRST_ID, last: FIRST_ID + 999 },
    },
  });
  const c = await connect();
  await c.query("insert into item (id, name) values (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')");
});

afterAll(async () => {
  for (const c of open) c.destroy();
  await gw?.stop();
});

describe('SHOW PROCESSLIST', () => {
  it("lists the user's own gateway connections by their CONNECTION_ID(), with the running statement", async () => {
    const a = await connect();
    const b = await connect();
    const stranger = await connect('other');
    const [ida, idb, ids] = await Promise.all([connectionId(a), connectionId(b), connectionId(stranger)]);
    // Long enough to be seen however loaded the machine is; KILL QUERY ends it below.
    const running = errnoOf(a.query('select sleep(30) as s from item where id = 1'));
    const row = await waitRunning(b, ida);
    expect(row).toMatchObject({ User: 'app', Host: '127.0.0.1', db: 'shop', Command: 'Query', State: 'executing', Info: 'select sleep(30) as s from item where id = 1' });
    const [rows, fields] = await b.query<mysql.RowDataPacket[]>('show processlist');
    expect(fields.map((f) => f.name)).toEqual(['Id', 'User', 'Host', 'db', 'Command', 'Time', 'State', 'Info', 'Progress']);
    const ids_ = rows.map((r) => Number(r.Id));
    expect(ids_).toContain(ida);
    expect(ids_).toContain(idb);
    expect(ids_).not.toContain(ids); // another user's connection
    expect(rows.find((r) => Number(r.Id) === idb)).toMatchObject({ Command: 'Query', Info: 'show processlist' });
    await b.query(`kill query ${ida}`);
    expect(await running).toBe(1317);
    const [after] = await b.query<mysql.RowDataPacket[]>('show processlist');
    expect(after.find((r) => Number(r.Id) === ida)).toMatchObject({ Command: 'Sleep', State: '', Info: null });
  });

  it("refuses information_schema.PROCESSLIST, which a shard would answer with the gateway's own shard connections", async () => {
    const c = await connect();
    expect(await errnoOf(c.query('select id, user from information_schema.processlist'))).toBe(1235);
    expect(await errnoOf(c.query('select count(*) from INFORMATION_SCHEMA.PROCESSLIST p where p.command = "Sleep"'))).toBe(1235);
  });
});

describe('KILL', () => {
  it('KILL QUERY stops a scatter statement on every shard with 1317; the connection and its transaction go on', async () => {
    const victim = await connect();
    const killer = await connect();
    const id = await connectionId(victim);
    await victim.query('begin');
    await victim.query("insert into item (id, name) values (100, 'in-tx')");
    // Scatter: both shards sleep 30 s per row unless killed.
    const killed = errnoOf(victim.query('select sleep(30), id from item'));
    await waitRunning(killer, id);
    await killer.query(`kill query ${id}`);
    expect(await killed).toBe(1317);
    // The shards' statements stopped too: no shard connection still sleeps.
    const [rows] = await killer.query<mysql.RowDataPacket[]>('select count(*) as n from item where id = 100');
    expect(Number(rows[0]!.n)).toBe(0); // not committed yet
    const [own] = await victim.query<mysql.RowDataPacket[]>('select name from item where id = 100');
    expect(own).toEqual([{ name: 'in-tx' }]);
    await victim.query('commit');
    const [committed] = await killer.query<mysql.RowDataPacket[]>('select name from item where id = 100');
    expect(committed).toEqual([{ name: 'in-tx' }]);
    // MariaDB's KILL QUERY returns before the killed thread has noticed it: a loaded machine may
    // still list the statement for a moment. Stopped means gone within 5 s, not after its 30 s.
    for (const shard of ['-80', '80-']) {
      const direct = await mysql.createConnection(gw.gateway.topology.shop![shard]!);
      const sleeping = async () => {
        const [list] = await direct.query<mysql.RowDataPacket[]>("select count(*) as n from information_schema.processlist where info like 'select sleep(30)%'");
        return Number(list[0]!.n);
      };
      let n = await sleeping();
      for (const until = Date.now() + 5000; n !== 0 && Date.now() < until; n = await sleeping()) await new Promise((r) => setTimeout(r, 50));
      await direct.end();
      expect(n).toBe(0);
    }
  });

  it("hands out its configured connection ids: CONNECTION_ID(), the handshake's and the process list's agree; an id outside is unknown", async () => {
    const a = await connect();
    const b = await connect();
    const [ida, idb] = [await connectionId(a), await connectionId(b)];
    expect([ida, idb].every((id) => id >= FIRST_ID && id <= FIRST_ID + 999)).toBe(true);
    expect([a.threadId, b.threadId]).toEqual([ida, idb]);
    const [rows] = await b.query<mysql.RowDataPacket[]>('show processlist');
    expect(rows.map((r) => Number(r.Id))).toEqual(expect.arrayContaining([ida, idb]));
    // A low id, as another gateway with the default range would hand out: not one of this gateway's.
    expect(await errnoOf(b.query(`kill query ${ida - FIRST_ID + 1}`))).toBe(1094);
    const [[still]] = await a.query<mysql.RowDataPacket[]>('select 1 as one');
    expect(still).toEqual({ one: 1 });
  });

  it('KILL CONNECTION ends the other connection; KILL of an unknown id is 1094, of another user 1095, of itself 1927', async () => {
    const victim = await connect();
    const killer = await connect();
    const stranger = await connect('other');
    const id = await connectionId(victim);
    const closed = new Promise<void>((resolve) => victim.once('end', () => resolve()));
    await killer.query(`kill connection ${id}`);
    await closed;
    const [rows] = await killer.query<mysql.RowDataPacket[]>('show processlist');
    expect(rows.map((r) => Number(r.Id))).not.toContain(id);
    expect(await errnoOf(killer.query('kill 987654321'))).toBe(1094);
    expect(await errnoOf(stranger.query(`kill query ${await connectionId(killer)}`))).toBe(1095);
    expect(await errnoOf(killer.query(`kill ${await connectionId(killer)}`))).toBe(1927);
    expect(await errnoOf(stranger.query('kill query user app'))).toBe(1235);
  });

  it('answers COM_PROCESS_INFO and COM_PROCESS_KILL (mysql_kill()) as SHOW PROCESSLIST and KILL CONNECTION', async () => {
    const victim = await connect();
    const id = await connectionId(victim);
    const closed = new Promise<void>((resolve) => victim.once('end', () => resolve()));
    const { client } = await RawMysqlClient.login(gw.port, { user: 'app', password: 'secret', database: 'shop' });
    try {
      client.send(comProcessInfo());
      const list = await client.readResult();
      expect(list.kind).toBe('resultset');
      expect(list.columns.map((c) => c.name)).toEqual(['Id', 'User', 'Host', 'db', 'Command', 'Time', 'State', 'Info', 'Progress']);
      expect(list.rows.map((r) => Number(parseTextRow(r, 9)[0]))).toContain(id);
      client.send(comProcessKill(id));
      expect((await client.readResult()).kind).toBe('ok');
      await closed;
    } finally {
      client.close();
    }
  });
});
