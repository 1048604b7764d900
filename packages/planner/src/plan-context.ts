/**
 * Per-plan state shared by the statement planners while one plan is built (one cache miss).
 * Concurrency rule: a PlanContext belongs to one synchronous planning call and is never shared.
 */
import type { Keyspace, Table, VSchema } from '@shardgate/vschema';
import type { KeyspaceRef, RouteOptions } from './plan-types.js';
import type { ParsedStatement, Ast } from './sql-parser.js';
import type { TokenEdit } from './shard-sql.js';
import { PlanError, tableNotFound, unknownKeyspace, planFailure } from './errors.js';

export interface PlanContext {
  readonly vschema: VSchema;
  /** The session's keyspace (from USE), without any shard target. */
  readonly defaultKeyspace: string | null;
  readonly parsed: ParsedStatement;
  /** Bind vars that hold lists (`::name`). */
  readonly listBinds: ReadonlySet<string>;
  readonly directives: RouteOptions;
  /** Edits applied to the whole statement's tokens when it goes to shards as one route. */
  readonly edits: TokenEdit[];
  readonly tablesUsed: Set<string>;
  nextId: number;
  /**
   * Plans a SELECT written as normalized text (bind vars as `:name`), in the same session context:
   * used for pulled-out subqueries and for rewritten outer queries; `kind` 'insert' plans an
   * INSERT … VALUES over row binds instead (INSERT … SELECT's writing half).
   */
  readonly planText: (sql: string, kind?: 'select' | 'insert') => import('./plan-types.js').Plan;
  /** Counter for pulled-out subquery bind vars (`__sq1`, `__sq_has_values1`…), shared by nested plans. */
  readonly subqueryCounter: { n: number };
  /** The select-list column that is `LAST_INSERT_ID(expr)` (see Plan.lastInsertIdColumn), once found. */
  lastInsertIdColumn?: number;
}

export const SYSTEM_SCHEMAS = new Set(['information_schema', 'mysql', 'performance_schema', 'sys']);

/**
 * Columns of system tables that hold a schema (database) name: a DBA route is sent to the keyspace
 * these are compared with, as Vitess routes on `table_schema` (SysTableTableSchema).
 */
export const SCHEMA_NAME_COLUMNS = new Set([
  'table_schema',
  'schema_name',
  'constraint_schema',
  'index_schema',
  'routine_schema',
  'trigger_schema',
  'event_schema',
  'event_object_schema',
]);

export function keyspaceRef(ks: Keyspace): KeyspaceRef {
  return { name: ks.name, sharded: ks.sharded };
}

/**
 * The keyspace for statements that name no table (`select 1`, `select database()`): the session's
 * keyspace, else the first unsharded keyspace by name, else the first keyspace by name (Vitess's
 * AnyKeyspace).
 */
export function anyKeyspace(vschema: VSchema, defaultKeyspace: string | null): Keyspace {
  if (defaultKeyspace) {
    const ks = vschema.keyspace(defaultKeyspace);
    if (ks) return ks;
    throw unknownKeyspace(defaultKeyspace);
  }
  const names = [...vschema.keyspaces.keys()].sort();
  for (const n of names) {
    const ks = vschema.keyspace(n)!;
    if (!ks.sharded) return ks;
  }
  if (names.length > 0) return vschema.keyspace(names[0]!)!;
  throw planFailure('no keyspace is defined in the vschema');
}

/** Looks a table up as VTGate does; a miss is 1146 with the name the user wrote. */
export function findTable(ctx: { vschema: VSchema; defaultKeyspace: string | null }, name: string, qualifier: string | null): Table {
  let t: Table | undefined;
  try {
    t = ctx.vschema.findTable(name, qualifier, ctx.defaultKeyspace);
  } catch (e) {
    const err = e as { errno?: number; sqlState?: string; message?: string };
    if (typeof err.errno === 'number') throw new PlanError(err.errno, err.sqlState ?? 'HY000', err.message ?? String(e));
    throw e;
  }
  if (!t) {
    if (qualifier && !ctx.vschema.keyspace(qualifier)) throw unknownKeyspace(qualifier);
    throw tableNotFound(qualifier ?? ctx.defaultKeyspace, name);
  }
  return t;
}

export type { Ast };
