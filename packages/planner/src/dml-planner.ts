/**
 * INSERT / REPLACE / UPDATE / DELETE plans.
 *
 * INSERT rows are routed one by one by the executor: the plan says which row value feeds which
 * vindex. UPDATE and DELETE are routed like a SELECT over their WHERE clause; a multi-shard one
 * with LIMIT is refused (the LIMIT would apply per shard), as is changing a primary vindex column.
 */
import type { ColumnVindex, Table } from '@shardgate/vschema';
import type { DmlPrimitive, EvalExpr, InsertComputedValue, InsertPrimitive, InsertVindexColumn, Primitive, QueryTemplate, RoutePrimitive, TemplatePart, ValueExpr } from './plan-types.js';
import { findTable, keyspaceRef, SYSTEM_SCHEMAS, type PlanContext } from './plan-context.js';
import { identName, kw, matchingParen } from './lexer.js';
import { renderTokens, templateFromTokens, quoteIdent, type TokenEdit } from './shard-sql.js';
import { templateFromSql, mergeStrings } from './query-template.js';
import { ROW_BIND_PREFIX, ROWS_BIND } from './normalizer.js';
import { rowBindName } from './literal-list-scanner.js';
import { insertValueExpr, isIntegerColumnType, rowValueRanges } from './insert-value-exprs.js';
import { notSupported, planFailure, PlanError } from './errors.js';
import { SelectAnalyzer } from './select-analyzer.js';
import { computeRouting, isSingleShard } from './routing.js';
import { addExpressionEdits, routeFor } from './select-planner.js';
import { isColumnRef, columnName, conjuncts } from './ast-utils.js';
import type { Ast } from './sql-parser.js';
import { dmlIgnores } from './parse-text-substitutes.js';

/** Plans INSERT and REPLACE. */
export function planInsert(ctx: PlanContext): Primitive {
  const p = ctx.parsed;
  const ast = p.ast;
  const toks = p.tokens;
  const isReplace = ast.type === 'replace';
  const tableItem = Array.isArray(ast.table) ? ast.table[0] : ast.table;
  if (!tableItem?.table) throw notSupported('INSERT without a table');
  const db: string | null = tableItem.db ? String(tableItem.db) : null;
  const written = String(tableItem.table);
  if (db && SYSTEM_SCHEMAS.has(db.toLowerCase())) throw notSupported(`INSERT into ${db}`);
  const table = findTable(ctx, written, db);
  ctx.tablesUsed.add(`${table.keyspace.name}.${table.name}`);
  // Locate the table name tokens: the first `[ks.]name` after INTO (or after INSERT/REPLACE).
  let i = 1;
  while (i < toks.length && kw(toks[i]) !== 'into' && identName(toks[i]!) !== written) i++;
  if (kw(toks[i]) === 'into') i++;
  const nameStart = i;
  const nameEnd = db !== null && toks[i + 1]?.text === '.' ? i + 3 : i + 1;
  const edits: TokenEdit[] = [...ctx.edits];
  const renamed = table.name !== written;
  if (db !== null || renamed) edits.push({ from: nameStart, to: nameEnd, text: renamed || db !== null ? quoteIdent(table.name, true) : toks[nameEnd - 1]!.text });
  addExpressionEdits(ctx, ast);
  for (const e of ctx.edits) if (!edits.includes(e)) edits.push(e);

  if (ast.set || !ast.values) throw notSupported('INSERT … SET; use INSERT … VALUES');
  if (ast.values.type === 'select') {
    if (table.keyspace.sharded) return planInsertSelect(ctx, table, nameEnd);
    // Inside one unsharded keyspace: the statement as it is, to that keyspace.
    const analyzer = new SelectAnalyzer(ctx);
    const a = analyzer.analyze(ast.values, null);
    const r = a.cand ? computeRouting(a.cand) : null;
    // A SELECT that reads elsewhere (another keyspace, a sharded one): read first, as into a
    // sharded keyspace, and its rows written to this keyspace's shard.
    if (!r || (r.keyspace !== null && r.keyspace.name !== table.keyspace.name) || r.base === 'sharded') return planInsertSelect(ctx, table, nameEnd);
    const route: RoutePrimitive = {
      operator: 'Route',
      variant: 'Unsharded',
      keyspace: keyspaceRef(table.keyspace),
      query: templateFromTokens(toks, 0, toks.length, dedupe([...edits, ...ctx.edits])),
      table: table.name,
      ...directiveOptions(ctx),
    };
    return route;
  }

  // VALUES rows: the token range after VALUES up to the end of the last row.
  const valuesIdx = findValuesKeyword(toks, nameEnd);
  if (valuesIdx < 0) throw notSupported('INSERT shape');
  const rowRanges: [number, number][] = [];
  let j = valuesIdx + 1;
  for (;;) {
    if (toks[j]?.text !== '(') break;
    let depth = 0;
    const start = j;
    for (; j < toks.length; j++) {
      if (toks[j]!.text === '(') depth++;
      else if (toks[j]!.text === ')') {
        depth--;
        if (depth === 0) break;
      }
    }
    rowRanges.push([start, j + 1]);
    j++;
    if (toks[j]?.text === ',') {
      j++;
      continue;
    }
    break;
  }
  if (rowRanges.length === 0) throw notSupported('INSERT VALUES shape');
  const rowsEnd = rowRanges[rowRanges.length - 1]![1];
  // An auto-increment column the statement leaves out is added, so the executor can fill in
  // the generated id as one more row value (at index `generatedIndex`).
  const autoCol = table.autoIncrement?.column;
  const listed: string[] | null = Array.isArray(ast.columns) ? ast.columns.map((c: Ast) => String(typeof c === 'string' ? c : (c.value ?? c.column ?? c)).toLowerCase()) : null;
  const addAuto = autoCol !== undefined && listed !== null && !listed.includes(autoCol.toLowerCase()) && toks[valuesIdx - 1]?.text === ')';
  const prefixEdits = addAuto ? [...edits, { from: valuesIdx - 1, to: valuesIdx - 1, text: ', ' + quoteIdent(autoCol!) }] : edits;
  const prefix = renderTokens(toks, 0, valuesIdx + 1, prefixEdits) + ' ';
  let rowTemplates = rowRanges.map(([s, e]) => rowTemplate(renderTokens(toks, s, e, edits)));
  let generatedIndex = -1;
  if (addAuto) {
    const counts = rowTemplates.map((t) => t.parts.filter((x) => typeof x !== 'string' && 'bind' in x).length);
    if (!counts.every((c) => c === counts[0])) throw notSupported('INSERT rows of different shapes without the auto-increment column');
    generatedIndex = counts[0]!;
    rowTemplates = rowTemplates.map((t) => appendRowValue(t, generatedIndex));
  }
  const suffixText = rowsEnd < toks.length ? ' ' + renderTokens(toks, rowsEnd, toks.length, edits) : '';
  const suffix = templateFromSql(suffixText);
  if (!rowTemplates.every((t) => t.parts.every((part) => typeof part === 'string' || ('bind' in part && part.bind.startsWith('$')) || !('bind' in part)))) {
    throw planFailure('INSERT row template has an unexpected bind');
  }

  const columns: string[] | null = Array.isArray(ast.columns) ? ast.columns.map((c: Ast) => String(typeof c === 'string' ? c : (c.value ?? c.column ?? c)).toLowerCase()) : null;
  const rows: Ast[] = ast.values.values ?? [];
  const valueIndexOf = (colIdx: number): number => {
    let idx: number | undefined;
    for (const row of rows) {
      const expr = row.value?.[colIdx];
      const k = expr?.type === 'param' && String(expr.value).startsWith(ROW_BIND_PREFIX) ? Number(String(expr.value).slice(ROW_BIND_PREFIX.length)) : NaN;
      if (Number.isNaN(k)) return -2;
      if (idx === undefined) idx = k;
      else if (idx !== k) return -2;
    }
    return idx ?? -2;
  };
  // Columns whose value is an expression in some row: evaluated per row by the executor into two
  // more row values (see InsertComputedValue), past every value the rows have.
  const computed = new Map<number, InsertComputedValue>();
  const rowEdits: TokenEdit[][] = rowRanges.map(() => []);
  let nextSlot = -1;
  const computedIndexOf = (ci: number, column: string, role: string): number => {
    const done = computed.get(ci);
    if (done) return done.routeIndex;
    if (rows.length !== rowRanges.length) throw planFailure('INSERT rows and their tokens disagree');
    if (nextSlot < 0) nextSlot = Math.max(generatedIndex + 1, ...rowTemplates.map(valueCount));
    const sendIndex = nextSlot;
    nextSlot += 2;
    const exprs: EvalExpr[] = rows.map((row, r) => {
      const range = rowValueRanges(toks, rowRanges[r]![0], rowRanges[r]![1])[ci];
      if (!range || !Array.isArray(row.value) || row.value[ci] === undefined) throw planFailure('INSERT row value not found');
      rowEdits[r]!.push({ from: range[0], to: range[1], text: rowBindName(sendIndex) });
      return insertValueExpr(row.value[ci], column, role, p.nullSafeEqual);
    });
    const type = table.columns?.find((c) => c.name.toLowerCase() === column.toLowerCase())?.type;
    const cv: InsertComputedValue = { column, exprs, sendIndex, routeIndex: sendIndex + 1, integerColumn: isIntegerColumnType(type) };
    computed.set(ci, cv);
    return cv.routeIndex;
  };

  const ks = table.keyspace;
  let variant: InsertPrimitive['variant'] = ks.sharded ? 'Sharded' : 'Unsharded';
  if (table.type === 'reference' && ks.sharded) variant = 'Reference';
  if (table.type === 'sequence') throw notSupported('INSERT into a sequence table');
  const insert: { -readonly [K in keyof InsertPrimitive]: InsertPrimitive[K] } = {
    operator: 'Insert',
    variant,
    keyspace: keyspaceRef(ks),
    table: table.name,
    prefix,
    rowTemplate: rowTemplates[0]!,
    rowsBind: ROWS_BIND,
    suffix,
    ...directiveOptions(ctx),
  };
  if (rowTemplates.length > 1) insert.rowTemplates = rowTemplates;

  if (columns === null && (variant === 'Sharded' || table.autoIncrement)) {
    // Without a column list the row values are positional: only an authoritative column list in
    // the vschema says which value is the vindex column (Vitess's VT09004). Guessing could route
    // a row to the wrong shard.
    if (!table.columnListAuthoritative || !table.columns || table.columns.length === 0) {
      throw notSupported(`INSERT without a column list into sharded table ${table.name}; list the columns (mysqldump: --complete-insert), or give the table an authoritative column list in the vschema (columns + column_list_authoritative)`);
    }
    for (const [i, row] of rows.entries()) {
      const n = Array.isArray(row.value) ? row.value.length : -1;
      if (n !== table.columns.length) throw new PlanError(1136, '21S01', `Column count doesn't match value count at row ${i + 1}`);
    }
  }
  const colIndex = (name: string): number => (columns ? columns.indexOf(name.toLowerCase()) : authoritativeIndex(table, name));
  if (table.autoIncrement) {
    const ci = colIndex(table.autoIncrement.column);
    let vi = ci < 0 ? generatedIndex : valueIndexOf(ci);
    if (ci >= 0 && vi === -2) vi = computedIndexOf(ci, table.autoIncrement.column, 'auto-increment');
    const seq = table.sequenceTable ? `${table.sequenceTable.keyspace.name}.${table.sequenceTable.name}` : table.autoIncrement.sequence;
    insert.autoIncrement = { column: table.autoIncrement.column, valueIndex: vi, sequence: seq };
    if (ci < 0 && columns === null) throw notSupported('INSERT without a column list into a table with an auto-increment sequence');
  }
  if (variant === 'Sharded') {
    const primary = table.columnVindexes[0];
    if (!primary) throw planFailure(`table ${table.name} has no primary vindex`);
    const pv: InsertVindexColumn[] = [];
    for (const c of primary.columns) {
      const ci = colIndex(c);
      if (ci < 0) {
        if (table.autoIncrement && table.autoIncrement.column.toLowerCase() === c.toLowerCase() && generatedIndex >= 0) {
          pv.push({ vindex: primary.name, valueIndex: generatedIndex });
          continue;
        }
        throw new PlanError(1364, 'HY000', `INSERT into sharded table ${table.name} must give a value for its primary vindex column ${c}`);
      }
      let vi = valueIndexOf(ci);
      if (vi === -2) vi = computedIndexOf(ci, c, 'primary vindex');
      pv.push({ vindex: primary.name, valueIndex: vi });
    }
    insert.primaryVindex = pv;
    const owned: InsertVindexColumn[] = [];
    for (const cv of table.columnVindexes.slice(1)) {
      if (!cv.owned || cv.partial) continue;
      for (const c of cv.columns) {
        const ci = colIndex(c);
        let vi = ci < 0 ? (table.autoIncrement?.column.toLowerCase() === c.toLowerCase() && generatedIndex >= 0 ? generatedIndex : -3) : valueIndexOf(ci);
        if (vi === -2) vi = computedIndexOf(ci, c, 'lookup vindex');
        if (vi === -3) continue;
        owned.push({ vindex: cv.name, valueIndex: vi });
      }
    }
    if (owned.length > 0) {
      if (isReplace) throw notSupported('REPLACE into a table with owned lookup vindexes');
      insert.ownedVindexes = owned;
    }
    if (ast.on_duplicate_update) {
      for (const s of ast.on_duplicate_update.set ?? []) {
        const col = String(s.column).toLowerCase();
        if (changesVindex(table, col, true)) throw notSupported(`ON DUPLICATE KEY UPDATE of vindex column ${col}`);
      }
    }
  }
  if (computed.size > 0) {
    // Each computed value's expression gives way to its row value in the text sent to the shard.
    let templates = rowRanges.map(([s, e], r) => {
      const own = rowEdits[r]!;
      const others = edits.filter((x) => !own.some((o) => x.from < o.to && o.from < x.to));
      return rowTemplate(renderTokens(toks, s, e, [...others, ...own]));
    });
    if (addAuto) templates = templates.map((t) => appendRowValue(t, generatedIndex));
    insert.rowTemplate = templates[0]!;
    if (templates.length > 1) insert.rowTemplates = templates;
    insert.computedValues = [...computed.values()];
  }
  return insert;
}

/**
 * INSERT … SELECT into a sharded keyspace, or from another keyspace than the target's unsharded
 * one: the SELECT planned on its own (any shape a SELECT may
 * have), and the INSERT planned as `insert … (columns) values (:__r0, :__r1, …)`, whose rows the
 * executor takes from the SELECT's answer (InsertPrimitive.source). So the rows are routed, given
 * sequence ids and lookup rows exactly as VALUES rows are. ON DUPLICATE KEY UPDATE is refused: its
 * VALUES() and column references would name the SELECT's columns.
 */
function planInsertSelect(ctx: PlanContext, table: Table, nameEnd: number): Primitive {
  const ast = ctx.parsed.ast;
  const toks = ctx.parsed.tokens;
  if (ast.on_duplicate_update) throw notSupported('INSERT … SELECT … ON DUPLICATE KEY UPDATE into a sharded keyspace or from another keyspace');
  if (table.type === 'sequence') throw notSupported('INSERT into a sequence table');
  // The column list, if any, then the SELECT (perhaps in parentheses) up to the end.
  let selectStart = nameEnd;
  let columns: string[];
  const startsSelect = (i: number): boolean => kw(toks[i]) === 'select' || kw(toks[i]) === 'with' || (toks[i]?.text === '(' && startsSelect(i + 1));
  if (toks[selectStart]?.text === '(' && !startsSelect(selectStart)) {
    selectStart = matchingParen(toks, selectStart) + 1;
    if (selectStart === 0) throw notSupported('INSERT … SELECT shape');
    columns = (Array.isArray(ast.columns) ? ast.columns : []).map((c: Ast) => String(typeof c === 'string' ? c : (c.value ?? c.column ?? c)));
  } else {
    // Without a column list the SELECT's values are positional: only an authoritative column list
    // in the vschema says which one is the vindex column (as for VALUES rows).
    if (!table.columnListAuthoritative || !table.columns || table.columns.length === 0) {
      throw notSupported(`INSERT … SELECT without a column list into table ${table.name} (read first, then written by the gateway); list the columns, or give the table an authoritative column list in the vschema (columns + column_list_authoritative)`);
    }
    columns = table.columns.map((c) => c.name);
  }
  if (!startsSelect(selectStart) || columns.length === 0) throw notSupported('INSERT … SELECT shape');
  // `insert … (select …)`: the parentheses around the whole SELECT go (a SELECT alone is not
  // parsed in them); parentheses around a UNION's first part stay.
  let selectEnd = toks.length;
  while (toks[selectStart]?.text === '(' && matchingParen(toks, selectStart) === selectEnd - 1) {
    selectStart++;
    selectEnd--;
  }
  // As written (a `keyspace.` qualifier kept): the INSERT is planned again from this text, and
  // resolves the table as the statement did.
  const head = renderTokens(toks, 0, nameEnd, []);
  const values = columns.map((_, i) => rowBindName(i)).join(', ');
  const insertText = `${head} (${columns.map((c) => quoteIdent(c)).join(', ')}) values (${values})`;
  const insert = ctx.planText(insertText, 'insert').instructions;
  if (insert.operator !== 'Insert') throw planFailure('INSERT … SELECT planned its INSERT as something else');
  const input = ctx.planText(renderTokens(toks, selectStart, selectEnd, [])).instructions;
  return { ...insert, source: { input, columns: columns.length } };
}

function findValuesKeyword(toks: readonly { text: string; kind: string }[], from: number): number {
  let depth = 0;
  for (let i = from; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && (kw(t as never) === 'values' || kw(t as never) === 'value')) return i;
  }
  return -1;
}

/** A row's text `(:__r0, now())` → template with positional binds `$0`. */
function rowTemplate(text: string): QueryTemplate {
  const t = templateFromSql(text);
  const parts: TemplatePart[] = t.parts.map((part) => {
    if (typeof part !== 'string' && 'bind' in part && part.bind.startsWith(ROW_BIND_PREFIX)) return { bind: '$' + part.bind.slice(ROW_BIND_PREFIX.length) };
    return part;
  });
  return { parts: mergeStrings(parts) };
}

/** One more than the highest row value index `$k` a row template sends (0 when none). */
function valueCount(t: QueryTemplate): number {
  let n = 0;
  for (const part of t.parts) if (typeof part !== 'string' && 'bind' in part && part.bind.startsWith('$')) n = Math.max(n, Number(part.bind.slice(1)) + 1);
  return n;
}

/** `(:$0, :$1)` → `(:$0, :$1, :$n)`. */
function appendRowValue(t: QueryTemplate, n: number): QueryTemplate {
  const parts = t.parts.slice();
  const last = parts[parts.length - 1];
  if (typeof last !== 'string' || !last.endsWith(')')) throw notSupported('INSERT row shape');
  parts[parts.length - 1] = last.slice(0, -1);
  parts.push(', ', { bind: '$' + n }, ')');
  return { parts: mergeStrings(parts) };
}

function authoritativeIndex(table: Table, name: string): number {
  if (!table.columnListAuthoritative || !table.columns) return -1;
  return table.columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
}

/** Whether assigning `col` changes a vindex value (primary only, or any owned vindex). */
function changesVindex(table: Table, col: string, primaryOnly: boolean): ColumnVindex | null {
  const list = primaryOnly ? table.columnVindexes.slice(0, 1) : table.columnVindexes;
  for (const cv of list) if (cv.columns.some((c) => c.toLowerCase() === col)) return cv;
  return null;
}

function directiveOptions(ctx: PlanContext): { queryTimeoutMs?: number; scatterErrorsAsWarnings?: boolean } {
  const o: { queryTimeoutMs?: number; scatterErrorsAsWarnings?: boolean } = {};
  if (ctx.directives.queryTimeoutMs !== undefined) o.queryTimeoutMs = ctx.directives.queryTimeoutMs;
  if (ctx.directives.scatterErrorsAsWarnings) o.scatterErrorsAsWarnings = true;
  return o;
}

function dedupe<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Plans UPDATE and DELETE. */
export function planUpdateDelete(ctx: PlanContext): Primitive {
  const p = ctx.parsed;
  const ast = p.ast;
  const isUpdate = ast.type === 'update';
  const from: Ast[] = isUpdate ? ast.table : ast.from;
  if (!Array.isArray(from) || from.length === 0) throw notSupported('DML shape');
  for (const f of from) if (f.db && SYSTEM_SCHEMAS.has(String(f.db).toLowerCase())) throw notSupported(`DML on ${f.db}`);
  const analyzer = new SelectAnalyzer(ctx);
  const pseudo = { type: 'select', columns: [], from, where: ast.where };
  const analyzed = analyzer.analyze(pseudo, null);
  addExpressionEdits(ctx, ast);
  if (!analyzed.cand) throw notSupported(`${isUpdate ? 'UPDATE' : 'DELETE'} that needs several routes (${analyzed.why ?? 'cross-shard'})`);
  const cand = analyzed.cand;
  const r = computeRouting(cand);
  const tables = cand.tables.filter((t) => t.kind === 'table' && t.table).map((t) => t.table!);
  const target = tables[0]!;
  if (!target) throw notSupported('DML without a table');
  const multiTable = from.length > 1 || (!isUpdate && Array.isArray(ast.table) && ast.table.length > 1);
  if (multiTable && target.keyspace.sharded && !isSingleShard(r)) throw notSupported(`multi-table ${isUpdate ? 'UPDATE' : 'DELETE'} across shards`);
  const hasLimit = ast.limit && Array.isArray(ast.limit.value) && ast.limit.value.length > 0;
  // Writes to a reference table go to every shard of its keyspace.
  const refWrite = target.type === 'reference' && target.keyspace.sharded;
  if (hasLimit && !isSingleShard(r)) throw notSupported(`multi shard ${isUpdate ? 'UPDATE' : 'DELETE'} with LIMIT`);
  if (hasLimit && refWrite) throw notSupported(`${isUpdate ? 'UPDATE' : 'DELETE'} with LIMIT on a reference table`);
  const owned: string[] = [];
  const changed: { column: string; value: ValueExpr }[] = [];
  if (isUpdate) {
    for (const s of ast.set ?? []) {
      const col = String(s.column).toLowerCase();
      for (const t of tables) {
        if (s.table && ![t.name].includes(String(s.table)) && !cand.tables.some((x) => x.table === t && x.alias === String(s.table))) continue;
        const primary = t.columnVindexes[0];
        if (t.type === 'sharded' && primary && primary.columns.some((c) => c.toLowerCase() === col)) {
          throw notSupported(`changing the primary vindex column ${col} of table ${t.name}; delete and re-insert the row instead`);
        }
        const cv = changesVindex(t, col, false);
        if (cv && cv.owned) {
          if (!owned.includes(cv.name)) owned.push(cv.name);
          // The executor moves the lookup row to the new value: it must know that value.
          changed.push({ column: col, value: assignedValue(s.value, col) });
        }
      }
    }
  } else if (target.type === 'sharded') {
    for (const cv of target.columnVindexes.slice(1)) if (cv.owned && !owned.includes(cv.name)) owned.push(cv.name);
  }
  const query = templateFromTokens(p.tokens, 0, p.tokens.length, dedupe(ctx.edits));
  let route = routeFor(ctx, cand, query);
  // Every copy changes (the executor sends a Reference write to every shard, counts one copy's
  // rows, and runs an autocommit one in a transaction of its own so the copies change together).
  if (refWrite) route = { ...route, variant: 'Reference' };
  const dml: { -readonly [K in keyof DmlPrimitive]: DmlPrimitive[K] } = { operator: isUpdate ? 'Update' : 'Delete', route, ...directiveOptions(ctx) };
  if (owned.length > 0) {
    // IGNORE lets a shard skip a row the lookup upkeep would already have moved.
    if (dmlIgnores(p.tokens)) throw notSupported(`${isUpdate ? 'UPDATE' : 'DELETE'} IGNORE on table ${target.name}, which owns lookup vindexes (${owned.join(', ')})`);
    dml.ownedVindexes = owned;
    const q = ownedVindexQuery(ctx, target, isUpdate, from);
    // Without the query the executor could not keep the lookup rows in step: refuse, never guess.
    if (!q) throw notSupported(`${isUpdate ? 'UPDATE' : 'DELETE'} of this shape on table ${target.name}, which owns lookup vindexes (${owned.join(', ')})`);
    dml.ownedVindexQuery = q.query;
    dml.ownedVindexColumns = q.columns;
    if (changed.length > 0) dml.changedVindexValues = changed;
  }
  if (hasLimit) {
    const v = ast.limit.value[ast.limit.value.length - 1];
    const lim: ValueExpr = v?.type === 'param' ? { kind: 'bind', name: String(v.value) } : { kind: 'literal', value: BigInt(v?.value ?? 0) };
    dml.limit = lim;
  }
  void conjuncts;
  void isColumnRef;
  void columnName;
  return dml;
}

/**
 * `select <primary vindex cols>, <owned lookup cols> from <table> where … for update`: the rows
 * whose lookup entries the executor must change before the UPDATE/DELETE runs (as Vitess's
 * OwnedVindexQuery).
 */
function ownedVindexQuery(ctx: PlanContext, table: Table, isUpdate: boolean, from: Ast[]): { query: QueryTemplate; columns: string[] } | null {
  const p = ctx.parsed;
  const toks = p.tokens;
  if (from.length !== 1) return null;
  const cols: string[] = [];
  for (const cv of table.columnVindexes) for (const c of cv.columns) if (!cols.includes(c)) cols.push(c);
  // Table text: tokens of the FROM item (with edits); WHERE and after: from the WHERE keyword.
  let whereIdx = -1;
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    if (toks[i]!.text === '(') depth++;
    else if (toks[i]!.text === ')') depth--;
    else if (depth === 0 && kw(toks[i]) === 'where') {
      whereIdx = i;
      break;
    }
  }
  const loc = from[0].loc;
  if (!loc) return null;
  let s = 0;
  while (s < p.parseOffsets.length && p.parseOffsets[s]! < loc.start.offset) s++;
  let e = s;
  while (e < p.parseOffsets.length && p.parseOffsets[e]! < loc.end.offset) e++;
  const tableText = renderTokens(toks, s, e, ctx.edits);
  let tail = '';
  if (whereIdx >= 0) {
    let end = toks.length;
    depth = 0;
    for (let i = whereIdx; i < toks.length; i++) {
      if (toks[i]!.text === '(') depth++;
      else if (toks[i]!.text === ')') depth--;
      else if (depth === 0 && (kw(toks[i]) === 'order' || kw(toks[i]) === 'limit')) {
        end = i;
        break;
      }
    }
    tail = ' ' + renderTokens(toks, whereIdx, end, ctx.edits);
    if (end < toks.length) tail += ' ' + renderTokens(toks, end, toks.length, ctx.edits);
  }
  void isUpdate;
  return { query: templateFromSql(`select ${cols.map((c) => quoteIdent(c)).join(', ')} from ${tableText}${tail} for update`), columns: cols };
}

/** The new value of an owned lookup column in `SET col = <value>`: a literal or a bind var. */
function assignedValue(v: Ast, col: string): ValueExpr {
  if (v?.type === 'param') return { kind: 'bind', name: String(v.value) };
  if (v?.type === 'null') return { kind: 'literal', value: null };
  if (v?.type === 'number' && typeof v.value === 'number' && Number.isSafeInteger(v.value)) return { kind: 'literal', value: BigInt(v.value) };
  if (v?.type === 'single_quote_string' || v?.type === 'string') return { kind: 'literal', value: String(v.value) };
  throw notSupported(`assigning an expression to lookup vindex column ${col}; assign a literal value`);
}
