/**
 * Differential test: the same generated commerce data goes through the gateway into a 4-shard
 * keyspace and directly into one plain MariaDB; then every query of commerce-queries.ts must give
 * the same answer on both (exact order where ORDER BY is total, multiset otherwise), in the
 * `oltp` and `olap` workloads, on one connection and on 16 concurrent connections.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithReference, generateCommerceData, LocalCluster, type CommerceData } from '@shardgate/test-kit';
import { commerceQueries, queryIds, type DiffQuery } from './support/commerce-queries.js';
import { gapIt, type KnownGap } from './support/known-gaps.js';
import { startGateway, type RunningGateway } from './support/gateway-harness.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: {
        customers: { column_vindexes: [{ column: 'id', name: 'hash' }] },
        // Orders and their lines live with their customer, so customer joins stay on one shard.
        orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
        order_lines: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
      },
    },
  },
};

type Workload = 'oltp' | 'olap';

const data: CommerceData = generateCommerceData({ seed: 20241213, customers: 300, ordersPerCustomer: 4, batchSize: 200 });
const queries: DiffQuery[] = commerceQueries({ customers: data.customerIds });
const { a, b, c, d, some } = queryIds({ customers: data.customerIds });

interface DiffGap extends KnownGap {
  /** The query's exact SQL. */
  readonly match: string;
  /** The workloads where it shows (default: both). */
  readonly workloads?: readonly Workload[];
}

const unsupported = (what: string): string => `1235 "This query is not supported by shardgate; not supported: ${what}"`;

/** Queries that differ from the reference today because shardgate lacks a feature. */
const KNOWN_GAPS: readonly DiffGap[] = [
  // Wrong results (no error): the worst kind.
  {
    match: 'select id, tier from customers order by tier, id',
    owner: 'executor (operators/merge-sort.ts orderComparator)',
    reason: "ENUM columns merge by their text's weight string (bronze, gold, silver); MariaDB orders ENUM by member index (bronze, silver, gold)",
  },
  {
    match: "select customer_id from orders where status = 'paid' union select customer_id from orders where status = 'new' order by customer_id",
    owner: 'planner (select-analyzer.ts union routing)',
    reason: 'a scatter UNION … ORDER BY is planned as Distinct over one Route with no orderBy, so rows come back in shard order',
  },
  {
    match: '(select id from customers order by id limit 3) union all (select id from customers order by id desc limit 3)',
    owner: 'planner (select-analyzer.ts union routing)',
    reason: 'UNION ALL of parenthesised scatter SELECTs with LIMIT is merged into one scatter Route; each shard applies the LIMITs, so 24 rows come back instead of 6',
  },
  ...[
    'select year(ordered_at) as y, count(*) from orders group by y order by y',
    'select quantity, count(*), sum(unit_price) from order_lines group by quantity',
    'select year(ordered_at), count(*) from orders group by year(ordered_at)',
  ].map((match) => ({
    match,
    owner: 'planner (aggregation pushdown ORDER BY)',
    reason:
      'GROUP BY a numeric expression across shards: the shard query is ordered by weight_string(expr), which MariaDB returns as NULL for numbers, so shard rows arrive unsorted and the Ordered Aggregate splits groups (18 rows instead of 5). Order the shard query by the expression itself',
  })),
  {
    match: 'select status, n from (select status, count(*) as n from orders group by status) as t where n > 10',
    owner: 'planner (select-analyzer.ts derived tables)',
    reason: 'a derived table with GROUP BY is merged into one scatter Route: per-shard groups, no gateway aggregation, 20 rows instead of 5',
  },
  // Errors: features the planner rejects.
  { match: 'select id from customers order by -id limit 5', owner: 'planner', reason: unsupported('ORDER BY expression across shards') },
  ...[
    'select count(distinct city) from customers',
    'select count(distinct name) from customers',
    'select count(distinct status) from orders',
    'select count(distinct customer_id) from orders',
    'select count(distinct sku) from order_lines',
    'select count(*), count(distinct customer_id) from orders where total > 100',
    'select status, count(distinct customer_id) from orders group by status',
  ].map((match) => ({ match, owner: 'planner', reason: unsupported('count(DISTINCT …) across shards') })),
  ...['select status, count(*) as c from orders group by status having c > 100', 'select status, sum(total) as s from orders group by status having sum(total) > 1000 order by s desc, status'].map((match) => ({
    match,
    owner: 'planner',
    reason: unsupported('HAVING on an aggregation across shards'),
  })),
  { match: 'select year(ordered_at), month(ordered_at), count(*) from orders group by 1, 2', owner: 'planner', reason: unsupported("column 'year(ordered_at)' that is neither grouped nor aggregated, across shards (GROUP BY ordinals)") },
  { match: 'select distinct tier from customers order by tier', owner: 'planner', reason: unsupported('SELECT DISTINCT with ORDER BY on other columns across shards') },
  { match: `select id from customers where id = ${a} union all select id from customers where id = ${b}`, owner: 'planner', reason: unsupported('UNION across different routes') },
  { match: `select id from customers where id in (${some}) union all select customer_id from orders where customer_id in (${some})`, owner: 'planner', reason: unsupported('UNION across different routes') },
  ...[
    'select o.id, l.line_no from orders o join order_lines l on l.order_id = o.id',
    `select o.id, l.line_no, l.sku from orders o join order_lines l on l.order_id = o.id where o.customer_id = ${c}`,
    'select c.id, o.id from customers c join orders o on o.id = c.id',
    `select c1.id, c2.id from customers c1 join customers c2 on c1.name = c2.name where c1.id = ${d}`,
    'select a.id, b.id from customers a join customers b on a.birthday = b.birthday and a.id < b.id',
    'select o.status, count(*) from orders o join order_lines l on l.order_id = o.id group by o.status',
    'select c.id, o.id from customers c join orders o on o.id = c.id order by c.id, o.id limit 5',
  ].map((match) => ({ match, owner: 'planner (cross-shard-planner.ts)', reason: unsupported('join across shards') })),
  { match: 'select c.id, o.id from customers c left join orders o on o.id = c.id', owner: 'planner (cross-shard-planner.ts)', reason: unsupported('outer join across shards') },
  ...[
    'select id from customers where id not in (select customer_id from orders)',
    'select id from customers where balance > (select avg(balance) from customers)',
    "select id from customers where id in (select customer_id from orders where id in (select order_id from order_lines where sku = 'x'))",
  ].map((match) => ({ match, owner: 'planner', reason: unsupported('subquery that cannot be merged into the outer route') })),
  ...['select count(*) * 2 from customers', 'select sum(total) / count(*) from orders', 'select max(balance) - min(balance) from customers', 'select status, count(*) + 1 from orders group by status'].map(
    (match) => ({ match, owner: 'planner', reason: unsupported('expression over an aggregate across shards') }),
  ),
];

function gapFor(sql: string, workload: Workload): DiffGap | undefined {
  return KNOWN_GAPS.find((g) => g.match === sql && (g.workloads ?? ['oltp', 'olap']).includes(workload));
}

const INSERT_WITHOUT_COLUMNS: KnownGap = {
  owner: 'planner (insert planning)',
  reason:
    'INSERT INTO customers VALUES (…) without a column list fails with 1364 "INSERT into sharded table customers must give a value for its primary vindex column id"; the gateway does not know the column order (Vitess learns it from schema tracking)',
};

/** Column lists for the generator's INSERTs (see INSERT_WITHOUT_COLUMNS). */
const COLUMNS: Record<string, string> = {
  customers: 'id, name, email, city, balance, credit_limit, created_at, birthday, tier, avatar',
  orders: 'id, customer_id, status, total, ordered_at, shipped_at, note',
  order_lines: 'order_id, line_no, customer_id, sku, quantity, unit_price, discount',
};
const withColumnList = (sql: string) => sql.replace(/^INSERT INTO (\w+) VALUES/, (_m, t: string) => `INSERT INTO ${t} (${COLUMNS[t]}) VALUES`);


let gw: RunningGateway;
let reference: LocalCluster;
let referenceConn: mysql.Connection;

beforeAll(async () => {
  [gw, reference] = await Promise.all([
    startGateway({ vschema: VSCHEMA, keyspaces: { commerce: { shards: SHARDS, schema: data.schema } }, config: { poolSize: 16 } }),
    LocalCluster.start({ shards: ['reference'], database: 'commerce', schema: data.schema }),
  ]);
  referenceConn = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), multipleStatements: false });
});

afterAll(async () => {
  await referenceConn?.end().catch(() => undefined);
  await Promise.all([gw?.stop(), reference?.stop()]);
});

function subjectFactory(workload: Workload) {
  return async () => {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: gw.port, user: 'app', password: 'secret', database: 'commerce' });
    await conn.query(`set workload = '${workload}'`);
    return conn;
  };
}

describe('differential: 4-shard gateway vs one MariaDB', () => {
  it(`loads ${data.inserts.length} generated INSERT batches through the gateway and into the reference`, async () => {
    const gatewayConn = await gw.connect({ database: 'commerce' });
    try {
      for (const sql of data.inserts) {
        await referenceConn.query(sql);
        await gatewayConn.query(withColumnList(sql));
      }
      for (const [table, n] of Object.entries({ customers: data.rowCounts.customers, orders: data.rowCounts.orders, order_lines: data.rowCounts.order_lines })) {
        let onShards = 0;
        for (const shard of SHARDS) {
          const direct = await gw.connectShard('commerce', shard);
          const [rows] = await direct.query<mysql.RowDataPacket[]>(`select count(*) as n from ${table}`);
          onShards += Number(rows[0].n);
          await direct.end();
        }
        expect(onShards, `${table} rows over all shards`).toBe(n);
      }
    } finally {
      await gatewayConn.end();
    }
  });

  it(`has about 150 queries to compare (${queries.length}), and every known gap names one of them`, () => {
    expect(queries.length).toBeGreaterThanOrEqual(150);
    const sqls = new Set(queries.map((q) => q.sql));
    expect(KNOWN_GAPS.filter((g) => !sqls.has(g.match)).map((g) => g.match)).toEqual([]);
  });

  const runs: { workload: Workload; concurrency: number }[] = [
    { workload: 'oltp', concurrency: 1 },
    { workload: 'olap', concurrency: 1 },
    { workload: 'oltp', concurrency: 16 },
    { workload: 'olap', concurrency: 16 },
  ];
  for (const { workload, concurrency } of runs) {
    const passing = queries.filter((q) => gapFor(q.sql, workload) === undefined);
    it(`${workload}, ${concurrency} connection(s): ${passing.length} queries match the reference`, async () => {
      const report = await compareWithReference({ subject: subjectFactory(workload), reference: referenceConn, queries: passing, concurrency });
      expect(report.summary()).toBe(`${passing.length}/${passing.length} queries matched`);
    });
  }

  gapIt('loads the generator\'s INSERTs, which have no column list', INSERT_WITHOUT_COLUMNS, async () => {
    const conn = await gw.connect({ database: 'commerce' });
    try {
      await conn.query('INSERT INTO customers VALUES (424242424243, \'no columns\', NULL, NULL, NULL, NULL, \'2024-01-01\', NULL, NULL, NULL)');
      await conn.query('DELETE FROM customers WHERE id = 424242424243');
    } finally {
      await conn.end();
    }
  });

  for (const q of queries) {
    const gap = gapFor(q.sql, 'oltp') ?? gapFor(q.sql, 'olap');
    if (!gap) continue;
    const workload = gap.workloads?.[0] ?? 'oltp';
    gapIt(`${workload}: ${q.sql}`, gap, async () => {
      const report = await compareWithReference({ subject: subjectFactory(workload), reference: referenceConn, queries: [q] });
      expect(report.summary()).toBe('1/1 queries matched');
    });
  }
});
