/**
 * A prepared statement's text is normalized once (the planner keeps its shape), and each execution
 * still answers under the session state MariaDB would use: the keyspace of its PREPARE (not of a
 * later USE), user variables of that moment, and the vschema after a reload. The gateway's answers are compared with one plain
 * MariaDB holding the same rows in the same two databases.
 */
import { writeFileSync } from 'node:fs';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';
import { hashKeyspace, type RunningGateway } from './support/gateway-harness.js';

const SCHEMA = 'create table t (id bigint primary key, k int not null, c varchar(20) not null); create table t2 (id bigint primary key, v int);';
const rows = (offset: number) => Array.from({ length: 30 }, (_, i) => `(${i + 1}, ${(i * 7 + offset) % 11}, 'c${(i * 13 + offset) % 17}')`).join(', ');
const FILL = { commerce: `insert into t (id, k, c) values ${rows(0)}`, archive: `insert into t (id, k, c) values ${rows(5)}` };
const VSCHEMA = { keyspaces: { commerce: hashKeyspace({ t: 'id', t2: 'id' }), archive: { sharded: false, tables: { t: {} } } } };

let pair: GatewayAndReference;
let gw: RunningGateway;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference(
    { vschema: VSCHEMA, keyspaces: { commerce: { shards: ['-80', '80-'], schema: SCHEMA }, archive: { shards: ['0'], schema: SCHEMA } } },
    'commerce',
    SCHEMA,
    { otherDatabases: { archive: SCHEMA } },
  );
  ({ gw, ref, sub } = pair);
  await pair.loadBoth(Object.entries(FILL).flatMap(([ks, fill]) => [`use ${ks}`, fill]));
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

/**
 * The same statements on both servers. mysql2 prepares a text once per connection and reuses it,
 * on both: each server's statement is prepared once and executed across the changes, so the
 * answers also show where each resolves a prepared statement's tables after a USE (MariaDB: in
 * the database current at its PREPARE).
 */
async function both(sql: string, params: unknown[], before?: string): Promise<[unknown, unknown]> {
  const answers: unknown[] = [];
  for (const conn of [sub, ref]) {
    if (before !== undefined) await conn.query(before);
    const [result] = await conn.execute(sql, params as never[]);
    answers.push(result);
  }
  return answers as [unknown, unknown];
}

/** The same text statement on both servers (the text protocol, SQL-level PREPARE/EXECUTE). */
async function bothText(sql: string): Promise<[unknown, unknown]> {
  const [[got], [want]] = await Promise.all([sub.query(sql), ref.query(sql)]);
  return [got, want];
}

describe('a prepared range statement across session changes', () => {
  const RANGE = 'SELECT id, k, c FROM t WHERE id BETWEEN ? AND ? ORDER BY id';
  const SUM = 'SELECT SUM(k) FROM t WHERE id BETWEEN ? AND ?';
  const DISTINCT = 'SELECT DISTINCT c FROM t WHERE id BETWEEN ? AND ? ORDER BY c';

  it('resolves its tables in the keyspace of its PREPARE after a USE, as MariaDB', async () => {
    let round = 0;
    for (const [ks, lo, hi] of [['commerce', 3, 12], ['archive', 3, 12], ['commerce', 20, 29], ['archive', 1, 30]] as const) {
      for (const sql of [RANGE, SUM, DISTINCT]) {
        // The same text each round (prepared once, in commerce), and a text of this round's own
        // (prepared now, in this round's keyspace).
        for (const text of [sql, `/* ${round} */ ${sql}`]) {
          const [got, want] = await both(text, [lo, hi], `use ${ks}`);
          expect(got, `${ks}: ${text}`).toEqual(want);
        }
      }
      round++;
    }
    // The two keyspaces hold different rows, so the answers above did depend on where the
    // statement was prepared: after USE archive, SUM prepared in commerce still reads commerce.
    await sub.query('use commerce');
    const [inCommerce] = await sub.execute('/* commerce */ SELECT SUM(k) FROM t WHERE id BETWEEN ? AND ?', [1, 30]);
    await sub.query('use archive');
    const [stillCommerce] = await sub.execute('/* commerce */ SELECT SUM(k) FROM t WHERE id BETWEEN ? AND ?', [1, 30]);
    const [inArchive] = await sub.execute('/* archive */ SELECT SUM(k) FROM t WHERE id BETWEEN ? AND ?', [1, 30]);
    expect(stillCommerce).toEqual(inCommerce);
    expect(inArchive).not.toEqual(inCommerce);
  });

  it('SQL-level PREPARE keeps the keyspace of its PREPARE, EXECUTE IMMEDIATE takes the current one', async () => {
    for (const sql of [
      'use commerce',
      "prepare s from 'SELECT SUM(k), COUNT(*) FROM t WHERE id BETWEEN ? AND ?'",
      'use archive',
      'set @lo = 2, @hi = 25',
    ]) await bothText(sql);
    const [got, want] = await bothText('execute s using @lo, @hi');
    expect(got).toEqual(want);
    const [gotImmediate, wantImmediate] = await bothText("execute immediate 'SELECT SUM(k), COUNT(*) FROM t WHERE id BETWEEN ? AND ?' using @lo, @hi");
    expect(gotImmediate).toEqual(wantImmediate);
    expect(gotImmediate).not.toEqual(got);
    await bothText('deallocate prepare s');
    await bothText('use commerce');
  });

  it('reads user variables at each execution', async () => {
    const sql = 'SELECT id, c FROM t WHERE id BETWEEN ? AND @hi ORDER BY id';
    for (const hi of [4, 9, 2]) {
      const [got, want] = await both(sql, [2], `set @hi = ${hi}`);
      expect(got, `@hi = ${hi}`).toEqual(want);
    }
  });

  it('plans under the vschema of each execution after a reload', async () => {
    await sub.query('use commerce');
    await sub.query('insert into t2 (id, v) values (1, 10), (2, 20), (90, 900)');
    const sql = 'SELECT id, v FROM t2 WHERE id BETWEEN ? AND ? ORDER BY id';
    const [before] = await sub.execute({ sql, rowsAsArray: true }, [1, 100]);
    expect(before).toEqual([['1', 10], ['2', 20], ['90', 900]]);
    // Without t2 in the vschema, the same prepared statement no longer plans.
    const without = { keyspaces: { commerce: hashKeyspace({ t: 'id' }), archive: VSCHEMA.keyspaces.archive } };
    writeFileSync(gw.gateway.config.vschemaFile, JSON.stringify(without));
    expect(gw.gateway.reload('test')).toBe(true);
    await expect(sub.execute(sql, [1, 100])).rejects.toThrow(/t2/);
    writeFileSync(gw.gateway.config.vschemaFile, JSON.stringify(VSCHEMA));
    expect(gw.gateway.reload('test')).toBe(true);
    const [after] = await sub.execute({ sql, rowsAsArray: true }, [2, 90]);
    expect(after).toEqual([['2', 20], ['90', 900]]);
  });
});
