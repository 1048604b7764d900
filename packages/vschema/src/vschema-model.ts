import type { Vindex } from './vindex-types.js';

/**
 * A loaded vschema. Concurrency rule: immutable once loadVSchema returns (maps are never written
 * after construction, objects are frozen), so one instance is shared by every session; a vschema
 * change builds a new VSchema and swaps the reference.
 */
export interface VSchema {
  readonly keyspaces: ReadonlyMap<string, Keyspace>;
  /** Vitess routing_rules: "route1" / "ks.route1" / "ks.t@primary" -> ["user.user"] (raw targets). */
  readonly routingRules: ReadonlyMap<string, readonly string[]>;
  keyspace(name: string): Keyspace | undefined;
  /**
   * Resolve a table name as VTGate does for a primary tablet:
   *  1. routing rules for `ks.name@primary`, then `ks.name` (ks = qualifier ?? defaultKeyspace), or
   *     the bare name when there is no keyspace; a rule with no target throws "has been disabled",
   *     a rule whose target cannot be resolved throws that error;
   *  2. with a keyspace: its table, or for an unsharded keyspace an implicit unsharded table of any
   *     name; an unknown keyspace throws (errno 1049);
   *  3. without: the only keyspace's table, else the table of that name if it is unique across
   *     keyspaces (keyspaces with require_explicit_routing excluded); several -> throws
   *     "ambiguous table reference".
   * Returns undefined when nothing matches. Errors are VSchemaLookupError (errno/sqlState set).
   */
  findTable(name: string, qualifier?: string | null, defaultKeyspace?: string | null): Table | undefined;
  /** A vindex by name: in `keyspace`, or unique across keyspaces (throws when ambiguous). */
  findVindex(name: string, keyspace?: string | null): Vindex | undefined;
}

export interface Keyspace {
  readonly name: string;
  readonly sharded: boolean;
  readonly vindexes: ReadonlyMap<string, Vindex>;
  readonly tables: ReadonlyMap<string, Table>;
  readonly requireExplicitRouting?: boolean;
  /** Vitess foreign_key_mode as written (e.g. "FK_MANAGED"), if set. */
  readonly foreignKeyMode?: string;
  /**
   * Views (`"views": { "name": "select …" }`): view name → its SELECT, which the planner puts in
   * place of the view as a derived table, as Vitess does with the views it tracks. Empty when none.
   */
  readonly views: ReadonlyMap<string, string>;
}

export type TableType = 'sharded' | 'reference' | 'sequence' | 'unsharded';

export interface Table {
  readonly name: string;
  readonly keyspace: Keyspace;
  readonly type: TableType;
  /** [0] is the primary vindex (unique) for sharded tables; multi-column primaries are followed by their partial prefixes. */
  readonly columnVindexes: readonly ColumnVindex[];
  /** sequence is the table name as written: "ks.table" or bare. */
  readonly autoIncrement?: { readonly column: string; readonly sequence: string };
  /** The resolved sequence table of autoIncrement. */
  readonly sequenceTable?: Table;
  readonly columns?: readonly { name: string; type?: string }[];
  readonly columnListAuthoritative?: boolean;
  /** Hex keyspace id for pinned tables. */
  readonly pinned?: string;
  /** Reference table source, "ks.table" or bare, as written. */
  readonly source?: string;
  /** True for a table of an unsharded keyspace that the vschema does not list. */
  readonly implicit?: boolean;
}

export interface ColumnVindex {
  readonly columns: readonly string[];
  readonly name: string;
  readonly vindex: Vindex;
  /** A lookup vindex whose `owner` is this table: writes to the table maintain the lookup rows. */
  readonly owned: boolean;
  /** Cost (the vindex's, +1 per dropped column for partial prefixes). */
  readonly cost: number;
  readonly unique: boolean;
  /** A leading subset of a multi-column primary vindex's columns: maps to a key range. */
  readonly partial: boolean;
}
