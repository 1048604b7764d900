/**
 * Adapts an ExecutorSession to the mysql2/promise `query` shape the test-kit's differential
 * oracle drives (rowsAsArray, raw Buffers), so the executor can be compared with one MariaDB
 * without a gateway in between.
 */
import type { ExecutorSession, FieldInfo, ResultSink } from '../../src/index.js';

class RawSink implements ResultSink {
  fields: readonly FieldInfo[] | null = null;
  readonly rows: (Buffer | null)[][] = [];
  ok_: { affectedRows?: number | bigint } | null = null;
  readonly signal = new AbortController().signal;
  columns(defs: readonly FieldInfo[]): void {
    this.fields = defs;
  }
  row(values: readonly (Uint8Array | string | null)[]): boolean {
    this.rows.push(values.map((v) => (v === null ? null : Buffer.from(v as Uint8Array))));
    return true;
  }
  async drain(): Promise<void> {}
  end(): void {}
  ok(info?: { affectedRows?: number | bigint }): void {
    this.ok_ = info ?? {};
  }
}

export interface SessionTarget {
  query(options: { sql: string } | string, params?: unknown[]): Promise<[unknown, unknown]>;
  end(): Promise<void>;
}

export function sessionTarget(session: ExecutorSession): SessionTarget {
  return {
    async query(options) {
      const sql = typeof options === 'string' ? options : options.sql;
      const sink = new RawSink();
      await session.execute(sql, sink);
      if (sink.fields === null) return [{ affectedRows: Number(sink.ok_?.affectedRows ?? 0) }, undefined];
      return [sink.rows, sink.fields];
    },
    end: () => session.close(),
  };
}
