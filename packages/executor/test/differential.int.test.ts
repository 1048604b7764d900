/**
 * Differential tests: the same generated commerce data in a 4-shard keyspace and in one plain
 * MariaDB; every query's result through the executor must equal the reference's (exact order
 * where ORDER BY is total, multiset otherwise), in OLTP, in OLAP, and with 16 concurrent sessions.
 *
 * Plans are built by hand in the shapes the planner produces (Route + MergeSort, Aggregate with
 * pushed-down partials, Join, SemiJoin, Distinct, Concatenate, Filter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import mysql from 'mysql2/promise';
import { compareWithReference, freshDatabase, generateCommerceData, type FreshDatabase, type OracleQuery } from '@shardgate/test-kit';
import { ShardMap, loadVSchema, type FunctionalVindex } from '@shardgate/vschema';
import { collationKeySql, type PlannedQuery, type Primitive, type SqlValue } from '@shardgate/planner';
import { Executor, type PlannerLike } from '../src/index.js';
import { bind, bindExpr, ks, plan, route, sql, tpl } from './support/plan-builders.js';
import { sessionTarget } from './support/session-target.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const K = ks('commerce');
const VSCHEMA = loadVSchema({
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: {
        customers: { column_vindexes: [{ column: 'id', name: 'hash' }] },
        orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
        order_lines: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
      },
    },
  },
});

/** Plans by exact SQL text, registered together with each query. */
class QueryBook implements PlannerLike {
  readonly plans = new Map<string, PlannedQuery>();
  readonly queries: OracleQuery[] = [];
  add(text: string, instructions: Primitive, ordered = false, bindVars: Record<string, SqlValue> = {}): void {
    this.plans.set(text, { plan: plan(instructions), bindVars });
    this.queries.push({ sql: text, ordered });
  }
  plan(text: string): PlannedQuery {
    const m = /^set workload = '(\w+)'$/.exec(text);
    if (m) {
      return { plan: plan({ operator: 'Session', statement: { kind: 'set', assignments: [{ scope: 'session', name: 'workload', value: { kind: 'literal', value: m[1] } }] } }, 'SET'), bindVars: {} };
    }
    const p = this.plans.get(text);
    if (!p) throw Object.assign(new Error(`no plan for ${text}`), { errno: 1105, sqlState: 'HY000' });
    return p;
  }
}

function buildQueries(customerIds: string[]): QueryBook {
  const book = new QueryBook();
  const ids = customerIds.map((i) => BigInt(i));
  // A. point selects (every column type, big ids)
  for (const id of ids.slice(0, 30)) {
    const q = `select id, name, email, city, balance, credit_limit, created_at, birthday, tier, avatar from customers where id = ${id}`;
    book.add(q, route('EqualUnique', K, tpl`select id, name, email, city, balance, credit_limit, created_at, birthday, tier, avatar from customers where id = ${bind('v1')}`, { vindex: 'hash', values: [bindExpr('v1')] }), false, { v1: id });
  }
  // B. IN lists
  for (let i = 0; i < 30; i++) {
    const list = [ids[i], ids[i * 3 + 1], ids[i * 5 + 2], 42n];
    book.add(
      `select id, name, balance from customers where id in (${list.join(', ')})`,
      route('IN', K, tpl`select id, name, balance from customers where id in ${{ list: '__vals' }}`, { vindex: 'hash', values: [{ kind: 'bindList', name: 'vals' }], inListBind: '__vals' }),
      false,
      { vals: list } as unknown as Record<string, SqlValue>,
    );
  }
  // C. MergeSort by a collated string (weight strings) + LIMIT/OFFSET
  for (let i = 0; i < 30; i++) {
    const off = i * 7;
    const cnt = 5 + (i % 4) * 10;
    book.add(
      `select id, name from customers order by name, id limit ${off}, ${cnt}`,
      {
        operator: 'Limit',
        count: { kind: 'literal', value: BigInt(cnt) },
        offset: { kind: 'literal', value: BigInt(off) },
        input: route('Scatter', K, sql(`select id, name, ${collationKeySql('name')} from customers order by name, id limit ${off + cnt}`), { orderBy: [{ column: 1, weightStringColumn: 2, desc: false }, { column: 0, desc: false }], resultColumns: 2 }),
      },
      true,
    );
  }
  // D. NULL ordering and decimals, descending
  for (let i = 0; i < 10; i++) {
    book.add(
      `select id, balance, created_at from customers order by balance desc, id limit ${i * 15}, 15`,
      {
        operator: 'Limit',
        count: { kind: 'literal', value: 15n },
        offset: { kind: 'literal', value: BigInt(i * 15) },
        input: route('Scatter', K, sql(`select id, balance, created_at from customers order by balance desc, id limit ${i * 15 + 15}`), { orderBy: [{ column: 1, desc: true }, { column: 0, desc: false }] }),
      },
      true,
    );
    book.add(
      `select id, birthday from customers order by birthday, id desc limit 12`,
      {
        operator: 'Limit',
        count: { kind: 'literal', value: 12n },
        input: route('Scatter', K, sql(`select id, birthday from customers order by birthday, id desc limit 12`), { orderBy: [{ column: 1, desc: false }, { column: 0, desc: true }] }),
      },
      true,
    );
  }
  // E. scalar aggregates (sum/count pushed down, avg scale = 4 + div_precision_increment)
  for (let i = 0; i < 10; i++) {
    const cut = ids[i * 11] ?? 0n;
    book.add(
      `select count(*), sum(balance), min(balance), max(balance), avg(balance), count(balance), min(email), max(email), sum(credit_limit), avg(credit_limit) from customers where id > ${cut}`,
      {
        operator: 'Aggregate',
        variant: 'Scalar',
        groupBy: [],
        resultColumns: 10,
        aggregates: [
          { opcode: 'sum_count', column: 0, alias: 'count(*)' },
          { opcode: 'sum', column: 1, alias: 'sum(balance)' },
          { opcode: 'min', column: 2, alias: 'min(balance)' },
          { opcode: 'max', column: 3, alias: 'max(balance)' },
          { opcode: 'avg', column: 4, countColumn: 10, alias: 'avg(balance)' },
          { opcode: 'sum_count', column: 5, alias: 'count(balance)' },
          { opcode: 'min', column: 6, weightStringColumn: 11, alias: 'min(email)' },
          { opcode: 'max', column: 7, weightStringColumn: 12, alias: 'max(email)' },
          { opcode: 'sum', column: 8, alias: 'sum(credit_limit)' },
          { opcode: 'avg', column: 9, countColumn: 13, alias: 'avg(credit_limit)' },
        ],
        input: route(
          'Scatter',
          K,
          sql(
            `select count(*), sum(balance), min(balance), max(balance), sum(balance), count(balance), min(email), max(email), sum(credit_limit), sum(credit_limit), ` +
              `count(balance), ${collationKeySql('min(email)')}, ${collationKeySql('max(email)')}, count(credit_limit) from customers where id > ${cut}`,
          ),
        ),
      },
    );
  }
  // F. grouped: ENUM groups (hash), collation-equal name groups, HAVING
  book.add(`select tier, count(*), sum(balance), avg(balance) from customers group by tier`, {
    operator: 'Aggregate',
    variant: 'Hash',
    groupBy: [{ column: 0 }],
    resultColumns: 4,
    aggregates: [
      { opcode: 'sum_count', column: 1, alias: 'count(*)' },
      { opcode: 'sum', column: 2, alias: 'sum(balance)' },
      { opcode: 'avg', column: 3, countColumn: 4, alias: 'avg(balance)' },
    ],
    input: route('Scatter', K, sql('select tier, count(*), sum(balance), sum(balance), count(balance) from customers group by tier')),
  });
  const byName = (having: number | null): Primitive => {
    const agg: Primitive = {
      operator: 'Aggregate',
      variant: 'Ordered',
      groupBy: [{ column: 3, weightStringColumn: 3 }],
      resultColumns: 3,
      aggregates: [
        { opcode: 'sum_count', column: 0, alias: 'count(*)' },
        { opcode: 'sum', column: 1, alias: 'sum(balance)' },
        { opcode: 'min', column: 2, alias: 'min(id)' },
      ],
      input: route('Scatter', K, sql('select count(*), sum(balance), min(id), ' + collationKeySql('name') + ' from customers group by name order by name'), { orderBy: [{ column: 3, weightStringColumn: 3, desc: false }] }),
    };
    if (having === null) return agg;
    return { operator: 'Filter', input: agg, predicate: { kind: 'call', fn: '>', args: [{ kind: 'column', index: 0 }, { kind: 'literal', value: BigInt(having) }] } };
  };
  book.add('select count(*), sum(balance), min(id) from customers group by name', byName(null));
  for (const h of [1, 2, 3, 5, 8]) book.add(`select count(*), sum(balance), min(id) from customers group by name having count(*) > ${h}`, byName(h));
  // G. count(distinct), sum(distinct) through pushed-down distinct values
  book.add('select count(distinct city) from customers', {
    operator: 'Aggregate',
    variant: 'Scalar',
    groupBy: [],
    resultColumns: 1,
    aggregates: [{ opcode: 'count_distinct', column: 0, weightStringColumn: 1, alias: 'count(distinct city)' }],
    input: route('Scatter', K, sql('select city, ' + collationKeySql('city') + ' from customers group by city')),
  });
  book.add('select count(distinct status), count(distinct customer_id) from orders', {
    operator: 'Aggregate',
    variant: 'Scalar',
    groupBy: [],
    resultColumns: 2,
    aggregates: [
      { opcode: 'count_distinct', column: 0, weightStringColumn: 2, alias: 'count(distinct status)' },
      { opcode: 'count_distinct', column: 1, alias: 'count(distinct customer_id)' },
    ],
    input: route('Scatter', K, sql('select status, customer_id, ' + collationKeySql('status') + ' from orders group by status, customer_id')),
  });
  // H. DISTINCT and UNION / UNION ALL
  book.add('select distinct customer_id from orders', { operator: 'Distinct', input: route('Scatter', K, sql('select distinct customer_id from orders')) });
  book.add('select distinct status from orders', { operator: 'Distinct', input: route('Scatter', K, sql('select distinct status, ' + collationKeySql('status') + ' from orders')), weightStringColumns: [1], resultColumns: 1 });
  for (let i = 0; i < 8; i++) {
    const cut = ids[i * 13] ?? 0n;
    const a = route('Scatter', K, sql(`select id from customers where id < ${cut}`));
    const b = route('Scatter', K, sql(`select customer_id from orders where total > ${i * 100}`));
    book.add(`select id from customers where id < ${cut} union all select customer_id from orders where total > ${i * 100}`, { operator: 'Concatenate', inputs: [a, b] });
    book.add(`select id from customers where id < ${cut} union select customer_id from orders where total > ${i * 100}`, { operator: 'Distinct', input: { operator: 'Concatenate', inputs: [a, b] } });
  }
  // I. cross-shard nested-loop join (bind vars from the outer row), and LEFT JOIN
  for (let i = 0; i < 10; i++) {
    const x = -800_000_000 + i * 150_000_000;
    book.add(`select c.id, c.name, o.id, o.total from customers as c join orders as o on o.customer_id = c.id where c.balance > ${x}`, {
      operator: 'Join',
      variant: 'Join',
      left: route('Scatter', K, sql(`select c.id, c.name from customers as c where c.balance > ${x}`)),
      right: route('EqualUnique', K, tpl`select o.id, o.total from orders as o where o.customer_id = ${bind('c_id')}`, { vindex: 'hash', values: [bindExpr('c_id')] }),
      cols: [-1, -2, 1, 2],
      joinVars: { c_id: 0 },
    });
    book.add(`select c.id, o.id from customers as c left join orders as o on o.customer_id = c.id and o.total > ${i * 200} where c.balance > ${x}`, {
      operator: 'Join',
      variant: 'LeftJoin',
      left: route('Scatter', K, sql(`select c.id from customers as c where c.balance > ${x}`)),
      right: route('EqualUnique', K, tpl`select o.id from orders as o where o.customer_id = ${bind('c_id')}${` and o.total > ${i * 200}`}`, { vindex: 'hash', values: [bindExpr('c_id')] }),
      cols: [-1, 1],
      joinVars: { c_id: 0 },
    });
  }
  // I2. many outer rows per join value (inner lookups shared within a statement), in outer
  // ORDER BY order (several lookups in flight must not reorder the output)
  for (let i = 0; i < 5; i++) {
    const total = i * 150;
    book.add(`select o.id, c.name, c.balance from orders as o join customers as c on c.id = o.customer_id where o.total > ${total} order by o.id`, {
      operator: 'Join',
      variant: 'Join',
      left: route('Scatter', K, sql(`select o.id, o.customer_id from orders as o where o.total > ${total} order by o.id`), { orderBy: [{ column: 0, desc: false }] }),
      right: route('EqualUnique', K, tpl`select c.name, c.balance from customers as c where c.id = ${bind('o_customer_id')}`, { vindex: 'hash', values: [bindExpr('o_customer_id')] }),
      cols: [-1, 1, 2],
      joinVars: { o_customer_id: 1 },
    }, true);
  }
  // J. semi-join / anti-join (EXISTS, NOT EXISTS)
  for (let i = 0; i < 10; i++) {
    for (const variant of ['Semi', 'Anti'] as const) {
      book.add(`select c.id, c.name from customers as c where ${variant === 'Anti' ? 'not ' : ''}exists (select 1 from orders as o where o.customer_id = c.id and o.total > ${i * 150})`, {
        operator: 'SemiJoin',
        variant,
        outer: route('Scatter', K, sql('select c.id, c.name from customers as c')),
        inner: route('EqualUnique', K, tpl`select 1 from orders as o where o.customer_id = ${bind('c_id')}${` and o.total > ${i * 150} limit 1`}`, { vindex: 'hash', values: [bindExpr('c_id')] }),
        joinVars: { c_id: 0 },
        cols: [0, 1],
      });
    }
  }
  // K. gateway-side sort over a join
  book.add('select c.id, o.total from customers as c join orders as o on o.customer_id = c.id order by o.total desc, o.id limit 25', {
    operator: 'Limit',
    count: { kind: 'literal', value: 25n },
    input: {
      operator: 'Sort',
      orderBy: [{ column: 1, desc: true }, { column: 2, desc: false }],
      resultColumns: 2,
      input: {
        operator: 'Join',
        variant: 'Join',
        left: route('Scatter', K, sql('select c.id from customers as c')),
        right: route('EqualUnique', K, tpl`select o.total, o.id from orders as o where o.customer_id = ${bind('c_id')}`, { vindex: 'hash', values: [bindExpr('c_id')] }),
        cols: [-1, 1, 2],
        joinVars: { c_id: 0 },
      },
    },
  }, true);
  return book;
}

describe('differential: executor on 4 shards vs one MariaDB', () => {
  let shardsDb: FreshDatabase;
  let book: QueryBook;
  let executor: Executor;
  let reference: mysql.Connection;

  beforeAll(async () => {
    const info = inject('shardgateCluster');
    const data = generateCommerceData({ seed: 7, customers: 240, ordersPerCustomer: 3 });
    shardsDb = await freshDatabase(info, 'exec_diff', { schema: data.schema });
    const hash = VSCHEMA.keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
    const map = new ShardMap([...COMMERCE_SHARDS]);
    reference = await mysql.createConnection({ ...shardsDb.shard('reference'), supportBigNumbers: true, bigNumberStrings: true });
    for (const ins of data.inserts) await reference.query(ins);
    // Every shard gets all rows, then keeps only those its key range owns.
    await Promise.all(
      COMMERCE_SHARDS.map(async (shard) => {
        const c = await mysql.createConnection({ ...shardsDb.shard(shard), supportBigNumbers: true, bigNumberStrings: true });
        for (const ins of data.inserts) await c.query(ins);
        const foreign = data.customerIds.filter((id) => map.shardFor(hash.map(BigInt(id))!) !== shard);
        if (foreign.length > 0) {
          await c.query(`delete from customers where id in (${foreign.join(',')})`);
          await c.query(`delete from orders where customer_id in (${foreign.join(',')})`);
          await c.query(`delete from order_lines where customer_id in (${foreign.join(',')})`);
        }
        await c.end();
      }),
    );
    book = buildQueries(data.customerIds);
    executor = new Executor({
      vschema: VSCHEMA,
      planner: book,
      topology: { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...shardsDb.shard(s), poolSize: 24 }])) },
    });
    await executor.start();
  });
  afterAll(async () => {
    await executor?.close();
    await reference?.end();
    await shardsDb?.drop();
  });

  const subject = (workload: 'oltp' | 'olap') => async () => {
    const s = executor.openSession({ user: 'diff', database: 'commerce' });
    const t = sessionTarget(s);
    await t.query(`set workload = '${workload}'`);
    return t as never;
  };

  for (const workload of ['oltp', 'olap'] as const) {
    it(`${workload}: every query matches the reference`, async () => {
      expect(book.queries.length).toBeGreaterThanOrEqual(180);
      const report = await compareWithReference({ subject: subject(workload), reference, queries: book.queries });
      expect(report.mismatches.map((m) => `${m.message}\nREF: ${JSON.stringify(m.reference).slice(0, 600)}`).slice(0, 8)).toEqual([]);
      expect(report.ok).toBe(true);
    });
  }

  it('olap and oltp with 16 concurrent sessions', async () => {
    for (const workload of ['oltp', 'olap'] as const) {
      const report = await compareWithReference({ subject: subject(workload), reference, queries: book.queries, concurrency: 16 });
      expect(report.mismatches.map((m) => `${m.message}\nREF: ${JSON.stringify(m.reference).slice(0, 600)}`).slice(0, 8)).toEqual([]);
    }
    expect(executor.stats().pools.every((p) => p.inUse === 0)).toBe(true);
  });
});
