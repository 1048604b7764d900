/**
 * The statements of issue 11 that once stalled every client of the gateway, and a probe client
 * that measures how long a point select of another client waits while each one runs. Shared by
 * test/stall-probe.int.test.ts (which asserts bounds) and bench/stall-probe.ts (which records
 * worst and p99 latency per class in BENCHMARKS.md).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Table both the gateway's keyspace and the reference MariaDB hold. */
export const STALL_SCHEMA = 'CREATE TABLE customer (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, name VARCHAR(64)) DEFAULT CHARSET=utf8mb4;';

export const STALL_VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { customer: { column_vindexes: [{ column: 'id', name: 'hash' }] } },
    },
  },
};

/**
 * The row the probe reads. Both the gateway's keyspace and the reference MariaDB hold it before
 * the probe starts; the classes never touch it (their ids stay below it).
 */
export const PROBE_ID = 1_000_000_003;
export const PROBE_ROW_SQL = `insert into customer (id, name) values (${PROBE_ID}, 'probe')`;
/** What a class that writes removes before it runs again (everything but the probe's row). */
export const CLEAR_ROWS_SQL = `delete from customer where id < ${PROBE_ID}`;

/**
 * The sizes of the classes. The bench's are the issue's; the integration test runs each class at
 * a size that answers in seconds on a shared machine.
 */
export interface StallSizes {
  insertRows: number;
  unclosedInBytes: number;
  inValues: number;
  literalBytes: number;
  unionParts: number;
  orTerms: number;
  parenDepth: number;
  commentBytes: number;
}

export const BENCH_SIZES: StallSizes = {
  insertRows: 10_000,
  unclosedInBytes: 1024 * 1024,
  inValues: 100_000,
  literalBytes: 4 * 1024 * 1024,
  unionParts: 2000,
  orTerms: 50_000,
  parenDepth: 10_000,
  commentBytes: 1024 * 1024,
};

export interface PathologicalStatement {
  /** The class, as the issue names it, with its size. */
  name: string;
  sql: string;
  /**
   * `result`: a valid statement; the gateway must answer it exactly as one MariaDB does.
   * `error`: invalid or beyond any parser; the gateway must refuse it with one of `errnos`.
   * `either`: MariaDB's own answer may be a result or an error (parser stack limits differ); the
   * gateway must give MariaDB's result or one of `errnos`.
   */
  expect: 'result' | 'error' | 'either';
  errnos?: readonly number[];
}

const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

/**
 * In run order: the INSERT comes first so that the reads after it find rows. Each is built
 * afresh (some are megabytes), so callers keep only the one running.
 */
export function* pathologicalStatements(size: StallSizes = BENCH_SIZES): Generator<PathologicalStatement> {
  const mb = (bytes: number): string => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${Math.round(bytes / 1024)} KB`);
  const count = (n: number): string => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString('en-US'));
  yield {
    name: `${count(size.insertRows)}-row multi-row INSERT`,
    sql: `insert into customer (id, name) values ${range(size.insertRows).map((i) => `(${i},'name-${i}')`).join(',')}`,
    expect: 'result',
  };
  yield {
    name: `${mb(size.unclosedInBytes)} unclosed IN list`,
    sql: `select id from customer where id in (${'1,'.repeat(size.unclosedInBytes / 2)}1`,
    expect: 'error',
    // MariaDB's 1064 near ''.
    errnos: [1064],
  };
  yield {
    name: `${count(size.inValues)}-value IN on the vindex`,
    sql: `select id, name from customer where id in (${range(size.inValues).join(',')})`,
    expect: 'result',
  };
  yield {
    name: `${mb(size.literalBytes)} string literal`,
    sql: `select id, name from customer where id = 7 and name <> '${'x'.repeat(size.literalBytes)}'`,
    expect: 'result',
  };
  yield {
    name: `${size.unionParts.toLocaleString('en-US')} UNION ALL parts`,
    sql: range(size.unionParts)
      .map((i) => `select id, name from customer where id = ${i * 3}`)
      .join(' union all '),
    expect: 'result',
  };
  yield {
    name: `${count(size.orTerms)}-term OR chain`,
    sql: `select id from customer where ${range(size.orTerms)
      .map((i) => `id = ${i}`)
      .join(' or ')}`,
    expect: 'result',
  };
  yield {
    name: `parentheses ${count(size.parenDepth)} deep`,
    sql: `select id from customer where id = ${'('.repeat(size.parenDepth)}3${')'.repeat(size.parenDepth)}`,
    expect: 'either',
    // 1064 (MariaDB's "memory exhausted" from its parser stack), 1436 (thread stack overrun: the
    // gateway's when its planner runs out of stack).
    errnos: [1064, 1436],
  };
  yield {
    name: `${mb(size.commentBytes)} comment`,
    sql: `select id, name from customer where id = 11 /* ${'c'.repeat(size.commentBytes)} */`,
    expect: 'result',
  };
  yield {
    name: `${mb(size.commentBytes)} unterminated string`,
    sql: `select id from customer where name = 'abc${'s'.repeat(size.commentBytes)}`,
    expect: 'error',
    errnos: [1064],
  };
}

export interface ProbeOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** Pause between one probe answer and the next probe. */
  intervalMs?: number;
}

/** The probe's select and the rows it must get (JSON of mysql2's rows). */
export const PROBE_SQL = `select id, name from customer where id = ${PROBE_ID}`;
export const PROBE_ROWS_JSON = JSON.stringify([{ id: PROBE_ID, name: 'probe' }]);

export interface ProbeWindow {
  /** Round-trip time of every probe select in the window, ms. */
  latencies: number[];
  /** Probe selects that failed (errno and message) or got other rows; a healthy gateway has none. */
  failures: string[];
}

/** A point select on another connection, repeated every few ms on its own thread. */
export class StallProbe {
  private constructor(private readonly worker: Worker) {}

  static async start(opts: ProbeOptions): Promise<StallProbe> {
    const worker = new Worker(path.join(here, 'stall-probe-worker.mjs'), {
      workerData: { ...opts, intervalMs: opts.intervalMs ?? 5, sql: PROBE_SQL, expectedJson: PROBE_ROWS_JSON },
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
    });
    return new StallProbe(worker);
  }

  /** The latencies measured since the previous call (or the start). */
  take(): Promise<ProbeWindow> {
    return new Promise((resolve) => {
      this.worker.once('message', (m: ProbeWindow) => resolve(m));
      this.worker.postMessage('take');
    });
  }

  async stop(): Promise<void> {
    const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await done;
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export type Answer =
  | { kind: 'result'; rows: unknown; ms: number }
  | { kind: 'error'; errno: number; sqlState: string; message: string; ms: number };

interface QueryableConnection {
  query(sql: string): Promise<[unknown, unknown]>;
}

/**
 * Runs one statement and returns what the client saw, comparable between the gateway and MariaDB:
 * a SELECT's rows sorted (a scatter merges shards in any order), a write's affected rows, or the
 * error with its code. The message is cut to its first 200 characters (a "near '…'" may be long).
 */
export async function answer(conn: QueryableConnection, sql: string): Promise<Answer> {
  const start = performance.now();
  try {
    const [res] = await conn.query(sql);
    const ms = performance.now() - start;
    if (Array.isArray(res)) {
      const rows = (res as Record<string, unknown>[]).map((r) => JSON.stringify(r)).sort();
      return { kind: 'result', rows, ms };
    }
    return { kind: 'result', rows: { affectedRows: (res as { affectedRows: number }).affectedRows }, ms };
  } catch (e) {
    const err = e as { errno?: number; sqlState?: string; message?: string };
    if (err.errno === undefined) throw e;
    return { kind: 'error', errno: err.errno, sqlState: err.sqlState ?? '', message: String(err.message).slice(0, 200), ms: performance.now() - start };
  }
}
