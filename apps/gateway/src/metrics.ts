/**
 * The gateway's Prometheus metrics, through prom-client: its default process and Node.js metrics
 * (CPU, memory, GC, event-loop lag) and shardgate's own, named after Prometheus's conventions
 * (`shardgate_` prefix, base units: `_seconds`, counters end in `_total`).
 *
 * Each Gateway owns one Registry for its own series, so two gateways in one process (tests)
 * never share them; the process-wide default metrics are merged in at scrape time.
 * Concurrency rule: prom-client's counters and histograms are updated synchronously on the event
 * loop, so concurrent sessions never lose an increment; gauges of live state (pools, sessions,
 * plan cache) are read at scrape time through `collect` callbacks, never stored.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { RecordedCounter, RecordedHistogram } from './labelled-series.js';

/** Statement kinds the latency histogram is labelled with (bounded: a label per kind, no SQL). */
export type StatementType = 'select' | 'insert' | 'update' | 'delete' | 'replace' | 'begin' | 'commit' | 'rollback' | 'set' | 'use' | 'show' | 'ddl' | 'other';

const KIND_BY_LOWERCASE_WORD: Record<string, StatementType> = {
  select: 'select',
  with: 'select',
  insert: 'insert',
  update: 'update',
  delete: 'delete',
  replace: 'replace',
  begin: 'begin',
  start: 'begin',
  commit: 'commit',
  rollback: 'rollback',
  set: 'set',
  use: 'use',
  show: 'show',
  describe: 'show',
  desc: 'show',
  explain: 'show',
  vexplain: 'show',
  create: 'ddl',
  alter: 'ddl',
  drop: 'ddl',
  truncate: 'ddl',
  rename: 'ddl',
};

/**
 * The kinds by first word, lower and upper case: the usual statement needs no toLowerCase (a new
 * string per statement) and no lookup of a computed key in a dictionary-mode object.
 */
const KIND_BY_WORD = new Map<string, StatementType>(Object.entries(KIND_BY_LOWERCASE_WORD).flatMap(([w, k]) => [[w, k], [w.toUpperCase(), k]]));

/** Whether `sql` has `select` in any case at `i` (its six characters are letters: see statementType). */
function isSelectAt(sql: string, i: number): boolean {
  return (
    (sql.charCodeAt(i) | 0x20) === 115 &&
    (sql.charCodeAt(i + 1) | 0x20) === 101 &&
    (sql.charCodeAt(i + 2) | 0x20) === 108 &&
    (sql.charCodeAt(i + 3) | 0x20) === 101 &&
    (sql.charCodeAt(i + 4) | 0x20) === 99 &&
    (sql.charCodeAt(i + 5) | 0x20) === 116
  );
}

/** The statement's kind from its first word (comments and parentheses skipped), without a parse. */
export function statementType(sql: string): StatementType {
  let i = 0;
  const n = sql.length;
  for (;;) {
    let c = sql.charCodeAt(i);
    while (c === 32 || c === 9 || c === 10 || c === 13 || c === 40 /* ( */) c = sql.charCodeAt(++i);
    if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return 'other';
      i = end + 2;
    } else if (c === 35 /* # */ || (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45)) {
      const end = sql.indexOf('\n', i);
      if (end < 0) return 'other';
      i = end + 1;
    } else break;
  }
  let j = i;
  while (j < n && j - i < 9) {
    const c = sql.charCodeAt(j) | 0x20;
    if (c < 97 || c > 122) break;
    j++;
  }
  // The commonest kind is matched in place: a sliced word is a new string, hashed for the lookup.
  if (j - i === 6 && isSelectAt(sql, i)) return 'select';
  const word = sql.slice(i, j);
  return KIND_BY_WORD.get(word) ?? KIND_BY_WORD.get(word.toLowerCase()) ?? 'other';
}

/** What the gateway lets the metrics read at scrape time. */
export interface MetricsSources {
  pools(): readonly { keyspace: string; shard: string; size: number; open: number; inUse: number; idle: number; waiting: number }[];
  planCache(): { hits: number; misses: number; evictions: number; entries: number; cost: number; epoch: number } | null;
  sessions(): number;
  transactions(): number;
  connections(): number;
}

/**
 * prom-client's default metrics describe the process, so they are collected once per process
 * into their own registry (each collection adds a GC observer and an event-loop monitor that
 * live as long as the process) and merged into every gateway's scrape.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    // Includes nodejs_eventloop_lag_seconds (and its percentiles from a perf_hooks histogram),
    // process CPU, memory, file descriptors, GC and active handles.
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 10 });
  }
  return processRegistry;
}

const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Client statements by kind and workload; `errno` is 0 for success. */
  // Hot-path series (every statement, every shard query): see labelled-series.ts.
  private readonly statements: RecordedCounter;
  private readonly statementErrors: RecordedCounter;
  private readonly statementDuration: RecordedHistogram;
  private readonly shardQueries: RecordedCounter;
  private readonly shardErrors: RecordedCounter;
  private readonly shardDuration: RecordedHistogram;
  private readonly sessionsOpened: Counter;
  private readonly slowQueries: Counter;
  private readonly reloads: Counter<'result'>;
  readonly internalErrors: Counter;
  private readonly plainCounts = { statements: 0, statementErrors: 0, sessionsOpened: 0 };

  constructor(sources?: MetricsSources) {
    const registers = [this.registry];
    processMetrics();
    const r = this.registry;
    this.statements = new RecordedCounter('shardgate_statements_total', 'Client statements executed (text and prepared), by statement type and workload.', ['statement', 'workload'], r);
    this.statementErrors = new RecordedCounter('shardgate_statement_errors_total', 'Client statements that returned an error, by statement type and MySQL error number.', ['statement', 'errno'], r);
    this.statementDuration = new RecordedHistogram('shardgate_statement_duration_seconds', 'Statement latency at the gateway, from receipt to the last byte handed to the client.', ['statement', 'workload'], LATENCY_BUCKETS_SECONDS, r);
    this.shardQueries = new RecordedCounter('shardgate_shard_queries_total', 'Queries sent to shards, by keyspace and shard.', ['keyspace', 'shard'], r);
    this.shardErrors = new RecordedCounter('shardgate_shard_errors_total', 'Shard queries that failed, by keyspace, shard and MySQL error number.', ['keyspace', 'shard', 'errno'], r);
    this.shardDuration = new RecordedHistogram('shardgate_shard_query_duration_seconds', 'Latency of queries on shards.', ['keyspace', 'shard'], LATENCY_BUCKETS_SECONDS, r);
    this.sessionsOpened = new Counter({ name: 'shardgate_sessions_opened_total', help: 'Client sessions opened.', registers });
    this.slowQueries = new Counter({ name: 'shardgate_slow_statements_total', help: 'Statements slower than slowQueryMs.', registers });
    this.reloads = new Counter({ name: 'shardgate_vschema_reloads_total', help: 'vschema/users reloads, by result (ok or error: the old vschema stays in force).', labelNames: ['result'], registers });
    this.internalErrors = new Counter({ name: 'shardgate_internal_errors_total', help: 'Connection-level errors caught by the MySQL listener, and promise rejections nothing handled.', registers });
    if (sources) this.registerLiveGauges(sources);
  }

  private registerLiveGauges(src: MetricsSources): void {
    const registers = [this.registry];
    const pools = (pick: (p: ReturnType<MetricsSources['pools']>[number]) => number) =>
      function (this: Gauge<'keyspace' | 'shard'>): void {
        this.reset();
        for (const p of src.pools()) this.set({ keyspace: p.keyspace, shard: p.shard }, pick(p));
      };
    new Gauge({ name: 'shardgate_pool_connections_max', help: 'Configured connection pool size per shard.', labelNames: ['keyspace', 'shard'], registers, collect: pools((p) => p.size) });
    new Gauge({ name: 'shardgate_pool_connections_open', help: 'Open shard connections (in use and idle).', labelNames: ['keyspace', 'shard'], registers, collect: pools((p) => p.open) });
    new Gauge({ name: 'shardgate_pool_connections_in_use', help: 'Shard connections in use.', labelNames: ['keyspace', 'shard'], registers, collect: pools((p) => p.inUse) });
    new Gauge({ name: 'shardgate_pool_waiters', help: 'Statements waiting for a shard connection.', labelNames: ['keyspace', 'shard'], registers, collect: pools((p) => p.waiting) });
    const cache = (pick: (c: NonNullable<ReturnType<MetricsSources['planCache']>>) => number) =>
      function (this: Gauge): void {
        const c = src.planCache();
        if (c) this.set(pick(c));
      };
    new Gauge({ name: 'shardgate_plan_cache_hits', help: 'Plan cache lookups that found a plan (since start; a gauge because epochs restart the cache).', registers, collect: cache((c) => c.hits) });
    new Gauge({ name: 'shardgate_plan_cache_misses', help: 'Plan cache lookups that had to plan.', registers, collect: cache((c) => c.misses) });
    new Gauge({ name: 'shardgate_plan_cache_evictions', help: 'Plans evicted to respect the cache bounds.', registers, collect: cache((c) => c.evictions) });
    new Gauge({ name: 'shardgate_plan_cache_entries', help: 'Plans cached now.', registers, collect: cache((c) => c.entries) });
    new Gauge({ name: 'shardgate_plan_cache_bytes', help: 'Estimated size of the cached plans.', registers, collect: cache((c) => c.cost) });
    new Gauge({ name: 'shardgate_plan_cache_epoch', help: 'Plan cache epoch (bumped by every vschema reload).', registers, collect: cache((c) => c.epoch) });
    new Gauge({ name: 'shardgate_open_sessions', help: 'Open client sessions.', registers, collect(this: Gauge) { this.set(src.sessions()); } });
    new Gauge({ name: 'shardgate_open_transactions', help: 'Client sessions inside a transaction.', registers, collect(this: Gauge) { this.set(src.transactions()); } });
    new Gauge({ name: 'shardgate_client_connections', help: 'Open client connections (authenticated or not).', registers, collect(this: Gauge) { this.set(src.connections()); } });
  }

  sessionOpened(): void {
    this.sessionsOpened.inc();
    this.plainCounts.sessionsOpened++;
  }

  /** One finished client statement; `errno` undefined on success. */
  statementDone(statement: StatementType, workload: string, seconds: number, errno: number | undefined, slow: boolean): void {
    this.statements.inc(statement, workload);
    this.statementDuration.observe(seconds, statement, workload);
    this.plainCounts.statements++;
    if (errno !== undefined) {
      this.statementErrors.inc(statement, String(errno));
      this.plainCounts.statementErrors++;
    }
    if (slow) this.slowQueries.inc();
  }

  shardQueryDone(keyspace: string, shard: string, seconds: number, errno: number | undefined): void {
    this.shardQueries.inc(keyspace, shard);
    this.shardDuration.observe(seconds, keyspace, shard);
    if (errno !== undefined) this.shardErrors.inc(keyspace, shard, String(errno));
  }

  reloaded(ok: boolean): void {
    this.reloads.inc({ result: ok ? 'ok' : 'error' });
  }

  /** Totals for the status page's charts, read without walking the registry. */
  counts(): { readonly statements: number; readonly statementErrors: number; readonly sessionsOpened: number } {
    return this.plainCounts;
  }

  /** Prometheus text exposition format: the process's metrics, then this gateway's. */
  render(): Promise<string> {
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
