/**
 * Query shapes the gateway finishes itself across shards (pulled-out subqueries, expressions over
 * aggregates, grouping by expressions, DISTINCT with LIMIT, several DISTINCT aggregates), through
 * the real Planner on a 4-shard keyspace, each compared with one plain MariaDB (the `main` server)
 * holding the same rows: same rows (in order where ORDER BY is total), or the same error number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { Planner } from '@shardgate/planner';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

const NAMES = ['ann', 'Bob', 'bob', 'cat', null, 'dan', 'Ann', 'eve'];
const CUSTOMERS = Array.from({ length: 24 }, (_, i) => {
  const id = i + 1;
  const name = NAMES[i % NAMES.length];
  const balance = id % 7 === 0 ? 'null' : `${(id * 37) % 100}.${String((id * 13) % 100).padStart(2, '0')}`;
  const score = id % 5 === 0 ? 'null' : String((id * 3) % 11);
  return `(${id}, ${name === null ? 'null' : `'${name}'`}, ${balance}, '2024-01-${String(1 + (id % 28)).padStart(2, '0')} 10:00:00', ${score})`;
});
const ORDERS = Array.from({ length: 30 }, (_, i) => `(${i + 1}, ${1 + ((i * 5) % 20)}, ${(i * 29) % 150}.${i % 10}0, ${i % 4 === 0 ? 'null' : `'n${i % 3}'`})`);
const INSERTS = [`insert into customer (id, name, balance, created, score) values ${CUSTOMERS.join(', ')}`, `insert into orders (id, customer_id, amount, note) values ${ORDERS.join(', ')}`];

interface Case {
  readonly sql: string;
  /** The ORDER BY is total: rows must come in the same order. */
  readonly ordered?: boolean;
  /** MariaDB answers with this error (otherwise with rows). */
  readonly errno?: number;
}

/** Pulled-out subqueries in WHERE: scalar values, EXISTS, IN, under NOT and OR. */
const SUBQUERY_CASES: readonly Case[] = [
  { sql: 'select id, balance from customer where balance = (select max(balance) from customer)' },
  { sql: 'select id from customer where balance > (select avg(balance) from customer) order by id', ordered: true },
  { sql: 'select id from customer where (select min(amount) from orders) < balance and id < 10' },
  { sql: 'select id from customer where balance = (select balance from customer where id = 99999)' },
  { sql: 'select id from customer where balance = (select balance from customer where id < 5)', errno: 1242 },
  { sql: 'select id from customer where balance = (select balance from customer where id = 3)' },
  { sql: 'select count(*) from customer where not exists (select 1 from orders where amount > 1000)' },
  { sql: 'select count(*) from customer where not exists (select 1 from orders where amount > 10)' },
  { sql: 'select id from customer where exists (select 1 from orders where amount > 140) and id > 20' },
  { sql: 'select id from customer where id not in (select customer_id from orders)' },
  { sql: 'select id from customer where not id in (select customer_id from orders where amount > 50)' },
  { sql: 'select id from customer where not (id in (select customer_id from orders where amount > 100))' },
  { sql: 'select id from customer where id in (select customer_id from orders where amount > 120) or balance > 90' },
  { sql: 'select id from customer where score not in (select score from customer where id < 6)' },
  { sql: 'select id from customer where score in (select score from customer where id > 1000) or id = 1' },
  { sql: 'select id from customer where not (score in (select score from customer where id > 1000))' },
  { sql: 'select id from customer where (select count(*) from orders) > 3 and id < 5' },
  { sql: 'select id, (select max(amount) from orders) from customer where id in (1, 2, 3)' },
  // Correlated EXISTS across shards: a SemiJoin / anti join per outer row.
  { sql: 'select id from customer c where exists (select 1 from orders o where o.id = c.id and o.amount > 50) order by id', ordered: true },
  { sql: 'select c.id, c.name from customer c where not exists (select 1 from orders o where o.id = c.id + 5 and o.note is not null) and c.balance > 10' },
  { sql: 'select c.id, c.score from customer c where exists (select 1 from customer c2 where c2.score = c.score and c2.id <> c.id) order by c.id desc', ordered: true },
  { sql: 'select c.id from customer c where not (exists (select 1 from orders o where o.customer_id > c.id)) and c.id > 2' },
  { sql: 'select c.id from customer c where c.score in (select o.customer_id % 11 from orders o where o.id > c.id) order by c.id', ordered: true },
  { sql: 'select c.id, c.name from customer c where c.id + 1 in (select o.customer_id from orders o where o.amount > c.balance or o.note is null)' },
  { sql: 'select c.id from customer c where c.score in (select c2.score from customer c2 where c2.id <> c.id)' },
  { sql: 'select id from customer where id = (select max(id) from customer where id <= 2) or not exists (select 1 from orders where note = \'zz\') and id < 3' },
];

/** Aggregation and DISTINCT finished at the gateway. */
const AGGREGATE_CASES: readonly Case[] = [
  { sql: "select case when balance > 50 then 'high' when balance > 20 then 'mid' else 'low' end as k, count(*), sum(balance) from customer group by k order by k", ordered: true },
  { sql: 'select case when score > 5 then 1 when score > 2 then 2 end, count(*), max(id) from customer group by case when score > 5 then 1 when score > 2 then 2 end' },
  { sql: "select count(*), min(id) from customer group by case when name like 'a%' then 'A' else name end" },
  { sql: 'select distinct lower(name) from customer order by 1 limit 2, 3', ordered: true },
  { sql: 'select distinct score from customer order by score desc limit 4', ordered: true },
  { sql: 'select distinct customer_id from orders order by customer_id limit 3 offset 2', ordered: true },
  { sql: 'select distinct note, customer_id % 3 from orders order by note, customer_id % 3 limit 5', ordered: true },
  { sql: 'select distinct count(*) from orders group by customer_id order by 1', ordered: true },
  { sql: 'select distinct count(*) from orders group by customer_id order by 1 desc limit 2', ordered: true },
  { sql: 'select distinct sum(amount) from orders group by note' },
  { sql: 'select distinct customer_id, count(*) from orders group by customer_id' },
  { sql: 'select distinct count(*), max(amount) from orders' },
  { sql: 'select customer_id, min(distinct amount), max(distinct amount), count(*) from orders group by customer_id' },
];

/** Expressions over aggregates and several DISTINCT aggregates, evaluated at the gateway. */
const EXPRESSION_CASES: readonly Case[] = [
  { sql: 'select round(avg(balance), 2), round(avg(balance)), round(sum(balance), -1), round(avg(score), 1), round(max(balance), 4) from customer' },
  { sql: 'select customer_id % 4 as g, round(avg(amount), 1), round(sum(amount) / count(*), 3) from orders group by g order by g', ordered: true },
  { sql: 'select sum(amount) / count(*), sum(amount) / count(note), avg(amount) from orders' },
  { sql: 'select round(avg(amount), 2) from orders where amount > 10000' },
  { sql: 'select count(distinct name), count(distinct score), count(distinct balance), count(*), sum(balance) from customer' },
  { sql: 'select customer_id % 3 as g, count(distinct note), count(distinct amount), sum(distinct customer_id), count(*), max(amount) from orders group by g order by g', ordered: true },
  { sql: 'select note, count(distinct customer_id), count(distinct amount) from orders group by note having count(distinct customer_id) > 2' },
  { sql: 'select count(*), sum(amount) from orders union all select count(*), sum(balance) from customer' },
  { sql: "select 9, 'total', count(*), max(amount) from orders where amount > 100000" },
  { sql: "select note, 'n', 2 + 3, count(*) from orders group by note" },
  // A column neither grouped nor aggregated: any value of the group (here every row has the same one).
  { sql: 'select name, count(*), max(balance) from customer where id in (1, 9, 17)' },
  { sql: 'select name, count(*) from customer where id > 1000' },
  { sql: 'select note, count(*) k from orders group by note order by null, k' },
  { sql: 'select note, count(*) from orders group by note order by null' },
  { sql: 'select id, name as id, count(*) from customer order by id', errno: 1052 },
  { sql: 'select customer_id % 2, count(*) from orders group by customer_id % 2 union all select 9, count(distinct name) from customer' },
];

/** Aggregation and DISTINCT over joins across shards (orders.id is not its shard key). */
const JOIN_CASES: readonly Case[] = [
  { sql: 'select count(*) from customer c join orders o on o.id = c.id' },
  { sql: 'select lower(c.name), count(*), max(o.amount), min(o.note), count(o.note) from customer c join orders o on o.id = c.id group by lower(c.name)' },
  { sql: 'select o.note, count(distinct c.name), count(c.balance), min(c.score) from customer c join orders o on o.id = c.id group by o.note having count(*) > 1 order by o.note', ordered: true },
  { sql: 'select distinct o.customer_id from customer c join orders o on o.id = c.id where c.balance > 20 order by o.customer_id', ordered: true },
  { sql: 'select c.score, count(*), count(o.amount), max(o.id) from customer c left join orders o on o.id = c.id + 12 group by c.score order by c.score', ordered: true },
  { sql: 'select count(*), min(c.name), max(o.amount) from customer c join orders o on o.id = c.id where c.id > 1000' },
  { sql: 'select distinct lower(c.name) from customer c join orders o on o.id = c.id order by 1 limit 3', ordered: true },
  // Grouped by the expression: `group by g` over a join across shards is refused, as g might be a column too.
  { sql: 'select o.customer_id % 3 as g, count(*) as n from customer c join orders o on o.id = c.id group by o.customer_id % 3 having n > 2 order by n desc, g limit 2', ordered: true },
  { sql: 'select c.name, count(*), max(o.amount) from customer c join orders o on o.id = c.id where c.id in (1, 9, 17)' },
  // LEFT JOIN with a WHERE on the right side: filtered at the gateway after the join.
  { sql: 'select c.id, o.amount from customer c left join orders o on o.id = c.id + 12 where o.id is null' },
  { sql: 'select c.id, o.note from customer c left join orders o on o.id = c.id + 12 where o.note is not null and c.id > 3 order by c.id limit 5', ordered: true },
  { sql: 'select count(*), count(o.id) from customer c left join orders o on o.id = c.id + 20 where o.id is null' },
  // Derived tables with aggregation or LIMIT over several shards, finished at the gateway.
  { sql: 'select note, n from (select note, count(*) as n from orders group by note) as t where n > 6' },
  { sql: 'select * from (select customer_id, amount from orders order by amount desc, id limit 5) t' },
  { sql: 'select t.c from (select count(*) as c from customer where balance > 20) t' },
  { sql: 'select n as cnt, g from (select customer_id % 3 as g, count(*) as n, sum(amount) as s from orders group by g) t where s > 100 order by n desc' },
];

describe('cross-shard query shapes vs one MariaDB (real Planner, real MariaDB)', () => {
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
  const viaReference = async (sql: string): Promise<string[][] | { errno: number }> => {
    try {
      const [rows] = await reference.query<any[]>({ sql, rowsAsArray: true, typeCast: (f: { string(): string | null }) => f.string() } as mysql.QueryOptions);
      return (rows as (string | null)[][]).map((r) => r.map((v) => (v === null ? 'NULL' : v)));
    } catch (e) {
      return { errno: (e as { errno: number }).errno };
    }
  };
  const mismatches = async (cases: readonly Case[]): Promise<string[]> => {
    const out: string[] = [];
    for (const c of cases) {
      const [got, want] = await Promise.all([viaGateway(c.sql), viaReference(c.sql)]);
      // The reference must give what the case expects: a test that compares two errors proves nothing.
      if (Array.isArray(want) ? c.errno !== undefined : want.errno !== c.errno) out.push(`${c.sql}\n  reference gave ${JSON.stringify(want)}`);
      const norm = (x: string[][] | { errno: number }) => (Array.isArray(x) && !c.ordered ? x.map((r) => JSON.stringify(r)).sort() : x);
      if (JSON.stringify(norm(got)) !== JSON.stringify(norm(want))) out.push(`${c.sql}\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(got)}`);
    }
    return out;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_shapes');
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

  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: subqueries pulled out of WHERE answer as one MariaDB`, async () => {
      await s.execute(`set workload = '${workload}'`, new CollectingSink());
      expect(await mismatches(SUBQUERY_CASES)).toEqual([]);
    });
  }

  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: GROUP BY expressions, DISTINCT with LIMIT and DISTINCT over aggregates answer as one MariaDB`, async () => {
      await s.execute(`set workload = '${workload}'`, new CollectingSink());
      expect(await mismatches(AGGREGATE_CASES)).toEqual([]);
    });
  }

  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: expressions over aggregates and several DISTINCT aggregates answer as one MariaDB`, async () => {
      await s.execute(`set workload = '${workload}'`, new CollectingSink());
      expect(await mismatches(EXPRESSION_CASES)).toEqual([]);
    });
  }

  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: aggregation and DISTINCT over joins across shards answer as one MariaDB`, async () => {
      await s.execute(`set workload = '${workload}'`, new CollectingSink());
      expect(await mismatches(JOIN_CASES)).toEqual([]);
    });
  }

  it('a scalar subquery of several rows is error 1242, as in MariaDB', async () => {
    await expect(s.execute('select id from customer where balance = (select balance from customer where id < 5)', new CollectingSink())).rejects.toMatchObject({ errno: 1242, sqlState: '21000' });
  });
});
