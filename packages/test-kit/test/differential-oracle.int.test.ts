import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compareWithReference, freshDatabase, generateCommerceData, runPrepared, runQuery, type FreshDatabase } from '../src/index.js';

describe('compareWithReference against real MariaDB', () => {
  let db: FreshDatabase;
  let reference: mysql.Connection;
  let subject: mysql.Connection;
  const data = generateCommerceData({ seed: 7, customers: 120, ordersPerCustomer: 3 });
  const queries = [
    'SELECT * FROM customers',
    { sql: 'SELECT id, name, balance FROM customers ORDER BY id', ordered: true },
    { sql: 'SELECT name, COUNT(*) AS n FROM customers GROUP BY name ORDER BY name, n', ordered: true },
    'SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id',
    { sql: 'SELECT * FROM order_lines WHERE customer_id = ?', params: ['9223372036854775807'] },
    'SELECT credit_limit, avatar, created_at, birthday, shipped_at FROM customers LEFT JOIN orders ON orders.customer_id = customers.id',
    'SELECT SUM(unit_price * quantity), AVG(discount), MAX(sku) FROM order_lines',
    'SELECT * FROM no_such_table',
  ];

  beforeAll(async () => {
    // The cluster is shared by the whole run (test/global-setup.ts); this file gets its own database.
    db = await freshDatabase(inject('shardgateCluster'), 'oracle', { schema: data.schema });
    reference = await mysql.createConnection(db.shard('reference'));
    subject = await mysql.createConnection(db.shard('subject'));
    for (const conn of [reference, subject]) for (const sql of data.inserts) await conn.query(sql);
  });
  afterAll(async () => {
    await reference?.end();
    await subject?.end();
    await db?.drop();
  });

  it('reports a match for identical data, including errors with the same errno', async () => {
    const report = await compareWithReference({ subject, reference, queries });
    expect(report.summary()).toBe(`${queries.length}/${queries.length} queries matched`);
    expect(report.ok).toBe(true);
  });

  it('keeps values exact: big ids, 30-digit decimals, binary bytes, microsecond datetimes, NULL vs "NULL"', async () => {
    const outcome = await runQuery(reference, {
      sql:
        "SELECT 9223372036854775807 AS big, CAST('0.123456789012345678901234567891' AS DECIMAL(65,30)) AS d, " +
        "X'00ff' AS b, _utf8mb4'Zoë' AS t, NULL AS n, 'NULL' AS s, CAST('2024-02-29 23:59:59.123456' AS DATETIME(6)) AS dt, 0.1e0 + 0.2e0 AS f",
    });
    expect(outcome).toMatchObject({
      kind: 'rows',
      columns: ['big', 'd', 'b', 't', 'n', 's', 'dt', 'f'],
      rows: [['9223372036854775807', '0.123456789012345678901234567891', '0x00ff', 'Zoë', null, 'NULL', '2024-02-29 23:59:59.123456', '0.30000000000000004']],
    });
    // Each column's type and character set come along (what a differential compares besides values).
    expect(outcome.kind === 'rows' ? outcome.fields?.map((f) => [f.name, f.columnType, f.characterSet]) : null).toEqual([
      ['big', 8, 63],
      ['d', 246, 63],
      ['b', 253, 63],
      ['t', 253, 224],
      ['n', 6, 63],
      ['s', 253, 224],
      ['dt', 12, 63],
      ['f', 5, 63],
    ]);
  });

  it('finds a changed row and names the first differing row', async () => {
    await subject.query("UPDATE customers SET balance = balance + 0.0001 WHERE id = 9223372036854775807 AND balance IS NOT NULL");
    await subject.query("UPDATE customers SET balance = 1 WHERE id = 9223372036854775807 AND balance IS NULL");
    const report = await compareWithReference({
      subject,
      reference,
      queries: [{ sql: 'SELECT id, balance FROM customers ORDER BY id', ordered: true }, 'SELECT id, balance FROM customers'],
    });
    expect(report.ok).toBe(false);
    expect(report.mismatches.map((m) => m.kind)).toEqual(['rows', 'rows']);
    const [ordered, unordered] = report.mismatches;
    expect(ordered.firstDifferingRow?.subject?.[0]).toBe('9223372036854775807');
    expect(ordered.firstDifferingRow?.reference?.[0]).toBe('9223372036854775807');
    expect(unordered.firstDifferingRow?.subject?.[0]).toBe('9223372036854775807');
    expect(report.summary()).toContain('SELECT id, balance FROM customers ORDER BY id');
  });

  it('tells NULL from the string NULL, compares column names, errnos and affected rows', async () => {
    await reference.query('CREATE TABLE heap (v VARCHAR(10) NULL)');
    await subject.query('CREATE TABLE heap (w VARCHAR(10) NULL)');
    await reference.query("INSERT INTO heap VALUES (NULL), ('a'), ('b')");
    await subject.query("INSERT INTO heap VALUES ('b'), ('a'), ('NULL')");
    const report = await compareWithReference({
      subject,
      reference,
      queries: [
        'SELECT * FROM heap',
        "SELECT IF(v IS NULL, NULL, v) AS x FROM heap WHERE v IS NULL OR v <> 'zz'",
        'DELETE FROM heap WHERE 1 = 0',
        'UPDATE heap SET v = v',
      ],
    });
    expect(report.mismatches.map((m) => m.kind)).toEqual(['columns', 'error', 'error']);
    // Same rows in a different physical order match as a multiset but not when ordered.
    await subject.query('DROP TABLE heap');
    await subject.query('CREATE TABLE heap (v VARCHAR(10) NULL)');
    await subject.query("INSERT INTO heap VALUES ('b'), ('a'), (NULL)");
    const order = await compareWithReference({
      subject,
      reference,
      queries: ['SELECT v FROM heap', { sql: 'SELECT v FROM heap', ordered: true }, 'DELETE FROM heap WHERE v = \'zz\''],
    });
    expect(order.mismatches.map((m) => `${m.index}:${m.kind}`)).toEqual(['1:rows']);
    await subject.query("UPDATE heap SET v = 'NULL' WHERE v IS NULL");
    const nulls = await compareWithReference({ subject, reference, queries: ['SELECT v FROM heap'] });
    expect(nulls.mismatches).toHaveLength(1);
    expect(nulls.mismatches[0].message).toMatch(/\["NULL"\]/);
  });

  it('runs subject queries on N concurrent connections', async () => {
    const opened: mysql.Connection[] = [];
    const report = await compareWithReference({
      reference,
      subject: async () => {
        const c = await mysql.createConnection(db.shard('reference'));
        opened.push(c);
        return c;
      },
      queries: Array.from({ length: 24 }, (_, i) => ({ sql: 'SELECT id, name FROM customers WHERE id % 4 = ? ORDER BY id', params: [i % 4], ordered: true })),
      concurrency: 4,
    });
    expect(report.ok).toBe(true);
    expect(opened).toHaveLength(4);
  });

  it('closes each prepared statement it runs on the server (a long run never reaches max_prepared_stmt_count)', async () => {
    const conn = await mysql.createConnection(db.shard('reference'));
    try {
      const counter = async (name: string) => Number(((await conn.query(`SHOW SESSION STATUS LIKE '${name}'`))[0] as { Value: string }[])[0].Value);
      const [prepared, closed] = [await counter('Com_stmt_prepare'), await counter('Com_stmt_close')];
      for (let i = 0; i < 3; i++) {
        const outcome = await runPrepared(conn, { sql: 'SELECT id FROM customers WHERE id = ?', params: [i] });
        expect(outcome.kind).toBe('rows');
      }
      expect(await runPrepared(conn, { sql: 'SELECT * FROM no_such_table' })).toMatchObject({ kind: 'error', errno: 1146 });
      expect((await counter('Com_stmt_prepare')) - prepared).toBe(4);
      // The failed prepare left nothing to close; the three others were closed one by one.
      expect((await counter('Com_stmt_close')) - closed).toBe(3);
    } finally {
      await conn.end();
    }
  });
});
