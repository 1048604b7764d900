import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import type { ExitCleanup } from './exit-cleanup.js';
import type { MariaDbBinaries } from './mariadb-binaries.js';
import { sleep } from './process-utils.js';
import { INNODB_SIZING } from './template-datadir.js';

/** Files and port of one mariadbd; everything lives under the shard's own folder. */
export interface MariaDbServerLayout {
  datadir: string;
  /** Own tmpdir: a starting mariadbd deletes `#sql*` files in its tmpdir, so servers must not share one. */
  tmpdir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  port: number;
  /**
   * Durable InnoDB settings (log flushed to disk at every commit, doublewrite on): committed rows
   * survive a power loss. Off for throwaway servers, which only need to survive a process kill.
   */
  durable?: boolean;
}

/** Thrown when the port was taken between choosing it and mariadbd binding it; callers retry. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** A durable server may need longer to flush its buffer pool; a kill would cost a crash recovery. */
const DURABLE_STOP_GRACE_MS = 60_000;

/**
 * One mariadbd child process on 127.0.0.1. Not safe for concurrent start/stop calls on the same
 * instance: LocalCluster serialises lifecycle calls per shard.
 */
export class MariaDbServer implements ExitCleanup {
  private child: ChildProcess | undefined;
  /** See ExitCleanup: set by a cluster whose owner stops it on signals itself. */
  leaveSignalsToOwner = false;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly bins: MariaDbBinaries,
    readonly layout: MariaDbServerLayout,
  ) {}

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns mariadbd and resolves once `SELECT 1` succeeds over TCP. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`mariadbd on port ${this.layout.port} is already running`);
    const l = this.layout;
    const args = [
      '--no-defaults',
      `--datadir=${l.datadir}`,
      `--tmpdir=${l.tmpdir}`,
      `--socket=${l.socket}`,
      `--pid-file=${l.pidFile}`,
      `--log-error=${l.errorLog}`,
      `--port=${l.port}`,
      '--bind-address=127.0.0.1',
      '--skip-networking=0',
      ...INNODB_SIZING,
      '--performance-schema=OFF',
      '--skip-log-bin',
      // Throwaway data still must keep committed rows through a SIGKILL (fault tests restart the
      // server): flushing the log to the OS at commit survives a process kill. Durable servers
      // fsync at commit and write pages through the doublewrite buffer (no torn pages).
      `--innodb-flush-log-at-trx-commit=${l.durable ? 1 : 2}`,
      `--innodb-doublewrite=${l.durable ? 1 : 0}`,
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_general_ci',
      '--max-connections=500',
    ];
    if (process.getuid?.() === 0) args.push('--user=root');
    const child = spawn(this.bins.mariadbd, args, { stdio: 'ignore', detached: false });
    // Do not keep the event loop alive just for the server: the exit handler kills it anyway.
    child.unref();
    this.child = child;
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal !== null ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        resolve();
      });
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError = '';
    for (;;) {
      if (exitInfo !== undefined) {
        const log = await this.errorLogTail();
        if (/Address already in use|errno: 98|error: 98/i.test(log)) {
          throw new PortInUseError(`port ${l.port} is already in use`);
        }
        throw new Error(`mariadbd exited during startup (${exitInfo}). Error log ${l.errorLog}:\n${log}`);
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(
          `mariadbd on port ${l.port} was not ready after ${READY_TIMEOUT_MS} ms (last error: ${lastError}). ` +
            `Error log ${l.errorLog}:\n${await this.errorLogTail()}`,
        );
      }
      let answeringDatadir: string;
      try {
        answeringDatadir = await datadirOfServerOn(l.port);
      } catch (err) {
        lastError = (err as Error).message;
        await Promise.race([sleep(25), this.exited]);
        continue;
      }
      // Another server may answer on the port: two shards starting at once can be handed the
      // same free port, and the second mariadbd then fails to bind while the first already
      // answers. Only our own datadir proves this server is up.
      if (samePath(answeringDatadir, l.datadir)) return;
      await this.kill();
      throw new PortInUseError(`port ${l.port} is already in use (a server with datadir ${answeringDatadir} answers there)`);
      await Promise.race([sleep(25), this.exited]);
    }
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (clean shutdown), then SIGKILL if it takes longer than the grace period. */
  async stop(graceMs = this.layout.durable ? DURABLE_STOP_GRACE_MS : STOP_GRACE_MS): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) await this.kill();
  }

  cleanupSync(): void {
    if (this.running) {
      try {
        // A durable server is asked to shut down cleanly (it finishes on its own after we exit);
        // a throwaway one is killed, its folder is removed right after.
        this.child?.kill(this.layout.durable ? 'SIGTERM' : 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  async errorLogTail(lines = 30): Promise<string> {
    try {
      return (await readFile(this.layout.errorLog, 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '(no error log)';
    }
  }
}

/** The datadir of the server answering on `port` (which also shows it accepts queries). */
async function datadirOfServerOn(port: number): Promise<string> {
  const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', password: '', connectTimeout: 2_000 });
  try {
    const [rows] = await conn.query('SELECT @@datadir AS d');
    return String((rows as { d: unknown }[])[0]?.d ?? '');
  } finally {
    conn.destroy();
  }
}

/** The same directory (MariaDB reports @@datadir resolved, with a trailing slash). */
function samePath(a: string, b: string): boolean {
  const resolved = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p.replace(/\/+$/, '');
    }
  };
  return resolved(a) === resolved(b);
}
