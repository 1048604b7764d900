/**
 * The Executor: owns the shard pools and hands out sessions. One per gateway process.
 */
import { ExecutorError, ER_UNKNOWN_ERROR } from './errors.js';
import type { ExecutorRuntime, MutableStats, PlannerLike, ResolvedDefaults } from './executor-runtime.js';
import { KeyspaceShards, type VSchemaLike } from './keyspace-routing.js';
import type { RoutingInfo } from './query-context.js';
import { Session, type SessionInfo } from './session.js';
import type { Reservation } from './shard-reservations.js';
import { checkReferenceCopies, type ReferenceTableCheck, type ReferenceTablesSource } from './reference-copies.js';
import type { ShardConnector } from './shard-pool.js';
import { WireShardConnector } from './wire-shard-connector.js';
import type { ExecutorDefaults, ExecutorSession, ExecutorStats, ShardConnectionOptions } from './types.js';

export interface ExecutorOptions {
  vschema: VSchemaLike;
  planner: PlannerLike;
  /** keyspace → shard name ("-80", "0") → connection options. */
  topology: Record<string, Record<string, ShardConnectionOptions>>;
  defaults?: ExecutorDefaults;
  /**
   * Replaces the shard pools (tests: fake shards driven by the race explorer). Called once per
   * shard of the topology.
   */
  connectorFactory?: (keyspace: string, shard: string, options: ShardConnectionOptions, poolSize: number) => ShardConnector;
  /** Map used for each session's reserved connections (tests: the test-kit's raceCheckedMap). */
  reservationMap?: () => Map<string, Reservation>;
  /** Renders a plan for VEXPLAIN (default: the plan as JSON). */
  planJson?: (plan: unknown) => unknown;
}

export class Executor implements ExecutorRuntime {
  readonly defaults: ResolvedDefaults;
  readonly planner: PlannerLike;
  readonly routing: RoutingInfo;
  readonly counters: MutableStats = { queries: 0, errors: 0, rowsReturned: 0, transactions: 0, transactionTimeouts: 0, queriesByVariant: {}, errorsByCode: {} };
  readonly reservationMap?: () => Map<string, Reservation>;
  readonly planJson?: (plan: unknown) => unknown;
  /**
   * keyspace → shard → connector. Built in the constructor, never changed: shared by all sessions
   * without locking. Two levels, so a lookup per shard statement builds no key string.
   */
  private readonly connectors = new Map<string, Map<string, ShardConnector>>();
  private readonly keyspaces: Map<string, KeyspaceShards>;
  /** Open sessions. Concurrency rule: add/delete are synchronous (openSession / session close). */
  private readonly sessions = new Set<Session>();
  private started = false;

  constructor(private readonly opts: ExecutorOptions) {
    const d = opts.defaults ?? {};
    this.defaults = {
      workload: d.workload ?? 'oltp',
      transactionMode: d.transactionMode ?? 'multi',
      queryTimeoutMs: d.queryTimeoutMs ?? 0,
      transactionTimeoutMs: d.transactionTimeoutMs ?? 0,
      maxMemoryRows: d.maxMemoryRows ?? 300_000,
      poolSize: d.poolSize ?? 10,
      waitTimeoutSeconds: d.waitTimeoutSeconds ?? 28_800,
    };
    this.planner = opts.planner;
    this.reservationMap = opts.reservationMap;
    this.planJson = opts.planJson;
    this.keyspaces = new Map();
    for (const [ks, shards] of Object.entries(opts.topology)) {
      // Each shard's real database name: information_schema queries name keyspaces (see DBA routes).
      this.keyspaces.set(ks, new KeyspaceShards(ks, Object.keys(shards), Object.fromEntries(Object.entries(shards).map(([s, c]) => [s, c.database]))));
      for (const [shard, conn] of Object.entries(shards)) {
        const size = conn.poolSize ?? this.defaults.poolSize;
        const connector = opts.connectorFactory ? opts.connectorFactory(ks, shard, conn, size) : new WireShardConnector(ks, shard, conn, size);
        let byShard = this.connectors.get(ks);
        if (byShard === undefined) this.connectors.set(ks, (byShard = new Map()));
        byShard.set(shard, connector);
      }
    }
    const keyspaces = this.keyspaces;
    this.routing = {
      vschema: opts.vschema,
      shardsOf(keyspace: string): KeyspaceShards {
        const k = keyspaces.get(keyspace);
        if (!k) throw new ExecutorError(1049, '42000', `Unknown database '${keyspace}' (not in the gateway's topology)`);
        return k;
      },
    };
  }

  /** Opens every pool and checks every shard answers; the error names the unreachable shard. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const results = await Promise.allSettled(this.allConnectors().map((c) => c.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
  }

  openSession(info: SessionInfo): ExecutorSession {
    const s = new Session(this, info);
    this.sessions.add(s);
    return s;
  }

  openSessions(): Iterable<Session> {
    return this.sessions;
  }

  sessionClosed(session: unknown): void {
    this.sessions.delete(session as Session);
  }

  connector(keyspace: string, shard: string): ShardConnector {
    const c = this.connectors.get(keyspace)?.get(shard);
    if (!c) throw new ExecutorError(ER_UNKNOWN_ERROR, 'HY000', `no shard ${keyspace}/${shard} in the gateway topology`);
    return c;
  }

  private allConnectors(): ShardConnector[] {
    const all: ShardConnector[] = [];
    for (const byShard of this.connectors.values()) for (const c of byShard.values()) all.push(c);
    return all;
  }

  /** Compares the copies of every reference table across its keyspace's shards (see reference-copies.ts). */
  checkReferenceTables(vschema: ReferenceTablesSource): Promise<ReferenceTableCheck[]> {
    return checkReferenceCopies(vschema, (ks) => [...(this.connectors.get(ks)?.values() ?? [])]);
  }

  hasKeyspace(name: string): boolean {
    return this.keyspaces.has(name);
  }

  keyspaceNames(): string[] {
    return [...this.keyspaces.keys()];
  }

  stats(): ExecutorStats {
    let transactions = 0;
    for (const s of this.sessions) if (s.inTransaction) transactions++;
    return {
      pools: this.allConnectors().map((c) => c.stats()),
      sessions: this.sessions.size,
      transactions,
      queries: this.counters.queries,
      queriesByVariant: { ...this.counters.queriesByVariant },
      errors: this.counters.errors,
      errorsByCode: { ...this.counters.errorsByCode },
      rowsReturned: this.counters.rowsReturned,
      transactionTimeouts: this.counters.transactionTimeouts,
    };
  }

  /** Closes sessions (rolling back their transactions), then ends every pool. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions].map((s) => s.close()));
    await Promise.allSettled(this.allConnectors().map((c) => c.close()));
  }
}
