/**
 * Joined rows across shards, every column type on both sides, NULLs and long values (length
 * prefixes of 1, 3 and 4 bytes), against one plain MariaDB holding the same rows: the inner side
 * scattered and routed (keyed IN-list lookups), a LEFT JOIN's NULL-extended rows, streamed (OLAP)
 * and read whole (OLTP), as text rows compared byte for byte and as binary rows (prepared
 * statements). A join that writes its rows as anything but encoded rows must pass this unchanged.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const COLUMNS = `
  ti tinyint, si smallint unsigned, mi mediumint, i int, bu bigint unsigned, de decimal(12,3),
  f float, db double, bt bit(8), d date, dt datetime(6), tm time(2), y year, c char(5) collate utf8mb4_general_ci,
  vc varchar(300) collate utf8mb4_general_ci, bi binary(4), vb varbinary(10), bl blob, mt mediumtext,
  en enum('x', 'y'), st set('a', 'b')`;
const SCHEMA = `
create table jo (id bigint primary key, k int, ${COLUMNS});
create table ji (id bigint primary key, k int, ${COLUMNS});
`;
const NAMES = ['ti', 'si', 'mi', 'i', 'bu', 'de', 'f', 'db', 'bt', 'd', 'dt', 'tm', 'y', 'c', 'vc', 'bi', 'vb', 'bl', 'mt', 'en', 'st'];

/** One row's values: row id % 5 === 0 is all NULL; some rows carry values over 250 and 65535 bytes. */
function values(id: number): string {
  if (id % 5 === 0) return `(${id}, ${id % 7}, ${NAMES.map(() => 'null').join(', ')})`;
  const long = id % 3 === 0 ? 'repeat(\'é\', 140)' : `'v${id}'`;
  const huge = id % 4 === 1 ? 'repeat(\'m\', 70000)' : `'t${id}'`;
  return `(${id}, ${id % 7}, ${-id}, ${id * 300}, ${-id * 1000}, ${id * 100000}, ${18446744073709551615n - BigInt(id)}, ${id}.${id % 1000},
    ${id / 4}, ${id / 3}, b'${(id % 256).toString(2)}', '2024-01-${String((id % 28) + 1).padStart(2, '0')}', '2024-02-03 04:05:06.${id}',
    '-${id}:01:02.5', ${1990 + id}, 'c${id % 10}', ${long}, x'0${id % 10}ff', x'00${id % 10}0', x'${(id % 256).toString(16).padStart(2, '0')}00', ${huge},
    '${id % 2 === 0 ? 'x' : 'y'}', '${id % 2 === 0 ? 'a,b' : 'b'}')`;
}
const INSERTS = [
  `insert into jo (id, k, ${NAMES.join(', ')}) values ${Array.from({ length: 30 }, (_, i) => values(i + 1)).join(', ')}`,
  `insert into ji (id, k, ${NAMES.join(', ')}) values ${Array.from({ length: 40 }, (_, i) => values(i + 3)).join(', ')}`,
];
const ALL = (t: string) => NAMES.map((n) => `${t}.${n}`).join(', ');
const QUERIES = [
  // No ORDER BY: a sort at the gateway would take the joined rows as rows (compared as sets).
  // The inner side scattered (keyed by k), routed by its vindex (id), and a LEFT JOIN's NULL rows.
  `select jo.id, ${ALL('jo')}, ji.id, ${ALL('ji')} from jo join ji on ji.k = jo.k`,
  `select ${ALL('ji')}, jo.id, ${ALL('jo')} from jo join ji on ji.id = jo.k`,
  `select jo.id, ji.id, ${ALL('ji')}, jo.mt from jo left join ji on ji.k = jo.i`,
  `select jo.id, ji.vc, jo.vc, ji.mt from jo left join ji on ji.vc = jo.vc`,
];

let pair: GatewayAndReference;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { commerce: hashKeyspace({ jo: 'id', ji: 'id' }) } }, keyspaces: { commerce: { shards: SHARDS, schema: SCHEMA } } }, 'commerce', SCHEMA);
  ({ ref, sub } = pair);
  await pair.loadBoth(INSERTS);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

/** Text rows as the servers' bytes (hex), and each column's name and type. */
async function textAnswer(conn: mysql.Connection, sql: string): Promise<{ rows: unknown; columns: string[] }> {
  const [rows, fields] = await conn.query({ sql, rowsAsArray: true, typeCast: false });
  return {
    rows: (rows as (Buffer | null)[][]).map((r) => JSON.stringify(r.map((v) => (v === null ? null : v.toString('hex'))))).sort(),
    // Flags too: a LEFT JOIN's inner columns lose NOT_NULL, as in MariaDB.
    columns: (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}:${f.characterSet}:${f.decimals}:${f.flags}`),
  };
}

/** Binary rows (a prepared statement) as mysql2 decodes them. */
async function binaryAnswer(conn: mysql.Connection, sql: string): Promise<unknown> {
  const [rows] = await conn.execute({ sql, rowsAsArray: true });
  return (rows as unknown[]).map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).sort();
}

/** Where two answers differ, in a few hundred characters (rows hold 70,000-byte values). */
function differences(sql: string, got: unknown, want: unknown): string[] {
  const a = JSON.stringify(got);
  const b = JSON.stringify(want);
  if (a === b) return [];
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return [`${sql.slice(0, 120)}\n  at ${i}: got ${a.slice(Math.max(0, i - 80), i + 120)}\n  want ${b.slice(Math.max(0, i - 80), i + 120)}`];
}

describe('joined rows of every column type vs one MariaDB', () => {
  for (const workload of ['olap', 'oltp']) {
    it(`${workload}: text rows byte for byte, binary rows alike`, async () => {
      await sub.query(`set workload = '${workload}'`);
      const found: string[] = [];
      for (const sql of QUERIES) {
        const want = await textAnswer(ref, sql);
        expect((want.rows as unknown[]).length, sql).toBeGreaterThan(10);
        found.push(...differences(sql, await textAnswer(sub, sql), want));
        found.push(...differences(`${sql} (prepared)`, await binaryAnswer(sub, sql), await binaryAnswer(ref, sql)));
      }
      expect(found).toEqual([]);
    });
  }
});
