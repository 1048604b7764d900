/**
 * Plans for statements that need several routes: cross-shard joins (nested-loop Join over two
 * routes), and subqueries pulled out of the outer route (UncorrelatedSubquery).
 */
import type { Primitive } from './plan-types.js';
import type { PlanContext } from './plan-context.js';
import type { Analyzed, SelectAnalyzer } from './select-analyzer.js';
import { notSupported } from './errors.js';

export function planCrossShard(ctx: PlanContext, analyzer: SelectAnalyzer, analyzed: Analyzed): Primitive {
  void ctx;
  void analyzer;
  throw notSupported(analyzed.why ?? 'query that needs several routes');
}
