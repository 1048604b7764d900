import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { FixturePlanner, ks, plan, route, sql } from './support/plan-builders.js';
import { COMMERCE_SHARDS, testCluster, type TestCluster } from './support/test-cluster.js';

const commerce = ks('commerce');

function planner(): FixturePlanner {
  return new FixturePlanner()
    .on(/^select seq from seq_1_to_(\d+)$/i, (m) => plan(route('Scatter', commerce, sql(`select seq from seq_1_to_${m[1]}`))))
    .on(/^select seq from seq_1_to_(\d+) order by seq$/i, (m) =>
      plan(route('Scatter', commerce, sql(`select seq from seq_1_to_${m[1]} order by seq`), { orderBy: [{ column: 0, desc: false }] })),
    )
    // Sorts and DISTINCT the gateway evaluates itself (the shards return unsorted, duplicated rows).
    .on(/^select seq from seq_1_to_(\d+) order by seq desc at the gateway$/i, (m) =>
      plan({ operator: 'Sort', input: route('Scatter', commerce, sql(`select seq from seq_1_to_${m[1]}`)), orderBy: [{ column: 0, desc: true }] }),
    )
    .on(/^select distinct seq from seq_1_to_(\d+) at the gateway$/i, (m) =>
      plan({ operator: 'Distinct', input: route('Scatter', commerce, sql(`select seq from seq_1_to_${m[1]}`)) }),
    )
    .on(/sleep/i, (m) => plan(route('Scatter', commerce, sql(m.input.replace(/^\/\*vt\+[^*]*\*\/\s*/, '')))));
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('OLTP and OLAP workloads (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;

  const runningQueries = async (needle: string) => {
    let n = 0;
    for (const shard of COMMERCE_SHARDS) {
      const [rows] = await (await tc.direct(shard)).query<any[]>('select info from information_schema.processlist where info like ? and id <> connection_id()', [`%${needle}%`]);
      n += rows.length;
    }
    return n;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_workloads');
    executor = tc.executor(planner(), { maxMemoryRows: 1000 });
    await executor.start();
  });
  afterAll(async () => {
    await tc?.drop();
  });

  it('OLTP refuses results over maxMemoryRows with a clear error; OLAP streams them', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await expect(s.execute('select seq from seq_1_to_300', new CollectingSink())).rejects.toMatchObject({ errno: 1041, message: expect.stringMatching(/exceeded allowed limit of 1000/) });
    const ok = new CollectingSink();
    await s.execute('select seq from seq_1_to_200', ok);
    expect(ok.rows.length).toBe(800);
    await s.execute("set workload = 'olap'", new CollectingSink());
    const big = new CollectingSink();
    await s.execute('select seq from seq_1_to_5000', big);
    expect(big.rows.length).toBe(20_000);
    await s.close();
  });

  it('OLAP: a sort or DISTINCT at the gateway holds rows, so it is bounded by maxMemoryRows too; the session goes on', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await s.execute("set workload = 'olap'", new CollectingSink());
    // 4 shards × 300 rows held by the sort: past the limit of 1000, a clear error, not a growing heap.
    await expect(s.execute('select seq from seq_1_to_300 order by seq desc at the gateway', new CollectingSink())).rejects.toMatchObject({
      errno: 1041,
      sqlState: 'HY000',
      message: expect.stringMatching(/exceeded allowed limit of 1000 \(a sort, GROUP BY, DISTINCT or subquery evaluated at the gateway holds rows\)/),
    });
    // DISTINCT holds only the distinct rows: 5,000 values from each of 4 shards are 5,000 keys.
    await expect(s.execute('select distinct seq from seq_1_to_5000 at the gateway', new CollectingSink())).rejects.toMatchObject({ errno: 1041 });
    const small = new CollectingSink();
    await s.execute('select distinct seq from seq_1_to_900 at the gateway', small);
    expect(small.rows.length).toBe(900);
    const sorted = new CollectingSink();
    await s.execute('select seq from seq_1_to_200 order by seq desc at the gateway', sorted);
    expect(sorted.rows.slice(0, 5)).toEqual([['200'], ['200'], ['200'], ['200'], ['199']]);
    // Streaming without holding rows is still unbounded by the limit.
    const big = new CollectingSink();
    await s.execute('select seq from seq_1_to_5000', big);
    expect(big.rows.length).toBe(20_000);
    await s.close();
  });

  it('a query timeout kills the shard statements and leaks nothing', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await expect(s.execute('/*vt+ QUERY_TIMEOUT_MS=200 */ select sleep(20) as slept_directive', new CollectingSink())).rejects.toMatchObject({ errno: 1969, sqlState: '70100' });
    await waitFor(async () => (await runningQueries('slept_directive')) === 0, 'killed statements to disappear');
    await s.execute('set query_timeout = 150', new CollectingSink());
    await expect(s.execute('select sleep(20) as slept_session', new CollectingSink())).rejects.toMatchObject({ errno: 1969 });
    await waitFor(async () => (await runningQueries('slept_session')) === 0, 'killed statements to disappear');
    await waitFor(() => executor.stats().pools.every((p) => p.inUse === 0), 'pools to be idle');
    // the killed connections are healthy again
    const ok = new CollectingSink();
    await s.execute('select seq from seq_1_to_3', ok);
    expect(ok.rows.length).toBe(12);
    await s.close();
  });

  it('OLAP backpressure: a slow client pauses every shard stream; a disconnect stops them', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    await s.execute("set workload = 'olap'", new CollectingSink());
    const sink = new CollectingSink().slowClient(500);
    const running = s.execute('select seq from seq_1_to_2000000 order by seq', sink).catch((e) => e);
    await waitFor(() => sink.waiting > 0, 'the client to pause');
    const atPause = sink.rows.length;
    await new Promise((r) => setTimeout(r, 300));
    // nothing more was written while the client did not read
    expect(sink.rows.length).toBe(atPause);
    sink.release();
    await waitFor(() => sink.rows.length > atPause && sink.waiting > 0, 'the next pause');
    // the merge is exact so far
    const firstRows = sink.rows.slice(0, 8).map((r) => r[0]);
    expect(firstRows).toEqual(['1', '1', '1', '1', '2', '2', '2', '2']);
    sink.controller.abort();
    sink.release();
    const err = await running;
    expect(err).toMatchObject({ errno: 1317 });
    await waitFor(async () => (await runningQueries('seq_1_to_2000000')) === 0, 'shard streams to stop');
    await waitFor(() => executor.stats().pools.every((p) => p.inUse === 0), 'pools to be idle');
    await s.close();
  });

  it('a scatter with a failing shard fails as a whole, or warns with SCATTER_ERRORS_AS_WARNINGS', async () => {
    const s = executor.openSession({ user: 't', database: 'commerce' });
    // seq_1_to_0 is not valid on any shard; use a per-shard difference instead: a table only -40 lacks
    await (await tc.direct('-40')).query('create table only_some (x int)');
    for (const shard of COMMERCE_SHARDS.slice(1)) {
      await (await tc.direct(shard)).query('create table only_some (x int)');
      await (await tc.direct(shard)).query('insert into only_some values (1)');
    }
    await (await tc.direct('-40')).query('drop table only_some');
    const p = planner().on(/only_some/i, (m) => plan(route('Scatter', commerce, sql('select x from only_some'), { scatterErrorsAsWarnings: /SCATTER_ERRORS_AS_WARNINGS/.test(m.input) })));
    const e2 = tc.executor(p);
    await e2.start();
    const s2 = e2.openSession({ user: 't', database: 'commerce' });
    await expect(s2.execute('select x from only_some', new CollectingSink())).rejects.toMatchObject({ errno: 1146, message: expect.stringMatching(/^target: commerce\.-40: Table .*only_some' doesn't exist/) });
    const warned = new CollectingSink();
    await s2.execute('select /*vt+ SCATTER_ERRORS_AS_WARNINGS */ x from only_some', warned);
    expect(warned.rows).toEqual([['1'], ['1'], ['1']]);
    expect(warned.endInfo?.warnings).toBe(1);
    const w = new CollectingSink();
    await s2.execute('show warnings', w);
    expect(w.rows[0]).toEqual(['Warning', '1146', expect.stringMatching(/commerce\.-40/)]);
    await s2.close();
    await s.close();
  });
});
