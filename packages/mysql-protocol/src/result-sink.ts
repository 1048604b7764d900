import { writeBinaryRow, writeBinaryRowFromText } from './binary-row-encoder.js';
import type { ColumnDefinition } from './column-types.js';
import { ErrorCode } from './error-codes.js';
import { toErrorPacketFields } from './mysql-error.js';
import type { PacketWriter } from './packet-writer.js';
import { writeEof, writeErr, writeOk, writeResultSetHeader, writeTextRow, type TextValue } from './result-writer.js';
import type { ResultSink } from './server-types.js';
import { StatusFlag } from './status-flags.js';

/** Buffered reply bytes beyond which a streaming result is handed to the socket. */
export const STREAM_FLUSH_THRESHOLD = 64 * 1024;

/**
 * Bytes the socket may hold before forwarded row packets count as backpressure. Each slice is a
 * whole socket read of a shard (up to 64 KiB), so the socket's own 16 KiB mark would pause and
 * resume every shard stream after every read even with a client that keeps up; this allowance
 * lets the four reads of a scatter's turn go out together, and still bounds the memory a slow
 * client can make the gateway hold.
 */
export const ROW_PACKETS_ALLOWANCE = 512 * 1024;

/** What a sink needs from its connection. */
export interface SinkHost {
  readonly writer: PacketWriter;
  readonly signal: AbortSignal;
  /** Status flags for OK/EOF (transaction state from the session). */
  statusFlags(): number;
  /** The collation id character-string columns are reported in. */
  resultCollation(): number;
  /** Hands buffered bytes to the socket. */
  flush(): void;
  /** flush() once this turn of the event loop has run its ready callbacks (once for any number of calls before it). */
  flushSoon(): void;
  /**
   * True when the socket's buffer is full or the client is gone. With `allowance`: when the
   * socket holds that many bytes or more not yet taken by the kernel (see ROW_PACKETS_ALLOWANCE).
   */
  socketBlocked(allowance?: number): boolean;
  waitForDrain(): Promise<void>;
  reportMisuse(message: string): void;
}

const IDLE = 0; // nothing open: columns(), ok(), error() allowed
const ROWS = 1; // a result set is open: row(), end(), error() allowed
const DONE = 2; // terminal reply sent: everything else is ignored

/**
 * The ResultSink of one command. Enforces one terminal reply per command
 * (moreResults chains results inside it) and encodes rows as text or binary.
 * Concurrency: a fresh sink per command; only that command's handler calls it.
 * Calls after the terminal reply are ignored and reported through onError, so a
 * stray late call can never corrupt the next command's reply.
 */
export class CommandResultSink implements ResultSink {
  private state = IDLE;
  private defs: readonly ColumnDefinition[] = [];
  /** Set when the server itself ended the command (e.g. a value could not be encoded): later rows are dropped silently. */
  private serverEnded = false;

  constructor(
    private readonly host: SinkHost,
    private readonly binary: boolean,
  ) {}

  get signal(): AbortSignal {
    return this.host.signal;
  }

  get done(): boolean {
    return this.state === DONE;
  }

  private closedFor(method: string): boolean {
    if (this.state !== DONE) return false;
    if (!this.serverEnded) this.host.reportMisuse(`ResultSink.${method}() called after the command's terminal reply; ignored`);
    return true;
  }

  columns(defs: readonly ColumnDefinition[]): void {
    if (this.closedFor('columns')) return;
    if (this.state === ROWS) {
      this.host.reportMisuse('ResultSink.columns() called while a result set is open; call end({ moreResults: true }) first');
      return;
    }
    if (defs.length === 0) {
      this.host.reportMisuse('ResultSink.columns() needs at least one column; use ok() for results without rows');
      return;
    }
    writeResultSetHeader(this.host.writer, defs, this.host.statusFlags(), this.host.resultCollation());
    this.defs = defs;
    this.state = ROWS;
  }

  row(values: readonly (Uint8Array | string | null)[]): boolean {
    if (this.state !== ROWS) {
      if (this.state === IDLE) this.host.reportMisuse('ResultSink.row() called before columns(); ignored');
      else this.closedFor('row');
      return !this.host.socketBlocked();
    }
    if (this.signal.aborted) return false; // client gone: skip the encoding work
    if (values.length !== this.defs.length) {
      this.host.reportMisuse(`ResultSink.row() got ${values.length} values for ${this.defs.length} columns`);
      this.failFromServer(new Error(`Internal error: a row has ${values.length} values but the result has ${this.defs.length} columns`));
      return false;
    }
    const w = this.host.writer;
    try {
      if (this.binary) writeBinaryRow(w, this.defs, values as readonly TextValue[]);
      else writeTextRow(w, values);
    } catch (err) {
      // Drop the half-written row so the ERR packet follows whole packets only.
      w.abortPacket();
      this.failFromServer(err);
      return false;
    }
    if (w.length >= STREAM_FLUSH_THRESHOLD) this.host.flush();
    return !this.host.socketBlocked();
  }

  /**
   * A text row forwarded as the payload another server sent: identical to what row(values) would
   * write, without encoding it again. A binary result (COM_STMT_EXECUTE) gets the binary row
   * built from the payload's bytes (writeBinaryRowFromText: what row(values) writes, without
   * reading `values`).
   */
  rawRow(source: Uint8Array, start: number, end: number, values: readonly (Uint8Array | null)[]): boolean {
    if (this.state !== ROWS || values.length !== this.defs.length) return this.row(values);
    if (this.signal.aborted) return false;
    if (!this.writeForwardedRow(source, start, end)) return false;
    if (this.host.writer.length >= STREAM_FLUSH_THRESHOLD) this.host.flush();
    return !this.host.socketBlocked();
  }

  /**
   * Writes the text row payload `source[start, end)` as this result's row (rawRow, rawRows); false
   * when a binary row could not be built from it, after failing the result.
   */
  private writeForwardedRow(source: Uint8Array, start: number, end: number): boolean {
    const w = this.host.writer;
    if (this.binary) {
      try {
        writeBinaryRowFromText(w, this.defs, source, start, end);
      } catch (err) {
        // Drop the half-written row so the ERR packet follows whole packets only.
        w.abortPacket();
        this.failFromServer(err);
        return false;
      }
    } else {
      w.startPacket();
      w.bytesFrom(source, start, end);
      w.finishPacket();
    }
    return true;
  }

  /**
   * Rows `[from, to)` as rawRow takes them, each `sources[i][bounds[2i], bounds[2i+1])`, in one
   * call: a merge hands on rows of several shards' packets, and per row the calls through the
   * sinks that wrap this one, with their checks of the client's signal and socket, cost more than
   * the copy (ResultSink.rawRows). The socket only fills when this writes to it (flush) and only
   * drains between event-loop turns, so checking it after each flush stops where rawRow's check
   * after every row would.
   */
  rawRows(sources: readonly Uint8Array[], bounds: readonly number[], from: number, to: number): number {
    if (this.state !== ROWS) {
      if (this.state === IDLE) this.host.reportMisuse('ResultSink.rawRows() called before columns(); ignored');
      else this.closedFor('rawRows');
      return to;
    }
    // Client gone: the rows are taken and dropped, as rawRow skips them.
    if (this.signal.aborted) return to;
    const w = this.host.writer;
    // Full already: one row, then wait for drain, as rawRow would have answered.
    const last = this.host.socketBlocked() ? Math.min(to, from + 1) : to;
    for (let i = from; i < last; i++) {
      // A failed result takes and drops the rest, as rawRow's rows after a failure are.
      if (!this.writeForwardedRow(sources[i], bounds[2 * i], bounds[2 * i + 1])) return to;
      if (w.length >= STREAM_FLUSH_THRESHOLD) {
        this.host.flush();
        if (this.host.socketBlocked()) return i + 1;
      }
    }
    return last;
  }

  /** Always: a text result copies row packets, a binary one builds its rows from their bytes. */
  get acceptsRowPackets(): boolean {
    return true;
  }

  /**
   * Row packets forwarded in bulk (ResultSink.rowPackets): copied as they are into the reply,
   * renumbered (one copy of the bytes, into a buffer the writer reuses). The walk that renumbers
   * the headers checks them too, and drops the copy when they are not exactly whole packets: the
   * reply then ends with an error instead of reaching the client. A binary result gets each
   * packet as its binary row (writeBinaryRowFromText), after the same check.
   */
  rowPackets(source: Uint8Array, start: number, end: number, count: number): boolean {
    if (this.state !== ROWS) {
      if (this.state === IDLE) this.host.reportMisuse('ResultSink.rowPackets() called before columns(); ignored');
      else this.closedFor('rowPackets');
      return !this.host.socketBlocked();
    }
    if (this.signal.aborted) return false;
    const w = this.host.writer;
    if (!(this.binary ? areWholePackets(source, start, end, count) : w.wholePacketsFrom(source, start, end, count))) {
      this.host.reportMisuse(`ResultSink.rowPackets() got ${end - start} bytes that are not ${count} whole packets`);
      this.failFromServer(new Error('Internal error: forwarded row packets were not whole'));
      return false;
    }
    if (this.binary) {
      // Rows before a cell that cannot be encoded stay sent, as with row(): the ERR follows them.
      try {
        for (let at = start; at < end; ) {
          const payload = at + 4;
          at = payload + (source[at] | (source[at + 1] << 8) | (source[at + 2] << 16));
          writeBinaryRowFromText(w, this.defs, source, payload, at);
        }
      } catch (err) {
        w.abortPacket();
        this.failFromServer(err);
        return false;
      }
    }
    if (w.length >= STREAM_FLUSH_THRESHOLD) this.host.flush();
    else this.host.flushSoon();
    return !this.host.socketBlocked(ROW_PACKETS_ALLOWANCE);
  }

  drain(): Promise<void> {
    return this.host.waitForDrain();
  }

  end(info?: { warnings?: number; moreResults?: boolean }): void {
    if (this.closedFor('end')) return;
    if (this.state === IDLE) {
      this.host.reportMisuse('ResultSink.end() called without columns(); sending OK instead');
      this.ok(info);
      return;
    }
    const more = info?.moreResults === true;
    writeEof(this.host.writer, info?.warnings ?? 0, this.host.statusFlags() | (more ? StatusFlag.MORE_RESULTS_EXISTS : 0));
    this.state = more ? IDLE : DONE;
    if (!more) this.host.flush();
  }

  ok(info?: { affectedRows?: number | bigint; lastInsertId?: number | bigint; warnings?: number; info?: string; moreResults?: boolean }): void {
    if (this.closedFor('ok')) return;
    if (this.state === ROWS) {
      this.host.reportMisuse('ResultSink.ok() called while a result set is open; ending it with EOF');
      this.end(info);
      return;
    }
    const more = info?.moreResults === true;
    writeOk(
      this.host.writer,
      info?.affectedRows ?? 0,
      info?.lastInsertId ?? 0,
      this.host.statusFlags() | (more ? StatusFlag.MORE_RESULTS_EXISTS : 0),
      info?.warnings ?? 0,
      info?.info,
    );
    this.state = more ? IDLE : DONE;
    if (!more) this.host.flush();
  }

  error(err: { errno: number; sqlState?: string; message: string }): void {
    if (this.closedFor('error')) return;
    writeErr(this.host.writer, toErrorPacketFields(err));
    this.state = DONE;
    this.host.flush();
  }

  private failFromServer(err: unknown): void {
    writeErr(this.host.writer, toErrorPacketFields(err));
    this.state = DONE;
    this.serverEnded = true;
    this.host.flush();
  }

  /**
   * Called by the connection when the handler settles: a rejection becomes ERR
   * (also mid-result-set), a resolution without a terminal reply becomes OK.
   */
  complete(failed: boolean, failure: unknown): void {
    if (this.state === DONE) {
      if (failed && !this.serverEnded) {
        const msg = failure instanceof Error ? failure.message : String(failure);
        this.host.reportMisuse(`Handler rejected after sending its terminal reply: ${msg}`);
      }
      return;
    }
    if (failed) {
      writeErr(this.host.writer, toErrorPacketFields(failure));
    } else if (this.state === ROWS) {
      this.host.reportMisuse('Handler resolved with a result set still open (missing end())');
      writeErr(this.host.writer, {
        errno: ErrorCode.ER_UNKNOWN_ERROR,
        sqlState: 'HY000',
        message: 'Internal error: the result set was not ended',
      });
    } else {
      writeOk(this.host.writer, 0, 0, this.host.statusFlags(), 0, undefined);
    }
    this.state = DONE;
  }
}

/** True when `source[start, end)` is exactly `count` whole packets (headers walked, nothing copied). */
function areWholePackets(source: Uint8Array, start: number, end: number, count: number): boolean {
  let at = start;
  let n = 0;
  while (at + 4 <= end) {
    at += 4 + (source[at] | (source[at + 1] << 8) | (source[at + 2] << 16));
    n++;
  }
  return at === end && n === count;
}
