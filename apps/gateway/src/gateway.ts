/**
 * The gateway: composes the vschema, planner, executor, the MySQL listener and the HTTP status
 * listener. Start order matters: the MySQL port opens only once every shard is reachable and its
 * schema applied. Stop drains: the port closes, running statements get drainTimeoutMs to finish,
 * then sessions close (rolling back open transactions), pools end and local shards stop.
 */
import { existsSync, mkdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { Executor, type ReferenceTableCheck, type ShardConnectionOptions, type VSchemaLike } from '@shardgate/executor';
import { createMysqlServer, type MysqlServer, type UserAccount } from '@shardgate/mysql-protocol';
import { ANNOUNCED_SERVER_VERSION, Planner, toVitessJson, type Plan } from '@shardgate/planner';
import { LocalCluster, type LocalShardSpec } from '@shardgate/local-mariadb';
import { loadVSchema, validateShardNames, type VSchema } from '@shardgate/vschema';
import pino from 'pino';
import { ConfigError, loadConfig, type GatewayConfig } from './config.js';
import { restartOnlyChanges } from './restart-only-settings.js';
import type { GatewayLog } from './logger.js';
import { ClientSessionHandler, type SessionServices } from './client-session.js';
import { instrumentedConnectorFactory } from './instrumented-shard-connector.js';
import { EventLoopLagMonitor, LastStatement, type EventLoopLag } from './event-loop-lag.js';
import { GatewayMetrics } from './metrics.js';
import { QueryPlanStats } from './query-plan-stats.js';
import { RecentActivity } from './recent-activity.js';
import { ShardHealth } from './shard-health.js';
import { StatusServer } from './status-server.js';
import { runSeedFile } from './seed.js';

export interface GatewayAddresses {
  readonly mysql: { host: string; port: number };
  readonly http: { host: string; port: number } | null;
}

/** Where the gateway logs: a pino logger (createLogger), or anything with the same methods. */
export type GatewayLogger = GatewayLog;

const silentLogger: GatewayLogger = pino({ level: 'silent' });

export class Gateway {
  private cluster: LocalCluster | null = null;
  private executor: Executor | null = null;
  private mysqlServer: MysqlServer | null = null;
  private statusServer: StatusServer | null = null;
  private stopping: Promise<void> | null = null;
  private health: ShardHealth | null = null;
  private watcher: FSWatcher | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  /**
   * Open client sessions. Concurrency rule: a session adds itself when created and removes
   * itself in close(); the drain reads it synchronously.
   */
  readonly sessions = new Set<ClientSessionHandler>();
  private draining = false;
  /** Wakes a drain waiting for the last running statement. */
  private statementEnded: (() => void) | null = null;
  readonly metrics: GatewayMetrics;
  readonly planStats = new QueryPlanStats();
  readonly activity = new RecentActivity();
  private lagMonitor: EventLoopLagMonitor | null = null;
  /** Topology by keyspace → shard; set once in start(), read by the status page. */
  topology: Record<string, Record<string, ShardConnectionOptions & { local: boolean }>> = {};
  /**
   * The vschema in force. Replaced in one synchronous step by a reload, together with the
   * planner's (new plan-cache epoch); the executor reads it through `vschemaView`.
   */
  vschema: VSchema | null = null;
  /** The vschema file's text last loaded, and the time it took effect (status page). */
  vschemaLoadedAt: number | null = null;
  planner: Planner | null = null;
  addresses: GatewayAddresses | null = null;
  /** Accounts clients log in with; replaced whole by a reload (a lookup reads one map). */
  private users = new Map<string, UserAccount>();
  readonly startedAt = Date.now();

  constructor(
    readonly config: GatewayConfig,
    private readonly log: GatewayLogger = silentLogger,
  ) {
    this.metrics = new GatewayMetrics({
      pools: () => this.executor?.stats().pools ?? [],
      planCache: () => this.planner?.cacheStats() ?? null,
      sessions: () => this.sessions.size,
      transactions: () => this.executor?.stats().transactions ?? 0,
      connections: () => this.connectionCount,
    });
  }

  async start(): Promise<GatewayAddresses> {
    try {
      return await this.startInner();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startInner(): Promise<GatewayAddresses> {
    const config = this.config;
    const { vschema, json: vschemaJson } = loadVSchemaFile(config);
    checkTopologyAgainstVSchema(config, vschema);
    this.vschema = vschema;
    this.vschemaLoadedAt = Date.now();

    // Local shards: one mariadbd per (keyspace, shard), started in parallel; with dataDir each
    // keeps its datadir at <dataDir>/<keyspace>/<shard>, otherwise it is removed at stop.
    const localShards: LocalShardSpec[] = [];
    for (const ks of config.keyspaces.values()) {
      const schema = ks.schemaFile ? readFileSync(ks.schemaFile, 'utf8') : undefined;
      for (const [shard, source] of ks.shards) {
        if (source.kind !== 'local') continue;
        const persistentDir = config.dataDir === undefined ? undefined : path.join(config.dataDir, ks.name, shard);
        localShards.push({ name: `${ks.name}/${shard}`, database: ks.name, schema, persistentDir });
      }
    }
    let seedWanted = config.seedFile !== undefined;
    if (localShards.length > 0) {
      this.log.info(`starting ${localShards.length} local MariaDB shard(s)…`);
      // The gateway drains on signals before it stops its shards (stop()); exit still kills them.
      this.cluster = await LocalCluster.start({ shards: localShards, stopOnSignals: false });
      for (const shard of this.cluster.shards) {
        if (shard.orphan.stoppedPid !== undefined) {
          this.log.info(
            `shard ${shard.name}: stopped mariadbd pid ${shard.orphan.stoppedPid} left running on ${shard.datadir} by a gateway that was killed` +
              (shard.orphan.killed ? ' (it did not shut down in time and was killed)' : ''),
          );
        }
      }
    }
    if (config.dataDir !== undefined) {
      mkdirSync(config.dataDir, { recursive: true });
      // Seed once per dataDir: the marker is written only after the whole seed ran.
      if (existsSync(seedMarker(config.dataDir))) seedWanted = false;
    }

    const topology: Record<string, Record<string, ShardConnectionOptions & { local: boolean }>> = {};
    for (const ks of config.keyspaces.values()) {
      const shards: Record<string, ShardConnectionOptions & { local: boolean }> = {};
      for (const [shard, source] of ks.shards) {
        if (source.kind === 'local') {
          const local = this.cluster!.shard(`${ks.name}/${shard}`);
          shards[shard] = { ...local.connectionOptions(), poolSize: config.poolSize, local: true };
        } else {
          const { kind: _kind, ...conn } = source;
          shards[shard] = { ...conn, poolSize: config.poolSize, local: false };
        }
      }
      topology[ks.name] = shards;
    }
    this.topology = topology;

    this.planner = new Planner({
      vschema,
      // With the source JSON, plan-cache misses parse and plan in worker threads (planWorkers).
      vschemaJson,
      planWorkers: config.planWorkers,
      planWorkerIdleMs: config.planWorkerIdleMs,
      planTimeoutMs: config.planTimeoutMs,
      cache: {
        variant: config.planCache.variant,
        stripes: config.planCache.stripes,
        maxCost: config.planCache.maxCost,
        maxEntries: config.planCache.maxEntries,
      },
    });
    // The executor reads the vschema through this view, so a reload swaps it for the executor in
    // the same synchronous step as for the planner.
    const current = (): VSchema => this.vschema!;
    const vschemaView: VSchemaLike = { keyspace: (name) => current().keyspace(name) };
    this.executor = new Executor({
      vschema: vschemaView,
      planner: this.planStats.wrapPlanner(this.planner),
      connectorFactory: instrumentedConnectorFactory(this.metrics),
      planJson: (plan) => toVitessJson(plan as Plan),
      topology,
      defaults: {
        workload: config.workload,
        transactionMode: config.transactionMode,
        queryTimeoutMs: config.queryTimeoutMs,
        transactionTimeoutMs: config.transactionTimeoutMs,
        maxMemoryRows: config.maxMemoryRows,
        poolSize: config.poolSize,
        waitTimeoutSeconds: Math.ceil(config.waitTimeoutMs / 1000),
      },
    });
    // Verifies that every shard answers before any client can connect.
    await this.executor.start();

    if (seedWanted && config.seedFile) {
      this.log.info(`loading ${config.seedFile}…`);
      await runSeedFile(this.executor, config.seedFile);
      if (config.dataDir !== undefined) writeFileSync(seedMarker(config.dataDir), `${new Date().toISOString()} ${config.seedFile}\n`);
    }

    const lastStatement = new LastStatement();
    this.lagMonitor = new EventLoopLagMonitor(
      (message) => this.log.warn(message),
      () => lastStatement.digest(),
    );

    this.users = usersOf(config);
    const executor = this.executor;
    const metrics = this.metrics;
    const services: SessionServices = {
      metrics,
      planStats: this.planStats,
      activity: this.activity,
      log: this.log,
      slowQueryMs: config.slowQueryMs,
      defaultWorkload: config.workload,
      sessions: this.sessions,
      draining: () => this.draining,
      statementEnded: () => this.statementEnded?.(),
    };
    this.mysqlServer = createMysqlServer({
      // The version the planner writes for VERSION() wherever a statement calls it: one value.
      serverVersion: ANNOUNCED_SERVER_VERSION,
      maxConnections: config.maxConnections,
      connectionIds: config.connectionIds,
      // Read at start: a certificate change needs a restart, like the listeners.
      tls:
        config.tls === undefined
          ? undefined
          : {
              cert: readFileSync(config.tls.certFile),
              key: readFileSync(config.tls.keyFile),
              ca: config.tls.caFile === undefined ? undefined : readFileSync(config.tls.caFile),
            },
      lookupUser: (user) => this.users.get(user) ?? null,
      maxPacketSize: config.maxAllowedPacket,
      connectTimeoutMs: config.connectTimeoutMs,
      netReadTimeoutMs: config.netReadTimeoutMs,
      maxPacketMemory: config.maxPacketMemory,
      createSession: (info) => new ClientSessionHandler(executor.openSession(info), services, info, lastStatement.started),
      onError: (err) => {
        metrics.internalErrors.inc();
        this.log.error({ err }, 'connection error');
      },
    });
    // The first statements must not wait for a plan worker to boot (node-sql-parser loads there).
    await this.planner.ready();
    const mysql = await this.mysqlServer.listen(config.listen.mysql.port, config.listen.mysql.host);

    let http: GatewayAddresses['http'] = null;
    if (config.listen.http) {
      this.statusServer = new StatusServer(this);
      http = await this.statusServer.listen(config.listen.http.port, config.listen.http.host);
    }
    this.health = new ShardHealth(this.topology);
    this.health.start();
    this.watchVSchemaFile();
    this.addresses = { mysql, http };
    return this.addresses;
  }

  /** Each shard's last ping (status page). */
  shardHealth(): ReturnType<ShardHealth['snapshot']> {
    return this.health?.snapshot() ?? [];
  }

  /**
   * Reloads the vschema and the users from their files (SIGHUP, or a change to the vschema
   * file). A vschema that is invalid, or does not fit the running topology, is refused: the old
   * one stays in force, the error names the bad key, and the reload is counted as an error.
   * Returns whether the new files took effect.
   */
  reload(reason: string): boolean {
    if (this.planner === null || this.stopping !== null) return false;
    let config: GatewayConfig;
    let vschema: VSchema;
    let vschemaJson: unknown;
    try {
      // A gateway built from a config object (no file on disk) reloads its vschema file only.
      config = existsSync(this.config.file) ? loadConfig(this.config.file) : this.config;
      // Only the vschema and users reload; listeners, shards and pools need a restart (named below).
      ({ vschema, json: vschemaJson } = loadVSchemaFile({ ...this.config, vschemaFile: config.vschemaFile }));
      checkTopologyAgainstVSchema(this.config, vschema);
    } catch (err) {
      this.metrics.reloaded(false);
      const issues = err instanceof ConfigError ? err.issues : [{ path: '(file)', message: (err as Error).message }];
      const file = err instanceof ConfigError ? err.file : this.config.file;
      this.log.error({ reason, file, issues }, `reload refused, the previous vschema stays in force: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
      return false;
    }
    // One synchronous step: the planner's new epoch, the executor's view and the users change
    // together, so no statement sees a mix of the old and new vschema.
    this.vschema = vschema;
    this.vschemaLoadedAt = Date.now();
    this.planner.setVSchema(vschema, vschemaJson);
    this.users = usersOf(config);
    this.metrics.reloaded(true);
    this.log.info({ reason, vschema: config.vschemaFile, keyspaces: [...vschema.keyspaces.keys()], users: this.users.size }, 'vschema and users reloaded');
    const needRestart = restartOnlyChanges(this.config, config);
    if (needRestart.length > 0) {
      this.log.warn({ reason, file: config.file, settings: needRestart }, `changed in the config file but not applied until a restart: ${needRestart.join(', ')}`);
    }
    return true;
  }

  /** Reloads when the vschema file changes; editors often replace the file, so its folder is watched. */
  private watchVSchemaFile(): void {
    const file = this.config.vschemaFile;
    try {
      this.watcher = watch(path.dirname(file), (_event, name) => {
        if (name !== null && name !== path.basename(file)) return;
        // Debounced: one save is often several events (truncate, write, rename).
        if (this.reloadTimer) clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => {
          this.reloadTimer = null;
          this.reload('vschema file changed');
        }, RELOAD_DEBOUNCE_MS);
        this.reloadTimer.unref();
      });
      this.watcher.unref();
    } catch (err) {
      this.log.warn({ err, file }, 'cannot watch the vschema file; reload with SIGHUP');
    }
  }

  /** Stops listeners, sessions, pools and owned MariaDB servers. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.stopInner();
    return this.stopping;
  }

  private async stopInner(): Promise<void> {
    this.watcher?.close();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.health?.stop();
    if (this.mysqlServer) await this.drain();
    const steps: [string, (() => Promise<void>) | null][] = [
      ['status listener', this.statusServer ? () => this.statusServer!.close() : null],
      // Before the sessions close: a statement still being planned (a worker may chew on it for
      // up to planTimeoutMs) fails now, since a session's close waits for its running statement.
      ['plan workers', this.planner ? async () => this.planner!.dispose() : null],
      // Ends every connection; each session's close() rolls back its open transaction.
      ['mysql listener', this.mysqlServer ? () => this.mysqlServer!.close() : null],
      ['executor', this.executor ? () => this.executor!.close() : null],
      ['local shards', this.cluster ? () => this.cluster!.stop() : null],
      ['event loop lag monitor', this.lagMonitor ? async () => this.lagMonitor!.stop() : null],
    ];
    for (const [what, step] of steps) {
      if (!step) continue;
      try {
        await step();
      } catch (err) {
        this.log.error({ err }, `stopping ${what} failed`);
      }
    }
  }

  /**
   * Closes the MySQL port, refuses new statements (1053), and waits up to drainTimeoutMs for the
   * running ones to finish. Sessions stay open until close(): their transactions roll back there.
   */
  private async drain(): Promise<void> {
    this.draining = true;
    this.mysqlServer!.stopAccepting();
    const busy = (): number => [...this.sessions].filter((s) => s.running > 0).length;
    if (busy() === 0) return;
    this.log.info({ running: busy(), drainTimeoutMs: this.config.drainTimeoutMs }, 'draining: waiting for running statements');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.config.drainTimeoutMs);
      this.statementEnded = () => {
        if (busy() === 0) resolve(false);
      };
    });
    clearTimeout(timer);
    this.statementEnded = null;
    if (timedOut) this.log.warn({ running: busy() }, 'drain timeout: closing sessions with statements still running');
    else this.log.info('drained: no statement running');
  }

  /** Compares the copies of every reference table across shards (`/debug/references`). */
  checkReferenceTables(): Promise<ReferenceTableCheck[]> {
    if (!this.executor || !this.vschema) return Promise.resolve([]);
    return this.executor.checkReferenceTables(this.vschema);
  }

  /** Sessions inside a transaction (status page). */
  openTransactions(): number {
    return this.executor?.stats().transactions ?? 0;
  }

  get connectionCount(): number {
    return this.mysqlServer?.connectionCount ?? 0;
  }

  /** Local shards and whether their data outlives the gateway (for the start banner). */
  localShardSummary(): { count: number; durable: boolean; created: number } {
    const shards = this.cluster?.shards ?? [];
    return { count: shards.length, durable: this.config.dataDir !== undefined, created: shards.filter((s) => s.createdNow).length };
  }

  /**
   * Event-loop lag of the current window (ms), for the status page (prom-client exports its own
   * nodejs_eventloop_lag_seconds to /metrics); null before
   * start(). Every other client waited at least maxMs behind whatever blocked the loop.
   */
  eventLoopLag(): EventLoopLag | null {
    return this.lagMonitor?.snapshot() ?? null;
  }

  executorStats(): ReturnType<Executor['stats']> | null {
    return this.executor?.stats() ?? null;
  }
}

const RELOAD_DEBOUNCE_MS = 150;

function usersOf(config: GatewayConfig): Map<string, UserAccount> {
  return new Map(config.users.map((u) => [u.user, { password: u.password, requireTls: u.requireTls, plugin: u.plugin }]));
}

function seedMarker(dataDir: string): string {
  return path.join(dataDir, 'seeded');
}

/** The vschema and its source JSON (the plan workers load the JSON themselves). */
function loadVSchemaFile(config: GatewayConfig): { vschema: VSchema; json: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(config.vschemaFile, 'utf8'));
  } catch (err) {
    throw new ConfigError(config.file, [{ path: 'vschema', message: `cannot load ${config.vschemaFile}: ${(err as Error).message}` }]);
  }
  try {
    return { vschema: loadVSchema(json), json };
  } catch (err) {
    const issues = (err as { issues?: { path: string; message: string }[] }).issues;
    if (issues) throw new ConfigError(config.vschemaFile, issues);
    throw err;
  }
}

/** Every configured keyspace must be in the vschema and vice versa, with a complete shard set. */
function checkTopologyAgainstVSchema(config: GatewayConfig, vschema: VSchema): void {
  const issues: { path: string; message: string }[] = [];
  for (const ks of config.keyspaces.values()) {
    const vks = vschema.keyspace(ks.name);
    if (!vks) {
      issues.push({ path: `keyspaces.${ks.name}`, message: `keyspace is not in the vschema ${config.vschemaFile}` });
      continue;
    }
    const names = [...ks.shards.keys()];
    if (!vks.sharded) {
      if (names.length !== 1) issues.push({ path: `keyspaces.${ks.name}.shards`, message: 'an unsharded keyspace has exactly one shard (name it "0")' });
      continue;
    }
    for (const issue of validateShardNames(names)) {
      issues.push({ path: `keyspaces.${ks.name}.shards${issue.path ? `.${issue.path}` : ''}`, message: issue.message });
    }
  }
  for (const name of vschema.keyspaces.keys()) {
    if (!config.keyspaces.has(name)) issues.push({ path: `keyspaces.${name}`, message: 'is in the vschema but has no shards in the config' });
  }
  if (issues.length > 0) throw new ConfigError(config.file, issues);
}
