import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ColumnFlag,
  ColumnType,
  columnDefinition,
  countPlaceholders,
  ErrorCode,
  mysqlError,
  textColumn,
  type ColumnDefinition,
  type ParamValue,
  type ResultSink,
} from '../src/index.js';
import { startServer, type TestServer } from './helpers.js';

const U = ColumnFlag.UNSIGNED;
const TYPED_COLUMNS: ColumnDefinition[] = [
  columnDefinition('tiny', ColumnType.TINY),
  columnDefinition('utiny', ColumnType.TINY, { flags: U | ColumnFlag.NUM }),
  columnDefinition('short', ColumnType.SHORT),
  columnDefinition('int24', ColumnType.INT24),
  columnDefinition('long', ColumnType.LONG),
  columnDefinition('ulong', ColumnType.LONG, { flags: U | ColumnFlag.NUM }),
  columnDefinition('big', ColumnType.LONGLONG),
  columnDefinition('ubig', ColumnType.LONGLONG, { flags: U | ColumnFlag.NUM }),
  columnDefinition('year', ColumnType.YEAR),
  columnDefinition('float', ColumnType.FLOAT),
  columnDefinition('double', ColumnType.DOUBLE),
  columnDefinition('dec', ColumnType.NEWDECIMAL, { decimals: 4 }),
  columnDefinition('date', ColumnType.DATE),
  columnDefinition('dt', ColumnType.DATETIME),
  columnDefinition('dt6', ColumnType.DATETIME, { decimals: 6 }),
  columnDefinition('ts', ColumnType.TIMESTAMP),
  columnDefinition('time', ColumnType.TIME),
  columnDefinition('ntime', ColumnType.TIME, { decimals: 1 }),
  textColumn('str'),
  columnDefinition('bin', ColumnType.BLOB, { characterSet: 63, flags: ColumnFlag.BLOB | ColumnFlag.BINARY }),
  columnDefinition('json', ColumnType.JSON, { characterSet: 63 }),
  columnDefinition('enum', ColumnType.STRING, { flags: ColumnFlag.ENUM, characterSet: 45 }),
  columnDefinition('nul', ColumnType.NULL),
];

const TYPED_ROWS: (string | Uint8Array | null)[][] = [
  [
    '-128', '255', '-32768', '-8388608', '-2147483648', '4294967295', '-9223372036854775808', '18446744073709551615', '2024',
    '1.5', '3.141592653589793', '123.4500', '2024-02-29', '2024-01-02 03:04:05', '2024-01-02 03:04:05.123456',
    '1970-01-01 00:00:01', '12:34:56', '-838:59:59.5', 'héllo wörld', Buffer.from([0, 1, 2, 0xff]), '{"a":[1,2]}', 'medium', null,
  ],
  [
    '127', '0', '32767', '8388607', '2147483647', '0', '9223372036854775807', '0', '1901',
    '-0.25', '-1e-300', '-0.0001', '0000-00-00', '0000-00-00 00:00:00', '2000-01-01 00:00:00.000001',
    '2038-01-19 03:14:07', '00:00:00', '-00:00:01', '', Buffer.alloc(0), 'null', '', null,
  ],
  // every other column NULL: exercises the NULL bitmap across byte boundaries (bit offset 2)
  TYPED_COLUMNS.map((_, i) => (i % 2 === 0 ? null : i === 19 ? Buffer.from('b') : TYPED_ROWS_SECOND(i))),
  TYPED_COLUMNS.map(() => null),
];

function TYPED_ROWS_SECOND(i: number): string {
  return ['', '1', '', '2', '', '3', '', '4', '', '2.5', '', '1.0000', '', '2020-02-02 02:02:02', '', '2021-01-01 00:00:00', '', '01:00:00', '', '', '', 'small', ''][i];
}

async function sendTyped(out: ResultSink): Promise<void> {
  out.columns(TYPED_COLUMNS);
  for (const row of TYPED_ROWS) if (!out.row(row)) await out.drain();
  out.end();
}

describe('prepared statements with mysql2', () => {
  let t: TestServer;
  const executed: { sql: string; params: readonly ParamValue[] }[] = [];
  beforeAll(async () => {
    t = await startServer(() => ({
      query: async (sql, out) => {
        if (sql === 'typed') return sendTyped(out);
        out.ok();
      },
      prepare: async (sql) => {
        if (sql.includes('nope')) throw mysqlError(ErrorCode.ER_NO_SUCH_TABLE, "Table 'db.nope' doesn't exist");
        return { paramCount: countPlaceholders(sql), columns: sql === 'typed' ? TYPED_COLUMNS : [] };
      },
      execute: async (sql, params, out) => {
        executed.push({ sql, params });
        if (sql === 'typed') return sendTyped(out);
        if (sql.startsWith('bad value')) {
          out.columns([columnDefinition('n', ColumnType.LONG)]);
          out.row(['12']);
          out.row(['not a number']);
          return;
        }
        if (sql.startsWith('fail')) throw mysqlError(ErrorCode.ER_DUP_ENTRY, "Duplicate entry '1' for key 'PRIMARY'");
        out.ok({ affectedRows: params.length });
      },
    }));
  });
  afterAll(() => t.close());

  it('decodes many parameter types as the contract says', async () => {
    const c = await t.connect({ timezone: 'Z' });
    const T = mysql.TypedParameter;
    const params = [
      null,
      9223372036854775807n,
      -5,
      1.5,
      '12.34',
      'héllo',
      new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      true,
      T.LONGLONG(9223372036854775807n),
      T.LONGLONG(-9223372036854775808n),
      T.LONGLONG.unsigned(18446744073709551615n),
      T.TINY(-1),
      T.SHORT.unsigned(65535),
      T.INT24(-8388608),
      T.LONG(-2147483648),
      T.YEAR(2024),
      T.FLOAT(0.5),
      T.DOUBLE(-2.25),
      T.DECIMAL('-0.001'),
      T.DATE('2024-02-29T00:00:00Z'),
      T.TIME('-838:59:59.5'),
      T.TIME('01:02:03'),
      T.JSON({ a: 1 }),
      T.TEXT('long text'),
    ];
    const sql = 'select ' + params.map(() => '?').join(', ');
    const [res] = await c.execute(sql, params);
    expect(res).toMatchObject({ affectedRows: params.length });
    expect(executed.at(-1)!.params).toEqual([
      null,
      '9223372036854775807', // mysql2 sends a JS bigint as a string
      -5, // mysql2 sends JS numbers as DOUBLE
      1.5,
      '12.34',
      'héllo',
      '2024-01-02 03:04:05.678000',
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      1n,
      9223372036854775807n,
      -9223372036854775808n,
      18446744073709551615n,
      -1n,
      65535n,
      -8388608n,
      -2147483648n,
      2024n,
      0.5,
      -2.25,
      '-0.001',
      '2024-02-29',
      '-838:59:59.500000',
      '01:02:03',
      '{"a":1}',
      Buffer.from('long text'),
    ]);
    // Executing the cached statement again binds new values.
    await c.execute(sql, params.map(() => null));
    expect(executed.at(-1)!.params.every((p) => p === null)).toBe(true);
    await c.end();
  });

  it('encodes binary rows of every supported column type that decode like the text rows', async () => {
    const c = await t.connect({ supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, timezone: 'Z' });
    const [textRows] = await c.query('typed');
    const [binaryRows, fields] = await c.execute('typed');
    expect(fields.map((f) => f.name)).toEqual(TYPED_COLUMNS.map((col) => col.name));
    expect(binaryRows).toEqual(textRows);
    const first = (binaryRows as Record<string, unknown>[])[0];
    expect(first).toEqual({
      tiny: -128,
      utiny: 255,
      short: -32768,
      int24: -8388608,
      long: -2147483648,
      ulong: 4294967295,
      big: '-9223372036854775808',
      ubig: '18446744073709551615',
      year: 2024,
      float: 1.5,
      double: 3.141592653589793,
      dec: '123.4500',
      date: '2024-02-29',
      dt: '2024-01-02 03:04:05',
      dt6: '2024-01-02 03:04:05.123456',
      ts: '1970-01-01 00:00:01',
      time: '12:34:56',
      ntime: '-838:59:59.5',
      str: 'héllo wörld',
      bin: Buffer.from([0, 1, 2, 0xff]),
      json: { a: [1, 2] },
      enum: 'medium',
      nul: null,
    });
    const rows = binaryRows as Record<string, unknown>[];
    expect(rows[1]).toMatchObject({ big: '9223372036854775807', date: '0000-00-00', dt: '0000-00-00 00:00:00', time: '00:00:00', ntime: '-00:00:01', json: null });
    expect(Object.values(rows[3]).every((v) => v === null)).toBe(true);
    await c.end();
  });

  it('reports prepare errors, execute errors and unencodable values as ERR, keeping the connection', async () => {
    const c = await t.connect();
    await expect(c.execute('select * from nope where id = ?', [1])).rejects.toMatchObject({ errno: 1146, sqlState: '42S02' });
    await expect(c.execute('fail ?', [1])).rejects.toMatchObject({ errno: 1062, sqlState: '23000' });
    await expect(c.execute('bad value ?', [1])).rejects.toMatchObject({ errno: 1105, message: expect.stringContaining("column 'n'") });
    const [res] = await c.execute('ok ?', [1]);
    expect(res).toMatchObject({ affectedRows: 1 });
    await c.end();
  });

  it('closes statements and prepares fresh ones', async () => {
    const c = await t.connect();
    const stmt = await c.prepare('select ?, ?');
    const [res] = await stmt.execute([1, 2]);
    expect(res).toMatchObject({ affectedRows: 2 });
    await stmt.close();
    c.unprepare('select ?, ?');
    const [res2] = await c.execute('select ?, ?', ['a', 'b']);
    expect(res2).toMatchObject({ affectedRows: 2 });
    await c.end();
  });
});
