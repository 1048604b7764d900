/**
 * The last receiver of a statement: writes rows to the client's ResultSink with backpressure.
 * When `sink.row()` returns false the writer waits for `drain()`, and because producers wait for
 * the writer, a slow client pauses every shard stream of the query instead of growing memory.
 */
import { queryInterrupted } from './errors.js';
import { SerialQueue, type RowReceiver } from './row-flow.js';
import type { FieldInfo, ResultSink, Row } from './types.js';

export class SinkWriter implements RowReceiver {
  /**
   * Concurrency rule: sibling shard streams call rows() concurrently; `queue` serialises the
   * writes so one chunk is written whole before the next starts. `fieldsSent` is test-and-set
   * synchronously.
   */
  private readonly queue = new SerialQueue();
  fieldsSent = false;
  rowCount = 0;

  constructor(
    private readonly sink: ResultSink,
    private readonly signal: AbortSignal,
  ) {}

  fields(fields: readonly FieldInfo[]): void {
    if (this.fieldsSent) return;
    this.fieldsSent = true;
    this.sink.columns(fields);
  }

  rows(rows: Row[]): Promise<void> {
    return this.queue.run(() => this.write(rows));
  }

  private async write(rows: Row[]): Promise<void> {
    for (const row of rows) {
      if (this.signal.aborted) throw this.signal.reason;
      this.rowCount++;
      if (!this.sink.row(row)) await this.drain();
    }
  }

  private drain(): Promise<void> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason ?? queryInterrupted('client disconnected'));
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.sink.drain().then(
        () => {
          this.signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (err) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** Waits for every queued write. */
  flushed(): Promise<void> {
    return this.queue.run(() => undefined);
  }
}
