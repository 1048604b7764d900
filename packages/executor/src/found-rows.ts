/**
 * What FOUND_ROWS() returns after each statement of a session, as one MariaDB 10.11 keeps it
 * (checked against one in packages/e2e-tests/test/select-session-values.int.test.ts):
 * - a SELECT that returns a result set sets it to the rows it returned (plus those its OFFSET
 *   skipped: such a statement leaves it unknown), or, with SQL_CALC_FOUND_ROWS and a LIMIT, to
 *   the rows it has without the LIMIT;
 * - INSERT, UPDATE, DELETE, REPLACE, SET, DO and transaction statements without a SELECT inside
 *   leave it as it was;
 * - for anything else (a failed statement, which MariaDB may have counted partly; SHOW; EXPLAIN;
 *   SELECT … INTO; a statement with a subquery; a SELECT that aggregates without GROUP BY, which
 *   MariaDB counts as 0 or 1 row on an empty input depending on its plan) the gateway does not know what MariaDB would keep,
 *   so the value becomes unknown and FOUND_ROWS() is refused until the next SELECT.
 * A new session's value is unknown too.
 */
import { decodeTextRow } from '@shardgate/mysql-protocol';
import type { FieldInfo, ResultSink } from './types.js';
import type { Plan } from '@shardgate/planner';
import { isPacketOnlyRow } from './row-packets.js';

/**
 * Passes a statement's reply on, counting the rows it sends and whether it was a result set, and
 * keeping the last row (for `select last_insert_id(expr) … from t`: see Plan.lastInsertIdColumn).
 * One per statement: foundRowsSink() picks the class for the sink it wraps.
 * Concurrency rule: one statement writes to it at a time (its session's), synchronously.
 */
export abstract class FoundRowsSink implements ResultSink {
  // No rawRow or rowPackets here: a subclass has them where the inner sink does (foundRowsSink).
  rowsSent = 0;
  resultSet = false;
  private lastValues: readonly (Uint8Array | string | null)[] | null = null;
  /** The last row's payload, copied, when it came in a run of row packets: decoded only if asked for. */
  private lastPacket: Buffer | null = null;
  private columnCount = 0;
  /**
   * `keepsLastRow`: whether the running statement reads lastRow (asked once per run of row
   * packets, whose last row would otherwise be found and copied for nothing: a walk over every
   * row's header, the largest cost of forwarding a run after the copy itself).
   */
  constructor(
    protected readonly inner: ResultSink,
    private readonly keepsLastRow: () => boolean,
  ) {}
  get acceptsRowPackets(): boolean {
    // rawRow and rowPackets are the subclass's (see foundRowsSink).
    return this.inner.acceptsRowPackets === true && (this as ResultSink).rowPackets !== undefined;
  }
  /** The last row sent (its cells), or null before any (or when keepsLastRow said no). */
  get lastRow(): readonly (Uint8Array | string | null)[] | null {
    if (this.lastPacket !== null) this.setLastRow(decodeTextRow(this.lastPacket, this.columnCount));
    return this.lastValues;
  }
  protected setLastRow(values: readonly (Uint8Array | string | null)[]): void {
    this.lastValues = values;
    this.lastPacket = null;
  }
  /**
   * Counts a raw row and keeps it as the last row: its cells, or for a packet-only row (which has
   * none, row-packets.ts) a copy of its payload `source[start, end)`, decoded if lastRow is read.
   */
  protected countRawRow(source: Uint8Array, start: number, end: number, values: readonly (Uint8Array | null)[]): void {
    this.rowsSent++;
    if (!isPacketOnlyRow(values)) {
      this.setLastRow(values);
      return;
    }
    this.lastValues = null;
    this.lastPacket = this.keepsLastRow() ? Buffer.from(source.subarray(start, end)) : null;
  }
  /** Counts rows `[from, to)` taken by rawRows (row i `sources[i][bounds[2i], bounds[2i+1])`) and keeps the last as countRawRow keeps a packet-only row. */
  protected countRawRows(sources: readonly Uint8Array[], bounds: readonly number[], from: number, to: number): void {
    if (to <= from) return;
    this.rowsSent += to - from;
    this.lastValues = null;
    const last = to - 1;
    this.lastPacket = this.keepsLastRow() ? Buffer.from(sources[last].subarray(bounds[2 * last], bounds[2 * last + 1])) : null;
  }
  /** Counts a run of `count` row packets in `source[start, end)` and keeps its last row if asked to. */
  protected countRowPackets(source: Uint8Array, start: number, end: number, count: number): void {
    this.rowsSent += count;
    if (!this.keepsLastRow()) {
      this.lastValues = null;
      this.lastPacket = null;
      return;
    }
    // The bytes are the caller's only during the call: the last row is copied (one per run).
    let last = start;
    for (let at = start; at < end; at += 4 + (source[at] | (source[at + 1] << 8) | (source[at + 2] << 16))) last = at;
    this.lastValues = null;
    this.lastPacket = Buffer.from(source.subarray(last + 4, end));
  }
  get signal(): AbortSignal {
    return this.inner.signal;
  }
  columns(defs: readonly FieldInfo[]): void {
    this.columnCount = defs.length;
    this.inner.columns(defs);
  }
  row(values: readonly (Uint8Array | string | null)[]): boolean {
    this.rowsSent++;
    this.setLastRow(values);
    return this.inner.row(values);
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
  end(info?: { warnings?: number }): void {
    this.resultSet = true;
    this.inner.end(info);
  }
  ok(info?: { affectedRows?: number | bigint; lastInsertId?: number | bigint; warnings?: number; info?: string }): void {
    this.inner.ok(info);
  }
}

/**
 * The FoundRowsSink of a sink that takes both raw rows and row packets (the protocol's sink, and
 * the gateway's wrapper of it: every client statement): the two as methods, so a statement builds
 * no closures and bound functions for them (four per statement in a point select's profile).
 */
class ForwardingFoundRowsSink extends FoundRowsSink {
  /** takeRawRows where the inner sink has rawRows (the shared prototype function: nothing allocated per statement). */
  readonly rawRows: ResultSink['rawRows'];
  constructor(inner: ResultSink, keepsLastRow: () => boolean) {
    super(inner, keepsLastRow);
    this.rawRows = inner.rawRows !== undefined ? this.takeRawRows : undefined;
  }
  private takeRawRows(sources: readonly Uint8Array[], bounds: readonly number[], from: number, to: number): number {
    const taken = this.inner.rawRows!(sources, bounds, from, to);
    this.countRawRows(sources, bounds, from, taken);
    return taken;
  }
  rawRow(source: Uint8Array, start: number, end: number, values: readonly (Uint8Array | null)[]): boolean {
    this.countRawRow(source, start, end, values);
    return this.inner.rawRow!(source, start, end, values);
  }
  rowPackets(source: Uint8Array, start: number, end: number, count: number): boolean {
    this.countRowPackets(source, start, end, count);
    return this.inner.rowPackets!(source, start, end, count);
  }
}

/** The FoundRowsSink of any other sink: rawRow and rowPackets only where the inner sink has them. */
class PartialFoundRowsSink extends FoundRowsSink {
  readonly rawRow?: ResultSink['rawRow'];
  readonly rowPackets?: ResultSink['rowPackets'];

  constructor(inner: ResultSink, keepsLastRow: () => boolean) {
    super(inner, keepsLastRow);
    if (inner.rawRow !== undefined) {
      const raw = inner.rawRow.bind(inner);
      this.rawRow = (source, start, end, values) => {
        this.countRawRow(source, start, end, values);
        return raw(source, start, end, values);
      };
    }
    if (inner.rowPackets !== undefined) {
      const packets = inner.rowPackets.bind(inner);
      this.rowPackets = (source, start, end, count) => {
        this.countRowPackets(source, start, end, count);
        return packets(source, start, end, count);
      };
    }
  }
}

/** A FoundRowsSink over `inner` (see FoundRowsSink). */
export function foundRowsSink(inner: ResultSink, keepsLastRow: () => boolean = () => true): FoundRowsSink {
  return inner.rawRow !== undefined && inner.rowPackets !== undefined ? new ForwardingFoundRowsSink(inner, keepsLastRow) : new PartialFoundRowsSink(inner, keepsLastRow);
}

/** Statements after which MariaDB keeps FOUND_ROWS() as it was (when they hold no SELECT). */
const KEEPING_STATEMENTS = new Set(['insert', 'update', 'delete', 'replace', 'set', 'do', 'begin', 'start', 'commit', 'rollback', 'savepoint', 'release', 'use']);

/**
 * FOUND_ROWS() after a statement that succeeded. `calcFoundRows` is what SQL_CALC_FOUND_ROWS
 * counted, if the statement had it with a LIMIT; null when the statement's plan says its count
 * is not knowable (no plan, or an aggregate without GROUP BY: Plan.foundRowsUncertain).
 */
export function foundRowsAfter(sql: string, reply: FoundRowsSink, calcFoundRows: bigint | undefined | null, before: bigint | undefined, plan: Plan | undefined): bigint | undefined {
  const verb = firstWord(sql);
  if (verb === 'select') {
    if (!reply.resultSet || calcFoundRows === null) return undefined;
    if (calcFoundRows !== undefined) return calcFoundRows;
    // MariaDB counts the rows an OFFSET skipped too (`limit 29, 2` over 30 rows: 30), and all of
    // them when none is left to send: only a count without the LIMIT would know that number.
    return plan?.limitMayHaveOffset === true ? undefined : BigInt(reply.rowsSent);
  }
  // Without a plan, from its text.
  if (KEEPING_STATEMENTS.has(verb) && !reply.resultSet && !(plan !== undefined ? plan.holdsSelect === true : /\bselect\b/i.test(sql))) return before;
  return undefined;
}

/** The statement's first keyword, lower-cased, after comments and whitespace ('' if none). */
function firstWord(sql: string): string {
  // Most statements start with their keyword: read its letters without the regex's match array.
  let end = 0;
  for (;;) {
    const c = sql.charCodeAt(end) | 0x20;
    if (c < 97 || c > 122) break;
    end++;
  }
  // The keyword ends at anything but a letter; where no letter starts the text, the regex skips
  // what comes first (whitespace, comments).
  if (end > 0) return sql.slice(0, end).toLowerCase();
  const m = /^(?:\s|\/\*[\s\S]*?\*\/|(?:--\s|#)[^\n]*(?:\n|$))*([A-Za-z]+)/.exec(sql);
  return m ? m[1]!.toLowerCase() : '';
}
