/**
 * Plans in Vitess's EXPLAIN/VEXPLAIN JSON field names (`shardgate plan`, `VEXPLAIN PLAN`), so
 * that they can be compared with Vitess's own planner test expectations.
 */
import { ExactNumber, type Plan, type Primitive, type QueryTemplate, type SqlValue, type ValueExpr } from './plan-types.js';
import { templateText } from './query-template.js';

type Json = { [k: string]: unknown };

interface Texts {
  template(q: QueryTemplate): string;
  value(v: ValueExpr): string;
}
const FULL_TEXTS: Texts = { template: templateText, value: valueText };
/** For a summary: no SQL or value text, whose cost grows with the statement (50,000 literals). */
const NO_TEXTS: Texts = { template: () => '', value: () => '' };
/** The renderers of the toVitessJson call running now. Concurrency rule: set and restored around one synchronous call. */
let texts: Texts = FULL_TEXTS;

/**
 * `{"QueryType", "Instructions": {...}, "TablesUsed"}`. With `{ texts: false }`, the operators,
 * variants, keyspaces and shape only: every Query, Values and other SQL or value text is ''.
 */
export function toVitessJson(plan: Plan, opts: { texts?: boolean } = {}): object {
  const prev = texts;
  texts = opts.texts === false ? NO_TEXTS : FULL_TEXTS;
  try {
    const out: Json = { QueryType: plan.queryType, Instructions: node(plan.instructions) };
    if (plan.tablesUsed.length > 0) out.TablesUsed = plan.tablesUsed;
    return out;
  } finally {
    texts = prev;
  }
}

/** Vitess's rendering of a value: `INT64(5)`, `VARCHAR("a")`, `:name`, `(a, b)`. */
export function valueText(v: ValueExpr): string {
  switch (v.kind) {
    case 'bind':
      return ':' + v.name;
    case 'bindList':
      return '::' + v.name;
    case 'list':
      return '(' + v.items.map(valueText).join(', ') + ')';
    case 'literal':
      return sqlValueText(v.value);
  }
}

function sqlValueText(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return `INT64(${v})`;
  if (typeof v === 'number') return `FLOAT64(${v})`;
  if (typeof v === 'string') return `VARCHAR(${JSON.stringify(v)})`;
  if (v instanceof ExactNumber) return `DECIMAL(${v.text})`;
  let s = '';
  for (const b of v) s += b >= 32 && b < 127 && b !== 34 && b !== 92 ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0');
  return `VARBINARY("${s}")`;
}

function keyspace(k: { name: string; sharded: boolean }): Json {
  return { Name: k.name, Sharded: k.sharded };
}

function orderText(keys: readonly { column: number; weightStringColumn?: number; desc: boolean }[]): string {
  return keys.map((k) => `${k.weightStringColumn !== undefined ? `(${k.column}|${k.weightStringColumn})` : k.column} ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
}

function node(p: Primitive): Json {
  switch (p.operator) {
    case 'Route': {
      const route: Json = { OperatorType: 'Route', Variant: p.variant, Keyspace: keyspace(p.keyspace) };
      if (p.fieldQuery) route.FieldQuery = texts.template(p.fieldQuery);
      route.Query = texts.template(p.query);
      if (p.table) route.Table = p.table;
      if (p.orderBy && p.orderBy.length > 0) route.OrderBy = orderText(p.orderBy);
      if (p.resultColumns !== undefined) route.ResultColumns = p.resultColumns;
      if (p.queryTimeoutMs !== undefined) route.QueryTimeout = p.queryTimeoutMs;
      if (p.scatterErrorsAsWarnings) route.ScatterErrorsAsWarnings = true;
      if (p.targetShards) route.TargetDestination = p.targetShards.join(',');
      if (p.lookup === 'planable' && p.vindex && p.values && (p.variant === 'Equal' || p.variant === 'EqualUnique' || p.variant === 'IN' || p.variant === 'MultiEqual')) {
        // Vitess shows a lookup vindex as a VindexLookup over the lookup query and the routed query.
        return {
          OperatorType: 'VindexLookup',
          Variant: p.variant,
          Keyspace: keyspace(p.keyspace),
          Values: p.values.map(texts.value),
          Vindex: p.vindex,
          Inputs: [
            { OperatorType: 'Route', Variant: 'IN', Keyspace: keyspace(p.keyspace), Query: `(lookup of ${p.vindex})`, Vindex: p.vindex },
            { ...route, Variant: 'ByDestination' },
          ],
        };
      }
      if (p.values) route.Values = p.values.map(texts.value);
      if (p.vindex) route.Vindex = p.vindex;
      return route;
    }
    case 'Insert': {
      const rows = p.rowTemplates ?? [p.rowTemplate];
      const out: Json = {
        OperatorType: 'Insert',
        Variant: p.variant,
        Keyspace: keyspace(p.keyspace),
        Query: p.prefix + rows.map((r) => texts.template(r)).join(', ') + texts.template(p.suffix),
        TableName: p.table,
      };
      if (p.primaryVindex) out.VindexValues = { [p.primaryVindex[0]!.vindex]: p.primaryVindex.map((v) => `row[${v.valueIndex}]`).join(', ') };
      if (p.autoIncrement) out.AutoIncrement = `${p.autoIncrement.sequence}:Values::${p.autoIncrement.column}`;
      return out;
    }
    case 'Update':
    case 'Delete': {
      const r = p.route;
      const out: Json = { OperatorType: p.operator, Variant: r.variant, Keyspace: keyspace(r.keyspace), Query: texts.template(r.query), Table: r.table };
      if (r.values) out.Values = r.values.map(texts.value);
      if (r.vindex) out.Vindex = r.vindex;
      if (p.ownedVindexQuery) out.OwnedVindexQuery = texts.template(p.ownedVindexQuery);
      return out;
    }
    case 'Join':
      return {
        OperatorType: 'Join',
        Variant: p.variant,
        JoinColumnIndexes: p.cols.map((c) => (c < 0 ? `L:${-c - 1}` : `R:${c - 1}`)).join(','),
        ...(Object.keys(p.joinVars).length > 0 ? { JoinVars: p.joinVars } : {}),
        Inputs: [node(p.left), node(p.right)],
      };
    case 'SemiJoin':
      return { OperatorType: 'SemiJoin', Variant: p.variant, JoinVars: p.joinVars, Inputs: [node(p.outer), node(p.inner)] };
    case 'UncorrelatedSubquery':
      return {
        OperatorType: 'UncorrelatedSubquery',
        Variant: p.variant,
        PulloutVars: [p.hasValuesBind, p.resultBind],
        Inputs: [
          { InputName: 'SubQuery', ...node(p.subquery) },
          { InputName: 'Outer', ...node(p.outer) },
        ],
      };
    case 'SQLCalcFoundRows':
      // Without a count(*) plan, the gateway counts countQuery's rows itself: a scalar aggregate.
      return {
        OperatorType: 'SQL_CALC_FOUND_ROWS',
        Inputs: [node(p.limitQuery), p.countIsScalar ? node(p.countQuery) : { OperatorType: 'Aggregate', Variant: 'Scalar', Aggregates: 'count_rows AS found_rows', Inputs: [node(p.countQuery)] }],
      };
    case 'Aggregate': {
      const out: Json = {
        OperatorType: 'Aggregate',
        Variant: p.variant,
        Aggregates: p.aggregates.map((a) => `${a.opcode === 'count_star' ? 'sum_count_star' : a.opcode}(${a.column}) AS ${a.alias}`).join(', '),
      };
      if (p.groupBy.length > 0) out.GroupBy = p.groupBy.map((g) => (g.weightStringColumn !== undefined ? `(${g.column}|${g.weightStringColumn})` : String(g.column))).join(', ');
      if (p.resultColumns !== undefined) out.ResultColumns = p.resultColumns;
      out.Inputs = [node(p.input)];
      return out;
    }
    case 'Sort':
      return { OperatorType: 'Sort', Variant: 'Memory', OrderBy: orderText(p.orderBy), ...(p.resultColumns !== undefined ? { ResultColumns: p.resultColumns } : {}), Inputs: [node(p.input)] };
    case 'Limit':
      return { OperatorType: 'Limit', Count: texts.value(p.count), ...(p.offset ? { Offset: texts.value(p.offset) } : {}), Inputs: [node(p.input)] };
    case 'Distinct':
      return { OperatorType: 'Distinct', ...(p.resultColumns !== undefined ? { ResultColumns: p.resultColumns } : {}), Inputs: [node(p.input)] };
    case 'Concatenate': {
      // Shown as Vitess shows a UNION: Distinct over the concatenation of the parts it dedupes.
      const inputs = p.inputs.map(node);
      if (!p.distinct) return { OperatorType: 'Concatenate', Inputs: inputs };
      const head = { OperatorType: 'Distinct', Inputs: [{ OperatorType: 'Concatenate', Inputs: inputs.slice(0, p.distinct.through + 1) }] };
      return p.distinct.through === inputs.length - 1 ? head : { OperatorType: 'Concatenate', Inputs: [head, ...inputs.slice(p.distinct.through + 1)] };
    }
    case 'Projection':
      return { OperatorType: 'Projection', Expressions: p.columnNames, Inputs: [node(p.input)] };
    case 'Filter':
      return { OperatorType: 'Filter', Inputs: [node(p.input)] };
    case 'Send':
      return {
        OperatorType: 'Send',
        Keyspace: keyspace(p.keyspace),
        TargetDestination: p.targetShards ? p.targetShards.join(',') : p.allShards ? 'AllShards()' : 'AnyShard()',
        Query: texts.template(p.query),
      };
    case 'Next':
      return { OperatorType: 'Route', Variant: 'Next', Keyspace: keyspace(p.keyspace), Query: `select next ${texts.value(p.count)} values from ${p.sequence}`, Table: p.sequence };
    case 'Session': {
      const s = p.statement;
      switch (s.kind) {
        case 'set':
          return { OperatorType: 'Set', Ops: s.assignments.map((a) => ({ Type: a.scope === 'user' ? 'UserDefinedVariable' : 'SysVarSet', Name: a.name, Expr: 'kind' in a.value && a.value.kind === 'default' ? 'DEFAULT' : texts.value(a.value as ValueExpr) })) };
        case 'use':
          return { OperatorType: 'UpdateTarget', Target: s.target !== undefined ? `${s.keyspace}:${s.target}` : s.keyspace };
        case 'vexplain':
          return { OperatorType: 'VEXPLAIN', Inputs: [node(s.plan.instructions)] };
        case 'show':
          return { OperatorType: 'Show', Variant: s.what, ...(s.keyspace ? { Keyspace: s.keyspace } : {}) };
        default:
          return { OperatorType: 'Session', Variant: s.kind };
      }
    }
  }
}
