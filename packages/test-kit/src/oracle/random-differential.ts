/**
 * Random differential: generates seeded SELECTs over a schema (random-query-generator.ts), runs
 * each on the system under test in every session kind (by default shardgate's OLTP and OLAP
 * workloads) and once on a reference MariaDB holding the same rows, and compares exactly: the
 * same column names and count, the same rows (a sequence when the ORDER BY is total, a multiset
 * otherwise), and the same column types (with the scale of a DECIMAL). A 1235 refusal counts as refused; any other error where the reference
 * answered, or any different answer, is wrong and is shrunk to a minimal query.
 *
 * It takes only mysql2 connection options, so it tests any gateway (or any MySQL-compatible
 * server) against any reference.
 */
import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import { CollationFolder } from './collation-folder.js';
import { compareOutcomes, runPrepared, runQuery, type QueryOutcome } from './differential-oracle.js';
import { generateRandomQuery, querySeed } from './random-query-generator.js';
import { followUpQuery, queryDeduplicates, queryIsOrdered, renderQuery, type RandomQuery } from './random-query-model.js';
import type { RandomSchema } from './random-query-schema.js';
import { shrinkCandidates } from './random-query-shrinker.js';

/** One way of using the subject, e.g. shardgate's OLAP workload: statements run when each connection opens. */
export interface RandomDifferentialSession {
  name: string;
  setup: readonly string[];
  /**
   * `binary`: each query runs as a prepared statement (mysql2 `execute`, binary result rows), its
   * comparison literals sent as `?` parameters; the reference runs it the same way. Default `text`.
   */
  protocol?: 'text' | 'binary';
  /** Run only queries whose index % every === offset (default: every query). */
  every?: number;
  offset?: number;
}

export const SHARDGATE_WORKLOADS: readonly RandomDifferentialSession[] = [
  { name: 'oltp', setup: ["SET workload = 'oltp'"] },
  { name: 'olap', setup: ["SET workload = 'olap'"] },
  // Prepared statements on one query in eight each (prepare, execute, close: three round trips):
  // scatter results in binary rows, streamed in OLAP.
  { name: 'oltp-prepared', setup: ["SET workload = 'oltp'"], protocol: 'binary', every: 8, offset: 1 },
  { name: 'olap-prepared', setup: ["SET workload = 'olap'"], protocol: 'binary', every: 8, offset: 5 },
];

/** Options that keep binary-protocol values exact in mysql2 (text-protocol runs read raw text anyway). */
const EXACT_VALUES: ConnectionOptions = { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true };

/**
 * The prepared form of a query: every string or number literal right after a comparison operator
 * becomes a `?` parameter (strings as strings, numbers as JS numbers, which mysql2 sends as
 * DOUBLE or LONGLONG), the rest stays SQL text. Both sides get the same parameters.
 */
export function preparedForm(sql: string): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const out = sql.replace(/(=|<>|<=|>=|<|>) ('(?:[^'\\]|\\.|'')*'|-?\d+(?:\.\d+)?)(?=[\s),]|$)/g, (_, op: string, lit: string) => {
    if (lit.startsWith("'")) params.push(lit.slice(1, -1).replace(/\\(.)/g, '$1').replace(/''/g, "'"));
    else params.push(/\./.test(lit) ? Number(lit) : Number.isSafeInteger(Number(lit)) ? Number(lit) : lit);
    return `${op} ?`;
  });
  return { sql: out, params };
}

function sessionRuns(s: RandomDifferentialSession, index: number): boolean {
  return s.every === undefined || index % s.every === (s.offset ?? 0) % s.every;
}

export interface RandomDifferentialOptions {
  /** mysql2 options for the system under test (e.g. a shardgate gateway, with its default database). */
  subject: ConnectionOptions;
  /** mysql2 options for one plain MariaDB holding the same rows. */
  reference: ConnectionOptions;
  schema: RandomSchema;
  seed: number;
  count: number;
  /** Index of the first query (default 0): a run can be resumed or a single query replayed. */
  start?: number;
  /** Session kinds to run every query in (default: shardgate's `oltp` and `olap` workloads). */
  sessions?: readonly RandomDifferentialSession[];
  /** Queries in flight at once, each on its own connections (default 2). */
  concurrency?: number;
  /**
   * Compare each column's MySQL type too (and its scale for DECIMAL), not only names and values
   * (default true): a client decodes a value by its column type (mysql2 gives a DECIMAL as a
   * string, an INT as a number, a DATETIME as a Date), so a wrong type is a wrong answer.
   */
  compareTypes?: boolean;
  /** Shrink failures to a minimal query (default true). */
  shrink?: boolean;
  /** Most query runs spent shrinking one failure (default 150). */
  maxShrinkRuns?: number;
  /** Per-query timeout on either side (default 60 s); a timed-out subject query counts as wrong. */
  queryTimeoutMs?: number;
  /**
   * Stops the run early: no new query starts once it is aborted, the ones in flight finish, and
   * the report covers the queries done (`queries`).
   */
  signal?: AbortSignal;
  /** Called with each failure as soon as it is shrunk. */
  onFailure?: (failure: RandomFailure) => void;
  /** Called after each query (all sessions) is done. */
  onProgress?: (done: number, total: number) => void;
}

export interface RandomFailure {
  seed: number;
  /** Position of the query in the run: `generateRandomQuery(schema, querySeed(seed, index))` rebuilds it. */
  index: number;
  session: string;
  sql: string;
  /** The smallest query found that still fails the same way (equal to `sql` when shrinking is off). */
  shrunkSql: string;
  /** What differs on the shrunk query, e.g. `rows differ …` or `subject: error 1105 …`. */
  detail: string;
}

export interface RandomDifferentialReport {
  seed: number;
  /** Queries run: `count`, or fewer when the run was stopped early (`signal`). */
  queries: number;
  /** Query × session checks that matched / were refused with 1235 / differed or failed. */
  ok: number;
  refused: number;
  wrong: number;
  failures: RandomFailure[];
  /** Generated queries the reference itself rejected: a generator bug, reported, never counted as wrong. */
  invalid: { index: number; sql: string; error: string }[];
  /** Refusal messages with how often each was seen. */
  refusals: Map<string, number>;
  summary(): string;
}

interface Verdict {
  kind: 'ok' | 'refused' | 'wrong' | 'invalid';
  detail: string;
}

/** A session (or the reference connection) that could not be opened and set up, after retries. */
class SessionUnavailableError extends Error {}

/** Attempts to open and set up one connection before its query is reported invalid. */
const SETUP_ATTEMPTS = 4;

/**
 * The connections of one worker: the reference and one per subject session, opened on first use
 * and reopened after an error closed them. Opening retries with a backoff (under load a connect or
 * a session's setup statements can time out); when every attempt fails it throws
 * SessionUnavailableError, and the query is reported invalid with that reason, never wrong.
 * Concurrency rule: each worker owns its WorkerConnections and awaits one statement at a time.
 */
class WorkerConnections {
  private reference: Connection | undefined;
  private readonly subjects = new Map<string, Connection>();

  constructor(
    private readonly opts: RandomDifferentialOptions,
    private readonly setupTimeoutMs: number,
  ) {}

  async referenceConnection(): Promise<Connection> {
    this.reference ??= await this.openWithRetries('reference', this.opts.reference, []);
    return this.reference;
  }

  async subject(s: RandomDifferentialSession): Promise<Connection> {
    let conn = this.subjects.get(s.name);
    if (conn === undefined) {
      conn = await this.openWithRetries(`subject session ${s.name}`, this.opts.subject, s.setup);
      this.subjects.set(s.name, conn);
    }
    return conn;
  }

  private async openWithRetries(what: string, options: ConnectionOptions, setup: readonly string[]): Promise<Connection> {
    let lastError = '';
    for (let attempt = 1; attempt <= SETUP_ATTEMPTS; attempt++) {
      let conn: Connection | undefined;
      try {
        conn = await mysql.createConnection({ ...options, ...EXACT_VALUES });
        for (const sql of setup) await conn.query({ sql, timeout: this.setupTimeoutMs });
        return conn;
      } catch (err) {
        conn?.destroy();
        lastError = (err as Error).message ?? String(err);
        if (attempt < SETUP_ATTEMPTS) await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
    throw new SessionUnavailableError(`${what} could not be opened and set up in ${SETUP_ATTEMPTS} attempts: ${lastError}`);
  }

  /** After an error other than a refusal the connection may be gone: ping it, drop it if so (reopened on next use). */
  async heal(session: RandomDifferentialSession): Promise<void> {
    const conn = this.subjects.get(session.name);
    if (conn !== undefined && !(await this.alive(conn))) {
      conn.destroy();
      this.subjects.delete(session.name);
    }
  }

  async healReference(): Promise<void> {
    if (this.reference !== undefined && !(await this.alive(this.reference))) {
      this.reference.destroy();
      this.reference = undefined;
    }
  }

  private async alive(conn: Connection): Promise<boolean> {
    try {
      await conn.query({ sql: 'SELECT 1', timeout: this.setupTimeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.reference, ...this.subjects.values()].map((c) => c?.end().catch(() => c.destroy())));
  }
}

export async function runRandomDifferential(opts: RandomDifferentialOptions): Promise<RandomDifferentialReport> {
  const sessions = opts.sessions ?? SHARDGATE_WORKLOADS;
  const start = opts.start ?? 0;
  const timeoutMs = opts.queryTimeoutMs ?? 60_000;
  const report: RandomDifferentialReport = {
    seed: opts.seed,
    queries: opts.count,
    ok: 0,
    refused: 0,
    wrong: 0,
    failures: [],
    invalid: [],
    refusals: new Map(),
    summary: () => summarize(report, sessions.length),
  };
  const folderConn = await mysql.createConnection(opts.reference);
  const folder = new CollationFolder(folderConn);

  /** Runs `q` on the reference and on `session`, and compares; a session that cannot be set up makes it invalid. */
  const check = async (conns: WorkerConnections, q: RandomQuery, session: RandomDifferentialSession, referenceOutcome?: RunOutcome): Promise<Verdict> => {
    try {
      return await checkOnce(conns, q, session, referenceOutcome);
    } catch (err) {
      if (err instanceof SessionUnavailableError) return { kind: 'invalid', detail: err.message };
      throw err;
    }
  };

  const checkOnce = async (conns: WorkerConnections, q: RandomQuery, session: RandomDifferentialSession, referenceOutcome?: RunOutcome): Promise<Verdict> => {
    const sql = renderQuery(q);
    const binary = session.protocol === 'binary';
    const run = (conn: Connection, text = sql) => (binary ? runPrepared(conn, { ...preparedForm(text), timeoutMs }) : runQuery(conn, { sql: text, timeoutMs }));
    const referenceRun = (binary ? undefined : referenceOutcome) ?? (await runWithFollowUp(await conns.referenceConnection(), q, run, timeoutMs));
    const reference = referenceRun.outcome;
    if (reference.kind === 'error') {
      await conns.healReference();
      return { kind: 'invalid', detail: `reference: error ${reference.errno ?? reference.code}: ${reference.message}` };
    }
    if (referenceRun.followUp?.kind === 'error') return { kind: 'invalid', detail: `reference: ${followUpQuery(q)}: ${referenceRun.followUp.message}` };
    const subjectRun = await runWithFollowUp(await conns.subject(session), q, run, timeoutMs);
    const subject = subjectRun.outcome;
    if (subject.kind === 'error') {
      if (subject.errno === 1235) return { kind: 'refused', detail: subject.message };
      await conns.heal(session);
      return { kind: 'wrong', detail: `subject: error ${subject.errno ?? subject.code}: ${subject.message}` };
    }
    /** The first difference between two outcomes of `q`, or undefined (rows of collation-equal strings folded). */
    const differ = async (a: QueryOutcome, b: QueryOutcome): Promise<string | undefined> => {
      if (queryDeduplicates(q) && b.kind === 'rows' && a.kind === 'rows' && b.fields !== undefined && a.columns.length === b.columns.length) {
        // Which of several collation-equal strings a group shows is unspecified: compare weights,
        // in each column's own collation (asked of the reference: field packets do not carry it).
        const hasText = b.rows.length > 0 && b.fields.some((f) => f.characterSet !== 63);
        const own = hasText ? await columnCollations(await conns.referenceConnection(), sql, b.columns.length) : undefined;
        a = { ...a, rows: await folder.fold(a.rows, b.fields, own) };
        b = { ...b, rows: await folder.fold(b.rows, b.fields, own) };
      }
      const mismatch = compareOutcomes({ index: 0, sql, ordered: queryIsOrdered(q) }, a, b);
      if (mismatch !== undefined) return mismatch.message.split('\n').slice(1).join('\n').trim();
      return opts.compareTypes === false ? undefined : firstTypeDifference(a, b);
    };
    const detail = await differ(subject, reference);
    if (detail === undefined) {
      const [mine, theirs] = [subjectRun.followUp, referenceRun.followUp];
      const followUp = followUpQuery(q);
      if (mine === undefined || theirs === undefined || followUp === undefined) return { kind: 'ok', detail: '' };
      if (mine.kind === 'error') {
        if (mine.errno === 1235) return { kind: 'refused', detail: `${followUp}: ${mine.message}` };
        await conns.heal(session);
        return { kind: 'wrong', detail: `subject: ${followUp}: error ${mine.errno ?? mine.code}: ${mine.message}` };
      }
      const after = compareOutcomes({ index: 0, sql: followUp, ordered: true }, mine, theirs);
      return after === undefined ? { kind: 'ok', detail: '' } : { kind: 'wrong', detail: `${followUp} after the query: ${after.message.split('\n').slice(1).join('\n').trim()}` };
    }
    // MariaDB 10.11 does not always answer by the query's meaning: an equality of an integer key
    // prefix with a fractional literal (`order_id = 10.59`, also reached by propagating
    // `price = 10.59` through `order_id IN (SELECT price …)`) is looked up rounded and finds 11,
    // while the same comparison without the index (or with a row's value) finds nothing. When the
    // reference answers differently with every index turned off and the subject gives that
    // index-free answer, the query has no single answer on one MariaDB: invalid, not wrong.
    const indexFree = await run(await conns.referenceConnection(), withoutIndexes(sql));
    if (indexFree.kind !== 'error' && (await differ(indexFree, reference)) !== undefined && (await differ(subject, indexFree)) === undefined) {
      return { kind: 'invalid', detail: `reference answer depends on MariaDB's plan (differs with USE INDEX ()); the subject gives the index-free answer: ${detail}` };
    }
    return { kind: 'wrong', detail };
  };

  const shrink = async (conns: WorkerConnections, q: RandomQuery, session: RandomDifferentialSession, detail: string): Promise<{ sql: string; detail: string }> => {
    let best = q;
    let bestDetail = detail;
    let runs = 0;
    const budget = opts.maxShrinkRuns ?? 150;
    let improved = true;
    while (improved && runs < budget) {
      improved = false;
      for (const candidate of shrinkCandidates(best)) {
        if (runs++ >= budget) break;
        if (renderQuery(candidate).length >= renderQuery(best).length) continue;
        const v = await check(conns, candidate, session);
        if (v.kind === 'wrong') {
          best = candidate;
          bestDetail = v.detail;
          improved = true;
          break;
        }
      }
    }
    return { sql: renderQuery(best), detail: bestDetail };
  };

  // Concurrency rule: `next` is read and incremented synchronously, so each index runs once;
  // the counters and lists of `report` are only changed between awaits.
  let next = start;
  let done = 0;
  const end = start + opts.count;
  const worker = async () => {
    const conns = new WorkerConnections(opts, timeoutMs);
    try {
      while (next < end && opts.signal?.aborted !== true) {
        const index = next++;
        const q = generateRandomQuery(opts.schema, querySeed(opts.seed, index));
        const sql = renderQuery(q);
        let referenceRun: RunOutcome;
        try {
          referenceRun = await runWithFollowUp(await conns.referenceConnection(), q, (conn) => runQuery(conn, { sql, timeoutMs }), timeoutMs);
        } catch (err) {
          if (!(err instanceof SessionUnavailableError)) throw err;
          referenceRun = { outcome: { kind: 'error', errno: undefined, code: 'SESSION_UNAVAILABLE', message: err.message } };
        }
        const reference = referenceRun.outcome;
        if (reference.kind === 'error') {
          report.invalid.push({ index, sql, error: `${reference.errno ?? reference.code}: ${reference.message}` });
          await conns.healReference();
        } else {
          for (const session of sessions) {
            if (!sessionRuns(session, index)) continue;
            const v = await check(conns, q, session, referenceRun);
            if (v.kind === 'ok') report.ok++;
            else if (v.kind === 'refused') {
              report.refused++;
              report.refusals.set(v.detail, (report.refusals.get(v.detail) ?? 0) + 1);
            } else if (v.kind === 'invalid') {
              report.invalid.push({ index, sql: `[${session.name}] ${sql}`, error: v.detail });
            } else if (v.kind === 'wrong') {
              report.wrong++;
              const shrunk = opts.shrink === false ? { sql, detail: v.detail } : await shrink(conns, q, session, v.detail);
              const failure: RandomFailure = { seed: opts.seed, index, session: session.name, sql, shrunkSql: shrunk.sql, detail: shrunk.detail };
              report.failures.push(failure);
              opts.onFailure?.(failure);
            }
          }
        }
        done++;
        opts.onProgress?.(done, opts.count);
      }
    } finally {
      await conns.close();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, opts.count)) }, worker));
  } finally {
    await folderConn.end().catch(() => folderConn.destroy());
  }
  report.queries = done;
  report.failures.sort((a, b) => a.index - b.index || a.session.localeCompare(b.session));
  report.invalid.sort((a, b) => a.index - b.index);
  return report;
}

/** MySQL column type codes (as in the column definition packet) and their names. */
const COLUMN_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'DECIMAL (old)'], [1, 'TINYINT'], [2, 'SMALLINT'], [3, 'INT'], [4, 'FLOAT'], [5, 'DOUBLE'], [6, 'NULL'], [7, 'TIMESTAMP'],
  [8, 'BIGINT'], [9, 'MEDIUMINT'], [10, 'DATE'], [11, 'TIME'], [12, 'DATETIME'], [13, 'YEAR'], [15, 'VARCHAR'], [16, 'BIT'],
  [245, 'JSON'], [246, 'DECIMAL'], [247, 'ENUM'], [248, 'SET'], [249, 'TINYBLOB'], [250, 'MEDIUMBLOB'], [251, 'LONGBLOB'],
  [252, 'BLOB'], [253, 'VAR_STRING'], [254, 'STRING'], [255, 'GEOMETRY'],
]);
const DECIMAL_TYPE = 246;
const NULL_TYPE = 6;
/**
 * TINY/MEDIUM/LONG/BLOB count as one type: clients decode them alike, and MariaDB's own choice for
 * a UNION column varies with the plan (GROUP_CONCAT parts make a MEDIUMBLOB under UNION ALL, a
 * BLOB under UNION or with ORDER BY), which the gateway's merge does not see.
 */
const BLOB_TYPES: ReadonlySet<number> = new Set([249, 250, 251, 252]);
/**
 * An ENUM or SET value through MIN/MAX is a STRING (254) or a VAR_STRING (253) by MariaDB's plan
 * (seed 35 #9453: VAR_STRING under a GROUP BY of an expression, ENUM's STRING under one of a
 * column); clients decode both alike. Counted as one type when either side is flagged ENUM or SET.
 */
const CHAR_TYPES: ReadonlySet<number> = new Set([253, 254]);
const ENUM_OR_SET_FLAGS = 0x100 | 0x800;

function typeName(type: number | undefined): string {
  return `${COLUMN_TYPE_NAMES.get(type ?? -1) ?? 'unknown'} (${type})`;
}

/**
 * The first column whose MySQL type differs between two row outcomes (or, for DECIMAL, whose
 * scale does), as a message; undefined when they agree or either side has no field packets.
 * Lengths and flags are not compared: MariaDB's own vary with the plan (a key flag, a display
 * length of an expression) where no client reads them.
 */
export function firstTypeDifference(subject: QueryOutcome, reference: QueryOutcome): string | undefined {
  if (subject.kind !== 'rows' || reference.kind !== 'rows' || subject.fields === undefined || reference.fields === undefined) return undefined;
  for (let i = 0; i < Math.min(subject.fields.length, reference.fields.length); i++) {
    const s = subject.fields[i]!;
    const r = reference.fields[i]!;
    // A known difference (README, "How it differs"): a scalar subquery across shards that is NULL
    // becomes a NULL literal in the outer query, a column of type NULL; no client reads a value
    // from it either way.
    const allNull = (o: Extract<QueryOutcome, { kind: 'rows' }>): boolean => o.rows.every((row) => row[i] === null);
    if (s.columnType === NULL_TYPE && allNull(subject) && allNull(reference)) continue;
    const enumAsString = CHAR_TYPES.has(s.columnType ?? -1) && CHAR_TYPES.has(r.columnType ?? -1) && (((s.flags ?? 0) | (r.flags ?? 0)) & ENUM_OR_SET_FLAGS) !== 0;
    if (s.columnType !== r.columnType && !enumAsString && !(BLOB_TYPES.has(s.columnType ?? -1) && BLOB_TYPES.has(r.columnType ?? -1))) {
      return `column ${i} (${r.name}) type differs: subject ${typeName(s.columnType)}, reference ${typeName(r.columnType)}`;
    }
    if (r.columnType === DECIMAL_TYPE && s.decimals !== r.decimals) {
      return `column ${i} (${r.name}) DECIMAL scale differs: subject ${s.decimals}, reference ${r.decimals}`;
    }
  }
  return undefined;
}

/** A query's outcome, and its follow-up's (followUpQuery: FOUND_ROWS(), LAST_INSERT_ID()), run right after it on the same connection. */
interface RunOutcome {
  outcome: QueryOutcome;
  followUp?: QueryOutcome;
}

async function runWithFollowUp(conn: Connection, q: RandomQuery, run: (conn: Connection) => Promise<QueryOutcome>, timeoutMs: number): Promise<RunOutcome> {
  const followUp = followUpQuery(q);
  // A query that returns no row leaves LAST_INSERT_ID() as it was: start both sides from 0, not
  // from whatever earlier queries (some refused by the subject) left on each connection.
  if (followUp?.includes('LAST_INSERT_ID') === true) await runQuery(conn, { sql: 'SELECT LAST_INSERT_ID(0)', timeoutMs });
  const outcome = await run(conn);
  if (outcome.kind === 'error' || followUp === undefined) return { outcome };
  return { outcome, followUp: await runQuery(conn, { sql: followUp, timeoutMs }) };
}

/**
 * Each result column's collation (`COLLATION(cN)` over the query as a derived table), or undefined
 * when the reference cannot say (no rows, or a shape it refuses there).
 */
async function columnCollations(reference: Connection, sql: string, width: number): Promise<(string | null)[] | undefined> {
  const list = Array.from({ length: width }, (_, i) => `COLLATION(q.c${i})`).join(', ');
  // A derived table may not say SQL_CALC_FOUND_ROWS (1234); without it the same rows come back.
  // The generator writes it once, right after the top-level SELECT (a CTE may come before).
  const inner = sql.replace(/\bSELECT\s+SQL_CALC_FOUND_ROWS\s+/i, 'SELECT ');
  const outcome = await runQuery(reference, { sql: `SELECT ${list} FROM (${inner}) AS q LIMIT 1` });
  if (outcome.kind !== 'rows' || outcome.rows.length === 0) return undefined;
  return [...outcome.rows[0]];
}

/** `sql` with `USE INDEX ()` (no index) after every base table the generator names (`FROM t AS tN`, `JOIN t AS tN`). */
export function withoutIndexes(sql: string): string {
  return sql.replace(/\b(FROM|JOIN) ((?:\w+\.)?\w+) AS (t\d+)\b/g, '$1 $2 AS $3 USE INDEX ()');
}

/** The query of one index of a run, as SQL (to replay a reported failure by hand). */
export function randomQuerySql(schema: RandomSchema, seed: number, index: number): string {
  return renderQuery(generateRandomQuery(schema, querySeed(seed, index)));
}

/** One failure, as printed by `pnpm fuzz` and in test failures. */
export function formatRandomFailure(f: RandomFailure): string {
  return `seed ${f.seed} #${f.index} [${f.session}]\n  minimal: ${f.shrunkSql}\n  ${f.detail.replace(/\n/g, '\n  ')}\n  original: ${f.sql}`;
}

function summarize(r: RandomDifferentialReport, sessions: number): string {
  const lines = [
    `seed ${r.seed}: ${r.queries} queries, ${r.ok + r.refused + r.wrong} checks in ${sessions} sessions: ${r.ok} ok, ${r.refused} refused (1235), ${r.wrong} wrong, ${r.invalid.length} invalid queries`,
  ];
  for (const f of r.failures) lines.push(formatRandomFailure(f));
  for (const i of r.invalid) lines.push(`invalid #${i.index}: ${i.error}\n  ${i.sql}`);
  return lines.join('\n');
}
