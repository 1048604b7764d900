/**
 * Issue 11: nothing a client sends may stall the gateway. A gateway process (2 shards) gets each
 * pathological statement of test/support/stall-probe.ts, at a size that answers in seconds, while
 * a probe client on its own thread reads one row every 5 ms. Each statement must get what one plain
 * MariaDB holding the same rows answers (its rows, its affected count, or its error code and
 * SQLSTATE); the probe must keep getting its row, with no error; and SIGTERM during a long
 * statement must still stop the gateway. How long the probe waited is measured by the bench
 * (bench/stall-probe.ts, BENCHMARKS.md), not asserted here: tests are not timed.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from './support/cli-process.js';
import { startStallGateway, type StallGateway } from './support/stall-gateway.js';
import { answer, pathologicalStatements, StallProbe, type Answer, type StallSizes } from './support/stall-probe.js';

const TEST_SIZES: StallSizes = {
  insertRows: 2000,
  unclosedInBytes: 256 * 1024,
  inValues: 20_000,
  literalBytes: 1024 * 1024,
  unionParts: 500,
  orTerms: 5000,
  // Deeper than Node's default worker stack could parse (it answered 1064); MariaDB answers it.
  parenDepth: 10_000,
  commentBytes: 256 * 1024,
};

describe('pathological statements never stall the gateway (issue 11)', () => {
  let setup: StallGateway;
  let gw: GatewayProcess;
  let port: number;
  let client: mysql.Connection;
  let reference: mysql.Connection;
  let probe: StallProbe | undefined;

  beforeAll(async () => {
    // A generous plan deadline: on a loaded machine, planning 10,000 nested parentheses can take
    // seconds, and this test checks answers, not the deadline (the planner's tests do).
    setup = await startStallGateway('sg-stall-', { planTimeoutMs: 60000, drainTimeoutMs: 3000 });
    ({ gw, client, reference } = setup);
    port = setup.clientOptions.port;
    probe = await StallProbe.start(setup.clientOptions);
  });

  afterAll(async () => {
    await probe?.stop();
    await setup?.stop();
  });

  it('answers every class as one MariaDB does, while the probe keeps reading its row', async () => {
    let answeredInFlight = 0;
    for (const stmt of pathologicalStatements(TEST_SIZES)) {
      await probe!.take();
      // While the statement runs, the probe's answers are collected as they come.
      let done = false;
      const pending = answer(client, stmt.sql).finally(() => (done = true));
      while (!done) {
        await new Promise((r) => setTimeout(r, 50));
        if (!done) {
          const w = await probe!.take();
          expect(w.failures, stmt.name).toEqual([]);
          answeredInFlight += w.latencies.length;
        }
      }
      const got = await pending;
      const expected = await answer(reference, stmt.sql);
      const after = await probe!.take();
      expect(after.failures, stmt.name).toEqual([]);
      expectSameAnswer(stmt.name, stmt.expect, stmt.errnos ?? [], got, expected);
    }
    // The long ones (planning thousands of parentheses takes seconds) ran with the probe answered.
    expect(answeredInFlight).toBeGreaterThan(0);
  }, 300_000);

  it('answers other long runs of repeated terms as one MariaDB does (parsed once, planned once)', async () => {
    // The INSERT class left rows 1..insertRows in both; these reach the parser as one term each.
    const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
    const statements = [
      `select id, name from customer where ${range(300).map((i) => `(id = ${i * 5} and name like 'name-%${i}')`).join(' or ')}`,
      `select id from customer where name <> 'x' and ${range(200).map((i) => `id <> ${i}`).join(' and ')} and id < 300`,
      `select count(*), min(id), max(id) from customer where id > 10 or ${range(300).map((i) => `id = ${i * 7}`).join(' or ')} or name = 'name-3'`,
      `select id, name from customer where id = 1 union all ${range(200).map((i) => `(select id, name from customer where id > ${i * 9} order by id limit 1)`).join(' union all ')}`,
      range(300).map((i) => `select id, concat(name, '-', ${i}) from customer where id in (${i}, ${i + 1000})`).join(' union all '),
    ];
    for (const sql of statements) {
      const got = await answer(client, sql);
      const expected = await answer(reference, sql);
      expectSameAnswer(sql.slice(0, 80), 'result', [], got, expected);
    }
  }, 120_000);

  it('serves the probe while a cross-shard cross join multiplies rows at the gateway, and answers it as MariaDB does', async () => {
    // 3,375,000 joined rows built from one outer row and 3 × 150 inner rows read once (a cross
    // join's inner side is the same query for every outer row): no I/O between them, so without
    // turns of the event loop nothing else was served until the count was done.
    const sql = 'select count(*), min(a.id), max(d.id) from customer a join customer b join customer c join customer d where a.id = 1 and b.id <= 150 and c.id <= 150 and d.id <= 150';
    await probe!.take();
    let done = false;
    const pending = answer(client, sql).finally(() => (done = true));
    let answeredDuring = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 50));
      if (!done) {
        const w = await probe!.take();
        expect(w.failures).toEqual([]);
        answeredDuring += w.latencies.length;
      }
    }
    const got = await pending;
    expectSameAnswer('cross join', 'result', [], got, await answer(reference, sql));
    // Reading every 5 ms, the probe got only the few answers of the statement's first lookups
    // (5 in a run of 1,728,000 rows) while it was held; served, one per slice of rows or so (70).
    expect(answeredDuring).toBeGreaterThan(20);
  }, 120_000);

  it('stops on SIGTERM while a long statement is being planned', async () => {
    const other = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' });
    other.on('error', () => undefined);
    const long = `select id from customer where ${Array.from({ length: 30_000 }, (_, i) => `id = ${i} or name = 'n${i}'`).join(' or ')}`;
    const running = other.query(long).then(
      () => 'answered',
      (e: { errno?: number; code?: string }) => String(e.errno ?? e.code),
    );
    await new Promise((r) => setTimeout(r, 200));
    await probe!.stop();
    probe = undefined;
    gw.child.kill('SIGTERM');
    const exit = await gw.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // The statement was answered, refused (1053) or cut off by the stop; it never hangs.
    expect(await running).toMatch(/answered|1053|1969|PROTOCOL_CONNECTION_LOST|ECONNRESET|EPIPE/);
    await other.end().catch(() => undefined);
  }, 120_000);
});

function expectSameAnswer(name: string, kind: 'result' | 'error' | 'either', errnos: readonly number[], got: Answer, expected: Answer): void {
  const shape = (a: Answer) => (a.kind === 'result' ? { kind: a.kind, rows: a.rows } : { kind: a.kind, errno: a.errno, sqlState: a.sqlState });
  if (kind === 'result') {
    expect(expected.kind, `${name}: MariaDB`).toBe('result');
    expect(shape(got), name).toEqual(shape(expected));
  } else if (kind === 'error') {
    expect(shape(got), name).toEqual(shape(expected));
    expect(errnos, name).toContain((got as { errno: number }).errno);
  } else if (expected.kind === 'result') {
    // Where MariaDB answers, the gateway answers the same.
    expect(shape(got), name).toEqual(shape(expected));
  } else {
    expect(got.kind, name).toBe('error');
    expect(errnos, name).toContain((got as { errno: number }).errno);
  }
}
