import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { registerExitCleanup, removeDirSync, unregisterExitCleanup, type ExitCleanup } from './exit-cleanup.js';
import { findFreePort } from './free-port.js';
import { findMariaDbBinaries } from './mariadb-binaries.js';
import { reapOrphanedClusters } from './orphan-reaper.js';
import { MariaDbServer, PortInUseError } from './mariadb-server.js';
import { templateDatadir, testKitTmpRoot } from './template-datadir.js';

/** One or more SQL scripts; each may hold several `;`-separated statements. */
export type SchemaSql = string | readonly string[];

export interface LocalShardSpec {
  name: string;
  /** Database to create on this shard (defaults to the cluster's `database`). */
  database?: string;
  /** Schema for this shard (defaults to the cluster's `schema`). */
  schema?: SchemaSql;
}

export interface LocalClusterOptions {
  shards: readonly (string | LocalShardSpec)[];
  /** Database created on every shard; default `shardgate`. */
  database?: string;
  /** Applied in `database` on every shard that has no schema of its own. */
  schema?: SchemaSql;
  /** Path to mariadbd; default: $SHARDGATE_MARIADBD, then PATH and /usr/sbin. */
  mariadbd?: string;
}

export interface ShardConnectionOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface LocalShard {
  readonly name: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'root';
  readonly password: '';
  readonly database: string;
  /** Current mariadbd pid (changes after restart; -1 while killed). */
  readonly pid: number;
  readonly datadir: string;
  connectionOptions(): ShardConnectionOptions;
}

const DEFAULT_DATABASE = 'shardgate';

/** Orphans are reaped once per process, by the first start(); later starts share the promise. */
let reaping: Promise<number> | undefined;
const PORT_ATTEMPTS = 8;

class LocalShardHandle implements LocalShard {
  readonly host = '127.0.0.1' as const;
  readonly user = 'root' as const;
  readonly password = '' as const;
  /**
   * Serialises kill/restart/stop of this shard.
   * Concurrency rule: each lifecycle call chains onto this promise, so two calls never drive
   * the same child process at once.
   */
  private lifecycle: Promise<unknown> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly database: string,
    readonly schema: SchemaSql | undefined,
    readonly server: MariaDbServer,
  ) {
    // Own enumerable getters (not prototype getters), so `{ ...shard }` copies the live values.
    Object.defineProperties(this, {
      port: { enumerable: true, get: () => this.server.layout.port },
      pid: { enumerable: true, get: () => (this.server.running ? this.server.pid : -1) },
      datadir: { enumerable: true, get: () => this.server.layout.datadir },
    });
  }

  declare readonly port: number;
  declare readonly pid: number;
  declare readonly datadir: string;

  connectionOptions(): ShardConnectionOptions {
    return { host: this.host, port: this.port, user: this.user, password: this.password, database: this.database };
  }

  serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lifecycle.then(fn, fn);
    this.lifecycle = run.catch(() => undefined);
    return run;
  }
}

/**
 * Real MariaDB servers, one per shard, on 127.0.0.1 with throwaway datadirs. Each server is a copy
 * of one cached template datadir, so starting a cluster costs about as much as starting mariadbd.
 */
export class LocalCluster {
  private stopped = false;
  private readonly byName: ReadonlyMap<string, LocalShardHandle>;
  private readonly cleanup: ExitCleanup;

  private constructor(
    readonly rootDir: string,
    private readonly handles: readonly LocalShardHandle[],
  ) {
    this.byName = new Map(handles.map((h) => [h.name, h]));
    this.cleanup = { cleanupSync: () => removeDirSync(rootDir) };
  }

  get shards(): readonly LocalShard[] {
    return this.handles;
  }

  static async start(opts: LocalClusterOptions): Promise<LocalCluster> {
    const specs = opts.shards.map((s) => (typeof s === 'string' ? { name: s } : s));
    if (specs.length === 0) throw new Error('LocalCluster.start needs at least one shard');
    const names = new Set<string>();
    for (const spec of specs) {
      if (names.has(spec.name)) throw new Error(`duplicate shard name ${JSON.stringify(spec.name)}`);
      names.add(spec.name);
    }
    const bins = findMariaDbBinaries(opts.mariadbd);
    await mkdir(testKitTmpRoot(), { recursive: true });
    reaping ??= reapOrphanedClusters(testKitTmpRoot());
    const [template] = await Promise.all([templateDatadir(bins), reaping]);
    const rootDir = await mkdtemp(join(testKitTmpRoot(), `cluster-${process.pid}-`));
    // Registered before anything is started so a crash mid-start still removes the folder.
    const dirCleanup: ExitCleanup = { cleanupSync: () => removeDirSync(rootDir) };
    registerExitCleanup(dirCleanup);

    const handles = specs.map((spec, i) => {
      const dir = join(rootDir, `${i}-${safeName(spec.name)}`);
      const server = new MariaDbServer(bins, {
        datadir: join(dir, 'data'),
        tmpdir: join(dir, 'tmp'),
        socket: join(dir, 'mysqld.sock'),
        pidFile: join(dir, 'mysqld.pid'),
        errorLog: join(dir, 'error.log'),
        port: 0,
      });
      return new LocalShardHandle(spec.name, spec.database ?? opts.database ?? DEFAULT_DATABASE, spec.schema ?? opts.schema, server);
    });

    const cluster = new LocalCluster(rootDir, handles);
    unregisterExitCleanup(dirCleanup);
    registerExitCleanup(cluster.cleanup);
    try {
      await Promise.all(
        handles.map(async (h) => {
          await mkdir(h.server.layout.tmpdir, { recursive: true });
          await cp(template, h.server.layout.datadir, { recursive: true });
          await startOnFreePort(h.server);
          await createDatabase(h);
        }),
      );
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  shard(name: string): LocalShard {
    return this.handle(name);
  }

  /** SIGKILLs the shard's mariadbd (a crash, for fault tests). Its datadir and port are kept. */
  async kill(name: string): Promise<void> {
    const h = this.handle(name);
    await h.serially(() => h.server.kill());
  }

  /** Starts the shard's mariadbd again on the same port and datadir (InnoDB recovers committed rows). */
  async restart(name: string): Promise<void> {
    const h = this.handle(name);
    this.assertRunning();
    await h.serially(async () => {
      if (h.server.running) await h.server.stop();
      // Someone may have bound the port while the shard was down; give it a few chances.
      for (let attempt = 1; ; attempt++) {
        try {
          await h.server.start();
          return;
        } catch (err) {
          if (!(err instanceof PortInUseError) || attempt >= 5) throw err;
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    });
  }

  /** Stops every server (SIGTERM, then SIGKILL after a grace period) and removes all temp folders. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const servers = this.handles.map((h) => h.server);
    for (const s of servers) registerExitCleanup(s); // in case we die mid-stop
    await Promise.all(this.handles.map((h) => h.serially(() => h.server.stop())));
    for (const s of servers) unregisterExitCleanup(s);
    await rm(this.rootDir, { recursive: true, force: true, maxRetries: 3 });
    unregisterExitCleanup(this.cleanup);
  }

  private handle(name: string): LocalShardHandle {
    const h = this.byName.get(name);
    if (h === undefined) {
      throw new Error(`no shard named ${JSON.stringify(name)}; shards are ${[...this.byName.keys()].join(', ')}`);
    }
    return h;
  }

  private assertRunning(): void {
    if (this.stopped) throw new Error('LocalCluster was stopped');
  }
}

function safeName(name: string): string {
  // Short, so the socket path stays under the 107-byte sun_path limit.
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 24) || 'shard';
}

async function startOnFreePort(server: MariaDbServer): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    server.layout.port = await findFreePort();
    registerExitCleanup(server);
    try {
      await server.start();
      return;
    } catch (err) {
      if (!(err instanceof PortInUseError) || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
}

async function createDatabase(h: LocalShardHandle): Promise<void> {
  const conn = await mysql.createConnection({
    host: h.host,
    port: h.port,
    user: h.user,
    password: h.password,
    multipleStatements: true,
  });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(h.database)}`);
    await conn.query(`USE ${quoteIdent(h.database)}`);
    const scripts = h.schema === undefined ? [] : typeof h.schema === 'string' ? [h.schema] : h.schema;
    for (const sql of scripts) {
      if (sql.trim() !== '') await conn.query(sql);
    }
  } catch (err) {
    throw new Error(`creating database ${h.database} on shard ${h.name} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    conn.destroy();
  }
}

export function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
