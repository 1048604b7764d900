/**
 * The gateway: composes the vschema, planner, executor, the MySQL listener and the HTTP status
 * listener. Start order matters: the MySQL port opens only once every shard is reachable and its
 * schema applied; stop order is the reverse, and also stops any MariaDB the gateway started.
 */
import { readFileSync } from 'node:fs';
import { Executor, type ShardConnectionOptions } from '@shardgate/executor';
import { createMysqlServer, type MysqlServer } from '@shardgate/mysql-protocol';
import { Planner, toVitessJson, type Plan } from '@shardgate/planner';
import { LocalCluster } from '@shardgate/test-kit';
import { loadVSchema, validateShardNames, type VSchema } from '@shardgate/vschema';
import { ConfigError, type GatewayConfig } from './config.js';
import { ClientSessionHandler } from './client-session.js';
import { GatewayMetrics } from './metrics.js';
import { StatusServer } from './status-server.js';
import { runSeedFile } from './seed.js';

export interface GatewayAddresses {
  readonly mysql: { host: string; port: number };
  readonly http: { host: string; port: number } | null;
}

export interface GatewayLogger {
  info(message: string): void;
  error(message: string): void;
}

const silentLogger: GatewayLogger = { info: () => {}, error: () => {} };

export class Gateway {
  private cluster: LocalCluster | null = null;
  private executor: Executor | null = null;
  private mysqlServer: MysqlServer | null = null;
  private statusServer: StatusServer | null = null;
  private stopping: Promise<void> | null = null;
  readonly metrics = new GatewayMetrics();
  /** Topology by keyspace → shard; set once in start(), read by the status page. */
  topology: Record<string, Record<string, ShardConnectionOptions & { local: boolean }>> = {};
  vschema: VSchema | null = null;
  planner: Planner | null = null;
  addresses: GatewayAddresses | null = null;

  constructor(
    readonly config: GatewayConfig,
    private readonly log: GatewayLogger = silentLogger,
  ) {}

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
    const vschema = loadVSchemaFile(config);
    checkTopologyAgainstVSchema(config, vschema);
    this.vschema = vschema;

    // Local shards: one mariadbd per (keyspace, shard), started in parallel by the test kit.
    const localShards: { name: string; database: string; schema?: string }[] = [];
    for (const ks of config.keyspaces.values()) {
      const schema = ks.schemaFile ? readFileSync(ks.schemaFile, 'utf8') : undefined;
      for (const [shard, source] of ks.shards) {
        if (source.kind === 'local') localShards.push({ name: `${ks.name}/${shard}`, database: ks.name, schema });
      }
    }
    if (localShards.length > 0) {
      this.log.info(`starting ${localShards.length} local MariaDB shard(s)…`);
      this.cluster = await LocalCluster.start({ shards: localShards });
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
      cache: {
        variant: config.planCache.variant,
        stripes: config.planCache.stripes,
        maxCost: config.planCache.maxCost,
        maxEntries: config.planCache.maxEntries,
      },
    });
    this.executor = new Executor({
      vschema,
      planner: this.planner,
      planJson: (plan) => toVitessJson(plan as Plan),
      topology,
      defaults: {
        workload: config.workload,
        transactionMode: config.transactionMode,
        queryTimeoutMs: config.queryTimeoutMs,
        maxMemoryRows: config.maxMemoryRows,
        poolSize: config.poolSize,
      },
    });
    // Verifies that every shard answers before any client can connect.
    await this.executor.start();

    if (config.seedFile) {
      this.log.info(`loading ${config.seedFile}…`);
      await runSeedFile(this.executor, config.seedFile);
    }

    const users = new Map(config.users.map((u) => [u.user, { password: u.password }]));
    const executor = this.executor;
    const metrics = this.metrics;
    this.mysqlServer = createMysqlServer({
      lookupUser: (user) => users.get(user) ?? null,
      createSession: (info) => new ClientSessionHandler(executor.openSession(info), metrics, info),
      onError: (err) => {
        metrics.internalErrors++;
        this.log.error(`connection error: ${err.message}`);
      },
    });
    const mysql = await this.mysqlServer.listen(config.listen.mysql.port, config.listen.mysql.host);

    let http: GatewayAddresses['http'] = null;
    if (config.listen.http) {
      this.statusServer = new StatusServer(this);
      http = await this.statusServer.listen(config.listen.http.port, config.listen.http.host);
    }
    this.addresses = { mysql, http };
    return this.addresses;
  }

  /** Stops listeners, sessions, pools and owned MariaDB servers. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.stopInner();
    return this.stopping;
  }

  private async stopInner(): Promise<void> {
    const steps: [string, (() => Promise<void>) | null][] = [
      ['status listener', this.statusServer ? () => this.statusServer!.close() : null],
      ['mysql listener', this.mysqlServer ? () => this.mysqlServer!.close() : null],
      ['executor', this.executor ? () => this.executor!.close() : null],
      ['local shards', this.cluster ? () => this.cluster!.stop() : null],
    ];
    for (const [what, step] of steps) {
      if (!step) continue;
      try {
        await step();
      } catch (err) {
        this.log.error(`stopping ${what}: ${(err as Error).message}`);
      }
    }
  }

  get connectionCount(): number {
    return this.mysqlServer?.connectionCount ?? 0;
  }

  executorStats(): ReturnType<Executor['stats']> | null {
    return this.executor?.stats() ?? null;
  }
}

function loadVSchemaFile(config: GatewayConfig): VSchema {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(config.vschemaFile, 'utf8'));
  } catch (err) {
    throw new ConfigError(config.file, [{ path: 'vschema', message: `cannot load ${config.vschemaFile}: ${(err as Error).message}` }]);
  }
  try {
    return loadVSchema(json);
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
