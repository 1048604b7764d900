/**
 * Runs a seed SQL file through the executor, statement by statement, exactly as a client's
 * queries would run: rows are routed by the vschema, not written to shards directly.
 */
import { readFileSync } from 'node:fs';
import type { Executor, ResultSink } from '@shardgate/executor';
import { splitStatements } from './statement-splitter.js';

export async function runSeedFile(executor: Executor, file: string): Promise<number> {
  const statements = splitStatements(readFileSync(file, 'utf8'));
  const session = executor.openSession({ user: 'shardgate-seed', database: null });
  const controller = new AbortController();
  const sink: ResultSink = {
    columns: () => {},
    row: () => true,
    drain: () => Promise.resolve(),
    end: () => {},
    ok: () => {},
    signal: controller.signal,
  };
  try {
    for (const sql of statements) {
      try {
        await session.execute(sql, sink);
      } catch (err) {
        throw new Error(`seed ${file}: ${(err as Error).message}\n  in: ${sql.slice(0, 200)}`);
      }
    }
  } finally {
    controller.abort();
    await session.close();
  }
  return statements.length;
}
