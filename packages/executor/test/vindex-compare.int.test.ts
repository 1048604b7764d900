/**
 * Values compared with a vindex column that are not plain integers (`3.0`, `3e0`, `' 3'`,
 * `'3abc'`, `0x03`, `in (3.0, 4)`, NULL): the real Planner + Executor on a 4-shard keyspace must
 * find, change and delete exactly the rows one plain MariaDB does for the same data. A value the
 * vindex cannot map with certainty goes to every shard; it must never go to none.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import mysql from 'mysql2/promise';
import { Planner, type SqlValue } from '@shardgate/planner';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import { loadVSchema } from '@shardgate/vschema';
import { Executor, type ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: {
        hash: { type: 'hash' },
        num_lkp: { type: 'lookup_unique', params: { table: 'lookup.num_lkp', from: 'num', to: 'keyspace_id' }, owner: 'customer' },
        tag_lkp: { type: 'lookup', params: { table: 'lookup.tag_lkp', from: 'tag', to: 'keyspace_id' }, owner: 'customer' },
      },
      tables: {
        customer: {
          column_vindexes: [
            { column: 'id', name: 'hash' },
            { column: 'num', name: 'num_lkp' },
            { column: 'tag', name: 'tag_lkp' },
          ],
        },
        orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
      },
    },
    lookup: { sharded: false, tables: { num_lkp: {}, tag_lkp: {} } },
  },
};

const SCHEMA = [
  `create table customer (id bigint primary key, num int, tag varchar(16) collate utf8mb4_general_ci, name varchar(32)) engine=innodb`,
  `create table orders (id bigint primary key, customer_id bigint not null, note varchar(32)) engine=innodb`,
  `create table num_lkp (num int primary key, keyspace_id varbinary(16) not null) engine=innodb`,
  `create table tag_lkp (tag varchar(16) collate utf8mb4_general_ci not null, keyspace_id varbinary(16) not null, primary key (tag, keyspace_id)) engine=innodb`,
];

// Ids around the forms under test: 0 (what 'abc' and x'03' equal), 3, 51 (0x33), -1, and two
// neighbours above 2^53 that one double cannot tell apart.
const IDS = [0n, 1n, 2n, 3n, 4n, 5n, 7n, 51n, -1n, 9007199254740992n, 9007199254740993n];
const CUSTOMERS = IDS.map((id, i) => `(${id}, ${i === 0 ? 'NULL' : (i + 1) * 10}, '${i % 2 === 0 ? 'Abc' : 'abc'}${i % 3}', 'c${i}')`).join(', ');
// Several orders per customer, so that a LIMIT could stop early.
const ORDERS = IDS.flatMap((id, i) => [0, 1, 2].map((k) => `(${i * 10 + k}, ${id}, 'o${i}.${k}')`)).join(', ');

/** Values in the forms of the bug report and around them, compared with a BIGINT hash column. */
const ID_FORMS = [
  '3', '3.0', '3.00', '3e0', '0.3e1', "'3'", "'03'", "'+3'", "' 3'", "'3abc'", "'3.0'", "'3\\n'", "x'33'",
  '3.5', "'abc'", '-1', '-1.0', "'-1'", '-1e0', 'NULL', "'9007199254740993'", '9007199254740993e0', '9007199254740993.0',
  "''", '18446744073709551615', '18446744073709551616', '-9223372036854775809',
];
const IN_LISTS = ['(3.0, 4)', '(1, NULL)', "(' 3', 4, 5e0)", "('3abc', x'35', 7.0, NULL)", '(9007199254740993e0, 3)', "(NULL)", "(3.5, 'x')"];

describe('values compared with a vindex column match what one MariaDB matches', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let s: ExecutorSession;
  let ref: mysql.Connection;

  const exec = async (sql: string, params?: readonly SqlValue[]) => {
    const sink = new CollectingSink();
    await s.execute(sql, sink, params);
    return sink;
  };
  const cell = (v: unknown): string | null => (v === null ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  const refRows = async (sql: string, params?: unknown[]): Promise<(string | null)[][]> => {
    const [rows] = await ref.query<any[]>({ sql, rowsAsArray: true, values: params });
    return (rows as unknown[][]).map((r) => r.map(cell));
  };
  const sorted = (rows: (string | null)[][]) => rows.map((r) => JSON.stringify(r)).sort();
  const expectSameRows = async (sql: string, params?: readonly SqlValue[], refParams?: unknown[]) => {
    const got = await exec(sql, params);
    expect(sorted(got.rows), sql).toEqual(sorted(await refRows(sql, refParams ?? (params as unknown[] | undefined))));
  };
  /** Every row of both tables through shardgate vs the reference. */
  const expectSameData = async (what: string) => {
    for (const q of ['select id, num, tag, name from customer', 'select id, customer_id, note from orders']) {
      expect(sorted((await exec(q)).rows), `${what}: ${q}`).toEqual(sorted(await refRows(q)));
    }
  };

  beforeAll(async () => {
    const info = inject('shardgateCluster');
    db = await freshDatabase(info, 'exec_vcompare', { schema: SCHEMA });
    const vschema = loadVSchema(VSCHEMA);
    executor = new Executor({
      vschema,
      planner: new Planner({ vschema }),
      topology: {
        commerce: Object.fromEntries(COMMERCE_SHARDS.map((shard) => [shard, { ...db.shard(shard), poolSize: 2 }])),
        lookup: { '0': { ...db.shard('main'), poolSize: 2 } },
      },
    });
    await executor.start();
    s = executor.openSession({ user: 't', database: 'commerce' });
    ref = await mysql.createConnection({ ...db.shard('reference'), supportBigNumbers: true, bigNumberStrings: true });
  });
  afterAll(async () => {
    await s?.close();
    await executor?.close();
    await ref?.end();
    await db?.drop();
  });

  beforeEach(async () => {
    // The same rows on both sides, fresh for every test.
    for (const t of ['customer', 'orders']) {
      await exec(`delete from ${t}`);
      await ref.query(`delete from ${t}`);
    }
    await exec(`insert into customer (id, num, tag, name) values ${CUSTOMERS}`);
    await exec(`insert into orders (id, customer_id, note) values ${ORDERS}`);
    await ref.query(`insert into customer (id, num, tag, name) values ${CUSTOMERS}`);
    await ref.query(`insert into orders (id, customer_id, note) values ${ORDERS}`);
    await expectSameData('setup');
  });

  it('SELECT by the hash column: every value form, = and IN', async () => {
    for (const v of ID_FORMS) {
      await expectSameRows(`select id, name from customer where id = ${v}`);
      await expectSameRows(`select id, note from orders where customer_id = ${v}`);
    }
    for (const l of IN_LISTS) {
      await expectSameRows(`select id, name from customer where id in ${l}`);
      await expectSameRows(`select id, note from orders where customer_id in ${l}`);
    }
  });

  it('SELECT with bound parameters of every type', async () => {
    const params: [SqlValue, unknown][] = [
      [3, 3], [3.5, 3.5], [-1, -1], ['3', '3'], [' 3', ' 3'], ['3abc', '3abc'], ['-1', '-1'], [Uint8Array.of(0x33), Buffer.from([0x33])],
      [9007199254740992, 9007199254740992], [null, null],
    ];
    for (const [p, refP] of params) {
      await expectSameRows('select id, note from orders where customer_id = ?', [p], [refP]);
    }
  });

  it('SELECT by a lookup vindex column (int and case-insensitive varchar)', async () => {
    for (const v of ['30', '30.0', '3e1', "'30'", "' 30'", "'30abc'", '30.5', 'NULL', "x'3330'"]) {
      await expectSameRows(`select id, name from customer where num = ${v}`);
    }
    for (const l of ['(30.0, 40)', "('30abc', 40, NULL)", '(3e1, 4e1, 50)', '(1, 2)']) {
      await expectSameRows(`select id, name from customer where num in ${l}`);
    }
    for (const v of ["'abc1'", "'ABC1'", "'abc1 '", "'Abc0'"]) await expectSameRows(`select id, name from customer where tag = ${v}`);
    for (const l of ["('ABC1', 'abc2')", "('abc0', 'ABC0', 'x')", "('ABC2 ', NULL)"]) await expectSameRows(`select id, name from customer where tag in ${l}`);
  });

  it('UPDATE by the hash column changes the rows MariaDB changes', async () => {
    const forms = ['3.0', '3e0', "' 3'", "'3abc'", "x'33'", '-1.0', "'-1'", '3.5', 'NULL', "'9007199254740993'"];
    for (const [i, v] of forms.entries()) {
      const sql = `update orders set note = concat(note, '+${i}') where customer_id = ${v}`;
      const got = await exec(sql);
      const [r] = await ref.query<mysql.ResultSetHeader>(sql);
      expect(got.okInfo?.affectedRows, sql).toBe(BigInt(r.affectedRows));
    }
    for (const [i, l] of ['(3.0, 4)', "(' 5', NULL, 7e0)", '(1, NULL)'].entries()) {
      const sql = `update customer set name = concat(name, '*${i}') where id in ${l}`;
      const got = await exec(sql);
      const [r] = await ref.query<mysql.ResultSetHeader>(sql);
      expect(got.okInfo?.affectedRows, sql).toBe(BigInt(r.affectedRows));
    }
    await expectSameData('after UPDATEs');
  });

  it('DELETE by the hash column and by a lookup column deletes the rows MariaDB deletes', async () => {
    const stmts = [
      "delete from orders where customer_id = ' 3'",
      "delete from orders where customer_id = x'35'",
      'delete from orders where customer_id in (4.0, 5e0, NULL)',
      "delete from orders where customer_id = '7abc'",
      'delete from orders where customer_id = NULL',
      // customer owns lookup vindexes: the lookup rows go with the rows.
      "delete from customer where id = '1x'",
      'delete from customer where id in (2.0, -1e0)',
      "delete from customer where num = '60.0'",
      "delete from customer where tag = 'ABC1'",
    ];
    for (const sql of stmts) {
      const got = await exec(sql);
      const [r] = await ref.query<mysql.ResultSetHeader>(sql);
      expect(got.okInfo?.affectedRows, sql).toBe(BigInt(r.affectedRows));
    }
    await expectSameData('after DELETEs');
    // The deleted customers' lookup rows are gone: the remaining ones still route by num.
    for (const v of ['20', '30', '40', '60', '70']) await expectSameRows(`select id from customer where num = ${v}`);
  });

  it('UPDATE/DELETE with LIMIT and a value that maps to one shard', async () => {
    for (const sql of ['delete from orders where customer_id = 3.0 limit 1', "update orders set note = 'x' where customer_id = '4' limit 2", 'delete from orders where customer_id = 5e0 limit 1']) {
      const got = await exec(sql);
      const [r] = await ref.query<mysql.ResultSetHeader>(sql);
      expect(got.okInfo?.affectedRows, sql).toBe(BigInt(r.affectedRows));
    }
    await expectSameData('after DML with LIMIT');
  });

  // The planner's rule "scatter DML with LIMIT is refused" holds when a vindex value sends the route
  // to every shard only at run time (each shard would apply the LIMIT on its own).
  it('UPDATE/DELETE with LIMIT and a value that could be on any shard is refused', async () => {
    for (const sql of ["delete from orders where customer_id = ' 3' limit 1", "update orders set note = 'y' where customer_id = '4abc' limit 1"]) {
      await expect(exec(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000', message: expect.stringMatching(/LIMIT/) });
    }
    await expectSameData('after refused DML with LIMIT');
  });

  it('INSERT stays strict: a value that cannot be mapped to one shard is an error, nothing is written', async () => {
    for (const v of ["' 9'", "'9abc'", '9.5', '0x09']) {
      await expect(exec(`insert into orders (id, customer_id, note) values (900, ${v}, 'x')`), v).rejects.toMatchObject({ message: expect.stringContaining('could not map') });
    }
    // A value certain to equal an integer lands where that integer's rows live.
    await exec("insert into orders (id, customer_id, note) values (901, 9.0, 'a'), (902, '9', 'b'), (903, 9e0, 'c')");
    await ref.query("insert into orders (id, customer_id, note) values (901, 9.0, 'a'), (902, '9', 'b'), (903, 9e0, 'c')");
    await expectSameData('after INSERTs');
    await expectSameRows('select id from orders where customer_id = 9');
  });

  // 0x… and b'…' literals are numbers when compared with a number (0x33 = 51, b'11' = 3) but
  // x'…' is a string (x'33' = '3' = 3): the normalizer keeps 0x… and b'…' in the shard SQL as
  // written, and their bytes (not certainly one keyspace id) send the route to every shard.
  it('hexadecimal and bit literals compare as numbers', async () => {
    for (const v of ['0x03', '0x33', "b'11'"]) {
      await expectSameRows(`select id, name from customer where id = ${v}`);
      await expectSameRows(`select id, note from orders where customer_id in (${v}, 4)`);
      await expectSameRows(`select id, name from customer where num = ${v}`);
    }
    const sql = 'delete from orders where customer_id = 0x03';
    const got = await exec(sql);
    const [r] = await ref.query<mysql.ResultSetHeader>(sql);
    expect(got.okInfo?.affectedRows, sql).toBe(BigInt(r.affectedRows));
    await expectSameData('after DELETE by 0x03');
  });
});
