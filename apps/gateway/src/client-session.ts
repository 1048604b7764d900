/**
 * Adapts one client connection of the MySQL listener to one executor session.
 *
 * The protocol package and the executor agree structurally on ResultSink and column metadata, so
 * this adapter only forwards calls and counts them; it holds no per-query state of its own.
 */
import type { ExecutorSession } from '@shardgate/executor';
import { Capability, type ColumnDefinition, type ConnectionInfo, type ParamValue, type ResultSink, type SessionHandler } from '@shardgate/mysql-protocol';
import { syntaxError } from '@shardgate/planner';
import type { GatewayMetrics } from './metrics.js';
import { splitStatements } from './statement-splitter.js';

export class ClientSessionHandler implements SessionHandler {
  constructor(
    private readonly session: ExecutorSession,
    private readonly metrics: GatewayMetrics,
    /** The connection's live info: its capabilities follow COM_SET_OPTION. */
    private readonly connection?: ConnectionInfo,
  ) {
    metrics.sessionsOpened++;
  }

  query(sql: string, out: ResultSink): Promise<void> {
    // Fast path: most queries have no `;` at all, so they need no splitting.
    if (sql.includes(';')) {
      const statements = splitStatements(sql);
      if (statements.length > 1) {
        // Without CLIENT_MULTI_STATEMENTS, MySQL parses the text as one statement and fails at the
        // second one: a client that did not ask for batches (the usual guard against injected
        // `; drop table …`) must never have them run.
        if (!this.multiStatementsAllowed()) {
          out.error(syntaxError(sql, sql.indexOf(statements[1]!, sql.indexOf(';'))));
          return Promise.resolve();
        }
        return this.queryMany(statements, out);
      }
      if (statements.length === 1) sql = statements[0];
    }
    return this.metrics.observeQuery(() => this.session.execute(sql, out));
  }

  private multiStatementsAllowed(): boolean {
    const caps = this.connection?.capabilities;
    return caps === undefined || (caps & Capability.MULTI_STATEMENTS) !== 0;
  }

  /**
   * CLIENT_MULTI_STATEMENTS: every result but the last carries SERVER_MORE_RESULTS_EXISTS. As in
   * MySQL, the first error ends the batch: the client gets it in place of the remaining results.
   */
  private async queryMany(statements: readonly string[], out: ResultSink): Promise<void> {
    for (let i = 0; i < statements.length; i++) {
      const last = i === statements.length - 1;
      const sink: ResultSink = last
        ? out
        : {
            columns: (defs) => out.columns(defs),
            row: (values) => out.row(values),
            drain: () => out.drain(),
            end: (info) => out.end({ ...info, moreResults: true }),
            ok: (info) => out.ok({ ...info, moreResults: true }),
            error: (err) => out.error(err),
            signal: out.signal,
          };
      await this.metrics.observeQuery(() => this.session.execute(statements[i], sink));
    }
  }

  initDb(database: string): Promise<void> {
    return this.session.useDatabase(database);
  }

  prepare(sql: string): Promise<{ paramCount: number; columns: readonly ColumnDefinition[] }> {
    return this.session.prepare(sql);
  }

  execute(sql: string, params: readonly ParamValue[], out: ResultSink): Promise<void> {
    return this.metrics.observeQuery(() => this.session.execute(sql, out, params));
  }

  status(): { inTransaction: boolean; autocommit: boolean } {
    return this.session.status();
  }

  async close(): Promise<void> {
    this.metrics.sessionsClosed++;
    await this.session.close();
  }
}

