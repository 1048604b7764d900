/**
 * Joins across shards whose inner side is looked up for a batch of outer rows with one IN-list
 * query per shard and matched at the gateway (operators/keyed-lookups.ts), through the real
 * Planner on a 4-shard keyspace, each compared with one plain MariaDB (the `main` server) holding
 * the same rows: integer, decimal and string keys (a _ci collation: 'a' = 'A' = 'a '), NULL keys,
 * duplicates on both sides, LEFT JOIN, keys the gateway cannot compare (a string against a number,
 * two collations: answered row by row), the inner side scattered or routed by its vindex, and
 * batches of thousands of outer rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

const SCHEMA = [
  `create table ta (id bigint not null primary key, k int, s varchar(20) collate utf8mb4_general_ci, sb varchar(20) collate utf8mb4_bin, d decimal(8,2), y year) engine=innodb`,
  `create table tb (id bigint not null primary key, k int, s varchar(20) collate utf8mb4_general_ci, sb varchar(20) collate utf8mb4_bin, d decimal(8,2), l1 varchar(20) collate latin1_swedish_ci) engine=innodb`,
  `create table big_a (id bigint not null primary key, k int not null) engine=innodb`,
  `create table big_b (id bigint not null primary key, k int not null, v varchar(16) not null, key (k)) engine=innodb`,
  `create table wa (id bigint not null primary key, b bigint, z int(4) zerofill, d decimal(20,2)) engine=innodb`,
  `create table wb (id bigint not null primary key, b bigint, k int, d decimal(20,2)) engine=innodb`,
];
const VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: Object.fromEntries(['ta', 'tb', 'big_a', 'big_b', 'wa', 'wb'].map((t) => [t, { column_vindexes: [{ column: 'id', name: 'hash' }] }])),
    },
    main: { sharded: false, tables: {} },
  },
};

const STRINGS = ['a', 'A', 'a ', 'b', 'B', 'ä', 'x', null, '', '5', '05', ' 5'];
const sqlString = (v: string | null): string => (v === null ? 'null' : `'${v}'`);
const TA = Array.from({ length: 40 }, (_, i) => {
  const id = i + 1;
  const k = id % 9 === 0 ? 'null' : String(id % 7);
  const s = STRINGS[i % STRINGS.length]!;
  const d = id % 8 === 0 ? 'null' : `${id % 5}.${id % 2 === 0 ? '50' : '00'}`;
  return `(${id}, ${k}, ${sqlString(s)}, ${sqlString(s)}, ${d}, ${2000 + (id % 4)})`;
});
const TB = Array.from({ length: 50 }, (_, i) => {
  const id = i + 1;
  const k = id % 11 === 0 ? 'null' : String(id % 6);
  const s = STRINGS[(i * 5) % STRINGS.length]!;
  const d = id % 6 === 0 ? 'null' : `${id % 4}.${id % 3 === 0 ? '5' : '0'}`;
  return `(${id}, ${k}, ${sqlString(s)}, ${sqlString(s)}, ${d}, ${sqlString(s)})`;
});
/** 3000 outer rows, each k matching 4 inner rows (and some none): several batches of thousands. */
const BIG_A = Array.from({ length: 3000 }, (_, i) => `(${i + 1}, ${(i * 7) % 2600})`);
const BIG_B = Array.from({ length: 10_000 }, (_, i) => `(${i + 1}, ${i % 2500}, 'v${i}')`);
/** Wide integer keys around the 15 digits the gateway reads as numbers, negatives and zero, ZEROFILL text ('0007'). */
const WIDE = ['7', '-7', '0', '999999999999999', '-999999999999999', '1000000000000000', '1000000000000001', '9223372036854775807', '-9223372036854775808', 'null'];
const WA = WIDE.map((b, i) => `(${i + 1}, ${b}, ${b === 'null' || b.startsWith('-') || b.length > 4 ? i : b}, ${b === 'null' || b.length > 18 ? '12.50' : `${b}.00`})`);
const WB = WIDE.flatMap((b, i) => [`(${i + 1}, ${b}, ${i % 5}, ${b === 'null' || b.length > 18 ? '12.5' : b})`, `(${i + 101}, ${b}, 7, ${b === 'null' || b.length > 18 ? 'null' : `${b}.01`})`]);
const INSERTS = [
  `insert into wa (id, b, z, d) values ${WA.join(', ')}`,
  `insert into wb (id, b, k, d) values ${WB.join(', ')}`,
  `insert into ta (id, k, s, sb, d, y) values ${TA.join(', ')}`,
  `insert into tb (id, k, s, sb, d, l1) values ${TB.join(', ')}`,
  `insert into big_a (id, k) values ${BIG_A.join(', ')}`,
  `insert into big_b (id, k, v) values ${BIG_B.join(', ')}`,
];

interface Case {
  readonly sql: string;
  /** The ORDER BY is total: rows must come in the same order. */
  readonly ordered?: boolean;
}

const CASES: readonly Case[] = [
  // Integer keys: NULLs, duplicates on both sides, scattered and routed inner sides.
  { sql: 'select ta.id, tb.id from ta join tb on tb.k = ta.k' },
  { sql: 'select ta.id, tb.id, tb.s from ta left join tb on tb.k = ta.k' },
  { sql: 'select ta.id, tb.s from ta join tb on ta.k = tb.id' },
  { sql: 'select ta.id, tb.id from ta left join tb on tb.id = ta.k where ta.id > 5 order by ta.id, tb.id', ordered: true },
  { sql: 'select ta.id, tb.id, tb.d from ta join tb on tb.k = ta.k and tb.d > 1 where ta.s is not null order by tb.id desc, ta.id limit 17', ordered: true },
  { sql: 'select tb.id, coalesce(tb.s, \'none\'), ta.id from ta left join tb on tb.k = ta.k and tb.id < 20 order by ta.id, tb.id', ordered: true },
  { sql: 'select ta.id, tb.id from ta left join tb on tb.k = ta.k where tb.id is null' },
  { sql: 'select ta.id from ta join tb on tb.k = ta.k where ta.id > 1000' },
  // Decimal keys: 1.50 = 1.5, an integer against a decimal column; a decimal against an integer column.
  { sql: 'select ta.id, tb.id from ta join tb on tb.d = ta.d' },
  { sql: 'select ta.id, tb.id from ta left join tb on tb.d = ta.k' },
  { sql: 'select ta.id, tb.id from ta join tb on tb.k = ta.d' },
  // Strings under a _ci PAD SPACE collation ('a' = 'A' = 'a '), and under _bin.
  { sql: 'select ta.id, tb.id, tb.s from ta join tb on tb.s = ta.s' },
  { sql: 'select ta.id, tb.id from ta left join tb on tb.s = ta.s order by ta.id, tb.id', ordered: true },
  { sql: 'select ta.id, tb.id from ta join tb on tb.sb = ta.sb' },
  // Keys the gateway cannot compare: answered row by row, as MariaDB would.
  { sql: 'select ta.id, tb.id from ta join tb on tb.sb = ta.s' },
  { sql: 'select ta.id, tb.id from ta join tb on tb.s = ta.k' },
  { sql: 'select ta.id, tb.id from ta left join tb on tb.k = ta.s' },
  { sql: 'select ta.id, tb.id from ta join tb on tb.k = ta.y' },
  // Wide integers on both sides and against a decimal column, ZEROFILL against a plain integer.
  { sql: 'select wa.id, wb.id from wa join wb on wb.b = wa.b' },
  { sql: 'select wa.id, wb.id, wb.d from wa left join wb on wb.d = wa.b' },
  { sql: 'select wa.id, wa.z, wb.id from wa left join wb on wb.k = wa.z' },
  { sql: 'select wa.id, wb.id from wa join wb on wb.d = wa.d' },
  // Batches of thousands of outer rows.
  { sql: 'select big_a.id, big_b.v from big_a join big_b on big_b.k = big_a.k' },
  { sql: 'select big_a.id, big_b.v from big_a left join big_b on big_b.k = big_a.k order by big_a.id, big_b.v', ordered: true },
  { sql: 'select big_a.id, big_b.v from big_a join big_b on big_b.id = big_a.k' },
];

describe('joins looked up in IN-list batches vs one MariaDB (real Planner, real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let s: ExecutorSession;
  let reference: mysql.Connection;

  const viaGateway = async (sql: string): Promise<string[][] | { errno: number }> => {
    const sink = new CollectingSink();
    try {
      await s.execute(sql, sink);
    } catch (e) {
      return { errno: (e as { errno: number }).errno };
    }
    return sink.rows.map((r) => r.map((v) => (v === null ? 'NULL' : String(v))));
  };
  const viaReference = async (sql: string): Promise<string[][]> => {
    const [rows] = await reference.query<any[]>({ sql, rowsAsArray: true, typeCast: (f: { string(): string | null }) => f.string() } as mysql.QueryOptions);
    return (rows as (string | null)[][]).map((r) => r.map((v) => (v === null ? 'NULL' : v)));
  };
  const mismatches = async (cases: readonly Case[]): Promise<string[]> => {
    const out: string[] = [];
    for (const c of cases) {
      const [got, want] = await Promise.all([viaGateway(c.sql), viaReference(c.sql)]);
      const norm = (x: string[][] | { errno: number }) => (Array.isArray(x) && !c.ordered ? x.map((r) => JSON.stringify(r)).sort() : x);
      if (JSON.stringify(norm(got)) !== JSON.stringify(norm(want))) out.push(`${c.sql}\n  want ${JSON.stringify(want).slice(0, 400)}\n  got  ${JSON.stringify(got).slice(0, 400)}`);
    }
    return out;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_keyed_join', { schema: SCHEMA, vschema: VSCHEMA });
    executor = tc.executor(new Planner({ vschema: tc.vschema }));
    await executor.start();
    s = executor.openSession({ user: 't', database: 'commerce' });
    reference = await tc.direct('main');
    for (const sql of INSERTS) {
      await s.execute(sql, new CollectingSink());
      await reference.query(sql);
    }
  });
  afterAll(async () => {
    await s?.close();
    await tc?.drop();
  });

  it('olap: batches stay within maxMemoryRows while the joined rows stream past it', async () => {
    const small = tc.executor(new Planner({ vschema: tc.vschema }), { maxMemoryRows: 3000, workload: 'olap' });
    await small.start();
    const session = small.openSession({ user: 't', database: 'commerce' });
    try {
      const sql = 'select big_a.id, big_b.v from big_a join big_b on big_b.k = big_a.k';
      const sink = new CollectingSink();
      await session.execute(sql, sink);
      const want = await viaReference(sql);
      expect(want.length).toBeGreaterThan(3000);
      expect(sink.rows.map((r) => JSON.stringify(r.map((v) => (v === null ? 'NULL' : String(v))))).sort()).toEqual(want.map((r) => JSON.stringify(r)).sort());
      // Buffered (OLTP), the answer itself is over the limit: 1041, and the gateway goes on.
      await session.execute("set workload = 'oltp'", new CollectingSink());
      await expect(session.execute(sql, new CollectingSink())).rejects.toMatchObject({ errno: 1041 });
      const after = new CollectingSink();
      await session.execute('select ta.id, tb.id from ta join tb on tb.k = ta.k where ta.id = 1', after);
      expect(after.rows.length).toBeGreaterThan(0);
    } finally {
      await session.close();
    }
  });

  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: answers as one MariaDB`, async () => {
      await s.execute(`set workload = '${workload}'`, new CollectingSink());
      expect(await mismatches(CASES)).toEqual([]);
    });
  }
});
