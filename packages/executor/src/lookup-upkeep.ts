/**
 * Keeps the backing tables of owned lookup vindexes in step with their owner table: a lookup row
 * (from values → keyspace id) is created for every owner row inserted, deleted for every owner row
 * deleted, and moved when an UPDATE changes the vindex column.
 *
 * Which transaction each write runs in follows Vitess (see LookupWriteOrder): plain lookups write
 * in the session's transaction; consistent lookups create in the pre transaction and delete in the
 * post transaction, so that no crash can leave an owner row without its lookup row; the vindex's
 * `autocommit` param writes at once; a consistent lookup row the transaction created itself is
 * deleted in the pre transaction that holds it (see OwnLookupRows). A consistent lookup whose
 * insert meets an existing row takes it over when that row is an orphan (its owner row is gone)
 * and reports 1062 otherwise.
 *
 * Stateless: every call works on its arguments only.
 */
import { ExactNumber, type SqlValue } from '@shardgate/planner';
import { ExecutorError, hasMysqlCode, ER_UNKNOWN_ERROR } from './errors.js';
import type { VindexLike } from './keyspace-routing.js';
import type { LookupWriteOrder, QueryContext } from './query-context.js';
import { literalOf } from './values/cell-codec.js';
import { cellText } from './values/cell-compare.js';
import { toVindexInput, vindexOf } from './vindex-resolver.js';
import { ownLookupRowKey } from './own-lookup-rows.js';
import { lookupTableName, lookupTablePlacement, shardForLookupRow, shardsForLookupValues, type LookupTablePlacement } from './lookup-table-placement.js';

const ER_DUP_ENTRY = 1062;
const ER_NOT_SUPPORTED_YET = 1235;

/** One owner row's entry in a lookup table. */
export interface LookupRowRef {
  /** The owner row's values of the vindex columns, in the vindex's column order (its `from` columns). */
  readonly from: readonly SqlValue[];
  /** The owner row's keyspace id. */
  readonly ksid: Uint8Array;
  /** The owner row's primary vindex value (lookup_hash* store it in `to` instead of the keyspace id). */
  readonly primaryValue: SqlValue;
}

/** Where the owner rows live, so a consistent lookup can tell an orphan lookup row from a live one. */
export interface LookupOwner {
  readonly keyspace: string;
  readonly table: string;
  /** The owner table's columns for this vindex, in the vindex's column order. */
  readonly columns: readonly string[];
}

interface LookupTable {
  readonly vindex: VindexLike;
  readonly name: string;
  readonly keyspace: string;
  readonly placement: LookupTablePlacement;
  readonly from: readonly string[];
  readonly to: string;
}

function lookupTableOf(ctx: QueryContext, ownerKeyspace: string, vindexName: string): LookupTable {
  const vindex = vindexOf(ctx, ownerKeyspace, vindexName);
  if (!vindex.table || !vindex.to) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `vindex ${vindexName} has no backing table to maintain`);
  const [keyspace, name] = lookupTableName(vindex, ownerKeyspace);
  const from = typeof vindex.from === 'string' ? vindex.from.split(',').map((c) => c.trim()) : [...(vindex.from ?? [])];
  const placement = lookupTablePlacement(ctx, keyspace, name, vindexName);
  if (placement.sharded && placementFromIndex(from, placement.column) < 0 && placement.column.toLowerCase() !== vindex.to.toLowerCase()) {
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `lookup vindex ${vindexName}: its table ${keyspace}.${name} is sharded by ${placement.column}, which is neither its from nor its to column`);
  }
  if (placement.sharded && vindex.unique && placementFromIndex(from, placement.column) < 0) {
    // Each shard's unique key sees only its own rows: two owners could take one value unnoticed.
    throw new ExecutorError(ER_NOT_SUPPORTED_YET, '42000', `lookup vindex ${vindexName} is unique but its table ${keyspace}.${name} is sharded by ${placement.column}, not by its from column; uniqueness could not be checked across shards`);
  }
  return { vindex, name, keyspace, placement, from, to: vindex.to };
}

/** Which `from` column the lookup table is placed by (-1: its `to` column). Column names ignore case. */
function placementFromIndex(from: readonly string[], column: string): number {
  return from.findIndex((c) => c.toLowerCase() === column.toLowerCase());
}

const ident = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

/** The value a lookup row stores in a `from` column for the owner's value `v`. */
function fromValueOf(t: LookupTable, v: SqlValue): SqlValue {
  const input = toVindexInput(v);
  const x = t.vindex.fromValue ? t.vindex.fromValue(input) : input;
  // Untransformed, a decimal or double literal stays a number literal, as the owner row gets it
  // (and as vindex-resolver.ts looks it up).
  if (x === input && v instanceof ExactNumber) return v;
  return typeof x === 'number' ? new ExactNumber(String(x)) : x;
}

function fromLiteral(t: LookupTable, v: SqlValue): string {
  return literalOf(fromValueOf(t, v));
}

function toValueOf(t: LookupTable, row: LookupRowRef): SqlValue {
  return t.vindex.toEncoding === 'hash' ? row.primaryValue : row.ksid;
}

function toLiteral(t: LookupTable, row: LookupRowRef): string {
  return literalOf(toValueOf(t, row));
}

/** What a lookup row stores in the column its (sharded) table is placed by. */
function placementValueOf(t: LookupTable, row: LookupRowRef): SqlValue {
  if (!t.placement.sharded) return null;
  const i = placementFromIndex(t.from, t.placement.column);
  return i >= 0 ? fromValueOf(t, row.from[i] ?? null) : toValueOf(t, row);
}

/** Lookup rows grouped by the shard each goes to (every row to the one shard when unsharded). */
async function byShard(ctx: QueryContext, t: LookupTable, rows: readonly LookupRowRef[], vindexName: string): Promise<Map<string, LookupRowRef[]>> {
  const out = new Map<string, LookupRowRef[]>();
  for (const r of rows) {
    const shard = await shardForLookupRow(ctx, t.placement, placementValueOf(t, r), vindexName);
    const list = out.get(shard);
    if (list) list.push(r);
    else out.set(shard, [r]);
  }
  return out;
}

/** `from0 = v0 and from1 = v1 and to = ksid`: one lookup row exactly. */
function rowCondition(t: LookupTable, row: LookupRowRef, withTo: boolean): string {
  const parts = t.from.map((c, i) => `${ident(c)} = ${fromLiteral(t, row.from[i] ?? null)}`);
  if (withTo) parts.push(`${ident(t.to)} = ${toLiteral(t, row)}`);
  return parts.join(' and ');
}

/** Rows with a NULL vindex value have no lookup row (a NULL never maps to a shard). */
function writable(t: LookupTable, rows: readonly LookupRowRef[], vindexName: string): LookupRowRef[] {
  return rows.filter((r) => {
    if (r.from.length !== t.from.length) {
      throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `lookup vindex ${vindexName} has ${t.from.length} from column(s) but its owner gave ${r.from.length} value(s)`);
    }
    return r.from.every((v) => v !== null);
  });
}

function createOrder(v: VindexLike): LookupWriteOrder {
  return v.autocommit ? 'autocommit' : v.consistent ? 'pre' : 'normal';
}

function deleteOrder(v: VindexLike): LookupWriteOrder {
  return v.autocommit ? 'autocommit' : v.consistent ? 'post' : 'normal';
}

/** Inserts the lookup rows of `rows` (one statement per vindex; consistent lookups resolve duplicates row by row). */
export async function createLookupRows(ctx: QueryContext, ownerKeyspace: string, vindexName: string, rows: readonly LookupRowRef[], owner?: LookupOwner): Promise<void> {
  const t = lookupTableOf(ctx, ownerKeyspace, vindexName);
  const list = writable(t, rows, vindexName);
  if (list.length === 0) return;
  const order = createOrder(t.vindex);
  const insert = (rs: readonly LookupRowRef[]): string =>
    `insert into ${ident(t.name)}(${[...t.from, t.to].map(ident).join(', ')}) values ${rs.map((r) => `(${[...r.from.map((v) => fromLiteral(t, v)), toLiteral(t, r)].join(', ')})`).join(', ')}`;
  // One statement per shard of the lookup table, one after the other: in a transaction the
  // session's connections run one statement at a time anyway, and a failure stops the rest.
  // The keyspace ids of the lookup rows this call wrote. Another row of the same statement taking
  // a value one of them holds is a duplicate, not an orphan to take over: its owner row is not
  // written yet, so the owner check found none, and two rows of one multi-row INSERT (or of an
  // UPDATE setting several rows to one value) were both written, on different shards, where one
  // MariaDB's unique key answers 1062.
  const created: Uint8Array[] = [];
  for (const [shard, rs] of await byShard(ctx, t, list, vindexName)) {
    if (order === 'pre') await releasePostLocksOn(ctx, t, shard, rs);
    try {
      await ctx.access.lookupWrite(t.keyspace, shard, insert(rs), order, ctx.signal);
      for (const r of rs) {
        created.push(r.ksid);
        if (order === 'pre') ownRowCreated(ctx, t, shard, r);
      }
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      if (!t.vindex.consistent || owner === undefined || order === 'autocommit') throw duplicateError(err, vindexName, t);
      // Consistent lookup: the failed statement inserted nothing; go row by row to find out which
      // existing rows are orphans that may be taken over.
      for (const r of rs) {
        try {
          await ctx.access.lookupWrite(t.keyspace, shard, insert([r]), order, ctx.signal);
          if (order === 'pre') ownRowCreated(ctx, t, shard, r);
        } catch (rowErr) {
          if (!isDuplicate(rowErr)) throw rowErr;
          // The duplicate is locked in pre now, taken over or not (see LookupRowLocks).
          if (order === 'pre') ctx.access.lookupRowLocks?.lockedInPre({ keyspace: t.keyspace, shard, table: t.name, condition: rowCondition(t, r, false) });
          await takeOverOrphan(ctx, t, shard, r, owner, rowErr, vindexName, created);
        }
        created.push(r.ksid);
      }
    }
  }
}

/**
 * Vitess's consistent-lookup duplicate handling: lock the existing lookup row (pre transaction),
 * then lock the owner row it points to (session transaction). A live owner row means a real
 * duplicate; none means the lookup row is an orphan, which is pointed at the new row.
 */
async function takeOverOrphan(ctx: QueryContext, t: LookupTable, lookupShard: string, r: LookupRowRef, owner: LookupOwner, dupErr: unknown, vindexName: string, created: readonly Uint8Array[]): Promise<void> {
  // A locking read for the UPDATE below: through lookupWrite, in the transaction that writes the
  // row and so must hold its lock (lookupRead says where rows are read, not where a write's
  // locks are held).
  const lock = await ctx.access.lookupWrite(t.keyspace, lookupShard, `select ${ident(t.to)} from ${ident(t.name)} where ${rowCondition(t, r, false)} for update`, 'pre', ctx.signal);
  const existing = lock.rows[0]?.[0] ?? null;
  if (existing === null) throw duplicateError(dupErr, vindexName, t);
  const existingKsid = t.vindex.toEncoding === 'hash' ? null : existing;
  if (existingKsid !== null && Buffer.from(existingKsid).equals(Buffer.from(r.ksid))) {
    // Already this row's (its owner row's keyspace id again, e.g. a value moved away and back in
    // one transaction): pre holds its lock now, so it is deleted there if need be.
    ownRowCreated(ctx, t, lookupShard, r);
    return;
  }
  if (existingKsid !== null && created.some((k) => Buffer.from(k).equals(Buffer.from(existingKsid)))) throw duplicateError(dupErr, vindexName, t);
  if (existingKsid !== null) {
    const shard = ctx.routing.shardsOf(owner.keyspace).shardForKeyspaceId(existingKsid);
    const where = owner.columns.map((c, i) => `${ident(c)} = ${literalOf(r.from[i] ?? null)}`).join(' and ');
    const live = await ctx.access.query(owner.keyspace, shard, `select 1 from ${ident(owner.table)} where ${where} limit 1 for update`, ctx.signal);
    if (live.rows.length > 0) throw duplicateError(dupErr, vindexName, t);
  } else {
    // lookup_hash* keep a value, not a keyspace id: the owner row cannot be checked, so never take over.
    throw duplicateError(dupErr, vindexName, t);
  }
  await ctx.access.lookupWrite(t.keyspace, lookupShard, `update ${ident(t.name)} set ${ident(t.to)} = ${toLiteral(t, r)} where ${rowCondition(t, r, false)}`, 'pre', ctx.signal);
  // Taken over: it pointed at no committed owner row, so it is the transaction's own now.
  ownRowCreated(ctx, t, lookupShard, r);
}

/** Notes that the pre transaction wrote `r`'s lookup row (see OwnLookupRows). */
function ownRowCreated(ctx: QueryContext, t: LookupTable, shard: string, r: LookupRowRef): void {
  ctx.access.ownLookupRows?.add(ownLookupRowKey(t.keyspace, shard, t.name, rowCondition(t, r, true)));
}

/**
 * Before `rs` are created in pre: a value whose row post deleted earlier in the transaction (its
 * owner row deleted, or its value moved) is locked by post, and the INSERT in pre waited for that
 * lock until innodb_lock_wait_timeout (see LookupRowLocks). Post is rolled back on that shard,
 * which releases its locks there, and the rows it had deleted there are deleted again, all but the
 * ones taken again; the INSERT then meets such a row as a duplicate whose owner row this
 * transaction deleted, and takes it over (takeOverOrphan), in pre.
 * The price: the row now changes owner in pre, committed before the session's own transaction, so
 * a failure between the two commits leaves the old owner row (its delete not committed) without
 * its lookup row, as a multi-shard COMMIT that fails part-way leaves shards apart.
 */
async function releasePostLocksOn(ctx: QueryContext, t: LookupTable, shard: string, rs: readonly LookupRowRef[]): Promise<void> {
  const locks = ctx.access.lookupRowLocks;
  if (locks === undefined || ctx.access.rollbackPostOn === undefined) return;
  const held = locks.postLockedOn(t.keyspace, shard, t.name);
  if (held.length === 0) return;
  // Which of post's rows hold one of the values, compared by the lookup table's shard in the
  // column's collation; read in pre, which sees them as committed (post's deletes are its own).
  const values = rs.map((r) => `(${rowCondition(t, r, false)})`).join(' or ');
  const sql = held.map((c, i) => `select ${i} from ${ident(t.name)} where (${c}) and (${values})`).join(' union all ');
  const found = await ctx.access.lookupRead(t.keyspace, shard, sql, ctx.signal);
  if (found.rows.length === 0) return;
  const taken = new Set(found.rows.map((row) => held[Number(cellText(row[0]!))]));
  await ctx.access.rollbackPostOn(t.keyspace, shard);
  for (const d of locks.postRolledBack(t.keyspace, shard)) {
    if (d.table === t.name && taken.has(d.condition)) continue;
    await ctx.access.lookupWrite(d.keyspace, d.shard, `delete from ${ident(d.table)} where ${d.condition}`, 'post', ctx.signal);
    locks.deletedInPost(d);
  }
}

/**
 * Of `rs`, about to be deleted in post, the rows pre met as duplicates earlier in the transaction
 * are deleted in pre, which holds their lock (see LookupRowLocks); returns the others. Like
 * releasePostLocksOn's, such a row goes in pre, committed before the session's transaction.
 */
async function deleteInPreWhatPreLocked(ctx: QueryContext, t: LookupTable, shard: string, rs: LookupRowRef[]): Promise<LookupRowRef[]> {
  const held = ctx.access.lookupRowLocks?.preLockedOn(t.keyspace, shard, t.name) ?? [];
  if (held.length === 0) return rs;
  const locked = held.map((c) => `(${c})`).join(' or ');
  const sql = rs.map((r, i) => `select ${i} from ${ident(t.name)} where (${rowCondition(t, r, true)}) and (${locked})`).join(' union all ');
  const found = await ctx.access.lookupRead(t.keyspace, shard, sql, ctx.signal);
  if (found.rows.length === 0) return rs;
  const inPre = new Set(found.rows.map((row) => Number(cellText(row[0]!))));
  for (const i of inPre) await ctx.access.lookupWrite(t.keyspace, shard, `delete from ${ident(t.name)} where ${rowCondition(t, rs[i]!, true)}`, 'pre', ctx.signal);
  return rs.filter((_, i) => !inPre.has(i));
}

/**
 * An UPDATE that changes a consistent lookup's column to a value the lookup table's collation holds
 * equal to the old one ('c1@x.com' to 'C1@X.com' under a _ci collation) keeps the same lookup row:
 * deleting it in the post transaction and creating it in the pre one locked one key from both, and
 * the statement waited for itself until innodb_lock_wait_timeout (1205 after 50 s, where one
 * MariaDB changes the row). Such a row is rewritten in place, in the pre transaction, still
 * pointing at the same owner row. Returns, for each pair, whether it was rewritten here (the rest
 * take the delete and create path).
 */
export async function respellLookupRows(ctx: QueryContext, ownerKeyspace: string, vindexName: string, pairs: readonly { old: LookupRowRef; next: LookupRowRef }[]): Promise<boolean[]> {
  const t = lookupTableOf(ctx, ownerKeyspace, vindexName);
  const order = createOrder(t.vindex);
  if (!t.vindex.consistent || order !== 'pre') return pairs.map(() => false);
  const out: boolean[] = [];
  for (const { old, next } of pairs) {
    if (writable(t, [old], vindexName).length === 0 || writable(t, [next], vindexName).length === 0) {
      out.push(false);
      continue;
    }
    const shard = await shardForLookupRow(ctx, t.placement, placementValueOf(t, old), vindexName);
    if (shard !== (await shardForLookupRow(ctx, t.placement, placementValueOf(t, next), vindexName))) {
      out.push(false);
      continue;
    }
    // The old row, if its key also equals the new value in the column's own collation; locked
    // (like takeOverOrphan's) through lookupWrite, in the transaction of the UPDATE that follows.
    const newFrom = t.from.map((c, i) => `${ident(c)} = ${fromLiteral(t, next.from[i] ?? null)}`);
    const same = await ctx.access.lookupWrite(t.keyspace, shard, `select 1 from ${ident(t.name)} where ${rowCondition(t, old, true)} and ${newFrom.join(' and ')} for update`, order, ctx.signal);
    if (same.rows.length === 0) {
      out.push(false);
      continue;
    }
    await ctx.access.lookupWrite(t.keyspace, shard, `update ${ident(t.name)} set ${newFrom.join(', ')} where ${rowCondition(t, old, true)}`, order, ctx.signal);
    // The transaction's own row keeps being its own under its new spelling.
    const own = ctx.access.ownLookupRows;
    const oldKey = ownLookupRowKey(t.keyspace, shard, t.name, rowCondition(t, old, true));
    if (own?.has(oldKey)) {
      own.remove(oldKey);
      own.add(ownLookupRowKey(t.keyspace, shard, t.name, rowCondition(t, next, true)));
    } else {
      // A committed row, locked in pre now: deleted there if need be (see LookupRowLocks).
      ctx.access.lookupRowLocks?.lockedInPre({ keyspace: t.keyspace, shard, table: t.name, condition: rowCondition(t, next, true) });
    }
    out.push(true);
  }
  return out;
}

/** Deletes the lookup rows of `rows` (matching both the from values and the keyspace id). */
export async function deleteLookupRows(ctx: QueryContext, ownerKeyspace: string, vindexName: string, rows: readonly LookupRowRef[]): Promise<void> {
  const t = lookupTableOf(ctx, ownerKeyspace, vindexName);
  const list = writable(t, rows, vindexName);
  if (list.length === 0) return;
  const order = deleteOrder(t.vindex);
  // A row whose placement value's shard is not certain is deleted wherever it is: the condition
  // names it exactly, so a shard without it deletes nothing.
  const perShard = new Map<string, LookupRowRef[]>();
  for (const r of list) {
    for (const shard of await shardsForLookupValues(ctx, t.placement, [placementValueOf(t, r)])) {
      const rs = perShard.get(shard);
      if (rs) rs.push(r);
      else perShard.set(shard, [r]);
    }
  }
  const own = order === 'post' ? ctx.access.ownLookupRows : undefined;
  for (const [shard, all] of perShard) {
    let rs = all;
    if (own !== undefined) {
      // Rows this transaction created in pre are deleted there: their locks are pre's, and a
      // delete in post waited for them until innodb_lock_wait_timeout (see OwnLookupRows).
      rs = [];
      for (const r of all) {
        const key = ownLookupRowKey(t.keyspace, shard, t.name, rowCondition(t, r, true));
        if (!own.has(key)) {
          rs.push(r);
          continue;
        }
        await ctx.access.lookupWrite(t.keyspace, shard, `delete from ${ident(t.name)} where ${rowCondition(t, r, true)}`, 'pre', ctx.signal);
        own.remove(key);
      }
      if (rs.length === 0) continue;
      rs = await deleteInPreWhatPreLocked(ctx, t, shard, rs);
      if (rs.length === 0) continue;
      const locks = ctx.access.lookupRowLocks;
      if (locks !== undefined) for (const r of rs) locks.deletedInPost({ keyspace: t.keyspace, shard, table: t.name, condition: rowCondition(t, r, true) });
    }
    if (order === 'post' && rs.length > 1) {
      // One statement per row: MariaDB may scan for an OR of several rows, and in REPEATABLE READ
      // a locking scan locks every row and gap it passes, in the post transaction, until the
      // statement ends; the pre transaction's inserts of the new values (an UPDATE of several
      // rows) then waited on them: 1205 after innodb_lock_wait_timeout where MariaDB answers
      // at once. A primary-key equality locks only its row.
      for (const r of rs) await ctx.access.lookupWrite(t.keyspace, shard, `delete from ${ident(t.name)} where ${rowCondition(t, r, true)}`, order, ctx.signal);
      continue;
    }
    const where = rs.map((r) => `(${rowCondition(t, r, true)})`).join(' or ');
    await ctx.access.lookupWrite(t.keyspace, shard, `delete from ${ident(t.name)} where ${where}`, order, ctx.signal);
  }
}

function isDuplicate(err: unknown): boolean {
  return hasMysqlCode(err) && err.errno === ER_DUP_ENTRY;
}

function duplicateError(err: unknown, vindexName: string, t: LookupTable): ExecutorError {
  const why = hasMysqlCode(err) ? err.message : String(err);
  return new ExecutorError(ER_DUP_ENTRY, '23000', `Duplicate entry in lookup vindex ${vindexName} (table ${t.keyspace}.${t.name}): ${why}`);
}

/** The owner table's columns for one of its column vindexes, from the vschema. */
export function ownerOf(ctx: QueryContext, keyspace: string, table: string, vindexName: string): LookupOwner | undefined {
  const tables = ctx.routing.vschema.keyspace(keyspace)?.tables as ReadonlyMap<string, { columnVindexes?: readonly { name: string; columns: readonly string[] }[] }> | undefined;
  const cv = tables?.get?.(table)?.columnVindexes?.find((c) => c.name === vindexName);
  return cv ? { keyspace, table, columns: cv.columns } : undefined;
}
