/**
 * Fake shards for interleaving tests: every statement is answered by a responder function, and
 * streams deliver their chunks through the test-kit's fakeShardStream, so the race explorer decides
 * in which order the shard streams (and inner queries) resume.
 */
import { fakeShardStream, raceYield } from '@shardgate/test-kit';
import { loadVSchema } from '@shardgate/vschema';
import { KeyspaceShards } from '../../src/keyspace-routing.js';
import { QueryContext, type ShardAccess } from '../../src/query-context.js';
import type { ShardConnection, ShardResult, StreamHandlers } from '../../src/shard-pool.js';
import type { FieldInfo, Row, Workload } from '../../src/types.js';

export const FAKE_SHARDS = ['-40', '40-80', '80-c0', 'c0-'];

export const FAKE_VSCHEMA = loadVSchema({
  keyspaces: {
    ks: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: { outer_t: { column_vindexes: [{ column: 'id', name: 'hash' }] }, inner_t: { column_vindexes: [{ column: 'k', name: 'hash' }] } },
    },
  },
});

export type Responder = (shard: string, sql: string) => { fields: FieldInfo[]; chunks: Row[][] };

export function field(name: string, columnType = 8, characterSet = 63): FieldInfo {
  return { catalog: 'def', schema: 'ks', table: 't', orgTable: 't', name, orgName: name, characterSet, columnLength: 20, columnType, flags: 0, decimals: 0 };
}

export const cell = (v: string | number | bigint | null): Uint8Array | null => (v === null ? null : Buffer.from(String(v)));
export const text = (r: readonly (Uint8Array | null)[]): (string | null)[] => r.map((c) => (c === null ? null : Buffer.from(c).toString('utf8')));

/**
 * A batch of join lookups (batched-lookups.ts: `(select <i> AS __sg_lookup, …) UNION ALL …`)
 * answered as a shard would: each part as the query it stands for, its rows tagged with <i>.
 */
function respondToBatch(respond: Responder, shard: string, sql: string): ReturnType<Responder> | null {
  const parts = [...sql.matchAll(/\((select (?:distinct )?)(\d+) AS __sg_lookup, (.*?)\)(?= UNION ALL |$)/g)];
  if (parts.length === 0) return null;
  let fields: FieldInfo[] = [];
  const rows: Row[] = [];
  for (const [, head, tag, rest] of parts) {
    const r = respond(shard, head + rest);
    fields = [field('__sg_lookup'), ...r.fields];
    for (const row of r.chunks.flat()) rows.push([cell(tag), ...row]);
  }
  return { fields, chunks: [rows] };
}

export class FakeShardAccess implements ShardAccess {
  readonly mustBuffer = false;
  /** Statements seen, for assertions. Append-only. */
  readonly statements: { shard: string; sql: string }[] = [];
  constructor(private readonly respond: Responder) {}

  async query(_ks: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    this.statements.push({ shard, sql });
    await raceYield(`query ${shard}`);
    if (signal.aborted) throw signal.reason;
    const r = respondToBatch(this.respond, shard, sql) ?? this.respond(shard, sql);
    return { isResultSet: true, fields: r.fields, rows: r.chunks.flat(), affectedRows: 0n, insertId: 0n, warningCount: 0 };
  }

  async stream(_ks: string, shard: string, sql: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
    this.statements.push({ shard, sql });
    const r = this.respond(shard, sql);
    await raceYield(`fields ${shard}`);
    if (signal.aborted) throw signal.reason;
    handlers.fields(r.fields);
    for await (const chunk of fakeShardStream(r.chunks, { label: `stream ${shard}` })) {
      if (signal.aborted) throw signal.reason;
      await handlers.rows(chunk.slice());
    }
  }

  autonomous<T>(_ks: string, _shard: string, _fn: (conn: ShardConnection) => Promise<T>): Promise<T> {
    throw new Error('not used');
  }

  lookupWrite(ks: string, shard: string, sql: string, _order: unknown, signal: AbortSignal): Promise<ShardResult> {
    return this.query(ks, shard, sql, signal);
  }

  lookupRead(ks: string, shard: string, sql: string, signal: AbortSignal): Promise<ShardResult> {
    return this.query(ks, shard, sql, signal);
  }
}

export function fakeContext(access: ShardAccess, workload: Workload = 'olap', signal: AbortSignal = new AbortController().signal): QueryContext {
  return new QueryContext(
    access,
    { vschema: FAKE_VSCHEMA, shardsOf: (ks) => new KeyspaceShards(ks, FAKE_SHARDS) },
    { workload, maxMemoryRows: 1_000_000, scatterErrorsAsWarnings: false, divPrecisionIncrement: 4, keyspace: 'ks' },
    signal,
  );
}
