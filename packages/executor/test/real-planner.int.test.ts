/**
 * The executor with the real @shardgate/planner: rows land where the hash says, point/IN/scatter
 * SELECTs, UPDATE/DELETE only on the right shards, BIGINT max round-trips, session statements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Planner } from '@shardgate/planner';
import { ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import type { SqlValue } from '@shardgate/planner';
import type { Executor, ExecutorSession } from '../src/index.js';
import { CollectingSink } from './support/collecting-sink.js';
import { COMMERCE_SHARDS, testCluster, type TestCluster } from './support/test-cluster.js';

describe('executor + real Planner (real MariaDB)', () => {
  let tc: TestCluster;
  let executor: Executor;
  let s: ExecutorSession;
  let shardOf: (id: bigint) => string;
  const exec = async (sql: string) => {
    const sink = new CollectingSink();
    await s.execute(sql, sink);
    return sink;
  };

  beforeAll(async () => {
    tc = await testCluster('exec_planner');
    executor = tc.executor(new Planner({ vschema: tc.vschema }));
    await executor.start();
    s = executor.openSession({ user: 't', database: 'commerce' });
    const map = new ShardMap([...COMMERCE_SHARDS]);
    const hash = tc.vschema.keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
    shardOf = (id) => map.shardFor(hash.map(id)!);
  });
  afterAll(async () => {
    await s?.close();
    await tc?.drop();
  });

  it('multi-row INSERT lands each row on its shard', async () => {
    const values = Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'n${i + 1}', ${i + 1}.25)`).join(', ');
    const r = await exec(`insert into customer (id, name, balance) values ${values}, (9223372036854775807, 'max', 1.00)`);
    expect(r.okInfo?.affectedRows).toBe(41n);
    for (const shard of COMMERCE_SHARDS) {
      const [rows] = await (await tc.direct(shard)).query<any[]>('select id from customer');
      for (const row of rows) expect(shardOf(BigInt(row.id))).toBe(shard);
    }
  });

  it('point, IN and scatter SELECTs', async () => {
    expect((await exec('select id, name, balance from customer where id = 7')).rows).toEqual([['7', 'n7', '7.25']]);
    expect((await exec('select id from customer where id = 9223372036854775807')).rows).toEqual([['9223372036854775807']]);
    const inRows = (await exec('select id from customer where id in (1, 2, 3, 500)')).rows.map((r) => r[0]).sort();
    expect(inRows).toEqual(['1', '2', '3']);
    expect((await exec('select id from customer')).rows.length).toBe(41);
    const ordered = await exec('select id from customer order by id limit 5');
    expect(ordered.rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5']);
    const agg = await exec('select count(*), sum(balance) from customer where id < 100');
    expect(agg.rows).toEqual([['40', '830.00']]);
  });

  it('UPDATE and DELETE touch only the right shards', async () => {
    expect((await exec('update customer set balance = 0 where id = 3')).okInfo?.affectedRows).toBe(1n);
    expect((await exec('delete from customer where id in (4, 5)')).okInfo?.affectedRows).toBe(2n);
    for (const shard of COMMERCE_SHARDS) {
      const [rows] = await (await tc.direct(shard)).query<any[]>('select id, balance from customer where id in (3, 4, 5)');
      for (const row of rows) {
        expect(row.id).toBe('3');
        expect(shard).toBe(shardOf(3n));
      }
    }
  });

  it('session statements through the planner', async () => {
    await exec('begin');
    expect(s.status().inTransaction).toBe(true);
    await exec('rollback');
    expect((await exec('show databases')).rows.map((r) => r[0])).toContain('commerce');
    await exec("set workload = 'olap'");
    expect((await exec('select id from customer order by id limit 3')).rows.map((r) => r[0])).toEqual(['1', '2', '3']);
    await exec("set workload = 'oltp'");
  });

  it('prepare announces the columns the execute returns (scatter, aggregate, LIMIT ?), none for writes, and runs nothing else', async () => {
    const nextId = async () => (await (await tc.direct('main')).query<any[]>('select next_id from customer_seq'))[0][0].next_id;
    const seqBefore = await nextId();
    const shapes: [string, SqlValue[]][] = [
      ['select id, name from customer where id between ? and ?', [1, 30]],
      ['select count(*), sum(balance) from customer where id < ?', [100]],
      ['select id from customer where id between ? and ? order by id limit ?', [1, 30, 2]],
    ];
    await exec('begin');
    for (const [sql, params] of shapes) {
      const prepared = await s.prepare(sql);
      const sink = new CollectingSink();
      await s.execute(sql, sink, params);
      expect(prepared.columns.map((c) => c.name), sql).toEqual(sink.fields!.map((c) => c.name));
      expect(prepared.columns.map((c) => c.columnType), sql).toEqual(sink.fields!.map((c) => c.columnType));
    }
    await exec('commit');
    // Answered by the gateway: the names at prepare, the types with the execute.
    const system = 'select @@version_comment, database()';
    expect((await s.prepare(system)).columns.map((c) => c.name)).toEqual((await exec(system)).fields!.map((c) => c.name));
    expect((await s.prepare('update customer set balance = ? where id = ?')).columns).toEqual([]);
    // NEXT reserves ids when it runs: a prepare must not run it.
    expect((await s.prepare('select next 5 values from main.customer_seq')).columns).toEqual([]);
    expect(await nextId()).toBe(seqBefore);
    // ...while executing it does (so the statement above really is a NEXT).
    expect((await exec('select next 5 values from main.customer_seq')).rows.length).toBe(1);
    expect(BigInt(await nextId())).toBe(BigInt(seqBefore) + 5n);
  });
});
