import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { registerExitCleanup, removeDirSync, unregisterExitCleanup, type ExitCleanup } from './exit-cleanup.js';
import { claimDatadir, releaseDatadir } from './datadir-owner.js';
import { findFreePort } from './free-port.js';
import { findMariaDbBinaries } from './mariadb-binaries.js';
import { reapOrphanedClusters } from './orphan-reaper.js';
import { MariaDbServer, PortInUseError } from './mariadb-server.js';
import { templateDatadir, localMariaDbTmpRoot } from './template-datadir.js';

/** One or more SQL scripts; each may hold several `;`-separated statements. */
export type SchemaSql = string | readonly string[];

export interface LocalShardSpec {
  name: string;
  /** Database to create on this shard (defaults to the cluster's `database`). */
  database?: string;
  /** Schema for this shard (defaults to the cluster's `schema`). */
  schema?: SchemaSql;
  /**
   * Keep this shard in this folder across runs: durable InnoDB settings, reused by the next start
   * (schema applied only where its tables are missing), never removed. An orphaned server left on
   * it by a SIGKILLed owner is stopped first. Default: a throwaway folder removed at stop.
   */
  persistentDir?: string;
}

export interface LocalClusterOptions {
  shards: readonly (string | LocalShardSpec)[];
  /** Database created on every shard; default `shardgate`. */
  database?: string;
  /** Applied in `database` on every shard that has no schema of its own. */
  schema?: SchemaSql;
  /** Path to mariadbd; default: $SHARDGATE_MARIADBD, then PATH and /usr/sbin. */
  mariadbd?: string;
  /**
   * Default true: SIGINT/SIGTERM/SIGHUP kill the servers at once (tests). A program that handles
   * those signals itself (drains, then calls stop()) passes false; process exit still cleans up.
   */
  stopOnSignals?: boolean;
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
  /** True when the shard lives in a `persistentDir`. */
  readonly persistent: boolean;
  /** True when this start initialised the datadir (always, for a throwaway shard). */
  readonly createdNow: boolean;
  /** What the start found and stopped on a reused datadir (a server left by a killed owner). */
  readonly orphan: { stoppedPid?: number; killed?: boolean; removedStalePidFile?: boolean };
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
  createdNow = true;
  orphan: LocalShard['orphan'] = {};

  constructor(
    readonly name: string,
    readonly database: string,
    readonly schema: SchemaSql | undefined,
    readonly server: MariaDbServer,
    /** The persistent folder, or undefined for a throwaway shard. */
    readonly persistentDir: string | undefined,
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

  get persistent(): boolean {
    return this.persistentDir !== undefined;
  }

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
 * Real MariaDB servers, one per shard, on 127.0.0.1. A new datadir is a copy of one cached
 * template datadir, so starting a cluster costs about as much as starting mariadbd. Throwaway
 * datadirs are removed at stop; a shard with a `persistentDir` keeps its datadir there.
 */
export class LocalCluster {
  private stopped = false;
  private readonly byName: ReadonlyMap<string, LocalShardHandle>;
  private readonly cleanup: ExitCleanup;

  private constructor(
    readonly rootDir: string,
    private readonly handles: readonly LocalShardHandle[],
    leaveSignalsToOwner: boolean,
  ) {
    this.byName = new Map(handles.map((h) => [h.name, h]));
    this.cleanup = { cleanupSync: () => removeDirSync(rootDir), leaveSignalsToOwner };
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
    await mkdir(localMariaDbTmpRoot(), { recursive: true });
    reaping ??= reapOrphanedClusters(localMariaDbTmpRoot());
    const [template] = await Promise.all([templateDatadir(bins), reaping]);
    const rootDir = await mkdtemp(join(localMariaDbTmpRoot(), `cluster-${process.pid}-`));
    // Registered before anything is started so a crash mid-start still removes the folder.
    const leaveSignalsToOwner = opts.stopOnSignals === false;
    const dirCleanup: ExitCleanup = { cleanupSync: () => removeDirSync(rootDir), leaveSignalsToOwner };
    registerExitCleanup(dirCleanup);

    const handles = specs.map((spec, i) => {
      const persistentDir = spec.persistentDir === undefined ? undefined : resolve(spec.persistentDir);
      const dir = persistentDir ?? join(rootDir, `${i}-${safeName(spec.name)}`);
      const server = new MariaDbServer(bins, {
        datadir: join(dir, 'data'),
        tmpdir: join(dir, 'tmp'),
        // A persistent folder may sit deep in the tree: its socket goes to the short temp root,
        // so the path stays under the 107-byte sun_path limit.
        socket: persistentDir === undefined ? join(dir, 'mysqld.sock') : join(rootDir, `${i}.sock`),
        pidFile: join(dir, 'mysqld.pid'),
        errorLog: join(dir, 'error.log'),
        port: 0,
        durable: persistentDir !== undefined,
      });
      server.leaveSignalsToOwner = leaveSignalsToOwner;
      return new LocalShardHandle(spec.name, spec.database ?? opts.database ?? DEFAULT_DATABASE, spec.schema ?? opts.schema, server, persistentDir);
    });
    const persistentDirs = handles.flatMap((h) => (h.persistentDir === undefined ? [] : [h.persistentDir]));
    if (new Set(persistentDirs).size !== persistentDirs.length) {
      throw new Error('two shards cannot share one persistentDir');
    }

    const cluster = new LocalCluster(rootDir, handles, leaveSignalsToOwner);
    unregisterExitCleanup(dirCleanup);
    registerExitCleanup(cluster.cleanup);
    try {
      await Promise.all(
        handles.map(async (h) => {
          await mkdir(h.server.layout.tmpdir, { recursive: true });
          if (h.persistentDir === undefined) {
            await cp(template, h.server.layout.datadir, { recursive: true });
          } else {
            h.orphan = await claimDatadir({ datadir: h.server.layout.datadir, pidFile: h.server.layout.pidFile, ownerFile: ownerFile(h.persistentDir) });
            h.createdNow = await initialisePersistentDatadir(template, h.server.layout.datadir);
          }
          await startOnFreePort(h.server);
          if (h.createdNow) await createDatabase(h);
          else await applySchemaWhereMissing(h);
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

  /**
   * Stops every server (SIGTERM, then SIGKILL after a grace period) and removes all temp folders;
   * persistent folders are kept.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const servers = this.handles.map((h) => h.server);
    for (const s of servers) registerExitCleanup(s); // in case we die mid-stop
    await Promise.all(
      this.handles.map((h) =>
        h.serially(async () => {
          await h.server.stop();
          if (h.persistentDir !== undefined) await releaseDatadir(ownerFile(h.persistentDir));
        }),
      ),
    );
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

function ownerFile(persistentDir: string): string {
  return join(persistentDir, 'owner.pid');
}

/**
 * Copies the template into a persistent datadir that has none yet; false if one is there. The
 * copy goes to a side folder renamed into place, so a crash mid-copy never leaves a half datadir
 * that a later start would take for a complete one.
 */
async function initialisePersistentDatadir(template: string, datadir: string): Promise<boolean> {
  try {
    await stat(join(datadir, 'mysql'));
    return false;
  } catch {
    // No datadir yet.
  }
  const partial = `${datadir}.initialising`;
  await rm(partial, { recursive: true, force: true });
  await cp(template, partial, { recursive: true });
  await rm(datadir, { recursive: true, force: true });
  await rename(partial, datadir);
  return true;
}

/**
 * On a reused datadir: creates the database if missing and only the schema's tables that are
 * missing. The schema runs in a scratch database, and each table the real database lacks is
 * created from the scratch copy's SHOW CREATE TABLE, so no SQL needs parsing here and existing
 * tables (and their rows) are never touched.
 */
async function applySchemaWhereMissing(h: LocalShardHandle): Promise<void> {
  const scripts = h.schema === undefined ? [] : typeof h.schema === 'string' ? [h.schema] : h.schema;
  const conn = await mysql.createConnection({ host: h.host, port: h.port, user: h.user, password: h.password, multipleStatements: true });
  const scratch = `_shardgate_schema_${createHash('sha256').update(h.database).digest('hex').slice(0, 12)}`;
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(h.database)}`);
    if (scripts.every((sql) => sql.trim() === '')) return;
    await conn.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)}`);
    await conn.query(`CREATE DATABASE ${quoteIdent(scratch)}`);
    await conn.query(`USE ${quoteIdent(scratch)}`);
    for (const sql of scripts) if (sql.trim() !== '') await conn.query(sql);
    const [wanted] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name`,
      [scratch],
    );
    const [existing] = await conn.query<mysql.RowDataPacket[]>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?`, [h.database]);
    const have = new Set(existing.map((r) => String(r.t)));
    await conn.query(`USE ${quoteIdent(h.database)}`);
    for (const row of wanted) {
      const table = String(row.t);
      if (have.has(table)) continue;
      const [created] = await conn.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE ${quoteIdent(scratch)}.${quoteIdent(table)}`);
      await conn.query(String(created[0]['Create Table']));
    }
  } catch (err) {
    throw new Error(`applying the schema to database ${h.database} on shard ${h.name} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)}`).catch(() => undefined);
    conn.destroy();
  }
}

export function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
