/**
 * What the random query generator needs to know about a schema: its tables, their columns (with
 * a coarse type), a unique key per table (so ORDER BY can be made total), the column pairs that
 * make sense to join on, and literal values to compare against.
 */

/** Coarse column types: they decide which operators, functions and literals the generator uses. */
export type RandomColumnKind = 'int' | 'decimal' | 'string' | 'datetime';

export interface RandomColumn {
  name: string;
  kind: RandomColumnKind;
  nullable: boolean;
  /**
   * For strings not in the tables' default collation: its name (or `binary`, `enum`). Two string
   * columns are compared, COALESCEd or matched by IN only when this is equal, since MariaDB
   * refuses to mix two implicit collations (1267).
   */
  collation?: string;
  /**
   * Literals worth comparing against (SQL text, e.g. `'alice '`, `12.50`, `'2024-01-01 10:00:00'`).
   * Omit them and the runner samples values from the reference before it generates.
   */
  values?: string[];
}

export interface RandomTable {
  /** The name as queries spell it, qualified if the gateway needs it (`main.warehouse`). */
  name: string;
  columns: RandomColumn[];
  /** Columns that together are unique and never NULL (the primary key): the tiebreaker of every ORDER BY. */
  uniqueKey: string[];
}

/** Two columns that are worth joining on, e.g. orders.customer_id = customer.id (on the vindex) or off it. */
export interface RandomJoinPath {
  left: string;
  leftColumn: string;
  right: string;
  rightColumn: string;
}

export interface RandomSchema {
  tables: RandomTable[];
  joins: RandomJoinPath[];
}
