/**
 * The gateway's own CPU per point select, without sockets or MariaDB: the real planner, executor
 * and client-session adapter, in front of an in-memory shard connector that answers every query
 * with one 120-byte row, and a sink that encodes the reply packets like the protocol does.
 * Prints µs of CPU per query for the whole path and for Planner#plan alone (a cache hit).
 *
 *   pnpm --filter @shardgate/gateway exec tsx bench/hot-path.ts
 *   QUERIES=200000 CLIENTS=8 pnpm --filter @shardgate/gateway exec tsx bench/hot-path.ts
 *
 * It misses what sockets and mysql2 cost (see compare-builds.ts for that), so it measures what the
 * executor, planner and adapter add per query, with little noise from the other processes.
 */
import { Executor, type FieldInfo, type ResultSink, type ShardConnection, type ShardConnector, type ShardResult } from '@shardgate/executor';
import { PacketWriter, writeEof, writeResultSetHeader, writeTextRow } from '@shardgate/mysql-protocol';
import { Planner } from '@shardgate/planner';
import { loadVSchema } from '@shardgate/vschema';
import pino from 'pino';
import { ClientSessionHandler, type SessionServices } from '../src/client-session.js';
import { GatewayMetrics } from '../src/metrics.js';
import { QueryPlanStats } from '../src/query-plan-stats.js';
import { RecentActivity } from '../src/recent-activity.js';

const QUERIES = Number(process.env.QUERIES ?? 100_000);
const CLIENTS = Number(process.env.CLIENTS ?? 8);

const FIELD: FieldInfo = {
  catalog: 'def',
  schema: 'sbtest',
  table: 'sbtest1',
  orgTable: 'sbtest1',
  name: 'c',
  orgName: 'c',
  characterSet: 45,
  columnLength: 480,
  columnType: 254,
  flags: 1,
  decimals: 0,
};
const RESULT: ShardResult = {
  isResultSet: true,
  fields: Object.freeze([Object.freeze(FIELD)]),
  rows: [[Buffer.alloc(120, 'x')]],
  affectedRows: 0n,
  insertId: 0n,
  warningCount: 0,
};

/** A shard that answers at once from memory, through the same interface the mysql2 pool has. */
class MemoryConnector implements ShardConnector {
  readonly size = CLIENTS;
  constructor(
    readonly keyspace: string,
    readonly shard: string,
  ) {}
  async start(): Promise<void> {}
  acquire(): Promise<ShardConnection> {
    const conn: ShardConnection = {
      keyspace: this.keyspace,
      shard: this.shard,
      threadId: 1,
      // One frozen fields array for every result of the same shape, as MysqlShardConnector's
      // field cache returns; fresh result and row arrays per query.
      query: () => Promise.resolve({ ...RESULT, rows: [RESULT.rows[0]] }),
      stream: async (_sql, handlers) => {
        handlers.fields(RESULT.fields);
        await handlers.rows(RESULT.rows.slice());
      },
      release: () => Promise.resolve(),
      destroy: () => {},
    };
    return Promise.resolve(conn);
  }
  stats() {
    return { keyspace: this.keyspace, shard: this.shard, size: this.size, open: 1, inUse: 0, idle: 1, waiting: 0 };
  }
  async close(): Promise<void> {}
}

/** Encodes the reply into one reusable packet writer, as the protocol's result sink does. */
class EncodingSink implements ResultSink {
  readonly writer = new PacketWriter();
  readonly signal = new AbortController().signal;
  bytes = 0;
  columns(defs: readonly FieldInfo[]): void {
    writeResultSetHeader(this.writer, defs, 2);
  }
  row(values: readonly (Uint8Array | string | null)[]): boolean {
    writeTextRow(this.writer, values);
    return true;
  }
  async drain(): Promise<void> {}
  end(info?: { warnings?: number }): void {
    writeEof(this.writer, info?.warnings ?? 0, 2);
    this.bytes += this.writer.take().length;
  }
  ok(): void {
    this.bytes += this.writer.take().length;
  }
  error(): void {}
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function main(): Promise<void> {
  const vschema = loadVSchema({ keyspaces: { sbtest: { sharded: false, tables: { sbtest1: {} } } } });
  const planner = new Planner({ vschema });
  // As the gateway composes it: the executor's planner notes each plan for the plan statistics.
  const planStats = new QueryPlanStats();
  const executor = new Executor({
    vschema,
    planner: planStats.wrapPlanner(planner),
    topology: { sbtest: { '0': { host: 'memory', port: 0, user: 'sb', password: '', database: 'sbtest' } } },
    defaults: { poolSize: CLIENTS },
    connectorFactory: (ks, shard) => new MemoryConnector(ks, shard),
  });
  await executor.start();
  const metrics = new GatewayMetrics();
  const services: SessionServices = {
    metrics,
    planStats,
    activity: new RecentActivity(),
    log: pino({ level: 'silent' }),
    slowQueryMs: 1_000,
    defaultWorkload: 'oltp',
    sessions: new Set(),
    draining: () => false,
    statementEnded: () => {},
  };
  const sessions = Array.from({ length: CLIENTS }, (_, i) => new ClientSessionHandler(executor.openSession({ user: 'sb', database: 'sbtest', connectionId: i }), services));
  const sinks = sessions.map(() => new EncodingSink());
  const sql = (i: number) => `SELECT c FROM sbtest1 WHERE id=${(i * 7919) % 10_000}`;

  const runAll = async (n: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      sessions.map(async (s, c) => {
        while (next < n) await s.query(sql(next++), sinks[c]);
      }),
    );
  };
  await runAll(20_000); // warm-up: JIT, plan cache
  const t0 = cpuMicros();
  const w0 = performance.now();
  await runAll(QUERIES);
  const perQuery = (cpuMicros() - t0) / QUERIES;
  const wall = performance.now() - w0;

  const p0 = cpuMicros();
  for (let i = 0; i < QUERIES; i++) planner.plan(sql(i), { keyspace: 'sbtest', params: [] });
  const planPerQuery = (cpuMicros() - p0) / QUERIES;

  console.log(`${QUERIES} point selects, ${CLIENTS} sessions, in-memory shard:`);
  console.log(`  whole path (adapter + metrics + executor + planner + reply encoding): ${perQuery.toFixed(2)} µs CPU/query (${((QUERIES / wall) * 1000).toFixed(0)} queries/s on one core)`);
  console.log(`  Planner#plan alone (cache hit: normalize + peek + bind):            ${planPerQuery.toFixed(2)} µs CPU/query`);
  if (metrics.counts().statementErrors > 0) throw new Error(`${metrics.counts().statementErrors} queries failed`);
  await Promise.all(sessions.map((s) => s.close()));
  await executor.close();
  planner.dispose();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
