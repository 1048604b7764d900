/**
 * `SELECT DISTINCT c … ORDER BY c` across shards (sysbench oltp_read_only's fourth range): the
 * rows come merged in the order of c's collation key, and the gateway drops a row whose key
 * equals the last kept row's (see AdjacentKeys in packages/executor/src/operators/distinct.ts).
 * Against one plain MariaDB holding the same rows: exactly where the column's duplicates are
 * byte-identical (sysbench's case), and up to the collation where equal keys have several
 * spellings ('a', 'A', 'á', 'a '), of which each side may keep another, but never two. Text and
 * binary protocols (execute), both workloads, ascending and descending, NULLs, PAD SPACE and NO
 * PAD collations.
 */
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace } from './support/gateway-harness.js';

const SHARDS = ['-80', '80-'];
const SCHEMA = `
create table words (
  id int primary key,
  c char(30) collate utf8mb4_general_ci,
  v varchar(30) collate utf8mb4_general_ci,
  np varchar(30) collate utf8mb4_general_nopad_ci,
  bn varchar(30) collate utf8mb4_bin
);
`;
/** Byte-identical duplicates spread over ids (so both shards send each), NULLs among them. */
const EXACT = ['alpha', 'beta', 'Gamma', 'delta', 'zoë', 'eta', '', 'b', 'a\t', 'a', null];
/** Spellings that one collation or another counts as equal. */
const VARIANTS = ['a', 'A', 'á', 'a ', 'a  ', ' a', 'b', 'B', 'ss', 'ß', 'é', 'E', null, '', ' '];
const ROWS = Array.from({ length: 120 }, (_, k) => {
  const id = k + 1;
  const q = (s: string | null) => (s === null ? 'null' : `'${s.replace(/\t/g, '\\t')}'`);
  const exact = EXACT[(k * 7) % EXACT.length]!;
  const variant = VARIANTS[(k * 5) % VARIANTS.length]!;
  return `(${id}, ${q(exact)}, ${q(variant)}, ${q(variant)}, ${q(variant)})`;
});
const INSERT = `insert into words (id, c, v, np, bn) values ${ROWS.join(',\n')}`;

let pair: GatewayAndReference;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { commerce: hashKeyspace({ words: 'id' }) } }, keyspaces: { commerce: { shards: SHARDS, schema: SCHEMA } } }, 'commerce', SCHEMA);
  ({ ref, sub } = pair);
  await pair.loadBoth([INSERT]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

type Protocol = 'text' | 'execute';

async function rowsOf(conn: mysql.Connection, protocol: Protocol, sql: string, params: unknown[]): Promise<(string | null)[]> {
  const [rows] = protocol === 'text' ? await conn.query({ sql, rowsAsArray: true }, params) : await conn.execute({ sql, rowsAsArray: true }, params as never[]);
  return (rows as unknown[][]).map((r) => (r[0] === null ? null : String(r[0])));
}

/** MariaDB's own collation key of each value (what equal spellings share), asked of the reference. */
async function keysOf(column: string, values: (string | null)[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (const v of values) {
    if (v === null) out.push(null);
    else {
      const [rows] = await ref.query({ sql: `select hex(weight_string(convert(? using utf8mb4) collate ${collationOf(column)}))`, rowsAsArray: true }, [column === 'v' || column === 'c' ? v.replace(/ +$/, '') : v]);
      out.push(String((rows as unknown[][])[0]![0]));
    }
  }
  return out;
}

function collationOf(column: string): string {
  return column === 'np' ? 'utf8mb4_general_nopad_ci' : column === 'bn' ? 'utf8mb4_bin' : 'utf8mb4_general_ci';
}

const RANGES: [string, unknown[]][] = [
  ['', []],
  [' where id between ? and ?', [1, 60]],
  [' where id between ? and ?', [37, 41]],
  [' where id between ? and ?', [500, 600]],
];

describe('SELECT DISTINCT c … ORDER BY c across shards vs one MariaDB', () => {
  for (const workload of ['oltp', 'olap']) {
    for (const protocol of ['text', 'execute'] as const) {
      it(`${workload}, ${protocol}: byte-identical duplicates give exactly MariaDB's rows`, async () => {
        await sub.query(`set workload = '${workload}'`);
        for (const dir of ['', ' desc']) {
          for (const [where, params] of RANGES) {
            for (const extra of ['', ' limit 3']) {
              const sql = `select distinct c from words${where} order by c${dir}${extra}`;
              const want = await rowsOf(ref, protocol, sql, params);
              expect(await rowsOf(sub, protocol, sql, params), `${sql} ${JSON.stringify(params)}`).toEqual(want);
            }
          }
        }
      });

      it(`${workload}, ${protocol}: equal spellings leave one row per collation key, in MariaDB's order`, async () => {
        await sub.query(`set workload = '${workload}'`);
        for (const column of ['v', 'np', 'bn']) {
          for (const dir of ['', ' desc']) {
            for (const [where, params] of RANGES) {
              const sql = `select distinct ${column} from words${where} order by ${column}${dir}`;
              const [want, got] = [await rowsOf(ref, protocol, sql, params), await rowsOf(sub, protocol, sql, params)];
              const label = `${sql} ${JSON.stringify(params)}`;
              expect(got.length, label).toBe(want.length);
              expect(await keysOf(column, got), label).toEqual(await keysOf(column, want));
            }
          }
        }
      });
    }
  }
});
