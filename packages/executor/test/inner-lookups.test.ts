import { describe, expect, it } from 'vitest';
import type { BindVars, Primitive } from '@shardgate/planner';
import { batchableLookup } from '../src/operators/batched-lookups.js';
import { InnerLookups } from '../src/operators/inner-lookups.js';
import type { QueryContext } from '../src/query-context.js';
import type { BufferedRows } from '../src/row-flow.js';
import { bind, bindExpr, ks, route, sql, tpl } from './support/plan-builders.js';

const K = ks('commerce');

function counting(inner: Primitive) {
  const runs: BindVars[] = [];
  const lookups = new InnerLookups({} as QueryContext, inner, async (bv: BindVars) => {
    runs.push(bv);
    if (bv.fail) throw new Error('shard down');
    return { fields: [], rows: [] } satisfies BufferedRows;
  });
  return { runs, lookups };
}

describe('InnerLookups', () => {
  it('runs the inner query once for identical join values, and again for values that only compare equal in SQL', async () => {
    const { runs, lookups } = counting(route('Scatter', K, sql('select name from customers where city = :c')));
    await Promise.all([
      lookups.lookup({ c: 'Oslo' }, ['Oslo']),
      lookups.lookup({ c: 'Oslo' }, ['Oslo']),
      lookups.lookup({ c: 'oslo' }, ['oslo']),
      lookups.lookup({ c: 'Oslo ' }, ['Oslo ']),
      lookups.lookup({ c: 1n }, [1n]),
      lookups.lookup({ c: '1' }, ['1']),
      lookups.lookup({ c: null }, [null]),
      lookups.lookup({ c: null }, [null]),
      lookups.lookup({ c: Uint8Array.of(0x31) }, [Uint8Array.of(0x31)]),
    ]);
    expect(runs.map((r) => r.c)).toEqual(['Oslo', 'oslo', 'Oslo ', 1n, '1', null, Uint8Array.of(0x31)]);
  });

  it('never shares a lookup whose SQL calls a volatile function, nor one that failed', async () => {
    const volatile = counting(route('Scatter', K, sql('select uuid(), name from customers where city = :c')));
    await volatile.lookups.lookup({ c: 'Oslo' }, ['Oslo']);
    await volatile.lookups.lookup({ c: 'Oslo' }, ['Oslo']);
    expect(volatile.runs).toHaveLength(2);

    const failing = counting(route('Scatter', K, sql('select name from customers where city = :c')));
    await expect(failing.lookups.lookup({ c: 'Oslo', fail: 1n }, ['Oslo'])).rejects.toThrow('shard down');
    await failing.lookups.lookup({ c: 'Oslo' }, ['Oslo']);
    expect(failing.runs).toHaveLength(2);
  });

  it('leaves no unhandled rejection when the first of a batch of lookups fails and no batch follows', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { lookups } = counting(route('Scatter', K, sql('select name from customers where city = :c')));
      const [only] = lookups.lookupAll([{ bindVars: { c: 'Oslo', fail: 1n }, values: ['Oslo'] }]);
      await expect(only).rejects.toThrow('shard down');
      // Node reports unhandled rejections after the microtask queue drains: give it a macrotask.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('batchableLookup', () => {
  const eq = (text: TemplateStringsArray, ...rest: unknown[]) => route('EqualUnique', K, tpl(text, ...(rest as never[])), { vindex: 'hash', values: [bindExpr('c_id')] });
  it('batches a plain SELECT whose join values come after FROM', () => {
    expect(batchableLookup(eq`select o.id, o.total from orders as o where o.customer_id = ${bind('c_id')}`)).toBe(true);
    expect(batchableLookup(eq`select distinct o.status from orders as o where o.customer_id = ${bind('c_id')} limit 5`)).toBe(true);
    expect(batchableLookup(route('Scatter', K, tpl`select count(*) from orders as o where o.status = ${bind('s')}`))).toBe(true);
  });
  it('looks up row by row where parts of a UNION could differ from the query alone', () => {
    expect(batchableLookup(eq`select ${bind('c_id')} + o.total from orders as o where o.customer_id = ${bind('c_id')}`)).toBe(false);
    expect(batchableLookup(eq`select o.id from orders as o where o.customer_id = ${bind('c_id')} order by 1`)).toBe(false);
    expect(batchableLookup(eq`select o.status, count(*) from orders as o where o.customer_id = ${bind('c_id')} group by 1`)).toBe(false);
    expect(batchableLookup(eq`select o.id from orders as o where o.customer_id = ${bind('c_id')} union select 1`)).toBe(false);
    expect(batchableLookup(eq`select o.id from orders as o where o.customer_id = ${bind('c_id')} for update`)).toBe(false);
    expect(batchableLookup(eq`select * from orders as o where o.customer_id = ${bind('c_id')}`)).toBe(false);
    expect(batchableLookup(eq`select o.* from orders as o where o.customer_id = ${bind('c_id')}`)).toBe(true);
    expect(batchableLookup(route('Scatter', K, tpl`select o.id from orders as o where o.status = ${bind('s')}`, { orderBy: [{ column: 0, desc: false }] }))).toBe(false);
  });
});
