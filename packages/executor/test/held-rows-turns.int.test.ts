/**
 * Rows a statement holds at the gateway (shard results read whole, a merge of them, the groups
 * of an aggregate, a sort, DISTINCT) leave for the client with turns of the event loop between slices
 * of them: no other client's statement, timer or this statement's own abort waits for the whole
 * result. Before, 150,000 groups sorted at the gateway held every client for 670 ms. Asserted as
 * what the client sink sees between two runs of a callback queued with setImmediate (another
 * client's work): never more than two slices of rows. Timing is the bench's (bench/stall-probe.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Planner } from '@shardgate/planner';
import type { Executor, ExecutorSession } from '../src/index.js';
import { VALUES_PER_SLICE } from '../src/event-loop-yield.js';
import { CollectingSink } from './support/collecting-sink.js';
import { testCluster, type TestCluster } from './support/test-cluster.js';

const CUSTOMERS = 20_000;

/** A client sink that counts the rows it got while no queued callback could run. */
class TurnCountingSink extends CollectingSink {
  mostRowsBetweenTurns = 0;
  turns = 0;
  private since = 0;
  private ticking = true;

  constructor() {
    super();
    const tick = (): void => {
      if (!this.ticking) return;
      this.turns++;
      this.since = 0;
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  override row(values: readonly (Uint8Array | string | null)[]): boolean {
    this.mostRowsBetweenTurns = Math.max(this.mostRowsBetweenTurns, ++this.since);
    return super.row(values);
  }

  stop(): void {
    this.ticking = false;
  }
}

describe('rows held at the gateway leave in slices (real MariaDB, real planner)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let s: ExecutorSession;

  const run = async (sql: string): Promise<TurnCountingSink> => {
    const sink = new TurnCountingSink();
    try {
      await s.execute(sql, sink);
    } finally {
      sink.stop();
    }
    return sink;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_held_rows');
    executor = tc.executor(new Planner({ vschema: tc.vschema }));
    await executor.start();
    s = executor.openSession({ user: 't', database: 'commerce' });
    for (let first = 1; first <= CUSTOMERS; first += 2000) {
      const values = Array.from({ length: 2000 }, (_, i) => `(${first + i}, 'n${((first + i) * 7919) % 100003}', ${(first + i) % 7})`).join(', ');
      await s.execute(`insert into customer (id, name, balance) values ${values}`, new CollectingSink());
    }
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await tc?.drop();
  });

  const names = Array.from({ length: CUSTOMERS }, (_, i) => `n${((i + 1) * 7919) % 100003}`);

  it('a scatter (OLTP: the result is collected, then written)', async () => {
    const sink = await run('select id, name from customer');
    expect(sink.rows.map((r) => Number(r[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: CUSTOMERS }, (_, i) => i + 1));
    expect(sink.mostRowsBetweenTurns).toBeLessThanOrEqual(2 * VALUES_PER_SLICE);
  });

  it('a merge of the shards sorted results', async () => {
    const sink = await run('select id, name from customer order by name, id');
    expect(sink.rows.map((r) => r[1])).toEqual(names.slice().sort());
    expect(sink.mostRowsBetweenTurns).toBeLessThanOrEqual(2 * VALUES_PER_SLICE);
  });

  it('a sort at the gateway of the groups an aggregate merged', async () => {
    const sink = await run('select name, count(*) c from customer group by name order by c desc, name desc');
    expect(sink.rows.map((r) => r[0])).toEqual(names.slice().sort().reverse());
    expect(sink.mostRowsBetweenTurns).toBeLessThanOrEqual(2 * VALUES_PER_SLICE);
  });

  it('DISTINCT and GROUP BY at the gateway', async () => {
    const distinct = await run('select distinct name from customer');
    expect(distinct.rows.map((r) => r[0]).sort()).toEqual(names.slice().sort());
    expect(distinct.mostRowsBetweenTurns).toBeLessThanOrEqual(2 * VALUES_PER_SLICE);
    const grouped = await run('select balance, name, count(*) from customer group by balance, name');
    expect(grouped.rows).toHaveLength(CUSTOMERS);
    expect(grouped.mostRowsBetweenTurns).toBeLessThanOrEqual(2 * VALUES_PER_SLICE);
  });

  it('a sort at the gateway over a UNION', async () => {
    const sink = await run('select name from customer where id <= 6000 union all select name from customer where id > 14000 order by name');
    expect(sink.rows.map((r) => r[0])).toEqual([...names.slice(0, 6000), ...names.slice(14000)].sort());
    expect(sink.mostRowsBetweenTurns).toBeLessThanOrEqual(2 * VALUES_PER_SLICE);
  });
});
