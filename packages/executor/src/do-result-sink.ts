/**
 * The answer of a DO statement, which the session runs as the SELECT of its expressions
 * (doAsSelect): the rows are dropped and an OK takes the result's place, with its warnings, as
 * MariaDB answers DO.
 */
import type { FieldInfo, ResultSink } from './types.js';

/** Concurrency rule: one per DO statement, used by that statement's run only. */
export class DoResultSink implements ResultSink {
  constructor(private readonly out: ResultSink) {}

  get signal(): AbortSignal {
    return this.out.signal;
  }

  columns(_defs: readonly FieldInfo[]): void {}

  row(_values: readonly (Uint8Array | string | null)[]): boolean {
    return true;
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  end(info?: { warnings?: number }): void {
    this.out.ok({ warnings: info?.warnings });
  }

  ok(info?: Parameters<ResultSink['ok']>[0]): void {
    this.out.ok(info);
  }
}
