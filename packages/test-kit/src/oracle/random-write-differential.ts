/**
 * Random write differential: applies the seeded DML of random-write-generator.ts in the same
 * order through the system under test (a gateway over a sharded keyspace) and on one plain
 * MariaDB holding the same rows, and after each statement compares the answer (affected rows,
 * last insert id, warning count, or the error number) and then the whole of every table it may
 * have changed, read by primary key: through the gateway, each reference table's copy read on
 * every shard directly (once no transaction is open: a shard shows only committed rows), and each
 * lookup table against its owner's column. The gateway's reads (the statements' own and the
 * comparisons') run in the statement's session, so inside a transaction they must see its writes;
 * a seeded share of them runs in an OLAP session (`SET workload = 'olap'`). A prepared statement
 * runs prepared on both sides (binary protocol). A 1235 refusal counts
 * as refused (and is not run on the reference, so both keep the same rows). Once the tables
 * differ, later statements would compare noise: the run stops at the first such difference.
 */
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import { seededRandom, deriveSeed } from '../race/seeded-random.js';
import { compareOutcomes, runPrepared, runQuery, type QueryOutcome } from './differential-oracle.js';
import { WRITE_TAGS, type RandomWriteFixture, type RandomWriteLookup, type RandomWriteTable } from './random-write-fixture.js';
import { generateRandomWrites, type RandomWrite } from './random-write-generator.js';

export interface RandomWriteDifferentialOptions {
  /** mysql2 options for the gateway (default database: the sharded keyspace). */
  subject: ConnectionOptions;
  /** mysql2 options for one plain MariaDB (database `commerce`, with a database `main` beside it). */
  reference: ConnectionOptions;
  /** Each shard of the sharded keyspace, read directly (its database holds the reference tables' copies). */
  shards: ConnectionOptions[];
  fixture: RandomWriteFixture;
  seed: number;
  count: number;
  /** Also route every row by its key and each lookup value through the gateway every N statements (default 25, and at the end). */
  routeCheckEvery?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface RandomWriteFailure {
  seed: number;
  index: number;
  sql: string;
  /** `answer`: the statement's outcome differs; `tables`: a table's rows differ afterwards; `route`: a row is not found by its key or lookup value. */
  kind: 'answer' | 'tables' | 'route';
  detail: string;
}

export interface RandomWriteReport {
  seed: number;
  /** Statements run (fewer than `count` when a table difference stopped the run). */
  statements: number;
  ok: number;
  refused: number;
  wrong: number;
  failures: RandomWriteFailure[];
  refusals: Map<string, number>;
  /** Statements both sides rejected with the same error number (duplicate keys, too-long values). */
  bothErrors: Map<number, number>;
  /**
   * Statements both sides rejected, with different error numbers, the tables equal afterwards: a
   * statement that breaks two rules (a duplicate lookup value and a too-long value in another
   * row) is reported by the rule the gateway meets first (README, "How it differs"). Not counted
   * as wrong: nothing was written on either side.
   */
  otherErrors: RandomWriteFailure[];
  summary(): string;
}

const EXACT: ConnectionOptions = { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true };

/** Empties the tables on both sides and loads the fixture's rows, so a run starts from the same state. */
export async function resetWriteFixture(subject: Connection, reference: Connection, fixture: RandomWriteFixture): Promise<void> {
  // Children first; through the gateway, deleting customers deletes their lookup rows too. Any left
  // over (orphans of an earlier failed run) are removed directly.
  for (const t of [...fixture.tables].reverse()) {
    await subject.query(`DELETE FROM ${t.name}`);
    await reference.query(`DELETE FROM ${t.name}`);
  }
  for (const l of fixture.lookups) await subject.query(`DELETE FROM ${l.table}`);
  // The sequence goes on from where an earlier run left it: take one id, and start the
  // reference's AUTO_INCREMENT right after it, so both hand out the same next ids.
  await subject.query(`INSERT INTO customer (name) VALUES ('probe')`);
  const [probe] = (await subject.query('SELECT LAST_INSERT_ID() AS id')) as unknown as [{ id: string | number }[]];
  await subject.query(`DELETE FROM customer WHERE id = ${probe[0]!.id}`);
  await reference.query(`ALTER TABLE customer AUTO_INCREMENT = ${BigInt(probe[0]!.id) + 1n}`);
  for (const sql of fixture.inserts) {
    await subject.query(sql);
    await reference.query(sql);
  }
}

export async function runRandomWriteDifferential(opts: RandomWriteDifferentialOptions): Promise<RandomWriteReport> {
  const report: RandomWriteReport = {
    seed: opts.seed,
    statements: 0,
    ok: 0,
    refused: 0,
    wrong: 0,
    failures: [],
    refusals: new Map(),
    bothErrors: new Map(),
    otherErrors: [],
    summary: () => summarizeWrites(report),
  };
  const writes = generateRandomWrites(opts.seed, opts.count);
  const subject = await mysql.createConnection({ ...opts.subject, ...EXACT });
  const reference = await mysql.createConnection({ ...opts.reference, ...EXACT });
  const shards = await Promise.all(opts.shards.map((s) => mysql.createConnection({ ...s, ...EXACT })));
  const every = opts.routeCheckEvery ?? 25;
  // Which workload the gateway session is in, so it is set only when it changes; the comparisons'
  // reads take OLAP by their own seeded stream, so the statements stay those of the seed.
  let workload: 'oltp' | 'olap' = 'oltp';
  const olapReads = seededRandom(deriveSeed(opts.seed, 1));
  const setWorkload = async (want: 'oltp' | 'olap') => {
    if (want !== workload) await subject.query(`SET workload = '${want}'`);
    workload = want;
  };
  try {
    await resetWriteFixture(subject, reference, opts.fixture);
    const fail = (index: number, w: RandomWrite, kind: RandomWriteFailure['kind'], detail: string) => {
      report.wrong++;
      report.failures.push({ seed: opts.seed, index, sql: w.params === undefined ? w.sql : `${w.sql} -- params ${JSON.stringify(w.params)}`, kind, detail });
    };
    for (let index = 0; index < writes.length; index++) {
      const w = writes[index]!;
      report.statements++;
      await setWorkload(w.olap ? 'olap' : 'oltp');
      const run = (c: Connection) => (w.params === undefined ? runQuery(c, { sql: w.sql }) : runPrepared(c, { sql: w.sql, params: w.params }));
      const got = await run(subject);
      if (got.kind === 'error' && got.errno === 1235) {
        report.refused++;
        const key = got.message.replace(/\d+/g, 'N');
        report.refusals.set(key, (report.refusals.get(key) ?? 0) + 1);
        opts.onProgress?.(index + 1, writes.length);
        continue;
      }
      const expected = await run(reference);
      const answer = answerDifference(w.sql, got, expected);
      const otherError = answer !== undefined && got.kind === 'error' && expected.kind === 'error';
      if (otherError) report.otherErrors.push({ seed: opts.seed, index, sql: w.sql, kind: 'answer', detail: answer });
      else if (answer !== undefined) fail(index, w, 'answer', answer);
      else if (got.kind === 'error') report.bothErrors.set(got.errno ?? -1, (report.bothErrors.get(got.errno ?? -1) ?? 0) + 1);
      await setWorkload(olapReads() < 0.3 ? 'olap' : 'oltp');
      const tables = await tableDifference(opts.fixture, w.touches, subject, reference, shards, w.inTransaction);
      if (tables !== undefined) {
        fail(index, w, 'tables', tables);
        break;
      }
      // In a transaction a consistent lookup's new rows are in the pre transaction, which the
      // session's own read of the lookup table does not see (its routing reads do): the owner's
      // rows are found by their lookup value instead.
      const consistentOwnerTouched = w.inTransaction && opts.fixture.lookups.some((l) => l.consistent && w.touches.includes(l.owner));
      if ((index + 1) % every === 0 || index === writes.length - 1 || consistentOwnerTouched) {
        const route = await routeDifference(opts.fixture, subject, reference, consistentOwnerTouched && (index + 1) % every !== 0 && index !== writes.length - 1);
        if (route !== undefined) {
          fail(index, w, 'route', route);
          break;
        }
      }
      if (answer === undefined) report.ok++;
      // (A different error number is in otherErrors, counted neither ok nor wrong.)
      opts.onProgress?.(index + 1, writes.length);
    }
  } finally {
    await Promise.all([subject, reference, ...shards].map((c) => c.end().catch(() => c.destroy())));
  }
  return report;
}

/** How two statement outcomes differ: error number, affected rows, insert id or warning count. */
function answerDifference(sql: string, got: QueryOutcome, expected: QueryOutcome): string | undefined {
  const m = compareOutcomes({ index: 0, sql, ordered: true }, got, expected);
  if (m !== undefined) return m.message.split('\n').slice(1).join('\n').trim();
  if (got.kind === 'ok' && expected.kind === 'ok') {
    if (String(got.insertId ?? 0) !== String(expected.insertId ?? 0)) return `insert id: subject ${got.insertId}, reference ${expected.insertId}`;
    if ((got.warnings ?? 0) !== (expected.warnings ?? 0)) return `warnings: subject ${got.warnings}, reference ${expected.warnings}`;
  }
  return undefined;
}

const fullRead = (t: RandomWriteTable, name = t.name) => `SELECT * FROM ${name} ORDER BY ${t.primaryKey.join(', ')}`;

async function rowsDifference(what: string, sql: string, got: Pick<Connection, 'query'>, expected: Pick<Connection, 'query'>, expectedSql = sql): Promise<string | undefined> {
  const g = await runQuery(got, { sql });
  const e = await runQuery(expected, { sql: expectedSql });
  const m = compareOutcomes({ index: 0, sql, ordered: true }, g, e);
  return m === undefined ? undefined : `${what}: ${m.message.split('\n').slice(1).join('\n').trim()}`;
}

/** The first table (or reference copy, or lookup table) whose rows differ from the reference's. */
async function tableDifference(fixture: RandomWriteFixture, touched: readonly string[], subject: Connection, reference: Connection, shards: Connection[], inTransaction: boolean): Promise<string | undefined> {
  for (const t of fixture.tables.filter((x) => touched.includes(x.name))) {
    const d = await rowsDifference(`${t.name} through the gateway`, fullRead(t), subject, reference);
    if (d !== undefined) return d;
    if (t.placement === 'reference' && !inTransaction) {
      for (let i = 0; i < shards.length; i++) {
        const c = await rowsDifference(`${t.name}'s copy on shard ${i}`, fullRead(t), shards[i]!, reference);
        if (c !== undefined) return c;
      }
    }
    for (const l of fixture.lookups.filter((x) => x.owner === t.name)) {
      if (l.consistent && inTransaction) continue;
      const d2 = l.consistent ? await orphanTolerantLookupDifference(l, subject, reference) : await lookupDifference(l, subject, reference);
      if (d2 !== undefined) return d2;
    }
  }
  return undefined;
}

/**
 * A plain lookup: one lookup row per non-NULL value of the owner's column, holding that value
 * (and, for lookup_hash, the owner row's id).
 */
function lookupDifference(l: RandomWriteLookup, subject: Connection, reference: Connection): Promise<string | undefined> {
  if (l.ownerId !== undefined) {
    return rowsDifference(`lookup ${l.table}`, `SELECT ${l.ownerId} AS id, ${l.from} AS ${l.column} FROM ${l.table} ORDER BY ${l.ownerId}, ${l.from}`, subject, reference, `SELECT id, ${l.column} FROM ${l.owner} WHERE ${l.column} IS NOT NULL ORDER BY id`);
  }
  return rowsDifference(`lookup ${l.table}`, `SELECT ${l.from} AS ${l.column} FROM ${l.table} ORDER BY ${l.from}`, subject, reference, `SELECT ${l.column} FROM ${l.owner} WHERE ${l.column} IS NOT NULL ORDER BY ${l.column}`);
}

/**
 * A consistent lookup: every non-NULL value of the owner's column has a lookup row holding an
 * equal value (case aside: an orphan row taken over keeps its own bytes); orphans may be left.
 */
async function orphanTolerantLookupDifference(l: RandomWriteLookup, subject: Connection, reference: Connection): Promise<string | undefined> {
  const owner = await runQuery(reference, { sql: `SELECT ${l.column} FROM ${l.owner} WHERE ${l.column} IS NOT NULL` });
  const lookup = await runQuery(subject, { sql: `SELECT ${l.from} FROM ${l.table}` });
  if (owner.kind !== 'rows' || lookup.kind !== 'rows') return `lookup ${l.table}: ${JSON.stringify(lookup.kind === 'rows' ? owner : lookup)}`;
  const fold = (v: unknown) => String(v).toLowerCase().replace(/ +$/, '');
  const have = new Set(lookup.rows.map((r) => fold(r[0])));
  const missing = owner.rows.map((r) => r[0]).filter((v) => !have.has(fold(v)));
  return missing.length === 0 ? undefined : `lookup ${l.table}: no row for ${l.owner}.${l.column} ${missing.map((v) => JSON.stringify(v)).join(', ')}`;
}

/**
 * Every sharded row found through the gateway by its vindex column (a point query routed to the
 * one shard its key names), and every lookup value routed through its lookup: a row written to
 * the wrong shard, or a lookup row pointing at the wrong one, is missed here.
 */
async function routeDifference(fixture: RandomWriteFixture, subject: Connection, reference: Connection, customersOnly = false): Promise<string | undefined> {
  const customers = await runQuery(reference, { sql: 'SELECT id, email FROM customer ORDER BY id' });
  if (customers.kind !== 'rows') return `reference: ${JSON.stringify(customers)}`;
  for (const [id, email] of customers.rows) {
    const d = await rowsDifference(`customer ${id} by id`, `SELECT * FROM customer WHERE id = ${id}`, subject, reference);
    if (d !== undefined) return d;
    if (email !== null && fixture.lookups.some((l) => l.owner === 'customer')) {
      const e = await rowsDifference(`customer ${id} by email`, `SELECT * FROM customer WHERE email = '${String(email).replace(/'/g, "''")}'`, subject, reference);
      if (e !== undefined) return e;
    }
  }
  if (customersOnly) return undefined;
  if (fixture.tables.some((t) => t.name === 'item')) {
    const items = await runQuery(reference, { sql: 'SELECT id, code FROM item ORDER BY id' });
    if (items.kind !== 'rows') return `reference: ${JSON.stringify(items)}`;
    for (const [id, code] of items.rows) {
      const d = await rowsDifference(`item ${id} by id`, `SELECT * FROM item WHERE id = ${id}`, subject, reference);
      if (d !== undefined) return d;
      if (code !== null) {
        const c = await rowsDifference(`item ${id} by code`, `SELECT * FROM item WHERE code = '${String(code).replace(/'/g, "''")}'`, subject, reference);
        if (c !== undefined) return c;
      }
    }
    // Each value of the non-unique lookup, and its collation-equal variants.
    for (const tag of WRITE_TAGS.filter((t) => t !== null)) {
      const d = await rowsDifference(`items by tag ${JSON.stringify(tag)}`, `SELECT * FROM item WHERE tag = '${String(tag).replace(/'/g, "''")}' ORDER BY id`, subject, reference);
      if (d !== undefined) return d;
    }
  }
  const owners = await runQuery(reference, { sql: 'SELECT DISTINCT customer_id FROM orders ORDER BY customer_id' });
  if (owners.kind !== 'rows') return `reference: ${JSON.stringify(owners)}`;
  for (const [cid] of owners.rows) {
    const d = await rowsDifference(`orders of customer ${cid}`, `SELECT * FROM orders WHERE customer_id = ${cid} ORDER BY id`, subject, reference);
    if (d !== undefined) return d;
  }
  return undefined;
}

export function formatWriteFailure(f: RandomWriteFailure): string {
  return `seed ${f.seed} #${f.index} [${f.kind}] ${f.sql}\n  ${f.detail.replace(/\n/g, '\n  ')}`;
}

function summarizeWrites(r: RandomWriteReport): string {
  const lines = [
    `seed ${r.seed}: ${r.statements} statements: ${r.ok} ok, ${r.refused} refused (1235), ${r.wrong} wrong; both rejected: ${[...r.bothErrors].map(([e, n]) => `${n}× ${e}`).join(', ') || 'none'}; with another error: ${r.otherErrors.length}`,
  ];
  for (const f of r.failures) lines.push(formatWriteFailure(f));
  return lines.join('\n');
}
