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

/** Rows the multi-row INSERT class writes (ids 1..INSERT_ROWS); later classes read them. */
export const INSERT_ROWS = 10_000;

export interface PathologicalStatement {
  /** The class, as the issue names it. */
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
export function* pathologicalStatements(): Generator<PathologicalStatement> {
  yield {
    name: `${INSERT_ROWS / 1000}k-row multi-row INSERT`,
    sql: `insert into customer (id, name) values ${range(INSERT_ROWS).map((i) => `(${i},'name-${i}')`).join(',')}`,
    expect: 'result',
  };
  yield {
    name: '1 MB unclosed IN list',
    sql: `select id from customer where id in (${'1,'.repeat(500_000)}1`,
    expect: 'error',
    // MariaDB's 1064; or the planning deadline (planTimeoutMs) if the parser had not finished.
    errnos: [1064, 1969],
  };
  yield {
    name: '100k-value IN on the vindex',
    sql: `select id, name from customer where id in (${range(100_000).join(',')})`,
    expect: 'result',
  };
  yield {
    name: '4 MB string literal',
    sql: `select id, name from customer where id = 7 and name <> '${'x'.repeat(4 * 1024 * 1024)}'`,
    expect: 'result',
  };
  yield {
    name: '2,000 UNION ALL parts',
    sql: range(2000)
      .map((i) => `select id, name from customer where id = ${i * 3}`)
      .join(' union all '),
    expect: 'result',
  };
  yield {
    name: '50k-term OR chain',
    sql: `select id from customer where ${range(50_000)
      .map((i) => `id = ${i}`)
      .join(' or ')}`,
    expect: 'result',
  };
  yield {
    name: 'parentheses 10k deep',
    sql: `select id from customer where id = ${'('.repeat(10_000)}3${')'.repeat(10_000)}`,
    expect: 'either',
    // 1064 (MariaDB's "memory exhausted" from its parser stack), 1436 (thread stack overrun),
    // 1235 (the gateway's "too deeply nested").
    errnos: [1064, 1235, 1436],
  };
  yield {
    name: '1 MB comment',
    sql: `select id, name from customer where id = 11 /* ${'c'.repeat(1024 * 1024)} */`,
    expect: 'result',
  };
  yield {
    name: '1 MB unterminated string',
    sql: `select id from customer where name = 'abc${'s'.repeat(1024 * 1024)}`,
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

export interface ProbeWindow {
  /** Round-trip time of every probe select in the window, ms. */
  latencies: number[];
  /** Probe selects that failed (errno and message); a healthy gateway has none. */
  failures: string[];
}

/** A point select on another connection, repeated every few ms on its own thread. */
export class StallProbe {
  private constructor(private readonly worker: Worker) {}

  static async start(opts: ProbeOptions): Promise<StallProbe> {
    const worker = new Worker(path.join(here, 'stall-probe-worker.mjs'), {
      workerData: { ...opts, intervalMs: opts.intervalMs ?? 5, sql: 'select id from customer where id = 3' },
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
