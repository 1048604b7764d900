/**
 * COM_STMT_EXECUTE's parameter block, byte for byte as clients send it, through the gateway and
 * against one plain MariaDB holding the same rows: every parameter type a client sends (what
 * mysql2 sends for numbers, strings, bigints, booleans, Dates, Buffers and null among them), signed
 * and unsigned, NULLs in a bitmap of more than one byte, types sent once and then left out (as
 * libmariadb and sysbench do), a parameter re-bound with another type between executes, and values
 * sent as COM_STMT_SEND_LONG_DATA. Each statement runs on an unsharded keyspace (the sysbench
 * point select's path) and on a sharded one (the parameter routes the statement). The binary rows
 * and the kind of each reply must be the same bytes on both servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnType } from '@shardgate/mysql-protocol';
import {
  comStmtExecute,
  comStmtPrepare,
  comStmtSendLongData,
  isErrPacket,
  isOkPacket,
  parseErr,
  RawMysqlClient,
  type BinaryParam,
} from '@shardgate/mysql-protocol/testing';
import { LocalCluster } from '@shardgate/test-kit';
import { startTempGateway, type TempGateway } from './support/temp-gateway.js';

const SCHEMA =
  'CREATE TABLE t (id BIGINT PRIMARY KEY, k INT, s VARCHAR(40), d DOUBLE, dt DATETIME(6), dd DATE, tm TIME(6), b VARBINARY(40)) ENGINE=InnoDB;';
const ROWS = Array.from({ length: 20 }, (_, n) => {
  const i = n + 1;
  return `(${i}, ${i % 7}, 's${i}', ${i}.5, '2024-01-${String(i).padStart(2, '0')} 10:00:0${i % 10}.${String(i * 1000).padStart(6, '0')}', '2024-02-${String(i).padStart(2, '0')}', '${i}:02:03.5', x'${(i * 37).toString(16).padStart(4, '0')}')`;
});
const FILL = `INSERT INTO t (id, k, s, d, dt, dd, tm, b) VALUES ${ROWS.join(', ')}, (-1, NULL, 'long ${'x'.repeat(30)}', -0.5, NULL, NULL, '-1:00:00', x'00ff00')`;

let gw: TempGateway;
let reference: LocalCluster;

beforeAll(async () => {
  [gw, reference] = await Promise.all([
    startTempGateway({
      prefix: 'sg-ps-params-int-',
      files: {
        'vschema.json': JSON.stringify({
          keyspaces: {
            main: { sharded: false, tables: { t: {} } },
            commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
          },
        }),
        'schema.sql': SCHEMA,
      },
      config: {
        listen: { mysql: '127.0.0.1:0', http: null },
        users: [{ user: 'app', password: 'secret' }],
        vschema: './vschema.json',
        keyspaces: {
          main: { schema: './schema.sql', shards: { '0': 'local' } },
          commerce: { schema: './schema.sql', shards: { '-80': 'local', '80-': 'local' } },
        },
      },
    }),
    LocalCluster.start({ shards: ['reference'], database: 'main', schema: SCHEMA }),
  ]);
  for (const database of ['main', 'commerce']) {
    const c = await login(gw.port, 'app', 'secret', database);
    await c.query(FILL);
    c.close();
  }
  const r = await login(reference.shard('reference').port, 'root', '', 'main');
  await r.query(FILL);
  r.close();
}, 180_000);

afterAll(async () => {
  await Promise.all([gw?.stop(), reference?.stop()]);
});

interface Session {
  query(sql: string): Promise<void>;
  /** COM_STMT_PREPARE; the statement id. */
  prepare(sql: string): Promise<number>;
  /** The reply to one COM_STMT_EXECUTE, as comparable text: rows as hex of their binary payloads. */
  execute(id: number, params: readonly BinaryParam[], opts?: { newParamsBound?: boolean }): Promise<string>;
  longData(id: number, param: number, data: Uint8Array | string): void;
  close(): void;
}

async function login(port: number, user: string, password: string, database: string): Promise<Session> {
  const { client: c, reply } = await RawMysqlClient.login(port, { user, password, database });
  if (!isOkPacket(reply.payload)) throw new Error(`login to ${port} refused: ${reply.payload.toString('latin1')}`);
  return {
    query: async (sql) => {
      c.send(Buffer.concat([Buffer.from([0x03]), Buffer.from(sql)]));
      const r = await c.readResult();
      if (r.kind === 'err') throw new Error(`${sql}: ${parseErr(r.last).message}`);
    },
    prepare: async (sql) => {
      c.send(comStmtPrepare(sql));
      const ok = (await c.nextPacket()).payload;
      if (!isOkPacket(ok)) throw new Error(`prepare ${sql}: ${parseErr(ok).message}`);
      const columns = ok.readUInt16LE(5);
      const params = ok.readUInt16LE(7);
      for (let i = (params > 0 ? params + 1 : 0) + (columns > 0 ? columns + 1 : 0); i > 0; i--) await c.nextPacket();
      return ok.readUInt32LE(1);
    },
    execute: async (id, params, opts) => {
      c.send(comStmtExecute(id, params, opts));
      const r = await c.readResult();
      if (r.kind === 'err') return `error ${parseErr(r.last).errno}`;
      if (r.kind === 'ok') return 'ok';
      if (isErrPacket(r.last)) return `rows then error ${parseErr(r.last).errno}`;
      const types = r.columns.map((col) => col.columnType).join(',');
      // Sorted: a scatter's rows come in no order (and MariaDB's own order is not asserted either).
      return `${types}: ${r.rows.map((row) => row.toString('hex')).sort().join(' ')}`;
    },
    longData: (id, param, data) => c.send(comStmtSendLongData(id, param, data)),
    close: () => c.close(),
  };
}

/** One execute: optional long data first, then COM_STMT_EXECUTE. */
interface Step {
  params: BinaryParam[];
  newParamsBound?: boolean;
  longData?: [param: number, chunks: (string | Uint8Array)[]][];
}

/** Prepares `sql` on the gateway (in `database`) and on the reference, runs the steps on both, and returns both transcripts. */
async function both(database: string, sql: string, steps: Step[]): Promise<[string[], string[]]> {
  const out: string[][] = [];
  for (const s of [await login(gw.port, 'app', 'secret', database), await login(reference.shard('reference').port, 'root', '', 'main')]) {
    try {
      const id = await s.prepare(sql);
      const transcript: string[] = [];
      for (const step of steps) {
        for (const [param, chunks] of step.longData ?? []) for (const chunk of chunks) s.longData(id, param, chunk);
        transcript.push(await s.execute(id, step.params, { newParamsBound: step.newParamsBound }));
      }
      out.push(transcript);
    } finally {
      s.close();
    }
  }
  return out as [string[], string[]];
}

const int = (type: number, value: bigint | number | null, unsigned = false): BinaryParam => ({ type, value, unsigned });
const str = (value: string | null, type: number = ColumnType.VAR_STRING): BinaryParam => ({ type, value });

describe.each(['main', 'commerce'])('prepared statement parameters through the gateway (%s) against one MariaDB', (database) => {
  it('every integer, float, decimal and string type of a point select key, signed and unsigned, and NULL', async () => {
    const steps: Step[] = [
      { params: [int(ColumnType.TINY, 3)] },
      { params: [int(ColumnType.TINY, -1)] },
      { params: [int(ColumnType.TINY, 255, true)] },
      { params: [int(ColumnType.SHORT, 5)] },
      { params: [int(ColumnType.SHORT, 65535, true)] },
      { params: [int(ColumnType.LONG, 7)] },
      { params: [int(ColumnType.LONG, 4294967295, true)] },
      { params: [int(ColumnType.LONGLONG, 9n)] },
      { params: [int(ColumnType.LONGLONG, 18446744073709551615n, true)] },
      { params: [int(ColumnType.LONGLONG, -9223372036854775808n)] },
      { params: [{ type: ColumnType.FLOAT, value: 4 }] },
      { params: [{ type: ColumnType.DOUBLE, value: 6 }] },
      { params: [{ type: ColumnType.DOUBLE, value: 6.5 }] },
      { params: [str('8.0', ColumnType.NEWDECIMAL)] },
      { params: [str('10')] },
      { params: [str('11', ColumnType.STRING)] },
      { params: [str('12', ColumnType.VARCHAR)] },
      { params: [str('13', ColumnType.BLOB)] },
      { params: [{ type: ColumnType.LONG, value: null }] },
      { params: [{ type: ColumnType.NULL, value: null }] },
      { params: [int(ColumnType.TINY, 1)] }, // a boolean, as mysql2 sends `true`
    ];
    const [gateway, mariadb] = await both(database, 'SELECT id, k, s, d, dt, tm, b FROM t WHERE id=?', steps);
    expect(gateway).toEqual(mariadb);
    expect(mariadb.filter((r) => r.includes(': 0'))).not.toHaveLength(0); // some steps found their row
  });

  it('types sent once and then left out, and a parameter re-bound with another type between executes', async () => {
    const steps: Step[] = [
      { params: [int(ColumnType.LONG, 2)] },
      { params: [int(ColumnType.LONG, 3)], newParamsBound: false },
      { params: [int(ColumnType.LONG, 4)], newParamsBound: false },
      { params: [str('5')] },
      { params: [str('6')], newParamsBound: false },
      { params: [{ type: ColumnType.DOUBLE, value: 7 }] },
      { params: [{ type: ColumnType.DOUBLE, value: 8 }], newParamsBound: false },
      { params: [{ type: ColumnType.DOUBLE, value: null }], newParamsBound: false },
      { params: [int(ColumnType.LONGLONG, 9n, true)] },
      { params: [int(ColumnType.LONGLONG, 10n, true)], newParamsBound: false },
      { params: [int(ColumnType.TINY, 11)] },
    ];
    const [gateway, mariadb] = await both(database, 'SELECT c.id, c.s FROM t AS c WHERE c.id = ?', steps);
    expect(gateway).toEqual(mariadb);
  });

  it('NULLs across a bitmap of two bytes, with the types left out after the first execute', async () => {
    const ids = (values: (number | null)[]): BinaryParam[] => values.map((v) => int(ColumnType.LONGLONG, v === null ? null : BigInt(v)));
    const steps: Step[] = [
      { params: ids([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) },
      { params: ids([null, 2, 3, 4, 5, 6, 7, null, null, 10, null]), newParamsBound: false },
      { params: ids([null, null, null, null, null, null, null, null, 9, null, null]), newParamsBound: false },
      { params: ids([null, null, null, null, null, null, null, null, null, null, null]) },
      { params: ids([1, null, 3, null, 5, null, 7, null, 9, null, 11]) },
    ];
    const [gateway, mariadb] = await both(database, 'SELECT id, s FROM t WHERE id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', steps);
    expect(gateway).toEqual(mariadb);
    // And NULL next to values in one WHERE, compared with `<=>` and `=`.
    const [g2, m2] = await both(database, 'SELECT id FROM t WHERE id = ? AND (k <=> ? OR s = ?)', [
      { params: [int(ColumnType.LONG, 7), int(ColumnType.LONG, 0), str(null)] },
      { params: [int(ColumnType.LONG, 7), int(ColumnType.LONG, null), str('s7')], newParamsBound: false },
      { params: [int(ColumnType.LONG, -1), int(ColumnType.LONG, null), str(null)] },
    ]);
    expect(g2).toEqual(m2);
  });

  it('DATETIME, DATE, TIMESTAMP and TIME parameters', async () => {
    const when = (type: number, value: string | null): BinaryParam => ({ type, value });
    const [gateway, mariadb] = await both(database, 'SELECT id, dt FROM t WHERE id = ? AND (dt = ? OR dd = ? OR tm = ?)', [
      { params: [int(ColumnType.LONG, 3), when(ColumnType.DATETIME, '2024-01-03 10:00:03.003000'), when(ColumnType.DATE, '1999-01-01'), when(ColumnType.TIME, '00:00:00')] },
      { params: [int(ColumnType.LONG, 4), when(ColumnType.DATETIME, '2024-01-03 10:00:03'), when(ColumnType.DATE, '2024-02-04'), when(ColumnType.TIME, '00:00:00')] },
      { params: [int(ColumnType.LONG, 5), when(ColumnType.TIMESTAMP, '2000-01-01 00:00:00'), when(ColumnType.DATETIME, '2024-02-05 00:00:00'), when(ColumnType.TIME, '00:00:00')] },
      { params: [int(ColumnType.LONG, 6), when(ColumnType.DATETIME, null), when(ColumnType.DATE, null), when(ColumnType.TIME, '6:02:03.5')] },
      { params: [int(ColumnType.LONG, -1), when(ColumnType.DATETIME, null), when(ColumnType.DATE, null), when(ColumnType.TIME, '-1:00:00')] },
    ]);
    expect(gateway).toEqual(mariadb);
  });

  it('values sent as COM_STMT_SEND_LONG_DATA, in chunks, beside NULLs and packet values, and not kept for the next execute', async () => {
    const long = (type: number): BinaryParam => ({ type, value: '', longData: true });
    const [gateway, mariadb] = await both(database, 'SELECT id, s, b FROM t WHERE id = ? AND (s = ? OR b = ?)', [
      { params: [int(ColumnType.LONG, 7), long(ColumnType.VAR_STRING), str(null, ColumnType.BLOB)], longData: [[1, ['s', '7']]] },
      { params: [int(ColumnType.LONG, 8), str('nope'), long(ColumnType.BLOB)], longData: [[2, [Buffer.from([0x01]), Buffer.from([0x28])]]] },
      // No long data this time: the packet's value counts.
      { params: [int(ColumnType.LONG, 9), str('s9'), str(null, ColumnType.BLOB)] },
      { params: [int(ColumnType.LONG, -1), long(ColumnType.STRING), str(null, ColumnType.BLOB)], longData: [[1, [`long ${'x'.repeat(15)}`, 'x'.repeat(15)]]] },
      // Long data for a parameter the packet then marks NULL: MariaDB takes the long data.
      { params: [int(ColumnType.LONG, 10), str(null), str(null, ColumnType.BLOB)], longData: [[1, ['s10']]] },
    ]);
    expect(gateway).toEqual(mariadb);
  });
});
