import type { Connection, ExecuteValues, FieldPacket, Pool, QueryOptions } from 'mysql2/promise';
import { firstMultisetDifference, firstOrderedDifference, type RowDifference } from './result-comparison.js';
import { normalizeRows, type ColumnInfo, type NormalizedRow } from './result-normalizer.js';

/** A mysql2/promise Connection or Pool (anything with its promise `query`). */
export type SqlTarget = Pick<Connection, 'query'> | Pick<Pool, 'query'>;

/** Opens one subject connection; the oracle closes it (end()) when done if it has end(). */
export type SqlTargetFactory = () => Promise<SqlTarget & { end?(): Promise<void> }>;

export type OracleQuery = string | { sql: string; ordered?: boolean; params?: unknown[] };

export interface CompareOptions {
  /** The system under test (e.g. a connection to shardgate), a pool, or a factory for subject connections. */
  subject: SqlTarget | SqlTargetFactory;
  /** The trusted answer (e.g. one unsharded MariaDB holding all the data). */
  reference: SqlTarget;
  queries: readonly OracleQuery[];
  /**
   * Run subject queries on N connections at once (default 1). With N > 1 every reference answer is
   * computed first, then the subject's answers concurrently: use it for read-only queries. N subject
   * connections come from the factory, or from the pool / the single connection you passed.
   */
  concurrency?: number;
}

/** One side's outcome for one query. */
export type QueryOutcome =
  | { kind: 'rows'; columns: string[]; rows: NormalizedRow[]; fields?: ColumnInfo[] }
  | { kind: 'ok'; affectedRows: number; insertId?: number | string; warnings?: number }
  | { kind: 'error'; errno: number | undefined; code: string | undefined; message: string };

export interface OracleMismatch {
  index: number;
  sql: string;
  params?: unknown[];
  ordered: boolean;
  /** What differs first: error vs result, columns, rows, or affected-row counts. */
  kind: 'error' | 'columns' | 'rows' | 'affectedRows';
  subject: QueryOutcome;
  reference: QueryOutcome;
  firstDifferingRow?: RowDifference;
  message: string;
}

export interface OracleReport {
  /** True when every query matched. */
  ok: boolean;
  queries: number;
  matched: number;
  mismatches: OracleMismatch[];
  /** Human-readable: one block per mismatch, or "N/N queries matched". */
  summary(): string;
}

interface NormalizedQuery {
  index: number;
  sql: string;
  params?: unknown[];
  ordered: boolean;
}

/**
 * Differential oracle: runs each query on the subject and on the reference and reports every
 * difference in columns, rows (exact order when `ordered`, else as multisets), affected rows, or
 * error number. Values are compared as the servers' own text, so nothing is rounded.
 */
export async function compareWithReference(opts: CompareOptions): Promise<OracleReport> {
  const queries: NormalizedQuery[] = opts.queries.map((q, index) =>
    typeof q === 'string'
      ? { index, sql: q, ordered: false }
      : { index, sql: q.sql, params: q.params, ordered: q.ordered ?? false },
  );
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const mismatches: OracleMismatch[] = [];

  if (concurrency === 1) {
    // Interleaved, so a query list that writes sees the same state on both sides.
    const [subject, release] = await acquire(opts.subject);
    try {
      for (const q of queries) {
        const reference = await runQuery(opts.reference, q);
        const got = await runQuery(subject, q);
        const m = compareOutcomes(q, got, reference);
        if (m !== undefined) mismatches.push(m);
      }
    } finally {
      await release();
    }
  } else {
    const referenceOutcomes: QueryOutcome[] = [];
    for (const q of queries) referenceOutcomes.push(await runQuery(opts.reference, q));
    const subjectOutcomes: QueryOutcome[] = new Array(queries.length);
    // Concurrency rule: `next` is read and incremented synchronously, so each query runs exactly once.
    let next = 0;
    const worker = async () => {
      const [subject, release] = await acquire(opts.subject);
      try {
        while (next < queries.length) {
          const q = queries[next++];
          subjectOutcomes[q.index] = await runQuery(subject, q);
        }
      } finally {
        await release();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queries.length) }, worker));
    for (const q of queries) {
      const m = compareOutcomes(q, subjectOutcomes[q.index], referenceOutcomes[q.index]);
      if (m !== undefined) mismatches.push(m);
    }
  }

  return {
    ok: mismatches.length === 0,
    queries: queries.length,
    matched: queries.length - mismatches.length,
    mismatches,
    summary: () =>
      mismatches.length === 0
        ? `${queries.length}/${queries.length} queries matched`
        : `${mismatches.length} of ${queries.length} queries differ:\n` + mismatches.map((m) => m.message).join('\n'),
  };
}

async function acquire(subject: SqlTarget | SqlTargetFactory): Promise<[SqlTarget, () => Promise<void>]> {
  if (typeof subject === 'function') {
    const conn = await subject();
    return [conn, async () => conn.end?.()];
  }
  return [subject, async () => undefined];
}

/** Runs one query with the text protocol, raw values and rows as arrays (keeps duplicate column names). */
export async function runQuery(target: SqlTarget, q: { sql: string; params?: unknown[]; timeoutMs?: number }): Promise<QueryOutcome> {
  const options: QueryOptions = { sql: q.sql, rowsAsArray: true, typeCast: false, timeout: q.timeoutMs };
  return outcomeOf(() => (target as Pick<Connection, 'query'>).query(options, q.params));
}

/**
 * Runs one statement as a prepared statement (binary protocol: COM_STMT_PREPARE, EXECUTE with
 * `params`, binary result rows), then closes it, so a long run never piles up statements. Compare
 * only with another binary outcome: values come through mysql2's binary decoding (open the
 * connection with `dateStrings`, `supportBigNumbers` and `bigNumberStrings` to keep them exact).
 */
export async function runPrepared(target: Pick<Connection, 'execute' | 'unprepare'>, q: { sql: string; params?: unknown[]; timeoutMs?: number }): Promise<QueryOutcome> {
  // mysql2 caches the statement under a key built from these options (rowsAsArray included), and
  // unprepare() finds it only under the same key: unprepare(sql) alone missed it, so nothing was
  // closed and a long run reached the server's max_prepared_stmt_count (error 1461).
  const options = { sql: q.sql, rowsAsArray: true };
  try {
    return await outcomeOf(() => target.execute({ ...options, timeout: q.timeoutMs }, (q.params ?? []) as ExecuteValues[]));
  } finally {
    try {
      target.unprepare(options);
    } catch {
      // A statement that failed to prepare is not cached.
    }
  }
}

async function outcomeOf(run: () => Promise<[unknown, unknown]>): Promise<QueryOutcome> {
  try {
    const [result, fields] = await run();
    if (!Array.isArray(result)) {
      // insertId and warnings are kept for the write differential; compareOutcomes compares only affectedRows.
      const header = result as { affectedRows?: number; insertId?: number | string; warningStatus?: number };
      return { kind: 'ok', affectedRows: header.affectedRows ?? 0, insertId: header.insertId, warnings: header.warningStatus };
    }
    const columns = (fields ?? []) as FieldPacket[];
    return {
      kind: 'rows',
      columns: columns.map((c) => c.name),
      rows: normalizeRows(result as unknown[], columns as ColumnInfo[]),
      fields: columns.map((c) => ({ name: c.name, columnType: c.columnType ?? c.type, characterSet: c.characterSet, decimals: c.decimals, flags: typeof c.flags === 'number' ? c.flags : undefined })),
    };
  } catch (err) {
    const e = err as { errno?: number; code?: string; message?: string };
    if (e.errno === undefined && e.code === undefined) throw err; // a bug in the harness, not a SQL error
    return { kind: 'error', errno: e.errno, code: e.code, message: e.message ?? String(err) };
  }
}

function describe(o: QueryOutcome): string {
  switch (o.kind) {
    case 'rows':
      return `${o.rows.length} rows with columns [${o.columns.join(', ')}]`;
    case 'ok':
      return `OK, ${o.affectedRows} affected rows`;
    case 'error':
      return `error ${o.errno ?? o.code}: ${o.message}`;
  }
}

export function compareOutcomes(q: { index: number; sql: string; params?: unknown[]; ordered: boolean }, subject: QueryOutcome, reference: QueryOutcome): OracleMismatch | undefined {
  const head = `#${q.index} ${q.sql}${q.params ? ` ${JSON.stringify(q.params)}` : ''}`;
  const mismatch = (kind: OracleMismatch['kind'], detail: string, firstDifferingRow?: RowDifference): OracleMismatch => ({
    index: q.index,
    sql: q.sql,
    params: q.params,
    ordered: q.ordered,
    kind,
    subject,
    reference,
    firstDifferingRow,
    message: `${head}\n  ${detail}`,
  });

  if (subject.kind !== reference.kind) {
    return mismatch('error', `subject: ${describe(subject)}; reference: ${describe(reference)}`);
  }
  if (subject.kind === 'error' && reference.kind === 'error') {
    // Messages legitimately differ (a gateway names shards, keyspaces); the error number must not.
    return subject.errno === reference.errno
      ? undefined
      : mismatch('error', `subject: ${describe(subject)}; reference: ${describe(reference)}`);
  }
  if (subject.kind === 'ok' && reference.kind === 'ok') {
    return subject.affectedRows === reference.affectedRows
      ? undefined
      : mismatch('affectedRows', `subject: ${describe(subject)}; reference: ${describe(reference)}`);
  }
  if (subject.kind === 'rows' && reference.kind === 'rows') {
    if (JSON.stringify(subject.columns) !== JSON.stringify(reference.columns)) {
      return mismatch(
        'columns',
        `columns differ: subject [${subject.columns.join(', ')}], reference [${reference.columns.join(', ')}]`,
      );
    }
    const diff = q.ordered
      ? firstOrderedDifference(subject.rows, reference.rows)
      : firstMultisetDifference(subject.rows, reference.rows);
    if (diff === undefined) return undefined;
    return mismatch(
      'rows',
      `${q.ordered ? 'ordered' : 'unordered'} rows differ (subject ${subject.rows.length} rows, reference ${reference.rows.length}): ${diff.description}`,
      diff,
    );
  }
  return undefined;
}
