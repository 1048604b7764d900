import { describe, expect, it } from 'vitest';
import { generateCommerceData, sqlLiteral } from '../src/index.js';

describe('generateCommerceData', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = generateCommerceData({ seed: 1, customers: 50, ordersPerCustomer: 3 });
    expect(generateCommerceData({ seed: 1, customers: 50, ordersPerCustomer: 3 })).toEqual(a);
    expect(generateCommerceData({ seed: 2, customers: 50, ordersPerCustomer: 3 }).inserts).not.toEqual(a.inserts);
  });

  it('covers the awkward values a sharded gateway gets wrong', () => {
    const data = generateCommerceData({ seed: 3, customers: 200, ordersPerCustomer: 2, batchSize: 50 });
    const sql = data.inserts.join('\n');
    expect(data.rowCounts.customers).toBe(200);
    expect(data.rowCounts.orders).toBe(400);
    expect(new Set(data.customerIds).size).toBe(200);
    expect(data.customerIds).toContain('9223372036854775807');
    expect(data.customerIds.some((id) => BigInt(id) > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
    for (const s of ["'alice", "'Alice", "'Ålice", "'Zoë", 'NULL', "'NULL'", "X'"]) expect(sql).toContain(s);
    expect(data.inserts.filter((s) => s.startsWith('INSERT INTO customers'))).toHaveLength(4);
    expect(data.schema).toMatch(/CREATE TABLE order_lines/);
  });

  it('escapes string literals', () => {
    expect(sqlLiteral("O'Brien\\")).toBe("'O\\'Brien\\\\'");
    expect(sqlLiteral(null)).toBe('NULL');
  });
});
