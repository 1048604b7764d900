/**
 * Builds the primitives of a SELECT: one Route when the analyzer merged everything into one
 * candidate (with a merge-sort, Limit, Distinct or Aggregate on top when the route reaches several
 * shards), otherwise a cross-shard plan (see cross-shard-planner.ts).
 */
import { collationKeySql, distinctCollationKeySql } from './collation-key-sql.js';
import type { AggregateParam, OrderByKey, Primitive, RoutePrimitive, ValueExpr } from './plan-types.js';
import { columnName, functionArgs, functionName, isColumnRef, walk } from './ast-utils.js';
import { anyKeyspace, keyspaceRef, type PlanContext } from './plan-context.js';
import { tokenRange, type Ast } from './sql-parser.js';
import { templateFromTokens, renderTokens, quoteIdent, type TokenEdit } from './shard-sql.js';
import { SelectAnalyzer, containsSubquery, hasAggregate, type Analyzed } from './select-analyzer.js';
import { computeRouting, isSingleShard, type Cand, type Routing, type TableRef } from './routing.js';
import { kw, type Token } from './lexer.js';
import { ANNOUNCED_SERVER_VERSION, ANNOUNCED_VERSION_COMMENT } from './announced-version.js';
import { notSupported, PlanError } from './errors.js';
import { isPlainCrossShardJoin, planCrossShard } from './cross-shard-planner.js';
import { planDerivedAtGateway } from './derived-table-planner.js';
import { planScatterAggregate } from './scatter-aggregate-planner.js';
import { planCalcFoundRows } from './found-rows-planner.js';
import { planUnionParts, unionDistinctKeys, unionHasTail } from './union-planner.js';

/** Plans a SELECT statement (the parsed statement in `ctx`). */
export function planSelect(ctx: PlanContext): Primitive {
  const ast = ctx.parsed.ast;
  if (ctx.parsed.nullSafeEqual === undefined) throw new Error('unreachable');
  if (checkFoundRows(ctx)) return planCalcFoundRows(ctx);
  const analyzer = new SelectAnalyzer(ctx);
  const analyzed = analyzer.analyze(ast, null);
  addExpressionEdits(ctx, ast);
  if (analyzed.cand) {
    const top = planOneRoute(ctx, analyzer, analyzed, analyzed.cand);
    if (ctx.lastInsertIdColumn !== undefined && !(top.operator === 'Route' || (top.operator === 'Limit' && top.input.operator === 'Route'))) {
      throw notSupported('LAST_INSERT_ID(expr) in a SELECT whose rows the gateway combines (sorts, aggregates or deduplicates)');
    }
    return top;
  }
  if (ctx.lastInsertIdColumn !== undefined) throw notSupported('LAST_INSERT_ID(expr) in a SELECT that needs several routes');
  // A `<=>` the parser adapter could not place is a `>=` node (see sql-parser.ts): only the join
  // planner, which sends it to shards as written and never evaluates it itself, accepts it.
  if (ctx.parsed.nullSafeEqual && !isPlainCrossShardJoin(ctx, analyzed)) throw notSupported('<=> in a query that needs several routes');
  return planCrossShard(ctx, analyzer, analyzed);
}

/**
 * Whether the statement holds a window function (`f(…) OVER (…)` or `f(…) OVER w`). The gateway
 * never evaluates one: a shard computes it over its own rows only, so a statement with one may
 * only be sent whole to a single shard. Plans that split the statement into statements of their
 * own (UNION parts, pulled-out subqueries) plan each through planText, which checks it again.
 */
export function statementHasWindow(ctx: PlanContext): boolean {
  const toks = ctx.parsed.tokens;
  for (let i = 1; i < toks.length - 1; i++) {
    if (kw(toks[i]) !== 'over' || toks[i - 1]!.text !== ')') continue;
    const next = toks[i + 1]!;
    if (next.text === '(' || next.kind === 'ident' || next.kind === 'qident') return true;
  }
  return false;
}

/** Refuses a window function in a statement whose rows come from several shards (as Vitess does). */
export function refuseWindowAcrossShards(ctx: PlanContext): void {
  if (statementHasWindow(ctx)) throw notSupported('window function (OVER) in a query that is not sent whole to a single shard');
}

/**
 * SQL_CALC_FOUND_ROWS is only valid on the outermost SELECT. Returns whether the statement has it
 * with a LIMIT (see found-rows-planner.ts); without one it changes nothing: FOUND_ROWS() then
 * counts the rows the statement returns, as after any SELECT.
 */
function checkFoundRows(ctx: PlanContext): boolean {
  const toks = ctx.parsed.tokens;
  let calc = false;
  for (let i = 0; i < toks.length; i++) {
    if (kw(toks[i]) !== 'sql_calc_found_rows') continue;
    if (i !== 1 || kw(toks[0]) !== 'select') throw new PlanError(1234, '42000', "Incorrect usage/placement of 'SQL_CALC_FOUND_ROWS'");
    calc = true;
  }
  if (!calc) return false;
  for (let part = ctx.parsed.ast; part; part = part._next) if (part.limit?.value?.length > 0) return true;
  return false;
}

/** MariaDB's named-lock functions (see addExpressionEdits). */
const NAMED_LOCK_FUNCTIONS: ReadonlySet<string> = new Set(['get_lock', 'release_lock', 'release_all_locks', 'is_free_lock', 'is_used_lock']);

/**
 * System variables whose value is the client's session's (or the gateway's), which a pooled
 * shard connection would answer with its own: what each becomes in a statement sent to shards,
 * given the variable as written. `@@last_insert_id` would be whichever client's last insert id
 * that connection saw last, and `@@autocommit` the connection's, never what the client SET. The
 * session's value goes in an IF whose other branch is the variable itself, so the column keeps
 * MariaDB's type (BIGINT UNSIGNED, BIGINT): a bare literal would be an INT, which clients decode
 * differently (the mariadb connector gives a BIGINT as a bigint).
 */
const SESSION_VARIABLE_TEXT: ReadonlyMap<string, (written: string) => string> = new Map([
  ['last_insert_id', sessionLastInsertId],
  ['identity', sessionLastInsertId],
  ['autocommit', (v: string) => `if(1, :__vtautocommit, ${v})`],
  ['version', () => `'${ANNOUNCED_SERVER_VERSION}'`],
  ['version_comment', () => `'${ANNOUNCED_VERSION_COMMENT}'`],
]);

/** The session's last insert id in place of `written` (`@@last_insert_id`, `@@identity`, `last_insert_id()`), typed as MariaDB types them. */
function sessionLastInsertId(written: string): string {
  return `if(1, cast(:__lastInsertId as unsigned), ${written})`;
}

/**
 * Session system variables the gateway keeps itself and does not pass to shard statements, where
 * the pooled connection's value would be another client's or the default: the previous
 * statement's counts, and what the gateway applies itself (sql_select_limit, read-only access).
 */
const GATEWAY_ONLY_VARIABLES: ReadonlySet<string> = new Set(['warning_count', 'error_count', 'sql_select_limit', 'tx_read_only', 'transaction_read_only']);

/** Keywords that end a select list at the top level of a statement. */
const SELECT_LIST_END: ReadonlySet<string> = new Set(['from', 'where', 'group', 'having', 'order', 'limit', 'into', 'union', 'intersect', 'except', 'window', 'for', 'lock']);

/**
 * The SESSION_VARIABLE_TEXT edits of a statement's `@@` variables (session scope; `@@global.`
 * only for the version, which has no other). One that is a whole select-list column without an
 * alias keeps its name (` as \`@@autocommit\``), as MariaDB names the column after its text.
 */
function addSessionVariableEdits(ctx: PlanContext): void {
  const toks = ctx.parsed.tokens;
  let depth = 0;
  let inSelectList = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0) {
      const w = kw(t);
      if (w === 'select') inSelectList = true;
      else if (SELECT_LIST_END.has(w)) inSelectList = false;
    }
    if (t.kind !== 'sysvar') continue;
    const parts = t.text.slice(2).replace(/`/g, '').toLowerCase().split('.');
    const scope = parts.length === 2 ? parts[0]! : 'session';
    const name = parts[parts.length - 1]!;
    if (parts.length > 2 || (scope !== 'session' && scope !== 'local' && scope !== 'global')) continue;
    if (GATEWAY_ONLY_VARIABLES.has(name) && scope !== 'global') {
      throw notSupported(`@@${name} beside other columns or in a statement that goes to shards; use SELECT @@${name} alone`);
    }
    const rewrite = SESSION_VARIABLE_TEXT.get(name);
    if (rewrite === undefined || (scope === 'global' && !name.startsWith('version'))) continue;
    const text = rewrite(t.text);
    const prev = toks[i - 1];
    const next = toks[i + 1];
    const wholeColumn = depth === 0 && inSelectList && (kw(prev) === 'select' || prev?.text === ',') && (next === undefined || next.text === ',' || SELECT_LIST_END.has(kw(next)));
    ctx.edits.push({ from: i, to: i + 1, text: wholeColumn ? `${text} as ${quoteIdent(t.text, true)}` : text });
  }
}

/**
 * Edits that apply wherever an expression sits: `ks.t.col` loses its keyspace, `database()`,
 * `last_insert_id()`, `user()`, `current_user()` and `connection_id()` become the session bind
 * vars the executor fills (as Vitess rewrites them), and `version()` the announced version; so do
 * the session's system variables (addSessionVariableEdits).
 */
export function addExpressionEdits(ctx: PlanContext, ast: Ast): void {
  const p = ctx.parsed;
  // A select-list column without an alias is named after its text, as MySQL names it
  // (`database()`), not after the bind var that replaces it.
  const unaliased = new Set<Ast>();
  for (let part = ast; part; part = part._next) for (const c of Array.isArray(part.columns) ? part.columns : []) if (!c.as) unaliased.add(c.expr);
  addSessionVariableEdits(ctx);
  const rewrite = (n: Ast, bind: string): void => {
    const r = tokenRange(p, n);
    if (!r) return;
    const name = unaliased.has(n) ? ' as ' + quoteIdent(renderTokens(p.tokens, r[0], r[1], []), true) : '';
    ctx.edits.push({ from: r[0], to: r[1], text: bind + name });
  };
  walk(ast, (n) => {
    if (isColumnRef(n) && n.db) {
      const r = tokenRange(p, n);
      if (r && p.tokens[r[0] + 1]?.text === '.') ctx.edits.push({ from: r[0], to: r[0] + 2, text: '' });
      return true;
    }
    if (n.type === 'function') {
      const name = functionName(n);
      const args = functionArgs(n);
      if (NAMED_LOCK_FUNCTIONS.has(name)) {
        // A named lock would be taken on whichever pooled shard connection runs the statement:
        // another client could take it too, and RELEASE_LOCK would land elsewhere.
        throw notSupported(`${name.toUpperCase()}() (named locks)`);
      }
      if (name === 'found_rows') {
        // The session keeps it, and answers `SELECT FOUND_ROWS()` itself (session-planner.ts); a
        // shard would answer for whatever its pooled connection ran last.
        throw notSupported('FOUND_ROWS() beside other columns or in a statement that goes to shards; use SELECT FOUND_ROWS() alone');
      }
      if (name === 'row_count') {
        // It describes the previous statement of the connection that runs it: a pooled shard
        // connection's, i.e. some other client's statement, never this session's.
        throw notSupported("ROW_COUNT() (the gateway does not keep the previous statement's row counts)");
      }
      // Each in an IF whose other branch is the call itself, so that the column is described as
      // MariaDB describes the call (DATABASE() a nullable VARCHAR(64), not a 2-character literal).
      if ((name === 'database' || name === 'schema') && args.length === 0) rewrite(n, `if(1, :__vtdbname, ${name}())`);
      // The session's values, not the pooled shard connection's (which would name the gateway's
      // shard account and version): see SESSION_BINDS in plan-types.ts.
      else if (name === 'version' && args.length === 0) rewrite(n, `'${ANNOUNCED_SERVER_VERSION}'`);
      else if ((name === 'user' || name === 'session_user' || name === 'system_user') && args.length === 0) rewrite(n, `if(1, :__vtuser, ${name}())`);
      else if (name === 'current_user' && args.length === 0) rewrite(n, 'if(1, :__vtcurrentuser, current_user())');
      else if (name === 'connection_id' && args.length === 0) rewrite(n, ':__vtconnectionid');
      else if (name === 'last_insert_id' && args.length === 0) rewrite(n, sessionLastInsertId('last_insert_id()'));
      else if (name === 'last_insert_id' && ast.type === 'select') {
        // LAST_INSERT_ID(expr) sets the value the next LAST_INSERT_ID() returns. Run on a shard it
        // sets it on a pooled shard connection, never the session's: the session takes it from
        // the column (see Plan.lastInsertIdColumn), where that column is the value MariaDB would
        // keep. (In INSERT/UPDATE the shard's OK packet carries the value.)
        const column = lastInsertIdColumnOf(ctx, ast, n);
        if (column === undefined || ctx.lastInsertIdColumn !== undefined) {
          throw notSupported('LAST_INSERT_ID(expr) other than as one select-list column of a SELECT without GROUP BY, DISTINCT, aggregates or UNION; use SELECT LAST_INSERT_ID(constant) alone, or an UPDATE or INSERT');
        }
        ctx.lastInsertIdColumn = column;
      }
    }
    return true;
  });
}

/**
 * The select-list position of `fn`, a LAST_INSERT_ID(expr) call, when MariaDB's last evaluation
 * of it is the last row it sends: a whole column of the top-level SELECT (not a UNION part), with
 * no GROUP BY, HAVING, DISTINCT, aggregate or window (those evaluate the select list as they
 * group, in another order). Else undefined.
 */
function lastInsertIdColumnOf(ctx: PlanContext, ast: Ast, fn: Ast): number | undefined {
  if (ast !== ctx.parsed.ast || ast._next || ast.distinct || ast.having || (ast.groupby?.columns ?? []).length > 0 || ctx.parsed.intoOutfile >= 0) return undefined;
  if (functionArgs(fn).length !== 1 || statementHasWindow(ctx)) return undefined;
  // A subquery (`where x in (select …)`) lets MariaDB pick a semi-join plan that reads the rows
  // in another order than it sends them (random differential, seed 54 #9574: 4 where the last
  // row sent has 5).
  if ([ast.where, ast.columns, ast.orderby].some((x) => x && containsSubquery(x)) || (Array.isArray(ast.from) && ast.from.some((f: Ast) => f?.expr?.ast))) return undefined;
  const columns: Ast[] = Array.isArray(ast.columns) ? ast.columns : [];
  const k = columns.findIndex((c) => c.expr === fn);
  if (k < 0 || columns.some((c) => hasAggregate(c.expr) || (isColumnRef(c.expr) && columnName(c.expr) === '*'))) return undefined;
  // An ORDER BY on the call itself (its alias, position or any expression) makes MariaDB evaluate
  // it for every row while sorting; a column of a table is read as it is.
  const alias = typeof columns[k]!.as === 'string' ? columns[k]!.as.toLowerCase() : null;
  const orderBy: Ast[] = Array.isArray(ast.orderby) ? ast.orderby : [];
  if (orderBy.some((o) => !isColumnRef(o.expr) || String(columnName(o.expr)).toLowerCase() === alias)) return undefined;
  // A join sorted by ORDER BY goes through a temporary table, which MariaDB fills (evaluating
  // the select list) in join order before it sorts; one table is sorted first, then evaluated.
  // (A derived table may be merged into a join, and SQL_BUFFER_RESULT fills a temporary table too.)
  const from: Ast[] = Array.isArray(ast.from) ? ast.from : [];
  if (orderBy.length > 0 && (from.length > 1 || from.some((f) => f.expr !== undefined || !f.table))) return undefined;
  if (ctx.parsed.tokens.some((t) => kw(t) === 'sql_buffer_result')) return undefined;
  return k;
}

/** The keyspace and variant a routing resolves to (dual and DBA go to the session's keyspace). */
export function resolveRouting(ctx: PlanContext, r: Routing): { variant: RoutePrimitive['variant']; keyspace: NonNullable<Routing['keyspace']> } {
  const ks = r.keyspace ?? anyKeyspace(ctx.vschema, ctx.defaultKeyspace);
  return { variant: r.variant, keyspace: ks };
}

/** Builds the Route for a candidate that covers the whole statement. */
export function routeFor(ctx: PlanContext, cand: Cand, query: RoutePrimitive['query'], extra: Partial<RoutePrimitive> = {}): RoutePrimitive {
  const r = computeRouting(cand);
  const { variant, keyspace } = resolveRouting(ctx, r);
  const tables = [...new Set(cand.tables.filter((t) => t.kind === 'table' && t.table).map((t) => t.table!.name))];
  const route: {
    -readonly [K in keyof RoutePrimitive]: RoutePrimitive[K];
  } = {
    operator: 'Route',
    variant,
    keyspace: keyspaceRef(keyspace),
    query,
    ...(tables.length > 0 ? { table: tables.join(', ') } : {}),
  };
  if (r.pinned !== undefined) {
    route.vindex = 'binary';
    route.values = [{ kind: 'literal', value: hexBytes(r.pinned) }];
    route.pinned = r.pinned;
  } else if (r.vindex && r.values) {
    route.vindex = r.vindex.name;
    route.values = r.values;
    const lookup = lookupKind(r.vindex.vindex);
    if (lookup) route.lookup = lookup;
    if (variant === 'IN' && r.values.length === 1 && r.values[0]!.kind === 'bindList') route.inListBind = r.values[0]!.name;
  }
  if (ctx.directives.queryTimeoutMs !== undefined) route.queryTimeoutMs = ctx.directives.queryTimeoutMs;
  if (ctx.directives.scatterErrorsAsWarnings) route.scatterErrorsAsWarnings = true;
  return Object.assign(route, extra);
}

/**
 * Lookup vindexes that Vitess plans as a VindexLookup (LookupPlanable): the lookup family and the
 * planner-test stand-ins name_lkp_test / unq_lkp_test. Others (lookup_test, costly,
 * lookup_unicodeloosemd5_hash) are resolved inside the route.
 */
function lookupKind(v: { kind: string; type: string }): 'planable' | 'inline' | undefined {
  if (v.kind !== 'lookup') return undefined;
  const planable = ['lookup', 'lookup_unique', 'consistent_lookup', 'consistent_lookup_unique', 'name_lkp_test', 'unq_lkp_test'];
  return planable.includes(v.type) ? 'planable' : 'inline';
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** The whole statement as one route, plus what the gateway must do when it reaches several shards. */
function planOneRoute(ctx: PlanContext, analyzer: SelectAnalyzer, analyzed: Analyzed, cand: Cand): Primitive {
  const p = ctx.parsed;
  const ast = p.ast;
  const r = computeRouting(cand);
  if (isSingleShard(r) || r.base === 'dual') {
    return routeFor(ctx, cand, templateFromTokens(p.tokens, 0, p.tokens.length, ctx.edits));
  }
  if (p.intoOutfile >= 0) throw notSupported('INTO OUTFILE on a query that reaches several shards');
  // Each shard would intersect or subtract only its own rows.
  for (let cur = ast; cur; cur = cur._next) {
    if (/intersect|except|minus/i.test(String(cur.set_op ?? ''))) throw notSupported('INTERSECT or EXCEPT that reaches several shards');
  }
  // A UNION over several shards with its own ORDER BY/LIMIT, or with parts that need the gateway
  // (LIMIT, aggregation, DISTINCT per part): each part is planned on its own.
  // So is a chain where UNION ALL follows a DISTINCT union: one Distinct over the whole chain would
  // remove the ALL parts' duplicates too.
  if (ast._next && (cand.opaque || unionHasTail(ast) || allAfterDistinct(ast))) return planUnionParts(ctx);
  refuseWindowAcrossShards(ctx);
  // A derived table or subquery with LIMIT/aggregation/DISTINCT that reaches several shards would
  // be computed per shard: a lone derived table is evaluated at the gateway where it can be (see
  // derived-table-planner.ts), anything else refused rather than answered wrong.
  const derived = cand.opaque ? planDerivedAtGateway(ctx, analyzer, analyzed) : null;
  if (derived) return derived;
  if (cand.opaque) throw notSupported('LIMIT, aggregation, DISTINCT or a window function inside a derived table, subquery or UNION part that reaches several shards');
  if (!ast._next && (ast._orderby || ast._limit)) {
    const unwrapped = unwrapParenthesizedQuery(p.tokens);
    if (unwrapped === null) throw notSupported('ORDER BY or LIMIT on a parenthesized query with its own LIMIT that reaches several shards');
    return ctx.planText(unwrapped).instructions;
  }
  if (ast._next) {
    // UNION over several shards: UNION ALL concatenates; UNION also removes duplicates at the gateway.
    if (ast._orderby || ast._limit) throw notSupported('ORDER BY or LIMIT on a UNION that reaches several shards');
    if (unionIsAll(ast)) return routeFor(ctx, cand, templateFromTokens(p.tokens, 0, p.tokens.length, ctx.edits));
    const keys = unionDistinctKeys(ctx);
    const route = routeFor(ctx, cand, templateFromTokens(p.tokens, 0, p.tokens.length, [...ctx.edits, ...keys.edits]));
    return { operator: 'Distinct', input: route, weightStringColumns: keys.weightStringColumns, collationTagColumn: keys.collationTagColumn, resultColumns: keys.visible };
  }
  return planScatterSelect(ctx, analyzer, analyzed, cand);
}

/** True when a UNION ALL follows a DISTINCT union in the chain (`a UNION b UNION ALL c`). */
function allAfterDistinct(ast: Ast): boolean {
  let sawDistinct = false;
  for (let cur = ast; cur && cur._next; cur = cur._next) {
    if (!String(cur.set_op ?? '').toLowerCase().includes('all')) sawDistinct = true;
    else if (sawDistinct) return true;
  }
  return false;
}

function unionIsAll(ast: Ast): boolean {
  for (let cur = ast; cur; cur = cur._next) {
    if (cur._next && !String(cur.set_op ?? '').toLowerCase().includes('all')) return false;
  }
  return true;
}

/** Index of the token where the top-level select list ends (FROM, WHERE… or the end). */
export function selectListEnd(ctx: PlanContext): number {
  const toks = ctx.parsed.tokens;
  let depth = 0;
  const stops = new Set(['from', 'where', 'group', 'having', 'order', 'limit', 'into', 'window', 'for', 'lock', 'union']);
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && stops.has(kw(t))) return i;
  }
  return toks.length;
}

/** Text of an AST node's tokens (with the statement's edits applied). */
export function nodeText(ctx: PlanContext, n: Ast): string | null {
  let r = tokenRange(ctx.parsed, n);
  // The parser gives a unary minus no position: take its operand's, plus the `-` before it.
  if (!r && n?.type === 'unary_expr' && n.operator === '-') {
    const inner = tokenRange(ctx.parsed, n.expr);
    if (inner && ctx.parsed.tokens[inner[0] - 1]?.text === '-') r = [inner[0] - 1, inner[1]];
  }
  if (!r && n?.type === 'case') r = caseRange(ctx, n);
  if (!r) return null;
  return renderTokens(ctx.parsed.tokens, r[0], r[1], ctx.edits);
}

/**
 * The tokens of a CASE expression, which the parser gives no position: from the `case` before its
 * first positioned part to the `end` that closes it (nested CASEs counted). Null when the tokens
 * found do not form one balanced CASE … END.
 */
function caseRange(ctx: PlanContext, n: Ast): [number, number] | null {
  const toks = ctx.parsed.tokens;
  let first = Infinity;
  let last = -1;
  walk(n, (x) => {
    const r = tokenRange(ctx.parsed, x);
    if (r) {
      first = Math.min(first, r[0]);
      last = Math.max(last, r[1]);
      return false;
    }
    return true;
  });
  if (last < 0) return null;
  let start = first - 1;
  while (start >= 0 && kw(toks[start]) !== 'case') {
    if (kw(toks[start]) !== 'when' && toks[start]!.kind !== 'string' && toks[start]!.kind !== 'number' && toks[start]!.kind !== 'bind') return null;
    start--;
  }
  if (start < 0) return null;
  let depth = 0;
  let parens = 0;
  for (let i = start; i < toks.length; i++) {
    const k = kw(toks[i]);
    if (toks[i]!.text === '(') parens++;
    else if (toks[i]!.text === ')') parens--;
    if (parens < 0) return null;
    if (k === 'case') depth++;
    else if (k === 'end') {
      depth--;
      if (depth === 0) return i >= last && parens === 0 ? [start, i + 1] : null;
    }
  }
  return null;
}

const NUMERIC_TYPES = /^(U?INT\d*|DECIMAL|FLOAT\d*|BIT|YEAR)$/i;

/**
 * A single route over several shards: the shards run the query; the gateway merges ordered
 * streams, applies LIMIT, removes duplicates or finishes aggregates.
 */
function planScatterSelect(ctx: PlanContext, analyzer: SelectAnalyzer, analyzed: Analyzed, cand: Cand): Primitive {
  const p = ctx.parsed;
  const sel = p.ast;
  const scope = analyzed.scope;
  const columns: Ast[] = Array.isArray(sel.columns) ? sel.columns : [];
  const hasStar = columns.some((c) => isColumnRef(c.expr) && columnName(c.expr) === '*');
  const groupCols: Ast[] = sel.groupby?.columns ?? [];
  const aggregated = groupCols.length > 0 || columns.some((c) => hasAggregate(c.expr)) || (!!sel.having && hasAggregate(sel.having)) || (sel.orderby ?? []).some((o: Ast) => hasAggregate(o.expr));
  const complete = (keys: Ast[]): boolean => keys.some((g) => isColumnRef(g) && analyzer.isUniqueVindexColumn(cand, analyzer.resolve(g, scope)));
  const edits: TokenEdit[] = [...ctx.edits];
  const listEnd = selectListEnd(ctx);
  const hidden: string[] = [];
  // With a `*` the visible width is unknown: helper columns are then addressed from the end
  // (fixed up below once their number is known).
  const visible = hasStar ? 0 : columns.length;
  const addHidden = (text: string): number => {
    hidden.push(text);
    return visible + hidden.length - 1;
  };

  let needsAggregation = aggregated && !complete(groupCols);
  let distinct = !!sel.distinct && !complete(columns.map((c) => c.expr));
  if (needsAggregation) return planScatterAggregate(ctx, analyzer, analyzed, cand);
  // The gateway's duplicate check compares strings by collation keys pushed beside each selected
  // column; a `*` has no column texts to key, and without keys 'ab' and 'AB' of a utf8mb4_bin or
  // latin1 column would be merged as under utf8mb4_general_ci. Name the columns instead.
  if (distinct && hasStar) throw notSupported('SELECT DISTINCT * across shards (name the columns)');

  // ORDER BY: merge the shard streams.
  const orderBy: OrderByKey[] = [];
  for (const o of sel.orderby ?? []) {
    const e = o.expr;
    const desc = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
    let idx = -1;
    if (e?.type === 'number' && hasStar && columns.length === 1 && Number(e.value) >= 1) {
      // `select * … order by n`: the shards order by their n-th column, the gateway merges by its
      // value (a position past the last column is the shards' 1054).
      orderBy.push({ column: Number(e.value) - 1, desc, noCollationKey: true });
      continue;
    }
    if (e?.type === 'number') {
      idx = Number(e.value) - 1;
      if (hasStar || idx < 0 || idx >= columns.length) throw notSupported('ORDER BY position over * across shards (other than a lone *)');
    } else {
      idx = hasStar ? -1 : findSelectColumn(ctx, analyzer, columns, e, scope);
      if (idx < 0) {
        const text = nodeText(ctx, e);
        if (text === null) throw notSupported('ORDER BY expression across shards');
        idx = addHidden(text);
      }
    }
    let ws: number | undefined;
    const colExpr = !hasStar && idx < columns.length && idx >= 0 ? columns[idx].expr : e;
    if (!isNumericExpr(analyzer, colExpr, scope)) {
      const text = nodeText(ctx, colExpr);
      if (text === null) throw notSupported('ORDER BY expression across shards');
      // A shard's DISTINCT sees the key column too: it must not tell collation-equal strings apart.
      ws = addHidden(sel.distinct ? distinctCollationKeySql(text) : collationKeySql(text));
    }
    orderBy.push(ws === undefined ? { column: idx, desc } : { column: idx, weightStringColumn: ws, desc });
  }

  // SELECT DISTINCT: the gateway's duplicate check compares strings by their collation keys.
  const distinctWs = new Map<number, number>();
  if (distinct && !hasStar) {
    for (const o of orderBy) if (o.weightStringColumn !== undefined && o.column >= 0 && o.column < visible) distinctWs.set(o.column, o.weightStringColumn);
    columns.forEach((c, i) => {
      if (i >= visible || distinctWs.has(i) || isNumericExpr(analyzer, c.expr, scope)) return;
      const text = nodeText(ctx, c.expr);
      if (text === null) throw notSupported('SELECT DISTINCT expression across shards');
      distinctWs.set(i, addHidden(distinctCollationKeySql(text)));
    });
  }

  // LIMIT: each shard returns offset+count rows; the gateway applies the offset.
  let limitCount: ValueExpr | undefined;
  let limitOffset: ValueExpr | undefined;
  const limitClause = limitNodes(sel.limit);
  if (limitClause !== null) {
    limitCount = limitValue(limitClause.count);
    limitOffset = limitClause.offset === undefined ? undefined : limitValue(limitClause.offset);
    if (limitOffset !== undefined) {
      const r = tokenRange(p, sel.limit);
      if (!r || limitCount.kind !== 'literal' || limitOffset.kind !== 'literal') throw notSupported('LIMIT with an offset that is not a constant, across shards');
      const start = r[0] + (kw(p.tokens[r[0]]) === 'limit' ? 0 : -1);
      const end = r[1];
      if (kw(p.tokens[start]) !== 'limit') throw notSupported('LIMIT clause shape');
      const upper = BigInt(limitCount.value as bigint) + BigInt(limitOffset.value as bigint);
      edits.push({ from: start, to: end, text: `limit ${upper}` });
    }
    // DISTINCT with LIMIT: a shard's first offset+count distinct rows (in the ORDER BY, or any)
    // hold every row of the answer that the shard has, so the shards may apply the limit too;
    // the gateway removes the duplicates across shards first, then applies the LIMIT.
  }
  if (hidden.length > 0) edits.push({ from: listEnd, to: listEnd, text: ', ' + hidden.join(', ') });
  const query = templateFromTokens(p.tokens, 0, p.tokens.length, edits);
  const extra: Partial<RoutePrimitive> = {};
  if (hasStar) {
    // Re-address helper columns from the end.
    const fix = (c: number): number => c - hidden.length;
    for (let k = 0; k < orderBy.length; k++) {
      const o = orderBy[k]!;
      if (o.noCollationKey) continue; // a position, counted from the start
      orderBy[k] = o.weightStringColumn !== undefined ? { column: fix(o.column), weightStringColumn: fix(o.weightStringColumn), desc: o.desc } : { column: fix(o.column), desc: o.desc };
    }
  }
  if (orderBy.length > 0) (extra as { orderBy: OrderByKey[] }).orderBy = orderBy;
  if (hidden.length > 0) {
    if (hasStar) (extra as { hiddenColumns: number }).hiddenColumns = hidden.length;
    else (extra as { resultColumns: number }).resultColumns = visible;
  }
  let top: Primitive;
  if (distinct && hidden.length > 0) {
    // DISTINCT with ORDER BY: the helper columns may only be weight strings of selected columns
    // (they then also make the duplicate check collation-aware); the Distinct drops them.
    if (hasStar || orderBy.some((o) => o.column < 0 || o.column >= visible)) throw notSupported('SELECT DISTINCT with ORDER BY on other columns across shards');
    const ws: (number | undefined)[] = columns.map((_c, i) => distinctWs.get(i));
    delete (extra as { resultColumns?: number }).resultColumns;
    top = { operator: 'Distinct', input: routeFor(ctx, cand, query, extra), weightStringColumns: ws, resultColumns: visible };
  } else {
    top = routeFor(ctx, cand, query, extra);
    if (distinct) top = { operator: 'Distinct', input: top };
  }
  if (limitCount !== undefined) top = limitOffset ? { operator: 'Limit', input: top, count: limitCount, offset: limitOffset } : { operator: 'Limit', input: top, count: limitCount };
  void needsAggregation;
  return top;
}

/** The LIMIT clause's count and offset (`LIMIT c`, `LIMIT o, c`, `LIMIT c OFFSET o`); null without one. */
export function limitNodes(limit: Ast): { count: Ast; offset?: Ast } | null {
  if (!limit || !Array.isArray(limit.value) || limit.value.length === 0) return null;
  const vals: Ast[] = limit.value;
  if (vals.length === 1) return { count: vals[0] };
  return String(limit.seperator ?? '').toLowerCase() === 'offset' ? { count: vals[0], offset: vals[1] } : { count: vals[1], offset: vals[0] };
}

/** `input` under a gateway Limit for the statement's LIMIT clause; `input` itself without one. */
export function withGatewayLimit(limit: Ast, input: Primitive): Primitive {
  const nodes = limitNodes(limit);
  if (nodes === null) return input;
  const count = limitValue(nodes.count);
  return nodes.offset === undefined ? { operator: 'Limit', input, count } : { operator: 'Limit', input, count, offset: limitValue(nodes.offset) };
}

export function limitValue(n: Ast): ValueExpr {
  if (n?.type === 'number') return { kind: 'literal', value: BigInt(n.value) };
  if (n?.type === 'param') return { kind: 'bind', name: String(n.value) };
  throw notSupported('LIMIT value that is not a number');
}

/** Finds the select-list column an ORDER BY / GROUP BY expression names; -1 when none. */
export function findSelectColumn(ctx: PlanContext, analyzer: SelectAnalyzer, columns: Ast[], e: Ast, scope: ReturnType<typeof Object>): number {
  if (isColumnRef(e) && !e.table) {
    const name = columnName(e).toLowerCase();
    const byAlias = columns.findIndex((c) => c.as && String(c.as).toLowerCase() === name);
    if (byAlias >= 0) return byAlias;
  }
  if (isColumnRef(e)) {
    let key: string | null = null;
    try {
      key = analyzer.resolve(e, scope);
    } catch {
      key = null;
    }
    if (key) {
      const idx = columns.findIndex((c) => isColumnRef(c.expr) && !c.as && safeResolve(analyzer, c.expr, scope) === key);
      if (idx >= 0) return idx;
      const idx2 = columns.findIndex((c) => isColumnRef(c.expr) && safeResolve(analyzer, c.expr, scope) === key);
      if (idx2 >= 0) return idx2;
    }
  }
  const text = nodeText(ctx, e);
  if (text !== null) {
    const idx = columns.findIndex((c) => nodeText(ctx, c.expr) === text);
    if (idx >= 0) return idx;
  }
  return -1;
}

/**
 * `GROUP BY u` where `u` is the alias of another select expression (`upper(name) as u`) and a
 * table of the FROM may also have a column `u`: MariaDB groups by the column when there is one
 * (GROUP BY looks in the FROM before the select list, with warning 1052) and by the alias
 * otherwise. Without the table's complete column list the gateway cannot tell which; the shards
 * can: `(select u)` resolves as that GROUP BY does (the column first, then the alias).
 *
 * Returns the index of the select column whose alias `g` names in such a case, else -1 (not a
 * bare name, no such alias, an alias of the same-named column or of an aggregate, or tables whose
 * complete column lists lack it).
 */
export function groupAliasMayNameColumn(columns: readonly Ast[], g: Ast, scope: { readonly tables: readonly TableRef[] }): number {
  if (!isColumnRef(g) || g.table) return -1;
  const name = columnName(g).toLowerCase();
  const i = columns.findIndex((c) => c.as && String(c.as).toLowerCase() === name);
  if (i < 0) return -1;
  const e = columns[i].expr;
  if (hasAggregate(e) || (isColumnRef(e) && columnName(e).toLowerCase() === name)) return -1;
  return scope.tables.some((t) => t.knownColumns.has(name) || (!t.authoritative && t.kind !== 'dual')) ? i : -1;
}

/** The shard text of a GROUP BY name that groupAliasMayNameColumn found: a key resolved as MariaDB's GROUP BY resolves it. */
export function groupNameAsShardResolves(g: Ast): string {
  return `(select ${quoteIdent(columnName(g))})`;
}

export function safeResolve(analyzer: SelectAnalyzer, e: Ast, scope: ReturnType<typeof Object>): string | null {
  try {
    return analyzer.resolve(e, scope);
  } catch {
    return null;
  }
}

/** Whether an expression is known numeric (no weight_string needed to compare it). */
export function isNumericExpr(analyzer: SelectAnalyzer, e: Ast, scope: ReturnType<typeof Object>): boolean {
  if (!e) return false;
  if (e.type === 'number') return true;
  if (e.type === 'aggr_func') {
    const name = String(e.name).toLowerCase();
    return name === 'count' || ((name === 'sum' || name === 'avg') && true);
  }
  if (isColumnRef(e)) {
    const found = resolvedTable(analyzer, e, scope);
    if (!found) return false;
    const [t, col] = found;
    if (t.derivedNumeric?.has(col)) return true;
    const c = t.table?.columns?.find((x) => x.name.toLowerCase() === col);
    return !!c?.type && NUMERIC_TYPES.test(c.type);
  }
  return false;
}

/** The table of the scope a column reference resolves to, with the column's lower-cased name. */
function resolvedTable(analyzer: SelectAnalyzer, e: Ast, scope: ReturnType<typeof Object>): [TableRef, string] | undefined {
  const key = safeResolve(analyzer, e, scope);
  if (!key) return undefined;
  const id = key.slice(0, key.indexOf(':'));
  const t = (scope as { tables: readonly TableRef[] }).tables.find((x) => String(x.id) === id);
  return t ? [t, key.slice(key.indexOf(':') + 1)] : undefined;
}

/**
 * Whether MariaDB sees an aggregate's argument as an expression rather than a column: anything but
 * a column reference, or a column of a derived table it merges whose item is an expression
 * (RouteTable.derivedExpressions). MIN/MAX of an integer expression is a BIGINT there, of an
 * integer column the column's type.
 */
export function isExpressionArgument(analyzer: SelectAnalyzer, e: Ast, scope: ReturnType<typeof Object>): boolean {
  if (!isColumnRef(e)) return true;
  const found = resolvedTable(analyzer, e, scope);
  return found !== undefined && found[0].derivedExpressions?.has(found[1]) === true;
}

/**
 * Whether an expression divides (`/`), directly or through a column of a derived table MariaDB
 * merges whose item does (RouteTable.derivedDivisions). MariaDB keeps a quotient with more digits
 * than it shows (its division works in whole 9-digit words), and SUM/AVG add those: a sum of the
 * shown values, or of partial sums shown at the result's scale, can differ in the last digits
 * (`sum(len / 3)` 352.3333 on one server, 352.3334 from 4 shards' partial sums).
 */
export function holdsDivision(analyzer: SelectAnalyzer, e: Ast, scope: ReturnType<typeof Object>): boolean {
  let found = false;
  walk(e, (n) => {
    if (found) return false;
    if (n?.type === 'binary_expr' && n.operator === '/') found = true;
    else if (isColumnRef(n)) {
      const resolved = resolvedTable(analyzer, n, scope);
      if (resolved?.[0].derivedDivisions?.has(resolved[1])) found = true;
    }
    return !found;
  });
  return found;
}

/** End of the statement's trailing ORDER BY / LIMIT (before FOR UPDATE, LOCK IN SHARE MODE…). */
export function findStatementTailEnd(ctx: PlanContext, from: number): number {
  const toks = ctx.parsed.tokens;
  let depth = 0;
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && ['for', 'lock', 'into'].includes(kw(t))) return i;
  }
  return toks.length;
}

export function withAlias(text: string, alias: unknown): string {
  return alias ? `${text} as ${quoteIdent(String(alias), true)}` : text;
}

function findClauseEnd(ctx: PlanContext, from: number): number {
  const toks = ctx.parsed.tokens;
  let depth = 0;
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') {
      if (depth === 0) return i;
      depth--;
    } else if (depth === 0 && ['having', 'order', 'limit', 'window', 'for', 'lock', 'into', 'union', 'with'].includes(kw(t))) return i;
  }
  return toks.length;
}

export { PlanError };

/**
 * `(select … [order by a]) order by b limit n` as `select … order by b limit n`: without a LIMIT
 * of its own, the inner ORDER BY cannot change which rows the query returns, and MariaDB ignores
 * it too. Null when the inner query has a LIMIT (then its order picks the rows) or another shape.
 */
function unwrapParenthesizedQuery(tokens: readonly Token[]): string | null {
  if (tokens[0]?.text !== '(') return null;
  let depth = 0;
  let close = -1;
  let innerOrder = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth === 0) {
      close = i;
      break;
    } else if (depth === 1) {
      const k = kw(t);
      if (k === 'limit' || k === 'for' || k === 'lock' || k === 'into' || k === 'union' || k === 'intersect' || k === 'except') return null;
      if (k === 'order' && kw(tokens[i + 1]) === 'by' && innerOrder < 0) innerOrder = i;
    }
  }
  if (close < 0 || close + 1 >= tokens.length) return null;
  const innerEnd = innerOrder >= 0 ? innerOrder : close;
  return renderTokens(tokens, 1, innerEnd, []) + ' ' + renderTokens(tokens, close + 1, tokens.length, []);
}
