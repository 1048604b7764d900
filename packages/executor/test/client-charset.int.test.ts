/**
 * Client character sets: the gateway decodes queries and encodes results as UTF-8 only, so a
 * request for another client character set is refused clearly instead of mangling text silently.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freshDatabase, type FreshDatabase } from '@shardgate/test-kit';
import type { Executor, ExecutorSession } from '../src/index.js';
import { executeCollecting, mysqlErrorOf } from './support/collecting-sink.js';
import { startExecutor } from './support/executor-on-shards.js';
import { COMMERCE_SHARDS } from './support/test-cluster.js';

const SCHEMA = ['create table customer (id bigint not null primary key, name varchar(64)) engine=innodb'];
const VSCHEMA = {
  keyspaces: {
    commerce: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } } },
  },
};

describe('client character sets (real MariaDB)', () => {
  let db: FreshDatabase;
  let executor: Executor;
  let session: ExecutorSession;
  const exec = (sql: string) => executeCollecting(session, sql);
  const error = mysqlErrorOf;

  beforeAll(async () => {
    db = await freshDatabase(inject('shardgateCluster'), 'clientcharset', { schema: SCHEMA });
    const topology = { commerce: Object.fromEntries(COMMERCE_SHARDS.map((s) => [s, { ...db.shard(s) }])) };
    executor = await startExecutor(VSCHEMA, topology);
    session = executor.openSession({ user: 't', database: 'commerce' });
  });
  afterAll(async () => {
    await session?.close();
    await executor?.close();
    await db?.drop();
  });

  it('keeps utf8 and utf8mb4 working: text round-trips unchanged', async () => {
    for (const sql of ['set names utf8mb4', 'SET NAMES utf8', "set names 'utf8mb4'", 'set character set utf8mb4', 'set character_set_client = utf8mb4']) {
      expect(await error(exec(sql)), sql).toBeNull();
    }
    await exec("insert into customer (id, name) values (1, 'Zoë ☃ 😀')");
    expect((await exec('select name from customer where id = 1')).rows).toEqual([['Zoë ☃ 😀']]);
  });

  it('refuses any other client character set with 1235 (42000) naming the statement', async () => {
    const cases: [string, string][] = [
      ['set names latin1', "SET NAMES latin1"],
      ["SET NAMES 'latin1'", 'SET NAMES latin1'],
      ['set character set latin1', 'SET CHARACTER SET latin1'],
      ['set character_set_client = latin1', 'SET character_set_client = latin1'],
      ['set character_set_results = cp1251', 'SET character_set_results = cp1251'],
      ['set session character_set_connection = binary', 'SET character_set_connection = binary'],
    ];
    for (const [sql, statement] of cases) {
      expect(await error(exec(sql)), sql).toEqual({
        errno: 1235,
        sqlState: '42000',
        message: `This version of shardgate doesn't yet support '${statement}': clients must use utf8mb4 (or utf8)`,
      });
    }
    // Refused, not half-applied: text still round-trips as UTF-8.
    expect((await exec('select name from customer where id = 1')).rows).toEqual([['Zoë ☃ 😀']]);
  });
});
