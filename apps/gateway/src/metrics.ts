/**
 * Gateway counters and a query latency histogram, rendered in Prometheus text format.
 *
 * Concurrency rule: plain numeric fields mutated with synchronous `++` / `+=` on the event loop.
 * No update spans an await, so concurrent sessions can never lose an increment.
 */
const LATENCY_BUCKETS_MS = [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000];

export class GatewayMetrics {
  sessionsOpened = 0;
  sessionsClosed = 0;
  queries = 0;
  queryErrors = 0;
  internalErrors = 0;
  /** Errors by MySQL errno (shard and gateway errors alike). */
  readonly errorsByCode = new Map<number, number>();
  private readonly latencyCounts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private latencySumMs = 0;

  async observeQuery(run: () => Promise<void>): Promise<void> {
    const started = performance.now();
    this.queries++;
    try {
      await run();
    } catch (err) {
      this.queryErrors++;
      const errno = (err as { errno?: unknown }).errno;
      const code = typeof errno === 'number' ? errno : 1105;
      this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
      throw err;
    } finally {
      const ms = performance.now() - started;
      this.latencySumMs += ms;
      let i = 0;
      while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]) i++;
      this.latencyCounts[i]++;
    }
  }

  /** Prometheus exposition format; `extra` lines come from the executor and plan cache. */
  render(extra: readonly string[] = []): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
    };
    counter('shardgate_sessions_opened_total', 'Client sessions opened.', this.sessionsOpened);
    counter('shardgate_sessions_closed_total', 'Client sessions closed.', this.sessionsClosed);
    counter('shardgate_queries_total', 'Statements executed (text and prepared).', this.queries);
    counter('shardgate_query_errors_total', 'Statements that returned an error.', this.queryErrors);
    counter('shardgate_internal_errors_total', 'Connection-level errors caught by the listener.', this.internalErrors);
    lines.push('# HELP shardgate_errors_by_code_total Errors by MySQL error number.', '# TYPE shardgate_errors_by_code_total counter');
    for (const [code, n] of [...this.errorsByCode].sort((a, b) => a[0] - b[0])) {
      lines.push(`shardgate_errors_by_code_total{code="${code}"} ${n}`);
    }
    lines.push('# HELP shardgate_query_duration_ms Statement latency at the gateway.', '# TYPE shardgate_query_duration_ms histogram');
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((le, i) => {
      cumulative += this.latencyCounts[i];
      lines.push(`shardgate_query_duration_ms_bucket{le="${le}"} ${cumulative}`);
    });
    cumulative += this.latencyCounts[LATENCY_BUCKETS_MS.length];
    lines.push(`shardgate_query_duration_ms_bucket{le="+Inf"} ${cumulative}`);
    lines.push(`shardgate_query_duration_ms_sum ${this.latencySumMs}`, `shardgate_query_duration_ms_count ${cumulative}`);
    return [...lines, ...extra].join('\n') + '\n';
  }
}
