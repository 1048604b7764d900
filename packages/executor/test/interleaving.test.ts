/**
 * Interleaving tests: shard streams deliver chunks in seeded, permuted orders (test-kit race
 * explorer). Every streaming operator must produce exactly the right result under every seed;
 * the deliberately racy semi-join fixture must be caught.
 */
import { describe, expect, it } from 'vitest';
import { explore, raceCheckedMap, RaceFoundError, raceYield } from '@shardgate/test-kit';
import type { BindVars, Primitive, SemiJoinPrimitive } from '@shardgate/planner';
import { runPrimitive } from '../src/primitive-runner.js';
import { runSemiJoin } from '../src/operators/semi-join.js';
import { CollectingReceiver, type RowReceiver } from '../src/row-flow.js';
import { ShardReservations, type Reservation } from '../src/shard-reservations.js';
import type { ShardConnection, ShardConnector } from '../src/shard-pool.js';
import type { QueryContext } from '../src/query-context.js';
import type { FieldInfo, Row } from '../src/types.js';
import { foldGeneralCi } from '../src/values/cell-compare.js';
import { FAKE_SHARDS, FakeShardAccess, cell, fakeContext, field, text, type Responder } from './support/fake-shards.js';
import { bind, bindExpr, ks, route, sql, tpl } from './support/plan-builders.js';

const SEEDS = Number(process.env.RACE_SEEDS ?? 10_000);
const K = ks('ks');
const idField = field('id');
const nameField = field('name', 253, 45);
const wsField = field('weight_string(name)', 253, 63);

/** Shard s holds ids s*100+1 .. s*100+n, cut into chunks of 2. */
function idsOf(shard: string, n = 5): number[] {
  const s = FAKE_SHARDS.indexOf(shard);
  return Array.from({ length: n }, (_, i) => s * 100 + i + 1);
}
function chunks<T>(xs: T[], size = 2): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
async function run(ctx: QueryContext, p: Primitive, bv: BindVars = {}): Promise<{ fields: readonly FieldInfo[]; rows: (string | null)[][]; fieldCalls: number }> {
  let fieldCalls = 0;
  const c = new CollectingReceiver();
  const r: RowReceiver = {
    fields: (f) => {
      if (c.collected.length > 0) throw new Error('fields after rows');
      fieldCalls++;
      c.fields(f);
    },
    rows: (rows) => c.rows(rows),
  };
  await runPrimitive(ctx, p, bv, r);
  return { fields: c.fieldDefs ?? [], rows: c.collected.map(text), fieldCalls };
}
const sortRows = (rows: (string | null)[][]) => rows.map((r) => JSON.stringify(r)).sort();

const NAMES = ['alice', 'Alice', 'Ålice', 'bob', 'BOB', 'carol', null, 'Zed', 'éclair', 'eclair'];
function weight(name: string | null): Uint8Array | null {
  // A collation key as the shard sends it (see cell-compare.ts): a 1-byte space weight, NO PAD.
  return name === null ? null : Buffer.concat([Buffer.from([1, 0, 0x20]), Buffer.from(foldGeneralCi(name), 'utf8')]);
}

/** An outer table per shard, and an inner table where k matches when k % 3 == 0. */
const responder: Responder = (shard, q) => {
  if (q.startsWith('select id from outer_t')) return { fields: [idField], chunks: chunks(idsOf(shard).map((id) => [cell(id)])) };
  if (q.startsWith('select id, name, weight_string(name) from people order by')) {
    // each shard: a sorted slice of NAMES (sorted by weight, nulls first), ids for stability
    const s = FAKE_SHARDS.indexOf(shard);
    const mine = NAMES.map((n, i) => ({ n, id: i * 10 + s })).filter((_, i) => (i + s) % 2 === 0);
    mine.sort((a, b) => (a.n === null ? -1 : b.n === null ? 1 : Buffer.compare(Buffer.from(weight(a.n)!), Buffer.from(weight(b.n)!)) || a.id - b.id));
    return { fields: [idField, nameField, wsField], chunks: chunks(mine.map((m) => [cell(m.id), cell(m.n), weight(m.n)])) };
  }
  if (q.startsWith('select g, sum(v), count(*) from grouped')) {
    const s = FAKE_SHARDS.indexOf(shard);
    const groups = [1, 2, 3, 4, 5, 6].filter((g) => (g + s) % 3 !== 0);
    return { fields: [field('g'), field('sum(v)', 246), field('count(*)')], chunks: chunks(groups.map((g) => [cell(g), cell(`${g}.5`), cell(s + 1)])) };
  }
  const m = /from inner_t where k = (\d+)/.exec(q);
  if (m) {
    const k = Number(m[1]);
    return { fields: [field('1')], chunks: k % 3 === 0 ? [[[cell(1)]]] : [] };
  }
  throw new Error(`fake shard ${shard}: unexpected ${q}`);
};

const scatterIds = route('Scatter', K, sql('select id from outer_t'));
const innerByK = route('EqualUnique', K, tpl`select 1 from inner_t where k = ${bind('outer_id')}`, { vindex: 'hash', values: [bindExpr('outer_id')] });
const allIds = FAKE_SHARDS.flatMap((s) => idsOf(s));

describe(`streaming operators under ${SEEDS} seeded interleavings each`, () => {
  it('Route scatter: every row exactly once, columns once before any row', async () => {
    await explore(
      async () => {
        const r = await run(fakeContext(new FakeShardAccess(responder)), scatterIds);
        expect(r.fieldCalls).toBe(1);
        expect(sortRows(r.rows)).toEqual(sortRows(allIds.map((i) => [String(i)])));
      },
      { seeds: SEEDS },
    );
  });

  const mergePlan = route('Scatter', K, sql('select id, name, weight_string(name) from people order by name'), { orderBy: [{ column: 1, weightStringColumn: 2, desc: false }], resultColumns: 2 });
  const expectedNames = (() => {
    const all: { n: string | null; w: Uint8Array | null }[] = [];
    for (const s of FAKE_SHARDS) {
      const si = FAKE_SHARDS.indexOf(s);
      NAMES.forEach((n, i) => {
        if ((i + si) % 2 === 0) all.push({ n, w: weight(n) });
      });
    }
    return all.sort((a, b) => (a.w === null ? (b.w === null ? 0 : -1) : b.w === null ? 1 : Buffer.compare(Buffer.from(a.w), Buffer.from(b.w)))).map((x) => x.w);
  })();

  it('MergeSort: a total order by weight string under every interleaving', async () => {
    await explore(
      async () => {
        const r = await run(fakeContext(new FakeShardAccess(responder)), mergePlan);
        expect(r.fields.map((f) => f.name)).toEqual(['id', 'name']);
        expect(r.rows.map((row) => weight(row[1]))).toEqual(expectedNames);
      },
      { seeds: SEEDS },
    );
  });

  it('Limit/Offset over MergeSort: exactly the rows of the window, input stopped', async () => {
    const p: Primitive = { operator: 'Limit', input: mergePlan, count: { kind: 'literal', value: 5n }, offset: { kind: 'literal', value: 3n } };
    await explore(
      async () => {
        const r = await run(fakeContext(new FakeShardAccess(responder)), p);
        expect(r.rows.map((row) => weight(row[1]))).toEqual(expectedNames.slice(3, 8));
      },
      { seeds: SEEDS },
    );
  });

  it('Ordered Aggregate over MergeSort: exact sums and counts per group', async () => {
    const p: Primitive = {
      operator: 'Aggregate',
      variant: 'Ordered',
      input: route('Scatter', K, sql('select g, sum(v), count(*) from grouped group by g order by g'), { orderBy: [{ column: 0, desc: false }] }),
      aggregates: [
        { opcode: 'sum', column: 1, alias: 'sum(v)' },
        { opcode: 'sum_count', column: 2, alias: 'count(*)' },
      ],
      groupBy: [{ column: 0 }],
    };
    const expected = [1, 2, 3, 4, 5, 6].map((g) => {
      const shards = FAKE_SHARDS.map((_, s) => s).filter((s) => (g + s) % 3 !== 0);
      const units = shards.length * (g * 10 + 5);
      return [String(g), `${Math.floor(units / 10)}.${units % 10}`, String(shards.reduce((a, s) => a + s + 1, 0))];
    });
    await explore(
      async () => {
        const r = await run(fakeContext(new FakeShardAccess(responder)), p);
        expect(r.rows).toEqual(expected);
      },
      { seeds: SEEDS },
    );
  });

  it('Join: inner side runs with each outer row own bind vars', async () => {
    const p: Primitive = { operator: 'Join', variant: 'LeftJoin', left: scatterIds, right: innerByK, cols: [-1, 1], joinVars: { outer_id: 0 } };
    const expected = allIds.map((i) => [String(i), i % 3 === 0 ? '1' : null]);
    await explore(
      async () => {
        const r = await run(fakeContext(new FakeShardAccess(responder)), p);
        expect(sortRows(r.rows)).toEqual(sortRows(expected));
      },
      { seeds: SEEDS },
    );
  });

  it('Distinct over a scatter: each collation-equal value once', async () => {
    const p: Primitive = {
      operator: 'Distinct',
      input: route('Scatter', K, sql('select id, name, weight_string(name) from people order by name')),
      weightStringColumns: [undefined, 2],
      resultColumns: 2,
    };
    await explore(
      async () => {
        const r = await run(fakeContext(new FakeShardAccess(responder)), { ...p, input: { ...(p as { input: Primitive }).input } } as Primitive);
        expect(new Set(r.rows.map((x) => x[0])).size).toBe(r.rows.length);
      },
      { seeds: Math.min(SEEDS, 2000) },
    );
  });

  const semi: SemiJoinPrimitive = { operator: 'SemiJoin', variant: 'Semi', outer: scatterIds, inner: innerByK, joinVars: { outer_id: 0 }, cols: [0] };
  const semiScenario = (impl: typeof runSemiJoin) => async () => {
    const c = new CollectingReceiver();
    await impl(fakeContext(new FakeShardAccess(responder)), semi, {}, c);
    expect(sortRows(c.collected.map(text))).toEqual(sortRows(allIds.filter((i) => i % 3 === 0).map((i) => [String(i)])));
  };

  it('SemiJoin (per-row bind vars) passes every seed', async () => {
    await explore(semiScenario(runSemiJoin), { seeds: SEEDS });
  });

  it('the racy semi-join fixture (bind vars shared across callbacks, Vitess 21.0.1) is caught', async () => {
    const { racySemiJoin } = await import('./fixtures/racy-semi-join.js');
    const err = await explore(semiScenario(racySemiJoin), { seeds: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(RaceFoundError);
  });
});

describe('ShardReservations: one connection per shard per session', () => {
  class CountingConnector implements ShardConnector {
    readonly size = 10;
    acquired = 0;
    constructor(
      readonly keyspace: string,
      readonly shard: string,
    ) {}
    async start() {}
    async acquire(): Promise<ShardConnection> {
      await raceYield(`acquire ${this.shard}`);
      this.acquired++;
      const conn: ShardConnection = {
        keyspace: this.keyspace,
        shard: this.shard,
        threadId: this.acquired,
        query: async () => {
          await raceYield(`stmt ${this.shard}`);
          return { isResultSet: false, fields: [], rows: [], affectedRows: 0n, insertId: 0n, warningCount: 0 };
        },
        stream: async () => {},
        release: async () => {},
        destroy: () => {},
      };
      return conn;
    }
    stats() {
      return { keyspace: this.keyspace, shard: this.shard, size: 10, open: 0, inUse: 0, idle: 0, waiting: 0 };
    }
    async close() {}
  }

  it(`concurrent statements never reserve two connections for one shard (${SEEDS} seeds, raceCheckedMap)`, async () => {
    await explore(
      async (ctx) => {
        const connectors = new Map(FAKE_SHARDS.map((s) => [s, new CountingConnector('ks', s)]));
        const r = new ShardReservations((_ks, shard) => connectors.get(shard)!, raceCheckedMap<string, Reservation>('session reservations'));
        const picks = Array.from({ length: 6 }, () => FAKE_SHARDS[Math.floor(ctx.random() * 2)]);
        const conns = await ctx.parallel(picks.map((shard) => () => r.reserve('ks', shard, { inTransaction: true, transactionMode: 'multi', setup: [] })));
        for (const c of connectors.values()) expect(c.acquired).toBeLessThanOrEqual(1);
        picks.forEach((shard, i) => expect(conns[i].shard).toBe(shard));
      },
      { seeds: SEEDS },
    );
  });

  /** A connection that logs its statements; `queryPipelined` logs its batch as one entry. */
  const loggingConnector = (shard: string, log: string[], failStart = false): ShardConnector => {
    const run = async (sql: string) => {
      await raceYield(`stmt ${shard}`);
      if (failStart && sql.startsWith('START')) throw Object.assign(new Error('Query execution was interrupted'), { errno: 1317, sqlState: '70100' });
      return { isResultSet: false, fields: [], rows: [], affectedRows: 0n, insertId: 0n, warningCount: 0 };
    };
    const conn: ShardConnection = {
      keyspace: 'ks',
      shard,
      threadId: 1,
      query: (sql) => {
        log.push(`${shard}: ${sql}`);
        return run(sql);
      },
      queryPipelined: (sqls) => {
        log.push(`${shard}: ${sqls.join(' + ')}`);
        return sqls.map(run);
      },
      stream: async () => {},
      release: async () => {},
      destroy: () => {},
    };
    return { keyspace: 'ks', shard, size: 10, start: async () => {}, acquire: async () => (await raceYield(`acquire ${shard}`), conn), stats: () => ({ keyspace: 'ks', shard, size: 10, open: 0, inUse: 0, idle: 0, waiting: 0 }), close: async () => {} };
  };

  it(`START TRANSACTION goes out once per shard, before any statement, pipelined with a first read (${SEEDS / 10} seeds)`, async () => {
    await explore(
      async (ctx) => {
        const log: string[] = [];
        const connectors = new Map(FAKE_SHARDS.map((s) => [s, loggingConnector(s, log)]));
        const r = new ShardReservations((_ks, shard) => connectors.get(shard)!, raceCheckedMap<string, Reservation>('session reservations'));
        const picks = Array.from({ length: 6 }, (_, i) => ({ shard: FAKE_SHARDS[Math.floor(ctx.random() * 2)], read: ctx.random() < 0.7, sql: `select ${i}` }));
        await ctx.parallel(picks.map((p) => () => r.query('ks', p.shard, p.read ? p.sql : `update ${p.sql}`, { inTransaction: true, transactionMode: 'multi', setup: [], read: p.read })));
        for (const shard of new Set(picks.map((p) => p.shard))) {
          const mine = log.filter((l) => l.startsWith(`${shard}: `));
          expect(mine.filter((l) => l.includes('START TRANSACTION')).length).toBe(1);
          expect(mine[0]).toMatch(/^[^:]+: START TRANSACTION( \+ select \d)?$/);
        }
        expect(r.transactionShards().every((t) => t.wrote === picks.some((p) => p.shard === t.shard && !p.read))).toBe(true);
      },
      { seeds: SEEDS / 10 },
    );
  });

  it('a read pipelined behind a START TRANSACTION that failed fails with its error, and the shard is not in the transaction', async () => {
    const log: string[] = [];
    const r = new ShardReservations((_ks, shard) => loggingConnector(shard, log, true));
    await expect(r.query('ks', '-80', 'select 1', { inTransaction: true, transactionMode: 'multi', setup: [], read: true })).rejects.toMatchObject({ errno: 1317 });
    expect(log).toEqual(['-80: START TRANSACTION + select 1']);
    expect(r.transactionShards()).toEqual([]);
  });
});
