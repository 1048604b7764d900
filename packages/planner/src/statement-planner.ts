/**
 * The miss path: turns one normalized statement into a Plan. Synchronous and side-effect free
 * (it reads the vschema it is given), so the plan cache can run it as a single-flight compute.
 */
import type { VSchema } from '@shardgate/vschema';
import type { BindVars, KeyspaceRef, Plan, Primitive, QueryTemplate, QueryType, RouteOptions, RoutePrimitive, SqlValue, TemplatePart, ValueExpr } from './plan-types.js';
import { kw, tokenize, type Token } from './lexer.js';
import type { NormalizedQuery } from './normalizer.js';
import { normalize } from './normalizer.js';
import { parseStatement } from './sql-parser.js';
import { unreadableConstruct } from './parse-text-substitutes.js';
import { keyspaceRef, type PlanContext } from './plan-context.js';
import { planSelect } from './select-planner.js';
import { planInsert, planUpdateDelete } from './dml-planner.js';
import { parseTarget, planDdl, planKill, planSavepoint, planSelectInto, planSet, planShow, planSystemSelect, planTransaction, planUse, type TokenPlanContext } from './session-planner.js';
import { notSupported, PlanError, syntaxError, unknownKeyspace } from './errors.js';
import { encodeList, encodeSqlValue, templateFromSql } from './query-template.js';
import { renderTokens } from './shard-sql.js';
import { findTable } from './plan-context.js';
import { planPreparedStatement } from './prepared-statement-planner.js';
import { inlineCtes, inlineViews } from './cte-inliner.js';

const QUERY_TYPES: Record<string, QueryType> = {
  select: 'SELECT',
  insert: 'INSERT',
  replace: 'REPLACE',
  update: 'UPDATE',
  delete: 'DELETE',
  ddl: 'DDL',
  set: 'SET',
  use: 'USE',
  show: 'SHOW',
  begin: 'BEGIN',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  explain: 'EXPLAIN',
  other: 'OTHER',
};

/** Statements MySQL knows that shardgate refuses (1235) rather than calling them syntax errors. */
const KNOWN_UNSUPPORTED = new Set([
  'analyze', 'optimize', 'repair', 'check', 'checksum', 'flush', 'lock', 'unlock', 'call', 'do', 'load', 'handler', 'grant',
  'revoke', 'xa', 'reset', 'purge', 'change', 'install',
  'uninstall', 'cache', 'help', 'signal', 'resignal', 'get', 'declare', 'table', 'values', 'import', 'clone', 'restart', 'shutdown', 'binlog',
]);

export interface BuildInput {
  readonly normalized: NormalizedQuery;
  /** Session target: `ks`, `ks:-80`, `ks[-80]`, or null. */
  readonly target: string | null;
  readonly vschema: VSchema;
  /** Shared with nested plans so that pulled-out subquery bind vars never collide. */
  readonly subqueryCounter?: { n: number };
}

/** Builds the plan of one normalized statement. Throws PlanError. */
export function buildPlan(input: BuildInput): Plan {
  const { normalized: n, vschema } = input;
  const target = input.target ? parseTarget(input.target) : null;
  const defaultKeyspace = target && target.keyspace !== '' ? target.keyspace : null;
  if (defaultKeyspace && !vschema.keyspace(defaultKeyspace)) throw unknownKeyspace(defaultKeyspace);
  const tokens = tokenize(n.normalized);
  const tablesUsed = new Set<string>();
  const tctx: TokenPlanContext = { vschema, defaultKeyspace, tokens, tablesUsed };
  let instructions: Primitive;
  let queryType = QUERY_TYPES[n.kind]!;
  let lastInsertIdColumn: number | undefined;
  switch (n.kind) {
    case 'use':
      instructions = planUse(tctx);
      break;
    case 'begin':
    case 'commit':
    case 'rollback':
      instructions = planTransaction(tokens);
      break;
    case 'set':
      instructions = planSet(tokens);
      break;
    case 'show':
      instructions = planShow(tctx);
      break;
    case 'ddl':
      if (kw(tokens[0]) === 'drop' && kw(tokens[1]) === 'prepare') {
        instructions = planPreparedStatement(tokens, n.normalized)!;
        queryType = 'OTHER';
        break;
      }
      instructions = target?.shard !== undefined ? byDestination(vschema, target.keyspace, target.shard, n, tokens) : planDdl(tctx);
      break;
    case 'explain': {
      const r = planExplain(input, tctx);
      instructions = r.instructions;
      queryType = r.queryType;
      break;
    }
    case 'select':
    case 'insert':
    case 'replace':
    case 'update':
    case 'delete': {
      if (target?.shard !== undefined) {
        instructions = byDestination(vschema, target.keyspace, target.shard, n, tokens);
        break;
      }
      const next = planNextValues(tctx);
      if (next) {
        instructions = next;
        break;
      }
      const into = n.kind === 'select' ? planSelectInto(tokens) : null;
      if (into) {
        instructions = into;
        break;
      }
      const inlined = n.kind === 'select' ? (inlineCtes(tokens, n.normalized) ?? inlineViews(tokens, n.normalized, vschema, defaultKeyspace)) : null;
      if (inlined !== null) return buildPlan({ ...input, normalized: { ...n, normalized: inlined } });
      const system = n.kind === 'select' ? planSystemSelect(tokens) : null;
      if (system) {
        instructions = system;
        break;
      }
      let parsed: ReturnType<typeof parseStatement>;
      try {
        parsed = parseStatement(n.normalized, tokens);
      } catch (e) {
        const unparsed = (e as { errno?: number }).errno === 1064;
        const verbatim = n.kind === 'select' && unparsed ? unparsedUnshardedSelect(tctx, n) : null;
        if (verbatim === null) {
          const construct = unparsed ? unreadableConstruct(tokens) : null;
          throw construct !== null ? notSupported(construct) : e;
        }
        instructions = verbatim;
        break;
      }
      const listBinds = new Set<string>();
      for (const t of tokens) if (t.kind === 'listBind') listBinds.add(t.text.slice(2));
      const counter = input.subqueryCounter ?? { n: 0 };
      const planText = (sql: string, kind: 'select' | 'insert' = 'select'): Plan => {
        const nested = buildPlan({
          normalized: { ...n, normalized: sql, bindVars: {}, kind, placeholders: 0 },
          target: input.target,
          vschema,
          subqueryCounter: counter,
        });
        for (const t of nested.tablesUsed) tablesUsed.add(t);
        return nested;
      };
      const ctx: PlanContext = { vschema, defaultKeyspace, parsed, listBinds, directives: n.directives, edits: [], tablesUsed, nextId: 1, planText, subqueryCounter: counter };
      const type = String(parsed.ast.type);
      if (type === 'select') {
        instructions = planSelectOrRefuseCte(ctx);
        if (ctx.lastInsertIdColumn !== undefined) lastInsertIdColumn = ctx.lastInsertIdColumn;
      }
      else if (type === 'insert' || type === 'replace') instructions = planInsert(ctx);
      else if (type === 'update' || type === 'delete') instructions = planUpdateDelete(ctx);
      else throw notSupported(`${type.toUpperCase()} statement`);
      break;
    }
    default: {
      const prepared = planPreparedStatement(tokens, n.normalized);
      if (prepared) {
        instructions = prepared;
        break;
      }
      const savepoint = planSavepoint(tokens);
      if (savepoint) {
        instructions = savepoint;
        queryType = 'OTHER';
        break;
      }
      const first = kw(tokens[0]);
      if (first === 'unlock' && (kw(tokens[1]) === 'tables' || kw(tokens[1]) === 'table') && tokens.length === 2) {
        instructions = { operator: 'Session', statement: { kind: 'unlock-tables' } };
        queryType = 'OTHER';
        break;
      }
      if (first === 'lock' && (kw(tokens[1]) === 'tables' || kw(tokens[1]) === 'table')) {
        // Each shard would lock only its own copy, and the session's later reads would have to
        // stay on those connections; a transaction gives a dump its consistent view per shard.
        throw notSupported('LOCK TABLES (for mysqldump: --single-transaction to dump, --skip-add-locks to write a dump that loads through the gateway)');
      }
      if (first === 'kill') {
        instructions = planKill(tokens, n.normalized);
        queryType = 'OTHER';
        break;
      }
      if (KNOWN_UNSUPPORTED.has(first)) throw notSupported(`${first.toUpperCase()} statement`);
      throw syntaxError(n.normalized, tokens[0]?.start ?? 0);
    }
  }
  const plan: Plan = {
    queryType,
    instructions,
    tablesUsed: [...tablesUsed].sort(),
    ...(lastInsertIdColumn !== undefined ? { lastInsertIdColumn } : {}),
    ...(hasFromClause(tokens) ? { fromClause: true } : {}),
    ...(limitMayHaveOffset(tokens) ? { limitMayHaveOffset: true } : {}),
    ...(tokens.some((t) => kw(t) === 'select') ? { holdsSelect: true } : {}),
  };
  return n.kind === 'select' && mayAggregateWithoutGroupBy(tokens) ? { ...plan, foundRowsUncertain: true } : plan;
}

/**
 * Plan.fromClause: a FROM not followed by DUAL, at the top level or directly inside a subquery's
 * parentheses; one inside a function call's parentheses is that function's syntax.
 */
function hasFromClause(tokens: readonly Token[]): boolean {
  // Per open parenthesis, innermost last: whether it opens a subquery (`(select`, `(with`).
  const subquery: boolean[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct') {
      if (t.text === '(') {
        const next = kw(tokens[i + 1]);
        subquery.push(next === 'select' || next === 'with');
      } else if (t.text === ')') subquery.pop();
      continue;
    }
    if (kw(t) === 'from' && kw(tokens[i + 1]) !== 'dual' && (subquery.length === 0 || subquery[subquery.length - 1] === true)) return true;
  }
  return false;
}

/** Plan.limitMayHaveOffset. */
function limitMayHaveOffset(tokens: readonly Token[]): boolean {
  let limit = false;
  for (const t of tokens) {
    const k = kw(t);
    if (k === 'limit') limit = true;
    else if (limit && (k === 'offset' || (t.kind === 'punct' && t.text === ','))) return true;
  }
  return false;
}

/** Aggregate functions (a window's `count(*) over ()` counts too: the check only errs toward yes). */
const AGGREGATE_FUNCTIONS = new Set(['count', 'sum', 'avg', 'min', 'max', 'group_concat', 'bit_and', 'bit_or', 'bit_xor', 'std', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'json_arrayagg', 'json_objectagg']);

/**
 * Whether a SELECT may aggregate without GROUP BY (see Plan.foundRowsUncertain): it calls an
 * aggregate anywhere, or has a top-level HAVING, and has no top-level GROUP BY, or is a set
 * operation. Errs toward yes.
 */
function mayAggregateWithoutGroupBy(tokens: readonly Token[]): boolean {
  let depth = 0;
  let groupBy = false;
  let setOperation = false;
  let aggregates = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    const k = kw(t);
    if (AGGREGATE_FUNCTIONS.has(k) && tokens[i + 1]?.text === '(') aggregates = true;
    if (depth !== 0) continue;
    if (k === 'group' && kw(tokens[i + 1]) === 'by') groupBy = true;
    else if (k === 'union' || k === 'intersect' || k === 'except') setOperation = true;
    else if (k === 'having') aggregates = true;
  }
  return aggregates && (!groupBy || setOperation);
}

/** Functions whose value is the gateway session's, not a shard connection's. */
const SESSION_FUNCTION_WORDS = new Set(['database', 'schema', 'last_insert_id', 'found_rows', 'row_count', 'connection_id', 'user', 'current_user', 'session_user', 'system_user', 'version', 'get_lock', 'release_lock', 'release_all_locks', 'is_free_lock', 'is_used_lock', 'next']);

/**
 * A SELECT that our parser does not accept but MariaDB may (nested parenthesized UNIONs such as
 * `(select … union select …) union (select … union select …)`), every table of which is in one
 * unsharded keyspace: it goes to that keyspace's one shard as written, as Vitess sends such a
 * statement whole, and MariaDB answers or reports the syntax error. The tables are read from the
 * tokens: each FROM / JOIN must name a table of that keyspace (a comma-separated FROM list, a
 * derived table there, a user or system variable, or a function whose value is the session's
 * make it null: the caller reports the syntax error).
 */
function unparsedUnshardedSelect(ctx: TokenPlanContext, n: NormalizedQuery): Primitive | null {
  const toks = ctx.tokens;
  let keyspace: ReturnType<typeof findTable>['keyspace'] | null = null;
  const used: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'sysvar' || t.kind === 'uservar' || t.kind === 'verbatim') return null;
    const w = kw(t);
    if (SESSION_FUNCTION_WORDS.has(w) && toks[i + 1]?.text === '(') return null;
    // `ks.t`: the shard's database is not necessarily named after the keyspace.
    if ((t.kind === 'ident' || t.kind === 'qident') && toks[i + 1]?.text === '.' && ctx.vschema.keyspace(t.text.replace(/`/g, ''))) return null;
    if (w !== 'from' && w !== 'join' && w !== 'straight_join') continue;
    let j = i + 1;
    const first = toks[j];
    if (!first || (first.kind !== 'ident' && first.kind !== 'qident')) return null;
    let qualifier: string | null = null;
    let name = first.text.replace(/`/g, '');
    if (toks[j + 1]?.text === '.') {
      qualifier = name;
      name = toks[j + 2]?.text.replace(/`/g, '') ?? '';
      j += 2;
    }
    if (qualifier === null && name.toLowerCase() === 'dual') continue;
    let table: ReturnType<typeof findTable>;
    try {
      table = findTable(ctx, name, qualifier);
    } catch {
      return null;
    }
    if (table.keyspace.sharded || (keyspace !== null && keyspace !== table.keyspace)) return null;
    keyspace = table.keyspace;
    used.push(`${table.keyspace.name}.${table.name}`);
    // An optional alias, then anything but a comma (another table of a FROM list).
    j++;
    if (kw(toks[j]) === 'as') j++;
    if ((toks[j]?.kind === 'ident' && !RESERVED_AFTER_TABLE.has(kw(toks[j]))) || toks[j]?.kind === 'qident') j++;
    if (toks[j]?.text === ',') return null;
  }
  if (keyspace === null) return null;
  for (const u of used) ctx.tablesUsed.add(u);
  const opts: RouteOptions = n.directives;
  return {
    operator: 'Route',
    variant: 'Unsharded',
    keyspace: keyspaceRef(keyspace),
    query: templateFromSql(renderTokens(toks, 0, toks.length, [])),
    ...(opts.queryTimeoutMs !== undefined ? { queryTimeoutMs: opts.queryTimeoutMs } : {}),
  };
}

/** Words that may follow a table name in FROM and are not its alias. */
const RESERVED_AFTER_TABLE = new Set(['where', 'group', 'having', 'order', 'limit', 'union', 'join', 'inner', 'left', 'right', 'cross', 'natural', 'straight_join', 'on', 'using', 'for', 'lock', 'into', 'window', 'except', 'intersect', 'use', 'force', 'ignore', 'procedure', 'partition']);

/** With a shard target (`USE ks:-80`), statements go to that shard as written (Vitess's bypass). */
function byDestination(vschema: VSchema, keyspace: string, shard: string, n: NormalizedQuery, tokens: readonly Token[]): Primitive {
  const ks = vschema.keyspace(keyspace);
  if (!ks) throw unknownKeyspace(keyspace);
  const opts: RouteOptions = n.directives;
  return {
    operator: 'Route',
    variant: 'ByDestination',
    keyspace: keyspaceRef(ks),
    query: templateFromSql(renderTokens(tokens, 0, tokens.length, [])),
    targetShards: [shard],
    ...(opts.queryTimeoutMs !== undefined ? { queryTimeoutMs: opts.queryTimeoutMs } : {}),
    ...(opts.scatterErrorsAsWarnings ? { scatterErrorsAsWarnings: true } : {}),
  };
}

/** `select next N values from seq` (Vitess's sequence syntax). */
function planNextValues(ctx: TokenPlanContext): Primitive | null {
  const t = ctx.tokens;
  if (kw(t[0]) !== 'select' || kw(t[1]) !== 'next') return null;
  let i = 2;
  let count: Primitive extends never ? never : { kind: 'literal'; value: bigint } | { kind: 'bind'; name: string } = { kind: 'literal', value: 1n };
  if (t[i]?.kind === 'number') {
    count = { kind: 'literal', value: BigInt(t[i]!.text) };
    i++;
  } else if (t[i]?.kind === 'bind') {
    count = { kind: 'bind', name: t[i]!.text.slice(1) };
    i++;
  }
  if (kw(t[i]) !== 'value' && kw(t[i]) !== 'values') return null;
  i++;
  if (kw(t[i]) !== 'from') return null;
  i++;
  let qualifier: string | null = null;
  let name = t[i]?.text.replace(/`/g, '') ?? '';
  if (t[i + 1]?.text === '.') {
    qualifier = name;
    name = t[i + 2]?.text.replace(/`/g, '') ?? '';
  }
  const table = findTable(ctx, name, qualifier);
  if (table.type !== 'sequence') throw new PlanError(1105, 'HY000', `NEXT used on a non-sequence table \`${table.name}\``);
  ctx.tablesUsed.add(`${table.keyspace.name}.${table.name}`);
  return { operator: 'Next', keyspace: keyspaceRef(table.keyspace), sequence: `${table.keyspace.name}.${table.name}`, count };
}

/**
 * `VEXPLAIN [PLAN] q`, `EXPLAIN FORMAT=VITESS q` → the plan of q as data; `EXPLAIN q` /
 * `DESCRIBE t` go to the shard(s) q routes to.
 */
function planExplain(input: BuildInput, tctx: TokenPlanContext): { instructions: Primitive; queryType: QueryType } {
  const toks = tctx.tokens;
  const words = toks.map((t) => kw(t));
  const text = input.normalized.normalized;
  let innerStart = -1;
  let vexplain = false;
  if (words[0] === 'vexplain') {
    vexplain = true;
    innerStart = 1;
    if (words[1] === 'plan') innerStart = 2;
    else if (words[1] === 'queries' || words[1] === 'all' || words[1] === 'trace' || words[1] === 'keys') throw notSupported(`VEXPLAIN ${words[1]!.toUpperCase()}`);
  } else if (words[1] === 'format' && toks[2]?.text === '=' && words[3] === 'vitess') {
    vexplain = true;
    innerStart = 4;
  } else if (words[1] === 'format' && toks[2]?.text === '=') {
    innerStart = 4;
  } else if ((words[1] === 'extended' || words[1] === 'partitions') && words[0] !== 'vexplain') {
    // MariaDB's EXPLAIN EXTENDED / EXPLAIN PARTITIONS.
    innerStart = 2;
  } else {
    innerStart = 1;
  }
  const inner = toks[innerStart];
  if (!inner) throw syntaxError(text, text.length);
  const innerSql = text.slice(inner.start);
  const innerKind = kw(inner);
  if (!vexplain && innerKind !== 'select' && innerKind !== 'insert' && innerKind !== 'update' && innerKind !== 'delete' && innerKind !== 'replace' && inner.text !== '(') {
    // DESCRIBE t / EXPLAIN t: the table's columns, from one shard of its keyspace.
    let qualifier: string | null = null;
    let name = inner.text.replace(/`/g, '');
    if (toks[innerStart + 1]?.text === '.') {
      qualifier = name;
      name = toks[innerStart + 2]?.text.replace(/`/g, '') ?? '';
    }
    const table = findTable(tctx, name, qualifier);
    tctx.tablesUsed.add(`${table.keyspace.name}.${table.name}`);
    return {
      queryType: 'EXPLAIN',
      instructions: { operator: 'Send', keyspace: keyspaceRef(table.keyspace), query: templateFromSql(`describe \`${table.name.replace(/`/g, '``')}\``), allShards: false },
    };
  }
  const innerNormalized = normalize(innerSql);
  const innerPlan = buildPlan({ normalized: innerNormalized, target: input.target, vschema: input.vschema });
  for (const t of innerPlan.tablesUsed) tctx.tablesUsed.add(t);
  if (vexplain) return { queryType: 'EXPLAIN', instructions: { operator: 'Session', statement: { kind: 'vexplain', plan: innerPlan } } };
  return { queryType: 'EXPLAIN', instructions: explainOnShard(text.slice(0, inner.start), innerPlan.instructions, innerNormalized.bindVars) };
}

/**
 * MySQL's EXPLAIN of a statement, answered by a shard (as Vitess sends `explain …` to a shard):
 * the statement the shard would run, prefixed with the EXPLAIN words. A route that reaches one
 * shard keeps its routing, so the shard that holds the rows explains; a statement that reaches
 * several shards through one route is explained by any one shard of its keyspace (they share the
 * schema). Statements that need several routes are refused. The EXPLAIN statement is not
 * normalized (its plan is cached by its own text), so the inner statement's values are inlined
 * into the shard SQL and into the routing values; session binds (`:__vtdbname`) stay binds.
 */
function explainOnShard(prefix: string, ins: Primitive, binds: BindVars): Primitive {
  const withPrefix = (q: QueryTemplate): QueryTemplate => inlineBinds({ parts: [prefix, ...q.parts] }, binds);
  const anyShard = (keyspace: KeyspaceRef, q: QueryTemplate): Primitive => ({ operator: 'Send', keyspace, query: withPrefix(q), allShards: false });
  let route: RoutePrimitive | null = null;
  if (ins.operator === 'Route') route = ins;
  else if (ins.operator === 'Update' || ins.operator === 'Delete') route = ins.route;
  else if (ins.operator === 'Insert') {
    if (ins.source !== undefined) throw notSupported('EXPLAIN of INSERT … SELECT into a sharded keyspace; use VEXPLAIN PLAN');
    // The rows as the client wrote them (a generated auto-increment id is left NULL: EXPLAIN
    // does not insert).
    const rowBinds = binds[ins.rowsBind];
    const rows = Array.isArray(rowBinds) ? (rowBinds as readonly (readonly SqlValue[])[]) : [];
    const parts: TemplatePart[] = [ins.prefix];
    rows.forEach((vals, i) => {
      if (i > 0) parts.push(', ');
      for (const part of (ins.rowTemplates?.[i] ?? ins.rowTemplate).parts) {
        const pos = typeof part !== 'string' && 'bind' in part && part.bind.startsWith('$') ? Number(part.bind.slice(1)) : NaN;
        parts.push(Number.isNaN(pos) ? part : encodeSqlValue(vals[pos] ?? null));
      }
    });
    parts.push(...ins.suffix.parts);
    return anyShard(ins.keyspace, { parts });
  } else {
    // One route under gateway operators (merge, aggregate, limit…): the shard explains its part.
    let p: Primitive = ins;
    while (p.operator === 'Aggregate' || p.operator === 'Sort' || p.operator === 'Limit' || p.operator === 'Distinct' || p.operator === 'Projection' || p.operator === 'Filter') p = p.input;
    if (p.operator !== 'Route') throw notSupported('EXPLAIN of a query that needs several routes; use VEXPLAIN PLAN');
    return anyShard(p.keyspace, p.query);
  }
  if (!SINGLE_SHARD_VARIANTS.has(route.variant)) return anyShard(route.keyspace, route.query);
  const explained: { -readonly [K in keyof RoutePrimitive]: RoutePrimitive[K] } = { ...route, query: withPrefix(route.query) };
  if (route.values) explained.values = route.values.map((v) => inlineValue(v, binds));
  delete explained.fieldQuery;
  delete explained.orderBy;
  delete explained.resultColumns;
  delete explained.hiddenColumns;
  delete explained.inListBind;
  return explained;
}

/** Route variants that reach at most one shard (None is left out: it sends nothing). */
const SINGLE_SHARD_VARIANTS = new Set<RoutePrimitive['variant']>(['EqualUnique', 'Unsharded', 'Reference', 'DBA', 'ByDestination']);

/** A template with the given binds rendered as literals; other binds (session binds) are kept. */
function inlineBinds(t: QueryTemplate, binds: BindVars): QueryTemplate {
  const parts: TemplatePart[] = [];
  for (const part of t.parts) {
    if (typeof part === 'string') {
      parts.push(part);
      continue;
    }
    const name = 'bind' in part ? part.bind : part.list;
    const v = binds[name];
    if (v === undefined) parts.push(part);
    else parts.push(Array.isArray(v) ? encodeList(v as readonly SqlValue[]) : 'list' in part ? encodeList([v as SqlValue]) : encodeSqlValue(v as SqlValue));
  }
  const merged: TemplatePart[] = [];
  for (const part of parts) {
    const last = merged[merged.length - 1];
    if (typeof part === 'string' && typeof last === 'string') merged[merged.length - 1] = last + part;
    else merged.push(part);
  }
  return { parts: merged };
}

function inlineValue(v: ValueExpr, binds: BindVars): ValueExpr {
  switch (v.kind) {
    case 'bind':
    case 'bindList': {
      const b = binds[v.name];
      if (b === undefined) return v;
      return Array.isArray(b) ? { kind: 'list', items: (b as readonly SqlValue[]).map((value) => ({ kind: 'literal', value })) } : { kind: 'literal', value: b as SqlValue };
    }
    case 'list':
      return { kind: 'list', items: v.items.map((x) => inlineValue(x, binds)) };
    default:
      return v;
  }
}


/**
 * A recursive WITH (which inlineCtes leaves as written) plans only where the whole statement goes
 * to one unsharded route (its CTE names then pass through untouched); elsewhere the CTE name is
 * looked up as a table and not found, which would report a misleading 1146 for a table the user
 * never meant: say what is unsupported.
 */
function planSelectOrRefuseCte(ctx: PlanContext): Primitive {
  const ctes = (ctx.parsed.ast as { with?: unknown }).with;
  if (!Array.isArray(ctes) || ctes.length === 0) return planSelect(ctx);
  try {
    return planSelect(ctx);
  } catch (e) {
    if ((e as { errno?: number }).errno === 1146) throw notSupported('recursive WITH (common table expressions) over sharded tables');
    throw e;
  }
}
