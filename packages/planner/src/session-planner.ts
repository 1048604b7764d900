/**
 * Statements planned from tokens alone (no SQL parser): USE, SET, SHOW, BEGIN/COMMIT/ROLLBACK and
 * DDL. Their text is not normalized, so literals stay in place.
 */
import type { Primitive, SavepointName, SessionPrimitive, SqlValue, ValueExpr } from './plan-types.js';
import { decodeString, identName, kw, tokenize, type Token } from './lexer.js';
import { foldConstant } from './ast-utils.js';
import { parseStatement } from './sql-parser.js';
import { literalValue } from './literal-value.js';
import { anyKeyspace, findTable, keyspaceRef, SYSTEM_SCHEMAS } from './plan-context.js';
import type { VSchema } from '@shardgate/vschema';
import { notSupported, PlanError, syntaxError, unknownKeyspace } from './errors.js';
import { renderTokens, type TokenEdit } from './shard-sql.js';
import { templateFromSql } from './query-template.js';
import { selectIntoTargets, userVariableName } from './normalizer.js';

export interface TokenPlanContext {
  readonly vschema: VSchema;
  readonly defaultKeyspace: string | null;
  readonly tokens: readonly Token[];
  readonly tablesUsed: Set<string>;
}

/** `USE ks`, `USE ks:-80`, `USE ks[-80]`, `` USE `ks:-80` ``, `USE ks@primary`. */
export function planUse(ctx: TokenPlanContext): SessionPrimitive {
  const rest = ctx.tokens.slice(1);
  if (rest.length === 0) throw new PlanError(1064, '42000', "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '' at line 1");
  const raw = rest.map((t) => (t.kind === 'qident' ? identName(t) : t.text)).join('');
  const target = parseTarget(raw);
  if (target.keyspace !== '' && !ctx.vschema.keyspace(target.keyspace)) throw unknownKeyspace(target.keyspace);
  return {
    operator: 'Session',
    statement: target.shard !== undefined ? { kind: 'use', keyspace: target.keyspace, target: target.shard } : { kind: 'use', keyspace: target.keyspace },
  };
}

/** Splits a session target: `ks`, `ks:shard`, `ks[range]`, `ks@tablet_type`. */
export function parseTarget(raw: string): { keyspace: string; shard?: string } {
  let s = raw.trim();
  const at = s.lastIndexOf('@');
  if (at > 0) s = s.slice(0, at);
  const bracket = /^([^[\]:]*)\[([^\]]*)\]$/.exec(s);
  if (bracket) return { keyspace: bracket[1]!, shard: bracket[2]! };
  const colon = s.indexOf(':');
  if (colon >= 0) return { keyspace: s.slice(0, colon), shard: s.slice(colon + 1) };
  return { keyspace: s };
}

export function planTransaction(tokens: readonly Token[]): SessionPrimitive {
  const first = kw(tokens[0]);
  if (first === 'begin' || (first === 'start' && kw(tokens[1]) === 'transaction')) {
    const rest = tokens.slice(first === 'begin' ? 1 : 2).map((t) => kw(t) || t.text);
    if (rest.length > 0 && !(first === 'begin' && rest.length === 1 && rest[0] === 'work')) {
      const allowed = ['read', 'only', 'write', 'with', 'consistent', 'snapshot', ','];
      if (!rest.every((w) => allowed.includes(w))) throw notSupported(`${tokens.map((t) => t.text).join(' ')}`);
    }
    // READ ONLY is passed on to every shard the transaction reaches, which then refuses writes;
    // READ WRITE overrides a session's read-only default. Neither: the session's default applies.
    const readOnly = rest.some((w, i) => w === 'read' && rest[i + 1] === 'only');
    const readWrite = rest.some((w, i) => w === 'read' && rest[i + 1] === 'write');
    return { operator: 'Session', statement: readOnly || readWrite ? { kind: 'begin', readOnly } : { kind: 'begin' } };
  }
  if (first === 'commit') return { operator: 'Session', statement: { kind: 'commit' } };
  if (first === 'rollback') {
    let i = kw(tokens[1]) === 'work' ? 2 : 1;
    if (kw(tokens[i]) === 'to') {
      if (kw(tokens[i + 1]) === 'savepoint') i++;
      return { operator: 'Session', statement: { kind: 'rollback-to-savepoint', savepoint: savepointName(tokens, i + 1) } };
    }
    if (tokens.slice(1).some((t) => kw(t) === 'savepoint')) throw notSupported(tokens.map((t) => t.text).join(' '));
    return { operator: 'Session', statement: { kind: 'rollback' } };
  }
  throw notSupported(tokens.map((t) => t.text).join(' '));
}

/**
 * `SAVEPOINT name` and `RELEASE SAVEPOINT name` (null for any other statement); ROLLBACK TO is
 * planned with ROLLBACK (planTransaction).
 */
export function planSavepoint(tokens: readonly Token[]): SessionPrimitive | null {
  const first = kw(tokens[0]);
  if (first === 'savepoint') return { operator: 'Session', statement: { kind: 'savepoint', savepoint: savepointName(tokens, 1) } };
  if (first === 'release' && kw(tokens[1]) === 'savepoint') return { operator: 'Session', statement: { kind: 'release-savepoint', savepoint: savepointName(tokens, 2) } };
  return null;
}

/** The savepoint named by tokens[i], which must end the statement (a 1064 otherwise). */
function savepointName(tokens: readonly Token[], i: number): SavepointName {
  const t = tokens[i];
  if (t === undefined || (t.kind !== 'ident' && t.kind !== 'qident') || i + 1 !== tokens.length) {
    // The error quotes the statement from the first token that does not fit.
    const bad = t === undefined || t.kind === 'ident' || t.kind === 'qident' ? i + 1 : i;
    const text = tokens.map((x) => x.text).join(' ');
    throw syntaxError(text, Math.min(text.length, tokens.slice(0, bad).map((x) => x.text).join(' ').length + (bad > 0 ? 1 : 0)));
  }
  const name = identName(t);
  return { name, key: name.toLowerCase(), sql: `\`${name.replace(/`/g, '``')}\`` };
}

type Assignment = Extract<SessionPrimitive['statement'], { kind: 'set' }>['assignments'][number];

/** SET statements: system variables, user variables, NAMES, CHARACTER SET, TRANSACTION. */
export function planSet(tokens: readonly Token[]): SessionPrimitive {
  const assignments: Assignment[] = [];
  let i = 1;
  const n = tokens.length;
  let defaultScope: 'session' | 'global' = 'session';
  const scopeWord = kw(tokens[1]);
  if (scopeWord === 'global' || scopeWord === 'session' || scopeWord === 'local' || scopeWord === 'persist') {
    if (scopeWord === 'global' || scopeWord === 'persist') defaultScope = 'global';
    i = 2;
  }
  if (kw(tokens[i]) === 'transaction') {
    // SET [SESSION] TRANSACTION ISOLATION LEVEL … | READ ONLY | READ WRITE
    const words = tokens.slice(i + 1).map((t) => kw(t) || t.text);
    const text = words.join(' ');
    const iso = /isolation level (read uncommitted|read committed|repeatable read|serializable)/.exec(text);
    // Without GLOBAL/SESSION the level is the next transaction's only, as the access mode below.
    if (iso) assignments.push({ scope: defaultScope, name: i === 1 ? 'next_transaction_isolation' : 'tx_isolation', value: { kind: 'literal', value: iso[1]!.toUpperCase().replace(' ', '-') } });
    // Without GLOBAL/SESSION the access mode is the next transaction's only (as in MySQL).
    const accessName = i === 1 ? 'next_transaction_read_only' : 'transaction_read_only';
    if (/read only/.test(text)) assignments.push({ scope: defaultScope, name: accessName, value: { kind: 'literal', value: 1n } });
    if (/read write/.test(text)) assignments.push({ scope: defaultScope, name: accessName, value: { kind: 'literal', value: 0n } });
    if (assignments.length === 0) throw notSupported(`SET ${text}`);
    return { operator: 'Session', statement: { kind: 'set', assignments } };
  }
  while (i < n) {
    let scope: Assignment['scope'] = defaultScope;
    const t = tokens[i]!;
    let name: string;
    const w = kw(t);
    if (w === 'names') {
      const charset = valueToken(tokens[i + 1]);
      if (charset === undefined) throw notSupported('SET NAMES without a character set');
      assignments.push({ scope: 'session', name: 'names', value: charset });
      i += 2;
      if (kw(tokens[i]) === 'collate') {
        const coll = valueToken(tokens[i + 1]);
        if (coll === undefined) throw notSupported('SET NAMES … COLLATE');
        // Not a plain collation_connection: SET NAMES … COLLATE also sets the result collation.
        assignments.push({ scope: 'session', name: 'names_collate', value: coll });
        i += 2;
      }
      if (tokens[i]?.text === ',') i++;
      continue;
    }
    if ((w === 'character' && kw(tokens[i + 1]) === 'set') || w === 'charset') {
      const at = w === 'charset' ? i + 1 : i + 2;
      const charset = valueToken(tokens[at]);
      if (charset === undefined) throw notSupported('SET CHARACTER SET');
      assignments.push({ scope: 'session', name: 'character_set', value: charset });
      i = at + 1;
      if (tokens[i]?.text === ',') i++;
      continue;
    }
    if (w === 'global' || w === 'session' || w === 'local') {
      scope = w === 'global' ? 'global' : 'session';
      i++;
    }
    const nt = tokens[i];
    if (!nt) throw notSupported('SET shape');
    if (nt.kind === 'sysvar') {
      let v = nt.text.slice(2).toLowerCase();
      if (v.startsWith('global.')) {
        scope = 'global';
        v = v.slice(7);
      } else if (v.startsWith('session.') || v.startsWith('local.')) {
        scope = 'session';
        v = v.slice(v.indexOf('.') + 1);
      }
      name = v.replace(/`/g, '');
    } else if (nt.kind === 'uservar') {
      scope = 'user';
      name = nt.text.slice(1).replace(/^[`'"]|[`'"]$/g, '');
    } else if (nt.kind === 'ident' || nt.kind === 'qident') {
      name = identName(nt).toLowerCase();
    } else {
      throw notSupported(`SET ${nt.text}`);
    }
    i++;
    if (tokens[i]?.text !== '=' && tokens[i]?.text !== ':=') throw notSupported(`SET ${name} without =`);
    i++;
    // The value: one token (or a signed number) up to the next comma.
    let end = i;
    let depth = 0;
    while (end < n) {
      const x = tokens[end]!.text;
      if (x === '(') depth++;
      else if (x === ')') depth--;
      else if (x === ',' && depth === 0) break;
      end++;
    }
    const valueToks = tokens.slice(i, end);
    // An expression the planner cannot fold is the value of its SELECT in this session, for a
    // user variable as for a session one (MariaDB Connector/J connects with
    // `SET sql_mode = concat(@@sql_mode, ',STRICT_TRANS_TABLES')`).
    const value = setValue(valueToks) ?? (scope !== 'global' && valueToks.length > 0 ? { kind: 'query' as const, sql: `SELECT ${tokenText(valueToks)}` } : undefined);
    if (value === undefined) throw notSupported(`SET ${name} to an expression (${valueToks.map((x) => x.text).join(' ')})`);
    assignments.push({ scope, name, value });
    i = end + 1;
  }
  if (assignments.length === 0) throw notSupported('empty SET');
  return { operator: 'Session', statement: { kind: 'set', assignments } };
}

/** Tokens back to text, spaced where the statement had space. */
function tokenText(toks: readonly Token[]): string {
  let out = '';
  for (const t of toks) out += (out !== '' && t.spaceBefore ? ' ' : '') + t.text;
  return out;
}

function valueToken(t: Token | undefined): ValueExpr | undefined {
  if (!t) return undefined;
  if (t.kind === 'ident' || t.kind === 'qident') return { kind: 'literal', value: identName(t) };
  if (t.kind === 'string' || t.kind === 'number') return { kind: 'literal', value: literalValue(t) };
  return undefined;
}

function setValue(toks: readonly Token[]): ValueExpr | { kind: 'default' } | undefined {
  if (toks.length === 1) {
    const t = toks[0]!;
    const w = kw(t);
    if (w === 'default') return { kind: 'default' };
    if (w === 'on' || w === 'true') return { kind: 'literal', value: 1n };
    if (w === 'off' || w === 'false') return { kind: 'literal', value: 0n };
    if (w === 'null') return { kind: 'literal', value: null };
    if (t.kind === 'string' || t.kind === 'number' || t.kind === 'hex' || t.kind === 'bit') return { kind: 'literal', value: literalValue(t) as SqlValue };
    if (t.kind === 'ident' || t.kind === 'qident') return { kind: 'literal', value: identName(t) };
    return undefined;
  }
  if (toks.length === 2 && toks[0]!.text === '-' && toks[1]!.kind === 'number') return { kind: 'literal', value: literalValue(toks[1]!, true) };
  return foldedSetValue(toks);
}

/**
 * A constant expression (`5 + 1`, which `SET @n = @n + 1` becomes once the normalizer has put the
 * variable's value in): folded as the planner folds constants; anything it cannot fold (functions,
 * subqueries, decimals in arithmetic) is undefined, and the SET is refused. Off the hot path: SET
 * statements with expressions are rare.
 */
function foldedSetValue(toks: readonly Token[]): ValueExpr | undefined {
  if (toks.some((t) => t.kind === 'placeholder' || t.kind === 'bind' || t.kind === 'listBind' || t.kind === 'uservar' || t.kind === 'sysvar')) return undefined;
  const text = 'select ' + toks.map((t) => t.text).join(' ');
  let expr: unknown;
  try {
    const parsed = parseStatement(text, tokenize(text));
    const columns = (parsed.ast as { columns?: { expr?: unknown }[] }).columns;
    if (!Array.isArray(columns) || columns.length !== 1) return undefined;
    expr = columns[0]!.expr;
  } catch {
    return undefined;
  }
  const value = foldConstant(expr);
  return value === undefined ? undefined : { kind: 'literal', value };
}

/** SHOW forms whose rows the gateway builds itself (executor's runShow), not a shard. */
const GATEWAY_LISTED_SHOWS = new Set(['tables', 'databases', 'schemas', 'keyspaces', 'processlist']);

/** SHOW statements. Per-table ones (COLUMNS, CREATE TABLE, INDEX) go to one shard of the table's keyspace. */
export function planShow(ctx: TokenPlanContext): Primitive {
  const toks = ctx.tokens;
  const words = toks.map((t) => kw(t));
  let i = 1;
  let full = false;
  if (words[i] === 'full' || words[i] === 'extended') {
    full = true;
    i++;
  }
  let scope = '';
  if (words[i] === 'global' || words[i] === 'session' || words[i] === 'local') {
    scope = words[i]!;
    i++;
  }
  const likeIdx = words.indexOf('like');
  const like = likeIdx > 0 && toks[likeIdx + 1]?.kind === 'string' ? (literalValue(toks[likeIdx + 1]!) as string) : undefined;
  const what = words[i] ?? '';
  // SHOW COLUMNS/FIELDS FROM t [FROM ks], SHOW INDEX FROM t, SHOW CREATE TABLE t.
  if (what === 'columns' || what === 'fields' || what === 'index' || what === 'indexes' || what === 'keys' || (what === 'create' && words[i + 1] === 'table')) {
    const nameAt = what === 'create' ? i + 2 : words[i + 1] === 'from' || words[i + 1] === 'in' ? i + 2 : -1;
    if (nameAt < 0 || !toks[nameAt]) throw notSupported(toks.map((t) => t.text).join(' '));
    let qualifier: string | null = null;
    let name = identName(toks[nameAt]!);
    let nameEnd = nameAt + 1;
    if (toks[nameAt + 1]?.text === '.') {
      qualifier = name;
      name = identName(toks[nameAt + 2]!);
      nameEnd = nameAt + 3;
    }
    const edits: TokenEdit[] = [];
    let fromKsEnd = -1;
    if ((words[nameEnd] === 'from' || words[nameEnd] === 'in') && toks[nameEnd + 1]) {
      qualifier = identName(toks[nameEnd + 1]!);
      fromKsEnd = nameEnd + 2;
      edits.push({ from: nameEnd, to: fromKsEnd, text: '' });
    }
    const table = findTable(ctx, name, qualifier);
    ctx.tablesUsed.add(`${table.keyspace.name}.${table.name}`);
    edits.push({ from: nameAt, to: nameEnd, text: '`' + table.name.replace(/`/g, '``') + '`' });
    return {
      operator: 'Send',
      keyspace: keyspaceRef(table.keyspace),
      query: templateFromSql(renderTokens(toks, 0, toks.length, edits)),
      allShards: false,
    };
  }
  let phrase = what;
  if (what === 'vschema' || what === 'vitess_shards' || what === 'vitess_tablets' || what === 'vitess_replication_status') phrase = words.slice(i, i + 2).filter((w) => w !== '' && w !== 'like' && w !== 'from' && w !== 'in').join(' ');
  if (what === 'table' && words[i + 1] === 'status') phrase = 'table status';
  if (what === 'create' && words[i + 1]) phrase = `create ${words[i + 1]}`;
  const statement: { kind: 'show'; what: string; like?: string; keyspace?: string; full?: boolean; scope?: 'session' | 'global' } = { kind: 'show', what: phrase };
  if (like !== undefined) statement.like = like;
  const fromIdx = words.findIndex((w, k) => k > i && (w === 'from' || w === 'in'));
  if (fromIdx > 0 && toks[fromIdx + 1]) {
    const ks = identName(toks[fromIdx + 1]!);
    if (!ctx.vschema.keyspace(ks) && !SYSTEM_SCHEMAS.has(ks.toLowerCase())) throw unknownKeyspace(ks);
    statement.keyspace = ks;
  } else if (phrase === 'tables' || phrase === 'table status') {
    statement.keyspace = anyKeyspace(ctx.vschema, ctx.defaultKeyspace).name;
  }
  if (full) statement.full = true;
  if (scope !== '') statement.scope = scope === 'global' ? 'global' : 'session';
  // The gateway lists these itself and has no evaluator for a WHERE over its own rows; ignoring
  // the WHERE would list every row (SHOW FULL TABLES WHERE Table_type = 'VIEW' gave all tables).
  if (GATEWAY_LISTED_SHOWS.has(phrase) && words.includes('where', i + 1)) throw notSupported(`SHOW ${phrase.toUpperCase()} … WHERE (the gateway lists them itself; LIKE works)`);
  return { operator: 'Session', statement };
}

/** DDL: sent to every shard of the keyspace of the table(s) it names, keyspace qualifiers stripped. */
export function planDdl(ctx: TokenPlanContext): Primitive {
  const toks = ctx.tokens;
  const words = toks.map((t) => kw(t));
  const verb = words[0];
  let objectIdx = 1;
  while (objectIdx < toks.length && ['temporary', 'or', 'replace', 'online', 'offline', 'ignore', 'unique', 'fulltext', 'spatial', 'definer', 'algorithm', 'sql', 'security'].includes(words[objectIdx]!)) objectIdx++;
  const object = words[objectIdx];
  if (verb === 'create' && words.slice(1, objectIdx).includes('temporary')) {
    // It would live on whichever pooled shard connection ran it: the session's next statement may
    // not see it, and another client's statement on that connection would (shadowing a table).
    throw notSupported('CREATE TEMPORARY TABLE (a temporary table belongs to one shard connection, which the gateway shares between clients)');
  }
  if (object === 'database' || object === 'schema') throw notSupported(`${verb?.toUpperCase()} DATABASE (keyspaces come from the vschema)`);
  if (object === 'vschema') throw notSupported('ALTER VSCHEMA');
  if (object === 'user' || object === 'role' || object === 'procedure' || object === 'function' || object === 'trigger' || object === 'event') {
    throw notSupported(`${verb?.toUpperCase()} ${object.toUpperCase()}`);
  }
  // Table names: after TABLE/VIEW [IF [NOT] EXISTS], after ON (CREATE INDEX … ON t), after TO/, (RENAME).
  const names: { at: number; end: number; qualifier: string | null; name: string }[] = [];
  const readName = (at: number): number => {
    const t = toks[at];
    if (!t || (t.kind !== 'ident' && t.kind !== 'qident')) return at;
    let qualifier: string | null = null;
    let name = identName(t);
    let end = at + 1;
    if (toks[at + 1]?.text === '.' && toks[at + 2]) {
      qualifier = name;
      name = identName(toks[at + 2]!);
      end = at + 3;
    }
    names.push({ at, end, qualifier, name });
    return end;
  };
  let k = objectIdx + 1;
  if (words[k] === 'if') {
    k++;
    if (words[k] === 'not') k++;
    if (words[k] === 'exists') k++;
  }
  if (object === 'table' || object === 'view' || verb === 'truncate') {
    if (verb === 'truncate' && object !== 'table') k = objectIdx;
    k = readName(k);
    // DROP TABLE a, b / RENAME TABLE a TO b, c TO d
    while (k < toks.length && (toks[k]!.text === ',' || words[k] === 'to')) {
      k = readName(k + 1);
      if (verb === 'rename' && words[k] === 'to') k = readName(k + 1);
    }
  } else if (object === 'index') {
    const on = words.indexOf('on', objectIdx);
    if (on < 0) throw notSupported('DDL shape');
    readName(on + 1);
  } else {
    throw notSupported(`${verb?.toUpperCase()} ${object?.toUpperCase() ?? ''}`);
  }
  if (names.length === 0) throw notSupported('DDL without a table name');
  const edits: TokenEdit[] = [];
  let keyspaceName: string | null = null;
  for (const nm of names) {
    let ksName = nm.qualifier ?? ctx.defaultKeyspace;
    if (ksName && SYSTEM_SCHEMAS.has(ksName.toLowerCase())) throw notSupported(`DDL on ${ksName}`);
    if (!ksName) {
      // No keyspace: the table must be known (unique across keyspaces).
      let t;
      try {
        t = findTable(ctx, nm.name, null);
      } catch {
        throw new PlanError(1046, '3D000', 'No database selected');
      }
      ksName = t.keyspace.name;
    }
    if (!ctx.vschema.keyspace(ksName)) throw unknownKeyspace(ksName);
    if (keyspaceName !== null && keyspaceName !== ksName) throw notSupported('DDL across keyspaces');
    keyspaceName = ksName;
    ctx.tablesUsed.add(`${ksName}.${nm.name}`);
    if (nm.qualifier !== null) edits.push({ from: nm.at, to: nm.end, text: toks[nm.end - 1]!.text });
  }
  const ks = ctx.vschema.keyspace(keyspaceName!)!;
  if (object === 'view' && (verb === 'create' || verb === 'alter') && ks.sharded) {
    // Each shard would hold a view over its own rows only, and the vschema does not know the
    // view, so a later SELECT could not be planned (1146) or would merge per-shard answers.
    throw notSupported(`${verb.toUpperCase()} VIEW in the sharded keyspace '${ks.name}': declare the view in the vschema ("views": { "${names[0]!.name}": "select …" } under keyspaces.${ks.name}), and shardgate plans it as a derived table`);
  }
  return {
    operator: 'Send',
    keyspace: keyspaceRef(ks),
    query: templateFromSql(renderTokens(toks, 0, toks.length, edits)),
    allShards: true,
  };
}

/**
 * Session functions the session answers even with no `@@` variable beside them. LAST_INSERT_ID()
 * is the session's too: a shard would answer 0 typed as an INT, not the BIGINT UNSIGNED it is.
 * So is FOUND_ROWS(): a shard would count whatever its pooled connection ran last.
 */
const GATEWAY_IDENTITY_FUNCTIONS = new Set(['user', 'current_user', 'session_user', 'system_user', 'connection_id', 'last_insert_id', 'found_rows']);

/**
 * `select last_insert_id(<constant>) [[as] name]`, alone: the session sets its value from it.
 * With FROM or beside other columns it stays refused by the select planner.
 */
function planSetLastInsertId(tokens: readonly Token[]): SessionPrimitive | null {
  if (kw(tokens[1]) !== 'last_insert_id' || tokens[2]?.text !== '(' || tokens[4]?.text !== ')') return null;
  const a = tokens[3]!;
  let arg: ValueExpr;
  if (a.kind === 'bind') arg = { kind: 'bind', name: a.text.slice(1) };
  else if (kw(a) === 'null') arg = { kind: 'literal', value: null };
  else if (a.kind === 'number' || a.kind === 'string') arg = { kind: 'literal', value: literalValue(a) };
  else return null;
  let i = 5;
  let alias: string | undefined;
  const n = kw(tokens[i]) === 'as' ? tokens[i + 1] : tokens[i];
  if (n && (n.kind === 'qident' || n.kind === 'string' || (n.kind === 'ident' && kw(n) !== 'limit'))) {
    alias = n.kind === 'ident' ? n.text : n.kind === 'string' ? decodeString(n.text) : identName(n);
    i += kw(tokens[i]) === 'as' ? 2 : 1;
  }
  if (i !== tokens.length) return null;
  return { operator: 'Session', statement: { kind: 'set-last-insert-id', arg, ...(alias !== undefined ? { alias } : {}), ...(a.kind !== 'bind' ? { argText: a.text } : {}) } };
}

/**
 * `KILL [HARD|SOFT] [CONNECTION|QUERY] id`, as MariaDB writes it (the `mariadb` client sends
 * `KILL QUERY id` on Ctrl-C). `KILL QUERY ID query_id` and `KILL USER name` name things the
 * gateway does not number, so they are refused.
 */
export function planKill(tokens: readonly Token[], sql: string): SessionPrimitive {
  let i = 1;
  if (kw(tokens[i]) === 'hard' || kw(tokens[i]) === 'soft') i++;
  let scope: 'connection' | 'query' = 'connection';
  const w = kw(tokens[i]);
  if (w === 'connection' || w === 'query') {
    scope = w;
    i++;
  }
  if (kw(tokens[i]) === 'id' || kw(tokens[i]) === 'user') throw notSupported(`KILL ${kw(tokens[i])!.toUpperCase()} (the gateway's connections are killed by the Id SHOW PROCESSLIST shows)`);
  const t = tokens[i];
  if (t === undefined || i !== tokens.length - 1 || (t.kind !== 'bind' && t.kind !== 'number')) throw syntaxError(sql, t?.start ?? sql.length);
  const id: ValueExpr = t.kind === 'bind' ? { kind: 'bind', name: t.text.slice(1) } : { kind: 'literal', value: literalValue(t) };
  return { operator: 'Session', statement: { kind: 'kill', scope, id } };
}

/**
 * `SELECT … INTO @a [, @b …]`: the statement without its INTO clause, for the session to run and
 * assign from (see the 'select-into' Session statement); null when it has no such clause.
 */
export function planSelectInto(tokens: readonly Token[]): SessionPrimitive | null {
  const into = selectIntoTargets(tokens, tokens.length);
  if (into === null) return null;
  const variables: string[] = [];
  for (let i = into.from + 1; i < into.to; i += 2) variables.push(userVariableName(tokens[i]!.text));
  const text = renderTokens(tokens, 0, tokens.length, [{ from: into.from, to: into.to, text: '' }]);
  return { operator: 'Session', statement: { kind: 'select-into', query: templateFromSql(text), variables } };
}

/** Functions whose value is the session's (the gateway's), not a shard's. */
const SESSION_FUNCTIONS = new Set(['database', 'schema', 'user', 'current_user', 'session_user', 'system_user', 'connection_id', 'last_insert_id', 'found_rows', 'version']);

/**
 * `select @@version_comment limit 1`, `select @@workload, database()`: a SELECT of system
 * variables and session functions only, without FROM. The session answers it (a shard does not
 * know the gateway's settings); variables it does not own are read from a shard of the session's
 * keyspace. Returns null for any other shape. Needs at least one `@@` variable or identity
 * function (`user()`, `connection_id()`).
 */
export function planSystemSelect(tokens: readonly Token[]): SessionPrimitive | null {
  if (kw(tokens[0]) !== 'select') return null;
  const setter = planSetLastInsertId(tokens);
  if (setter) return setter;
  const columns: { name: string; expr: string }[] = [];
  let i = 1;
  let sawVariable = false;
  for (;;) {
    const t = tokens[i];
    let expr: string;
    if (t?.kind === 'sysvar') {
      expr = t.text;
      sawVariable = true;
      i++;
    } else if (t?.kind === 'ident' && SESSION_FUNCTIONS.has(kw(t)) && tokens[i + 1]?.text === '(' && tokens[i + 2]?.text === ')') {
      expr = `${t.text}()`;
      // Who the client is and which connection it has are the gateway's to say: a shard would
      // name its own account and whichever pooled connection ran the statement.
      if (GATEWAY_IDENTITY_FUNCTIONS.has(kw(t))) sawVariable = true;
      i += 3;
    } else return null;
    let name = expr;
    const a = tokens[i];
    const bare = a && (a.kind === 'qident' || (a.kind === 'ident' && !['as', 'limit', 'from', 'where', 'into', 'for', 'union'].includes(kw(a))));
    if (kw(a) === 'as' || bare) {
      const n = kw(a) === 'as' ? tokens[i + 1] : a;
      if (!n || (n.kind !== 'ident' && n.kind !== 'qident' && n.kind !== 'string')) return null;
      name = n.kind === 'ident' ? n.text : n.kind === 'string' ? n.text.slice(1, -1) : identName(n);
      i += kw(a) === 'as' ? 2 : 1;
    }
    columns.push({ name, expr });
    if (tokens[i]?.text === ',') {
      i++;
      continue;
    }
    break;
  }
  if (kw(tokens[i]) === 'limit') {
    // LIMIT 0 returns no row: leave that to a shard.
    if (tokens[i + 1]?.kind !== 'number' || !/^[1-9]\d*$/.test(tokens[i + 1]!.text)) return null;
    i += 2;
  }
  if (i !== tokens.length || !sawVariable) return null;
  return { operator: 'Session', statement: { kind: 'select-system', columns } };
}
