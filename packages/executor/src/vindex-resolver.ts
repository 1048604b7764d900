/**
 * Maps vindex column values to keyspace ids: functional vindexes compute them, lookup vindexes
 * read their backing table (through the session, so a transaction sees its own lookup rows).
 *
 * The values are the ones a statement compares the vindex column with (`col = v`, `col IN (…)`)
 * or inserts into it. shardgate must find every row one MariaDB would, so a value whose keyspace id
 * is not certain goes to every shard (where MariaDB compares it itself) instead of to none as in
 * Vitess; INSERT refuses such a value (it needs exactly one keyspace id per row).
 */
import { ExactNumber, type SqlValue } from '@shardgate/planner';
import { ExecutorError, ER_UNKNOWN_ERROR } from './errors.js';
import type { QueryContext } from './query-context.js';
import type { Row } from './types.js';
import { literalOf } from './values/cell-codec.js';
import type { VindexInput, VindexLike } from './keyspace-routing.js';
import { lookupReadShards, lookupTableName } from './lookup-table-placement.js';
import { mapInSlices } from './event-loop-yield.js';

/** Where one value lives: some keyspace ids (none = nowhere), or every shard. */
export type VindexDestination = readonly Uint8Array[] | 'allShards';

export function vindexOf(ctx: QueryContext, keyspace: string, name: string): VindexLike {
  const ks = ctx.routing.vschema.keyspace(keyspace);
  const v = ks?.vindexes.get(name) as VindexLike | undefined;
  if (!v) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `vindex ${name} not found in keyspace ${keyspace}`);
  return v;
}

export function toVindexInput(v: SqlValue): VindexInput {
  return v instanceof ExactNumber ? v.text : v;
}

/**
 * The destination of each value. NULL equals nothing (`= NULL`, `IN (…, NULL)`): no keyspace id.
 * A functional vindex maps a value only when every value MariaDB finds equal to it has the same
 * keyspace id (`3.0`, `3e0` and `'3'` map as 3 on `hash`); a value no row can equal (`3.5` on
 * `hash`) has no keyspace id; any other value (`' 3'`, `'3abc'`, `0x03`) is 'allShards'. Lookup vindexes let MariaDB compare the value with the lookup
 * table's column, which has the owner column's type.
 */
export async function keyspaceIdsFor(ctx: QueryContext, keyspace: string, vindexName: string, values: readonly SqlValue[]): Promise<VindexDestination[]> {
  const vindex = vindexOf(ctx, keyspace, vindexName);
  if (vindex.kind !== 'lookup' && typeof vindex.map === 'function') {
    return mapInSlices(values, (v): VindexDestination => {
      if (v === null) return [];
      const input = toVindexInput(v);
      const ksid = vindex.mapCompared ? vindex.mapCompared(input, v instanceof ExactNumber) : vindex.map!(input);
      return ksid === 'none' ? [] : ksid ? [ksid] : 'allShards';
    });
  }
  if (vindex.table && vindex.to) return lookupKeyspaceIds(ctx, keyspace, vindex, values);
  throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `vindex ${vindexName} of ${keyspace} (${vindex.kind}) cannot map values to keyspace ids`);
}

const ident = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

/** A cell as the latin1 string of its bytes (how lookup rows are matched to the values asked for). */
function cellKey(cell: Uint8Array): string {
  return Buffer.from(cell.buffer, cell.byteOffset, cell.byteLength).toString('latin1');
}

/** What a value looks like when MariaDB returns an equal `from` cell with the same text. */
function keyText(v: Exclude<SqlValue, null>): string {
  if (v instanceof Uint8Array) return cellKey(v);
  if (typeof v === 'string') return Buffer.from(v, 'utf8').toString('latin1');
  return String(v);
}

/** One value to look up: the literal sent to the lookup table and its key text. */
interface LookupInput {
  readonly literal: Exclude<SqlValue, null>;
  readonly key: string;
}

function lookupInput(vindex: VindexLike, v: Exclude<SqlValue, null>): LookupInput | null {
  const input = toVindexInput(v);
  const x = vindex.fromValue ? vindex.fromValue(input) : input;
  if (x === null) return null;
  // Untransformed, a decimal or double literal stays a number literal: quoted, `3e0` would be
  // compared as a string, and MariaDB's rules for the two differ.
  const literal = x === input && v instanceof ExactNumber ? v : typeof x === 'number' ? new ExactNumber(String(x)) : x;
  return { literal, key: keyText(literal) };
}

async function lookupKeyspaceIds(ctx: QueryContext, keyspace: string, vindex: VindexLike, values: readonly SqlValue[]): Promise<VindexDestination[]> {
  const inputs = values.map((v) => (v === null ? null : lookupInput(vindex, v)));
  // Distinct values by key text, in first-seen order.
  const distinct = new Map<string, LookupInput>();
  for (const i of inputs) if (i !== null && !distinct.has(i.key)) distinct.set(i.key, i);
  if (distinct.size === 0) return values.map(() => []);
  const [tableKs, table] = lookupTableName(vindex, keyspace);
  const from = Array.isArray(vindex.from) ? vindex.from[0] : (vindex.from as string);
  const to = vindex.to!;
  const shards = await lookupReadShards(ctx, tableKs, table, from, [...distinct.values()].map((i) => i.literal));
  // A consistent lookup creates its rows in the pre transaction (lookup-upkeep.ts): in a
  // transaction, only a read there sees the rows of owner rows this transaction wrote (see
  // ShardAccess.lookupRead). Read on the session's own connection, a row inserted earlier in the
  // transaction was not found by its lookup value. An `autocommit` one writes on pooled
  // connections, committed at once: any connection sees its rows.
  const read = (s: string, sql: string) => (vindex.consistent && !vindex.autocommit ? ctx.access.lookupRead(tableKs, s, sql, ctx.signal) : ctx.access.query(tableKs, s, sql, ctx.signal));
  const rowsOf = async (sql: string): Promise<Row[]> => {
    const results = await Promise.all(shards.map((s) => read(s, sql)));
    return results.flatMap((r) => r.rows as Row[]);
  };

  const list = `(${[...distinct.values()].map((i) => literalOf(i.literal)).join(', ')})`;
  const sql = vindex.query
    ? vindex.query.sql.replace(`::${vindex.query.argument}`, list).replace(new RegExp(`\\b${tableKs}\\.`, 'g'), '')
    : `select ${ident(from)}, ${ident(to)} from ${ident(table)} where ${ident(from)} in ${list}`;
  const rows = await rowsOf(sql);

  // Which lookup rows belong to which value. MariaDB matched them, by its own comparison: `3.0`
  // finds the row of 3, `'ABC'` the row of 'abc' under a case-insensitive collation.
  const byKey = new Map<string, Uint8Array[]>();
  const add = (key: string, toCell: Uint8Array): void => {
    const found = byKey.get(key);
    if (found) found.push(toCell);
    else byKey.set(key, [toCell]);
  };
  if (distinct.size === 1) {
    // One value asked for: every row found is its.
    const [key] = distinct.keys();
    for (const row of rows) if (row[1] !== null) add(key, row[1]);
  } else {
    // Several values: a row whose `from` text is one of theirs is that value's (a value equals
    // itself, so the owner row is found on that shard through it). A row whose text is none of
    // theirs matched a value written differently: only MariaDB can tell which, so ask again with
    // each value's rows tagged by its position.
    let untold = false;
    for (const row of rows) {
      if (row[1] === null) continue;
      const key = row[0] === null ? undefined : cellKey(row[0]);
      if (key === undefined || !distinct.has(key)) {
        untold = true;
        break;
      }
      add(key, row[1]);
    }
    if (untold) {
      byKey.clear();
      const asked = [...distinct.values()];
      const tagged = asked.map((i, n) => `select ${n}, ${ident(to)} from ${ident(table)} where ${ident(from)} in (${literalOf(i.literal)})`).join(' union all ');
      for (const row of await rowsOf(tagged)) {
        if (row[0] === null || row[1] === null) continue;
        add(asked[Number(cellKey(row[0]))].key, row[1]);
      }
    }
  }

  return inputs.map((i): VindexDestination => {
    if (i === null) return [];
    const toValues = byKey.get(i.key) ?? [];
    if (vindex.destinationFor) {
      const d = vindex.destinationFor(toValues);
      return d.kind === 'none' ? [] : d.kind === 'allShards' ? 'allShards' : d.ksids;
    }
    return toValues;
  });
}
