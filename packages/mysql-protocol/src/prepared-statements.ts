import type { ColumnDefinition } from './column-types.js';

/** Server-side state of one prepared statement. */
export interface PreparedStatement {
  readonly id: number;
  readonly sql: string;
  readonly paramCount: number;
  readonly columns: readonly ColumnDefinition[];
  /** What the session's prepare returned for its executes (PrepareResult.handle). */
  readonly handle: unknown;
  /** Parameter types from the last execute that bound them: low byte type, high byte flags (0x80 = unsigned). */
  paramTypes: Uint16Array | null;
  /** Chunks from COM_STMT_SEND_LONG_DATA per parameter; cleared after each execute and on reset. */
  longData: Map<number, Buffer[]> | null;
  longDataBytes: number;
  /** Set when long data exceeded maxPacketSize; the next execute fails. */
  longDataTooLarge: boolean;
}

/**
 * The prepared statements of one connection, by id. Ids start at 1 and are
 * never reused within the connection.
 * Concurrency: owned by one connection's command loop (one command at a time).
 */
export class PreparedStatementRegistry {
  private nextId = 1;
  private readonly byId = new Map<number, PreparedStatement>();

  get size(): number {
    return this.byId.size;
  }

  add(sql: string, paramCount: number, columns: readonly ColumnDefinition[], handle?: unknown): PreparedStatement {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    const stmt: PreparedStatement = { id, sql, paramCount, columns, handle, paramTypes: null, longData: null, longDataBytes: 0, longDataTooLarge: false };
    this.byId.set(id, stmt);
    return stmt;
  }

  get(id: number): PreparedStatement | undefined {
    return this.byId.get(id);
  }

  delete(id: number): boolean {
    return this.byId.delete(id);
  }

  clear(): void {
    this.byId.clear();
  }
}

export function clearLongData(stmt: PreparedStatement): void {
  stmt.longData = null;
  stmt.longDataBytes = 0;
  stmt.longDataTooLarge = false;
}

/**
 * Counts '?' placeholders outside string literals, quoted identifiers and
 * comments ('...', "...", `...`, -- and # to end of line, C-style block comments).
 */
export function countPlaceholders(sql: string): number {
  let count = 0;
  const n = sql.length;
  for (let i = 0; i < n; i++) {
    const c = sql.charCodeAt(i);
    if (c === 63 /* ? */) {
      count++;
    } else if (c === 39 /* ' */ || c === 34 /* " */ || c === 96 /* ` */) {
      i = skipQuoted(sql, i, c);
    } else if (c === 35 /* # */) {
      i = skipToLineEnd(sql, i);
    } else if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      const next = sql.charCodeAt(i + 2);
      // MySQL needs whitespace or a control char (or the end) after '--'.
      if (Number.isNaN(next) || next <= 32) i = skipToLineEnd(sql, i);
    } else if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 1;
    }
  }
  return count;
}

function skipQuoted(sql: string, start: number, quote: number): number {
  for (let i = start + 1; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    if (c === 92 /* \ */ && quote !== 96) {
      i++;
    } else if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) i++; // doubled quote escapes itself
      else return i;
    }
  }
  return sql.length;
}

function skipToLineEnd(sql: string, start: number): number {
  const end = sql.indexOf('\n', start);
  return end === -1 ? sql.length : end;
}
