/**
 * SQL_CALC_FOUND_ROWS with LIMIT and FOUND_ROWS(), through a 2-shard gateway and on one plain
 * MariaDB holding the same rows, in OLTP and OLAP: the rows and the FOUND_ROWS() that follows are
 * MariaDB's, for plain, point, grouped, DISTINCT, aggregate and joined statements; FOUND_ROWS()
 * after statements that leave it unchanged is unchanged; where the gateway cannot know what
 * MariaDB would keep (a new session, after a failed statement, SHOW), it refuses with 1235.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '@shardgate/test-kit';
import { hashKeyspace, startGateway, type RunningGateway } from './support/gateway-harness.js';

const SCHEMA = [
  'create table orders (id bigint primary key, customer int not null, amount decimal(10,2), note varchar(20) collate utf8mb4_general_ci)',
  'create table customer (id int primary key, name varchar(20) collate utf8mb4_general_ci)',
].join(';\n');
const ROWS = [
  `insert into orders (id, customer, amount, note) values ${Array.from({ length: 30 }, (_, i) => `(${i + 1}, ${(i % 7) + 1}, ${(i * 13) % 50}.25, ${i % 5 === 0 ? 'NULL' : `'n${i % 4}'`})`).join(', ')}`,
  `insert into customer (id, name) values ${Array.from({ length: 8 }, (_, i) => `(${i + 1}, 'c${i % 3}')`).join(', ')}`,
];

let gw: RunningGateway;
let reference: LocalCluster;
let ref: mysql.Connection;

beforeAll(async () => {
  [gw, reference] = await Promise.all([
    startGateway({ vschema: { keyspaces: { shop: hashKeyspace({ orders: 'id', customer: 'id' }) } }, keyspaces: { shop: { shards: ['-80', '80-'], schema: SCHEMA } } }),
    LocalCluster.start({ shards: ['reference'], database: 'shop', schema: SCHEMA }),
  ]);
  ref = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  const loader = await gw.connect({ database: 'shop' });
  for (const sql of ROWS) {
    await ref.query(sql);
    await loader.query(sql);
  }
  await loader.end();
});

afterAll(async () => {
  await ref?.end().catch(() => undefined);
  await Promise.all([gw?.stop(), reference?.stop()]);
});

const foundRows = async (c: mysql.Connection): Promise<unknown> => ((await c.query('select found_rows() as n'))[0] as { n: unknown }[])[0]!.n;

/** Statements whose LIMITed rows are in a deterministic order (compared as lists), then FOUND_ROWS(). */
const ORDERED = [
  'select sql_calc_found_rows id, amount from orders order by id limit 4',
  'select sql_calc_found_rows id from orders order by amount desc, id limit 3, 2',
  'select sql_calc_found_rows * from orders where id = 7 limit 1',
  'select sql_calc_found_rows * from orders where id in (3, 4, 5, 40) order by id limit 2',
  'select sql_calc_found_rows id from orders where customer = 3 order by id limit 2',
  'select sql_calc_found_rows customer, count(id) from orders group by customer having count(customer) > 4 order by customer limit 2',
  'select sql_calc_found_rows customer, sum(amount) as s from orders group by customer order by s desc, customer limit 1',
  'select sql_calc_found_rows distinct note from orders order by note limit 2',
  'select sql_calc_found_rows o.id, c.name from orders o join customer c on c.id = o.customer order by o.id limit 3',
  'select sql_calc_found_rows c.name, count(*) from orders o join customer c on c.id = o.customer group by c.name order by c.name limit 1',
  'select sql_calc_found_rows id from orders where amount > 100 limit 5',
  'select sql_calc_found_rows id from orders order by id limit 0',
  'select sql_calc_found_rows 1 as one limit 1',
  'select sql_calc_found_rows id from orders order by id limit 100',
  // Without LIMIT, or with no option: FOUND_ROWS() is the number of rows returned.
  'select sql_calc_found_rows id from orders where customer = 2 order by id',
  'select id from orders where customer = 5 order by id limit 2',
];

describe.each(['oltp', 'olap'])('SQL_CALC_FOUND_ROWS and FOUND_ROWS() (%s), as one MariaDB answers them', (workload) => {
  let sub: mysql.Connection;
  beforeAll(async () => {
    sub = await gw.connect({ database: 'shop' });
    await sub.query(`set workload = '${workload}'`);
  });
  afterAll(async () => {
    await sub?.end().catch(() => undefined);
  });

  it('returns the rows of the statement, and FOUND_ROWS() counts them without the LIMIT', async () => {
    for (const sql of ORDERED) {
      const [mine] = await sub.query(sql);
      const [theirs] = await ref.query(sql);
      expect(mine, sql).toEqual(theirs);
      expect(await foundRows(sub), sql).toEqual(await foundRows(ref));
    }
  });

  it('counts a scatter LIMIT without ORDER BY (rows may differ, their number does not)', async () => {
    const sql = 'select sql_calc_found_rows * from orders limit 7';
    const [mine] = await sub.query(sql);
    const [theirs] = await ref.query(sql);
    expect((mine as unknown[]).length).toBe((theirs as unknown[]).length);
    expect(await foundRows(sub)).toEqual(await foundRows(ref));
    expect(await foundRows(sub)).toEqual('1');
  });

  it('keeps FOUND_ROWS() across writes, SET and transaction statements, and through a prepared statement', async () => {
    await sub.query('select sql_calc_found_rows id from orders order by id limit 1');
    await ref.query('select sql_calc_found_rows id from orders order by id limit 1');
    // A 'select' inside a string is no SELECT: those keep it too (they lost it, read from the text).
    for (const sql of ["update orders set note = note where id = 1", 'set @x = 5', "set @y = 'select 1'", 'begin', "insert into customer (id, name) values (100, 'tmp')", "insert into customer (id, name) values (101, 'select me')", 'delete from customer where id in (100, 101)', 'commit']) {
      await sub.query(sql);
      await ref.query(sql);
    }
    const [mineRows, mineFields] = await sub.query('select found_rows()');
    const [theirRows, theirFields] = await ref.query('select found_rows()');
    expect(mineRows).toEqual(theirRows);
    expect(mineRows).toEqual([{ 'found_rows()': '30' }]);
    const shape = (f: mysql.FieldPacket[]) => f.map((x) => ({ name: x.name, type: x.columnType, flags: x.flags }));
    expect(shape(mineFields)).toEqual(shape(theirFields));
    // A prepared SELECT (binary protocol) counts too; FOUND_ROWS() itself is a one-row SELECT.
    const [pm] = await sub.execute('select id from orders where customer = ? order by id', [4]);
    const [pr] = await ref.execute('select id from orders where customer = ? order by id', [4]);
    expect(pm).toEqual(pr);
    expect(await foundRows(sub)).toEqual(await foundRows(ref));
    expect(await foundRows(sub)).toEqual('1');
  });

  it('reads the statement kind past case, leading blanks and comments, as MariaDB keeps FOUND_ROWS() after it', async () => {
    // The first keyword decides what FOUND_ROWS() becomes (found-rows.ts reads it in place when the
    // text starts with it, with a pattern past anything else).
    const steps = [
      'SELECT id FROM orders ORDER BY id LIMIT 4',
      'UPDATE orders SET note = note WHERE id = 1',
      'Select id from orders where customer = 2 order by id',
      '  \n select id from orders order by id limit 3',
      "/* lead */ UPDATE orders SET note = note WHERE id = 2",
      '-- lead\nselect id from orders where id = 7',
      '# lead\nSELECT id from orders order by id limit 5',
      'SET @y = 1',
    ];
    for (const sql of steps) {
      const [mine] = await sub.query(sql);
      const [theirs] = await ref.query(sql);
      expect(mine, sql).toEqual(theirs);
      expect(await foundRows(sub), sql).toEqual(await foundRows(ref));
    }
  });

  it('refuses FOUND_ROWS() where it cannot know what MariaDB keeps, until the next SELECT', async () => {
    const fresh = await gw.connect({ database: 'shop' });
    try {
      await fresh.query(`set workload = '${workload}'`);
      await expect(fresh.query('select found_rows()')).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
      await fresh.query('select id from orders order by id limit 3');
      expect(await foundRows(fresh)).toBe('3');
      await expect(fresh.query('select nosuch from orders')).rejects.toMatchObject({ errno: 1054 });
      await expect(fresh.query('select found_rows()')).rejects.toMatchObject({ errno: 1235 });
      await fresh.query('select id from orders order by id limit 2 offset 29');
      // MariaDB counts the 29 rows the OFFSET skipped too: unknown here.
      await expect(fresh.query('select found_rows()')).rejects.toMatchObject({ errno: 1235 });
      // An aggregate without GROUP BY: on an empty input MariaDB keeps 0 or 1 depending on its plan.
      for (const sql of ['select sql_calc_found_rows count(*), max(amount) from orders limit 1', 'select count(*) from orders where id < 0', 'select sum(amount) from orders where note is null and id = 1']) {
        const [mine] = await fresh.query(sql);
        const [theirs] = await ref.query(sql);
        expect(mine, sql).toEqual(theirs);
        await expect(fresh.query('select found_rows()'), sql).rejects.toMatchObject({ errno: 1235 });
      }
      await fresh.query('select id from orders order by id limit 1');
      await fresh.query('show tables');
      await expect(fresh.query('select found_rows()')).rejects.toMatchObject({ errno: 1235 });
      await fresh.query('select sql_calc_found_rows id from orders order by id limit 2');
      // FOUND_ROWS() inside a statement sent to shards would be a shard connection's.
      await expect(fresh.query('select id, found_rows() from orders where id = 1')).rejects.toMatchObject({ errno: 1235 });
    } finally {
      await fresh.end();
    }
  });

  it('refuses SQL_CALC_FOUND_ROWS with LIMIT where the count would not be MariaDB\'s', async () => {
    for (const sql of ['select sql_calc_found_rows id from orders where id = 1 limit 1 for update', 'select sql_calc_found_rows id from orders union all select id from customer limit 1']) {
      await expect(sub.query(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
  });
});

const lastInsertId = async (c: mysql.Connection): Promise<unknown> => ((await c.query('select last_insert_id() as n'))[0] as { n: unknown }[])[0]!.n;

describe.each(['oltp', 'olap'])('SELECT … LAST_INSERT_ID(expr) … FROM (%s), as one MariaDB answers it', (workload) => {
  let sub: mysql.Connection;
  beforeAll(async () => {
    sub = await gw.connect({ database: 'shop' });
    await sub.query(`set workload = '${workload}'`);
  });
  afterAll(async () => {
    await sub?.end().catch(() => undefined);
  });

  it('returns the values, and LAST_INSERT_ID() is then the last row\'s (NULL sets 0; no row leaves it)', async () => {
    for (const sql of [
      'select last_insert_id(id) from orders where id = 5',
      'select id, last_insert_id(customer) as c from orders order by id desc limit 3',
      'select last_insert_id(id) from orders order by amount, id limit 2, 4',
      'select last_insert_id(amount) as a, note from orders where id = 4',
      'select last_insert_id(note) from orders where id = 2',
      'select last_insert_id(id) from orders where id = 11',
      'select last_insert_id(note) from orders where id = 1',
      'select last_insert_id(id * 10) from orders where id = 12',
      'select last_insert_id(id) from orders where id < 0',
      'select last_insert_id(id - 100) from orders where id = 3',
      'select last_insert_id(id) from orders where customer = 2 order by note desc, id',
    ]) {
      const [mine, mineFields] = await sub.query(sql);
      const [theirs, theirFields] = await ref.query(sql);
      expect(mine, sql).toEqual(theirs);
      expect(mineFields.map((f) => [f.name, f.columnType, f.flags]), sql).toEqual(theirFields.map((f) => [f.name, f.columnType, f.flags]));
      expect(await lastInsertId(sub), sql).toEqual(await lastInsertId(ref));
    }
  });

  it('takes the last row the client got when a scatter has no ORDER BY', async () => {
    const [rows] = await sub.query('select last_insert_id(id) as v from orders where customer = 3');
    const values = (rows as { v: string }[]).map((r) => r.v);
    expect(values.length).toBeGreaterThan(1);
    expect(await lastInsertId(sub)).toBe(values[values.length - 1]);
  });

  it('refuses LAST_INSERT_ID(expr) where MariaDB evaluates it in an order the gateway does not see', async () => {
    for (const sql of [
      'select last_insert_id(customer) from orders group by customer',
      'select distinct last_insert_id(customer) from orders',
      'select last_insert_id(id) as x from orders order by x limit 1',
      'select last_insert_id(id) from orders order by 1',
      'select last_insert_id(id), count(*) from orders',
      'select last_insert_id(id), last_insert_id(customer) from orders',
      'select id from orders where last_insert_id(id) > 3',
      'select last_insert_id(id) from orders union all select 1',
      'select last_insert_id(o.id) from orders o join customer c on c.name = o.note',
      'select sql_calc_found_rows last_insert_id(id) from orders limit 1',
      // A semi-join plan reads rows in another order than it sends them (random differential, seed 54 #9574).
      'select last_insert_id(id) from orders where customer in (select id from customer where name <> \'x\') order by id desc',
    ]) {
      await expect(sub.query(sql), sql).rejects.toMatchObject({ errno: 1235, sqlState: '42000' });
    }
  });
});
