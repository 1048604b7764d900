import { describe, expect, it } from 'vitest';
import { BUCKET_SECONDS, RecentActivity } from '../src/recent-activity.js';

describe('RecentActivity', () => {
  it('buckets statements by time, keeps ten minutes, and rates the current bucket by its elapsed time', () => {
    let now = 1_000_000 * BUCKET_SECONDS * 1000; // a bucket boundary
    const a = new RecentActivity(() => now);
    a.statement(0.002);
    a.statement(0.004);
    now += 2_000;
    let buckets = a.buckets();
    expect(buckets).toHaveLength(120);
    expect(buckets.at(-1)).toMatchObject({ statements: 2, span: 2 });
    expect(buckets.at(-1)!.seconds).toBeCloseTo(0.006);
    now += BUCKET_SECONDS * 1000;
    a.statement(0.001);
    buckets = a.buckets();
    expect(buckets.at(-2)).toMatchObject({ statements: 2, span: BUCKET_SECONDS });
    expect(buckets.at(-1)).toMatchObject({ statements: 1 });
    // Ten minutes later the old buckets are gone, not counted again when their ring slot is reused.
    now += 600_000;
    expect(a.buckets().reduce((n, b) => n + b.statements, 0)).toBe(0);
    a.statement(0.001);
    expect(a.buckets().reduce((n, b) => n + b.statements, 0)).toBe(1);
  });

  it('keeps the last 50 errors, newest first, with the query normalized and credentials masked', () => {
    const a = new RecentActivity();
    for (let i = 0; i < 60; i++) a.error(1146, `error ${i}`, `select * from t where secret = 'value-${i}'`);
    a.error(1045, 'cannot reach mysql://root:hunter2@db:3306/x', 'select 1');
    const errors = a.recentErrors();
    expect(errors).toHaveLength(50);
    expect(errors[0]).toMatchObject({ errno: 1045, message: 'cannot reach mysql://root:***@db:3306/x' });
    expect(errors[1]!.query).toBe('select * from t where secret = :v1');
    expect(JSON.stringify(errors)).not.toContain('value-59');
  });

  it('normalizes only the first 4 KiB of a long statement, never showing a value cut in half', () => {
    const a = new RecentActivity();
    a.error(1064, 'syntax', `select id from t where ${Array.from({ length: 100_000 }, (_, i) => `id = ${987_000_000 + i}`).join(' or ')}`);
    a.error(1064, 'syntax', `select id from t where name = '${'secret'.repeat(1000)}' and id = 1`);
    const [cutString, cutChain] = a.recentErrors();
    // Whatever the prefix ends in, its values are bound like any literal.
    expect(cutChain!.query).toMatch(/^select id from t where id = :v1 or id = :v2 or id = :v3 /);
    expect(cutChain!.query).not.toMatch(/987/);
    // Cut inside a string literal: the prefix does not lex.
    expect(cutString!.query).toBe('(not normalizable)');
    expect(JSON.stringify(a.recentErrors())).not.toContain('secret');
  });
});
