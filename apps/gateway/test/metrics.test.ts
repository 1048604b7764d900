import { describe, expect, it } from 'vitest';
import { GatewayMetrics, statementType } from '../src/metrics.js';

describe('statementType', () => {
  it('reads the first word, past comments and parentheses', () => {
    expect(statementType('select 1')).toBe('select');
    expect(statementType('  /* vt+ QUERY_TIMEOUT_MS=5 */ SELECT 1')).toBe('select');
    expect(statementType('-- note\nINSERT INTO t VALUES (1)')).toBe('insert');
    expect(statementType('(select 1) union (select 2)')).toBe('select');
    expect(statementType('start transaction')).toBe('begin');
    expect(statementType('ALTER TABLE t ADD c INT')).toBe('ddl');
    expect(statementType('vexplain plan select 1')).toBe('show');
    expect(statementType('frobnicate')).toBe('other');
    expect(statementType('')).toBe('other');
  });

  it('matches select in place in any case, and only the whole word', () => {
    expect(statementType('SeLeCt c FROM t')).toBe('select');
    expect(statementType('select(1)')).toBe('select');
    expect(statementType('selects 1')).toBe('other');
    expect(statementType('selec 1')).toBe('other');
    expect(statementType('selectx')).toBe('other');
    expect(statementType('delete from t')).toBe('delete');
  });
});

describe('GatewayMetrics exposition', () => {
  it('renders statement histograms in seconds with cumulative buckets, counters with _total, and labels', async () => {
    const m = new GatewayMetrics();
    m.statementDone('select', 'oltp', 0.0004, undefined, false);
    m.statementDone('select', 'oltp', 0.02, 1146, false);
    m.statementDone('insert', 'olap', 2, undefined, true);
    m.shardQueryDone('ks', '-80', 0.001, 1062);
    const text = await m.render();
    expect(text).toContain('# TYPE shardgate_statement_duration_seconds histogram');
    expect(text).toContain('shardgate_statement_duration_seconds_bucket{le="0.0005",statement="select",workload="oltp"} 1');
    expect(text).toContain('shardgate_statement_duration_seconds_bucket{le="0.025",statement="select",workload="oltp"} 2');
    expect(text).toContain('shardgate_statement_duration_seconds_bucket{le="+Inf",statement="insert",workload="olap"} 1');
    expect(text).toContain('shardgate_statement_duration_seconds_count{statement="select",workload="oltp"} 2');
    expect(text).toMatch(/^shardgate_statement_duration_seconds_sum\{statement="select",workload="oltp"\} 0\.0204\d*$/m);
    expect(text).toContain('# TYPE shardgate_statements_total counter');
    expect(text).toContain('shardgate_statements_total{statement="select",workload="oltp"} 2');
    expect(text).toContain('shardgate_statement_errors_total{statement="select",errno="1146"} 1');
    expect(text).toContain('shardgate_shard_errors_total{keyspace="ks",shard="-80",errno="1062"} 1');
    expect(text).toContain('shardgate_slow_statements_total 1');
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    m.registry.clear();
  });
});
