import { describe, expect, it } from 'vitest';
import { loadVSchema } from '@shardgate/vschema';
import { Planner } from '../src/planner.js';
import type { PlannedQuery, RoutePrimitive } from '../src/plan-types.js';
import { demoVSchema } from './fixtures.js';

describe('plan cache', () => {
  it('1,000 concurrent identical misses build one plan and share it', async () => {
    for (const variant of ['mutex', 'sharded'] as const) {
      const p = new Planner({ vschema: demoVSchema(), cache: { variant } });
      const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => p.plan(`select name from customer where id = ${i}`, {})));
      expect(p.buildCount).toBe(1);
      const first = results[0]!.plan;
      expect(results.every((r) => r.plan === first)).toBe(true);
      // Each caller keeps its own values.
      expect(results[999]!.bindVars).toEqual({ v1: 999n });
      p.dispose();
    }
  });

  it('a hit is synchronous and never rebuilds (no parse on the hot path)', async () => {
    const p = new Planner({ vschema: demoVSchema() });
    const miss = p.plan('select * from customer where id in (1, 2)', {});
    expect(miss).toBeInstanceOf(Promise);
    await miss;
    const hit = p.plan('select * from customer where id in (7, 8, 9, 10)', {});
    expect(hit).not.toBeInstanceOf(Promise);
    expect((hit as PlannedQuery).bindVars).toEqual({ v1: [7n, 8n, 9n, 10n] });
    expect(p.buildCount).toBe(1);
    expect(p.cacheStats().entries).toBe(1);
    p.dispose();
  });

  it('keys plans by target keyspace and directives', async () => {
    const p = new Planner({ vschema: demoVSchema() });
    await p.plan('select * from customer where id = 1', {});
    await p.plan('select * from customer where id = 1', { keyspace: 'commerce' });
    await p.plan('select /*vt+ QUERY_TIMEOUT_MS=10 */ * from customer where id = 1', {});
    expect(p.buildCount).toBe(3);
    const r = (await p.plan('select /*vt+ QUERY_TIMEOUT_MS=10 */ * from customer where id = 2', {})).plan.instructions as RoutePrimitive;
    expect(r.queryTimeoutMs).toBe(10);
    p.dispose();
  });

  it('setVSchema: plans built on the old vschema are never served again, even if built concurrently', async () => {
    const p = new Planner({ vschema: demoVSchema() });
    const before = await p.plan('select * from orders where customer_id = 1', {});
    expect((before.plan.instructions as RoutePrimitive).variant).toBe('EqualUnique');
    // A build in flight while the vschema changes.
    const inflight = p.plan('select * from orders where customer_id = 2 and 1 = 1', {});
    const unsharded = loadVSchema({ keyspaces: { commerce: { sharded: false, tables: { orders: {} } } } });
    p.setVSchema(unsharded);
    await inflight;
    const after = await p.plan('select * from orders where customer_id = 1', {});
    expect((after.plan.instructions as RoutePrimitive).variant).toBe('Unsharded');
    const again = await p.plan('select * from orders where customer_id = 2 and 1 = 1', {});
    expect((again.plan.instructions as RoutePrimitive).variant).toBe('Unsharded');
    expect(p.vschema).toBe(unsharded);
    p.dispose();
  });

  it('accounts plan bytes for maxCost', async () => {
    const p = new Planner({ vschema: demoVSchema(), cache: { variant: 'mutex', maxCost: 1_000_000 } });
    for (let i = 0; i < 20; i++) await p.plan(`select c${i} from customer where id = 1`, {});
    const s = p.cacheStats();
    expect(s.entries).toBe(20);
    expect(s.cost).toBeGreaterThan(20 * 200);
    p.dispose();
  });
});
