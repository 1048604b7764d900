/**
 * Scatter `ORDER BY … LIMIT` over 4 shards against one plain MariaDB holding the same rows, byte
 * for byte. Under a Limit the gateway's merge reads the sort keys where they lie in the shards'
 * row packets (integers and collation keys compared in place, never decoding a row it does not
 * hand on) and decodes a chosen row only as far as its visible columns, forwarding that prefix of
 * the shard's packet (operators/merge-sort.ts). So every key type the merge compares is here:
 * integers (negative, wide, NULL), decimals, doubles, strings under several collations (case,
 * accents, trailing spaces, expansions), binary strings, dates and times; ASC and DESC; several
 * keys; helper columns before and after visible ones (`*`, an expression); OFFSET; the text and
 * the prepared protocol; OLTP (merged under the Limit) and OLAP (streamed).
 *
 * Every ORDER BY ends in the primary key, so the order is total and one MariaDB's answer is the
 * only right one. The vschema names no column types: the planner pushes a collation key for every
 * ORDER BY column and the merge decides by the shards' field types.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const SCHEMA = `
create table ord (
  id int primary key,
  i int, bi bigint, bu bigint unsigned, dc decimal(12,3), d double,
  s varchar(20) collate utf8mb4_general_ci, sb varchar(20) collate utf8mb4_bin,
  sl char(10) character set latin1, su varchar(20) collate utf8mb4_unicode_ci, snp varchar(20) collate utf8mb4_unicode_nopad_ci,
  vb varbinary(10), dt datetime, tm time
);
create table wide (id int primary key, k int, pad varchar(3000));
`;
const WORDS = ['a', 'A', 'á', 'a ', 'b', 'B ', 'ß', 'ss', '', 'Å', 'z', 'é', 'e', 'a\t', 'ab', null];
const q = (v: string | null) => (v === null ? 'null' : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
const ROWS = Array.from({ length: 240 }, (_, k) => {
  const id = k + 1;
  const pick = (m: number) => WORDS[(k * m + 3) % WORDS.length];
  const nul = (v: string) => (k % 11 === 0 ? 'null' : v);
  return `(${id}, ${nul(String((k * 37) % 23 - 11))}, ${k % 7 === 0 ? '-9223372036854775808' : k % 13 === 0 ? '9223372036854775807' : String(((k * 7919) % 401) - 200)},
    ${k % 9 === 0 ? '18446744073709551615' : String((k * 31) % 17)}, ${nul(`${(k * 53) % 19 - 9}.${(k * 7) % 1000}`)}, ${nul(`${((k * 17) % 29) - 14}.5e${k % 5}`)},
    ${q(pick(3))}, ${q(pick(5))}, ${q(pick(7) === null || pick(7)!.length <= 10 ? pick(7) : 'x')}, ${q(pick(9))}, ${q(pick(11))},
    ${k % 10 === 0 ? 'null' : `x'${((k * 13) % 256).toString(16).padStart(2, '0')}${k % 3 === 0 ? '' : '00'}'`},
    ${k % 12 === 0 ? 'null' : `'2024-0${(k % 9) + 1}-1${k % 10} 0${k % 10}:00:00'`}, ${k % 8 === 0 ? 'null' : `'${k % 2 === 0 ? '-' : ''}${(k * 3) % 50}:0${k % 10}:00'`})`;
});
/** Rows of 1-3 KB: a shard's reply to a LIMIT of hundreds spans many socket reads (row packet runs). */
const WIDE = `insert into wide (id, k, pad) values ${Array.from({ length: 800 }, (_, k) => `(${k + 1}, ${(k * 7) % 50}, repeat('${String.fromCharCode(97 + (k % 26))}', ${1000 + ((k * 131) % 2000)}))`).join(', ')}`;
const INSERT = `insert into ord (id, i, bi, bu, dc, d, s, sb, sl, su, snp, vb, dt, tm) values ${ROWS.join(',\n')}`;

const STATEMENTS = [
  'select id, i from ord order by i, id limit 17',
  'select id, i from ord order by i desc, id limit 30',
  'select id, bi from ord order by bi, id limit 25',
  'select id, bu from ord order by bu desc, id desc limit 40',
  'select id, dc from ord order by dc, id desc limit 50',
  'select id, d from ord order by d desc, id limit 25',
  'select id, s from ord order by s, id limit 40',
  'select id, s from ord order by s desc, id desc limit 40',
  'select id, sb from ord order by sb, id limit 40',
  'select id, sl from ord order by sl desc, id limit 40',
  'select id, su from ord order by su, id limit 40',
  'select id, snp from ord order by snp, id limit 40',
  'select id, vb from ord order by vb, id limit 30',
  'select id, dt, tm from ord order by dt desc, id limit 30',
  'select id, tm from ord order by tm, id limit 30',
  'select s, i, id from ord order by i desc, s, id limit 60',
  'select id, s, su from ord order by s, su desc, sb, id limit 70',
  'select id from ord order by s, i, id limit 20',
  'select id, i + 1 from ord order by i + 1, id limit 20',
  'select * from ord order by s, id limit 20',
  'select * from ord order by 2 desc, id limit 20',
  'select id, i from ord order by i, id limit 10, 20',
  'select id, s from ord order by s, id limit 1000',
  'select id, sl, sb from ord where i is null order by sl, sb, id limit 5',
  'select id, k, pad from wide order by k desc, id limit 500',
  'select pad, id from wide order by left(pad, 1) desc, id limit 300',
  'select id, pad from wide order by k, id desc limit 10, 600',
  // Rows handed on as their packet's visible prefix only (packet-only rows, row-packets.ts): the
  // visible cells all NULL, an empty string or NULL right before the helper column, one column.
  'select i from ord order by s, id limit 30',
  'select sb from ord order by sb desc, id limit 30',
  'select vb, dc from ord order by su desc, id limit 45',
  'select s from ord order by d, id limit 8, 40',
  // No LIMIT: an OLTP merge to the client takes every shard reply as packets and hands each row
  // on as its packet's visible prefix (no row decoded), over several socket reads for `wide`.
  'select id, s from ord order by s, id',
  'select i, sb from ord order by su desc, id',
  'select * from ord order by sl, dt desc, id',
  'select id, k, pad from wide order by k desc, id',
];

let pair: GatewayAndReference;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { commerce: hashKeyspace({ ord: 'id', wide: 'id' }) } }, keyspaces: { commerce: { shards: SHARDS, schema: SCHEMA } } }, 'commerce', SCHEMA);
  ({ ref, sub } = pair);
  await pair.loadBoth([INSERT, WIDE]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

/** The text-protocol answer as bytes: each cell's hex (mysql2 with typeCast off), and the columns. */
async function queried(conn: mysql.Connection, sql: string): Promise<{ rows: string[]; columns: string[] }> {
  const [rows, fields] = await conn.query({ sql, rowsAsArray: true, typeCast: false });
  return {
    rows: (rows as (Buffer | null)[][]).map((r) => r.map((c) => (c === null ? 'NULL' : c.toString('hex'))).join(',')),
    columns: (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}:${f.flags}:${f.decimals}:${f.characterSet}`),
  };
}

/** The binary-protocol answer (COM_STMT_EXECUTE) as mysql2 decodes it, and the columns. */
async function executed(conn: mysql.Connection, sql: string): Promise<{ rows: string[]; columns: string[] }> {
  const [rows, fields] = await conn.execute({ sql: sql.replace(/ from ord /, ' from ord where id > ? '), rowsAsArray: true }, [0]);
  const asText = (v: unknown) => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : JSON.stringify(v));
  return {
    rows: (rows as unknown[][]).map((r) => r.map(asText).join(',')),
    columns: (fields as mysql.FieldPacket[]).map((f) => `${f.name}:${f.columnType}:${f.flags}:${f.decimals}`),
  };
}

describe('scatter ORDER BY … LIMIT vs one MariaDB', () => {
  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: LAST_INSERT_ID(expr) and FOUND_ROWS() after a merged LIMIT are MariaDB's`, async () => {
      // The session reads the last row the client got (LAST_INSERT_ID(expr)): a row the merge
      // handed on as its packet only must still give its value.
      await sub.query(`set workload = '${workload}'`);
      // The third has "limit 1, 2" in a string only: no offset, so FOUND_ROWS() is the 7 rows sent
      // (read from the statement's text, it was refused as if the LIMIT had an offset).
      for (const sql of ['select id, last_insert_id(id + 1000) from ord order by s, id limit 9', 'select last_insert_id(i), s from ord order by s desc, id limit 13', "select id, s from ord where s <> 'limit 1, 2' order by s, id limit 7"]) {
        const answers = [];
        for (const conn of [ref, sub]) {
          const [rows] = await conn.query({ sql, rowsAsArray: true });
          const [[after]] = (await conn.query({ sql: 'select last_insert_id(), found_rows()', rowsAsArray: true })) as unknown as [unknown[][]];
          answers.push({ rows, after });
        }
        expect(answers[1], `${workload}: ${sql}`).toEqual(answers[0]);
      }
    });

    it(`${workload}, text protocol: the same bytes`, async () => {
      await sub.query(`set workload = '${workload}'`);
      for (const sql of STATEMENTS) {
        const want = await queried(ref, sql);
        expect(want.rows.length, sql).toBeGreaterThan(0);
        expect(await queried(sub, sql), `${workload}: ${sql}`).toEqual(want);
      }
    });

    it(`${workload}, prepared: the same rows`, async () => {
      await sub.query(`set workload = '${workload}'`);
      for (const sql of STATEMENTS.filter((s) => !s.includes(' where '))) {
        const want = await executed(ref, sql);
        expect(want.rows.length, sql).toBeGreaterThan(0);
        expect(await executed(sub, sql), `${workload}: ${sql}`).toEqual(want);
      }
    });
  }
});
