import { describe, expect, it } from 'vitest';
import { Planner } from '../src/planner.js';
import { PlanError } from '../src/errors.js';
import { ExactNumber, type PlannedQuery, type SqlValue } from '../src/plan-types.js';
import { demoVSchema, demoVSchemaJson } from './fixtures.js';

// The workers run the built dist/plan-worker.js: build the planner before these tests.
describe('plan workers', () => {
  const statements = [
    'select name from customer where id = 1',
    'select * from customer where id in (1, 2, 3)',
    "select id, 1.50, 'x' from customer where name = 'a' order by id limit 3",
    'select count(*) from customer',
    "insert into customer (id, name) values (1, 'a'), (2, 'b')",
    'update customer set name = 1.5 where id = 7',
    'select * from nosuch',
    'select from where',
  ];

  it('plan exactly as the calling thread does (values, ExactNumber, PlanError)', async () => {
    const inThread = new Planner({ vschema: demoVSchema() });
    const workers = new Planner({ vschema: demoVSchema(), vschemaJson: demoVSchemaJson(), planWorkers: 2 });
    try {
      for (const sql of statements) {
        const expected = await Promise.resolve(inThread.plan(sql)).catch((e: unknown) => e);
        const actual = await Promise.resolve(workers.plan(sql)).catch((e: unknown) => e);
        if (expected instanceof Error) {
          expect(actual).toBeInstanceOf(PlanError);
          expect({ errno: (actual as PlanError).errno, sqlState: (actual as PlanError).sqlState, message: (actual as PlanError).message }).toEqual({
            errno: (expected as PlanError).errno,
            sqlState: (expected as PlanError).sqlState,
            message: expected.message,
          });
        } else {
          expect(actual).toEqual(expected);
        }
      }
      expect(workers.buildCount).toBe(statements.length);
      // A hit stays synchronous on the main thread.
      const hit = workers.plan('select name from customer where id = 99');
      expect(hit).not.toBeInstanceOf(Promise);
      expect((hit as PlannedQuery).bindVars).toEqual({ v1: 99n });
    } finally {
      inThread.dispose();
      workers.dispose();
    }
  });

  it('keep ExactNumber values revived across the thread boundary', async () => {
    const p = new Planner({ vschema: demoVSchema(), vschemaJson: demoVSchemaJson() });
    try {
      const r = await p.plan('select 1.25 from customer where id = 1');
      expect(Object.values(r.bindVars).some((v) => v instanceof ExactNumber)).toBe(true);
      expect(JSON.stringify(r.plan)).not.toContain('exactNumber');
    } finally {
      p.dispose();
    }
  });

  it('single-flight: concurrent identical misses share one worker build', async () => {
    const p = new Planner({ vschema: demoVSchema(), vschemaJson: demoVSchemaJson() });
    try {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => p.plan(`select name from customer where id = ${i}`)));
      expect(p.buildCount).toBe(1);
      expect(results.every((r) => r.plan === results[0]!.plan)).toBe(true);
    } finally {
      p.dispose();
    }
  });

  it('reload the vschema on a new epoch (setVSchema with JSON)', async () => {
    const p = new Planner({ vschema: demoVSchema(), vschemaJson: demoVSchemaJson() });
    try {
      await p.plan('select name from customer where id = 1');
      const json = demoVSchemaJson() as { keyspaces: Record<string, { tables: Record<string, unknown> }> };
      const tables = json.keyspaces.main!.tables;
      tables.extra_table = {};
      const { loadVSchema } = await import('@shardgate/vschema');
      await expect(Promise.resolve(p.plan('select * from extra_table'))).rejects.toMatchObject({ errno: 1146 });
      p.setVSchema(loadVSchema(json), json);
      const r = await p.plan('select * from extra_table');
      expect(r.plan.instructions).toMatchObject({ keyspace: { name: 'main' } });
    } finally {
      p.dispose();
    }
  });

  it('start on demand up to planWorkers, and exit after planWorkerIdleMs without a miss', async () => {
    const p = new Planner({ vschema: demoVSchema(), vschemaJson: demoVSchemaJson(), planWorkers: 2, planWorkerIdleMs: 300 });
    try {
      expect(p.liveWorkers).toBe(0);
      await p.plan('select name from customer where id = 1');
      expect(p.liveWorkers).toBe(1);
      // Four different misses at once: at most planWorkers workers, every plan built.
      const shapes = ['select id from customer where id = 1', 'select name, id from customer where id = 1', 'select count(*) from customer', 'select * from customer where id in (1, 2)'];
      const plans = await Promise.all(shapes.map((sql) => p.plan(sql)));
      expect(plans).toHaveLength(4);
      expect(p.liveWorkers).toBeLessThanOrEqual(2);
      expect(p.buildCount).toBe(5);
      // Hits keep no worker alive.
      expect(p.plan('select name from customer where id = 2')).not.toBeInstanceOf(Promise);
      while (p.liveWorkers > 0) await new Promise((r) => setTimeout(r, 50));
      // The next miss starts a worker again.
      const r = await p.plan('select name from customer where id = 3 and name = 4');
      expect(r.bindVars).toEqual({ v1: 3n, v2: 4n });
      expect(p.liveWorkers).toBe(1);
    } finally {
      p.dispose();
    }
    expect(p.liveWorkers).toBe(0);
  });

  it('a statement past planTimeoutMs fails with 1969 and its worker is replaced', async () => {
    const p = new Planner({ vschema: demoVSchema(), vschemaJson: demoVSchemaJson(), planWorkers: 1, planTimeoutMs: 1000 });
    try {
      // A 100,000-term OR chain (1.4 MB): normalizing it and parsing it take seconds in the worker;
      // 1000 ms leaves room for a cold worker to start under load. The deadline runs from plan().
      const bad = `select id from customer where ${Array.from({ length: 100_000 }, (_, i) => `id = ${i}`).join(' or ')}`;
      await expect(Promise.resolve(p.plan(bad))).rejects.toMatchObject({ errno: 1969, sqlState: '70100' });
      expect(p.workersReplaced).toBe(1);
      // The next miss still plans, on the replacement worker (once it has booted: on a loaded
      // machine loading the parser can itself take longer than this test's 1000 ms deadline).
      await p.ready();
      const r = await p.plan('select name from customer where id = 5');
      expect(r.bindVars).toEqual({ v1: 5n });
    } finally {
      p.dispose();
    }
  });

  it('normalize long statements in a worker, with the same plan, bind vars and errors as on the calling thread', async () => {
    const inThread = new Planner({ vschema: demoVSchema() });
    // Every statement counts as long here.
    const workers = new Planner({ vschema: demoVSchema(), vschemaJson: demoVSchemaJson(), largeStatementChars: 1 });
    const userVariables = new Map<string, SqlValue>([['x', new ExactNumber('2.50')], ['y', 'text']]);
    const cases: [string, SqlValue[]][] = [
      ...statements.map((sql): [string, SqlValue[]] => [sql, []]),
      ['select name from customer where id = ? and name = @y', [7n]],
      ['select @x, id from customer where id in (?, 2, 3)', [new ExactNumber('1.5')]],
      ["select id from customer where name = 'unterminated", []],
      ['select id from customer where id in (1, 2', []],
      ['select id from customer where id = ?', []],
    ];
    try {
      for (const [sql, params] of cases) {
        const run = async (p: Planner) => {
          try {
            return await p.plan(sql, { params, userVariables });
          } catch (e) {
            const err = e as PlanError;
            return { errno: err.errno, sqlState: err.sqlState, message: err.message };
          }
        };
        expect(await run(workers), sql).toEqual(await run(inThread));
      }
    } finally {
      inThread.dispose();
      workers.dispose();
    }
  });
});
