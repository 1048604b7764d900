/**
 * Counters and histograms for the statement hot path, exposed through a prom-client Registry.
 *
 * prom-client's own Counter/Histogram validate and hash the label object on every update (about
 * a microsecond each), which doubled the gateway's per-statement CPU. These keep one record per
 * label combination, found through a string key, and build prom-client's metric object only when
 * Prometheus scrapes (`get()`), which is all the Registry needs of a metric.
 *
 * Concurrency rule: records are created and updated synchronously on the event loop; `get()`
 * copies them, so a scrape never sees a half-updated record.
 */
import type { Registry } from 'prom-client';

interface MetricValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

abstract class RecordedSeries<R extends { labels: Record<string, string> }> {
  protected readonly records = new Map<string, R>();
  /**
   * The records of two-label series by first then second value: the hot path looks its record up
   * with the label strings it already has (their hashes are cached) instead of joining them into
   * a new string to hash per update.
   */
  private readonly pairs = new Map<string, Map<string, R>>();
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  protected record(values: readonly string[]): R {
    if (values.length !== 2) return this.recordByKey(values);
    let bySecond = this.pairs.get(values[0]!);
    if (bySecond === undefined) {
      bySecond = new Map();
      this.pairs.set(values[0]!, bySecond);
    }
    let r = bySecond.get(values[1]!);
    if (r === undefined) {
      r = this.recordByKey(values);
      bySecond.set(values[1]!, r);
    }
    return r;
  }

  private recordByKey(values: readonly string[]): R {
    const key = values.length === 1 ? values[0]! : values.join('\u0001');
    let r = this.records.get(key);
    if (r === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]!));
      r = this.create(labels);
      this.records.set(key, r);
    }
    return r;
  }

  protected abstract create(labels: Record<string, string>): R;
  abstract get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }>;

  reset(): void {
    this.records.clear();
    this.pairs.clear();
  }
}

export class RecordedCounter extends RecordedSeries<{ labels: Record<string, string>; value: number }> {
  readonly type = 'counter';

  inc(...labelValues: string[]): void {
    this.record(labelValues).value++;
  }

  /** The value for these label values (0 if never incremented). */
  value(...labelValues: string[]): number {
    return this.records.get(labelValues.join('\u0001'))?.value ?? 0;
  }

  protected create(labels: Record<string, string>) {
    return { labels, value: 0 };
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.records.values()].map((r) => ({ value: r.value, labels: { ...r.labels } })) };
  }
}

export class RecordedHistogram extends RecordedSeries<{ labels: Record<string, string>; counts: number[]; sum: number; count: number }> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], private readonly buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }

  observe(value: number, ...labelValues: string[]): void {
    const r = this.record(labelValues);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    r.counts[i]!++;
    r.sum += value;
    r.count++;
  }

  protected create(labels: Record<string, string>) {
    return { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  async get() {
    const values: MetricValue[] = [];
    for (const r of this.records.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += r.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: String(le), ...r.labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...r.labels }, value: r.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...r.labels }, value: r.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...r.labels }, value: r.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
