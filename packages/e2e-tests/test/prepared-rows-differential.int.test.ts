/**
 * Binary result rows (COM_STMT_EXECUTE) of every column type, through the gateway against one
 * plain MariaDB holding the same rows. The shards answer in the text protocol and the gateway
 * builds each binary row from the text row's bytes (writeBinaryRowFromText), both on the buffered
 * path (OLTP, rows read whole first) and on the streamed one (OLAP, row packets forwarded in
 * bulk): mysql2 decodes the binary rows by the column types, so a wrong byte shows as a wrong
 * value or type here.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SHARDS = ['-80', '80-'];
const SCHEMA = `
create table every_type (
  id bigint primary key,
  ti tinyint, tu tinyint unsigned, si smallint, su smallint unsigned, mi mediumint, mu mediumint unsigned,
  i int, iu int unsigned, bi bigint, bu bigint unsigned,
  f float, d double, dc decimal(30,6), y year,
  dt date, dtm datetime, dtm6 datetime(6), ts timestamp(3) null default null, tm time, tm6 time(6),
  ch char(10), vc varchar(300) collate utf8mb4_general_ci, bn binary(4), vb varbinary(10), tx text, bl blob,
  en enum('a', 'bb'), st set('x', 'y'), bt bit(10), js json
);
`;
const ROWS = [
  `(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
    -3.40282e38, -1.7976931348623157e308, -99999999999999999999999.999999, 1901,
    '1000-01-01', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999', '-838:59:59', '838:59:59.000001',
    'abc', repeat('é', 300), x'00ff0a00', x'', 'text', x'deadbeef', 'bb', 'x,y', b'1111111111', '{"a": [1, 2.5, "x"]}')`,
  `(2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0,
    1.5, 0.1, 0.000001, 2155,
    '2024-02-29', '2024-02-29 12:34:56', '2024-02-29 00:00:00.000000', '1970-01-02 00:00:00.000', '00:00:00', '-00:00:00.5',
    '', '', x'01', x'0102', '', x'', 'a', '', b'0', 'null')`,
  `(3, 0, 1, -1, 1, -1, 1, -1, 1, -1, 1,
    -0.0, 1e-300, 0, 0,
    '2000-01-01', '2000-01-01 00:00:01', '2000-01-01 00:00:00.100000', '2000-01-01 00:00:00.001', '12:00:00', '-01:02:03.040500',
    'x', 'zoë', x'20202020', x'ff', 'long text ${'y'.repeat(70)}', x'00', 'bb', 'y', b'1', '[]')`,
  `(4, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)`,
  ...Array.from({ length: 40 }, (_, k) => {
    const n = k + 10;
    return `(${n}, ${n % 100}, ${n}, ${-n * 100}, ${n * 7}, ${n * 1000}, ${n}, ${n * 12345}, ${n * 3}, ${n * 1e12}, ${n},
      ${n}.25, ${n}.125, ${n}.5, ${2000 + n},
      '2020-01-${String((n % 28) + 1).padStart(2, '0')}', '2020-01-01 0${n % 10}:00:00', '2020-01-01 00:00:00.0000${n % 10}0', null, '${n}:01:02', '-${n}:00:00.000009',
      'c${n}', 'v${n}', x'0${n % 10}', x'0${n % 10}0${n % 10}', 't${n}', x'0${n % 10}', ${n % 2 === 0 ? "'a'" : 'null'}, 'x', b'${(n % 1024).toString(2)}', '{"n": ${n}}')`;
  }),
];
const COLUMNS = 'id, ti, tu, si, su, mi, mu, i, iu, bi, bu, f, d, dc, y, dt, dtm, dtm6, ts, tm, tm6, ch, vc, bn, vb, tx, bl, en, st, bt, js';
const INSERT = `insert into every_type (${COLUMNS}) values ${ROWS.join(',\n')}`;

let pair: GatewayAndReference;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { commerce: hashKeyspace({ every_type: 'id' }) } }, keyspaces: { commerce: { shards: SHARDS, schema: SCHEMA } } }, 'commerce', SCHEMA);
  ({ ref, sub } = pair);
  await pair.loadBoth([INSERT]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

/** The rows of an execute (as mysql2 decodes the binary rows), sorted by id, and the column types. */
async function executed(conn: mysql.Connection, sql: string, params: unknown[]): Promise<{ rows: string[]; columns: string[] }> {
  const [rows, fields] = await conn.execute({ sql, rowsAsArray: true }, params as never[]);
  const asText = (v: unknown) => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : JSON.stringify(v));
  return {
    rows: (rows as unknown[][]).map((r) => `[${r.map(asText).join(',')}]`).sort((a, b) => Number(a.slice(1).split(',')[0].replace(/"/g, '')) - Number(b.slice(1).split(',')[0].replace(/"/g, ''))),
    columns: (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}:${f.flags}:${f.decimals}`),
  };
}

describe('binary rows of every column type vs one MariaDB', () => {
  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: a scatter, a range and point selects through execute answer as one MariaDB does`, async () => {
      await sub.query(`set workload = '${workload}'`);
      const cases: [string, unknown[]][] = [
        ['select * from every_type where id >= ?', [0]],
        ['select * from every_type where id between ? and ?', [1, 20]],
        ['select id, tm, tm6, dt, dtm6, bu, bi, f, d from every_type where id in (?, ?, ?, ?)', [1, 2, 3, 4]],
        ...[1, 2, 3, 4, 17].map((id): [string, unknown[]] => ['select * from every_type where id = ?', [id]]),
      ];
      for (const [sql, params] of cases) {
        const [want, got] = [await executed(ref, sql, params), await executed(sub, sql, params)];
        expect(want.rows.length, sql).toBeGreaterThan(0);
        // The gateway announces MariaDB's JSON as MySQL's JSON type (see field-cache.ts): the
        // values must match, the column's type and flags may not.
        const columns = (c: string[]) => c.map((x) => (x.startsWith('js:') ? 'js' : x));
        expect({ rows: got.rows, columns: columns(got.columns) }, `${workload}: ${sql}`).toEqual({ rows: want.rows, columns: columns(want.columns) });
      }
    });
  }
});
