/**
 * Who owns a durable shard folder. A mariadbd started by a process that was SIGKILLed keeps
 * running (nothing told it to stop) and holds the InnoDB lock on its datadir; the next start must
 * find it and stop it cleanly, and must never touch a server that a live owner still runs.
 *
 * The folder holds `owner.pid` (the pid of the Node process that started the server) and
 * mariadbd's own pid file. A server found through the pid file is ours to stop only if its
 * command line names this datadir (pids are recycled) and its parent is no longer the recorded
 * owner (a SIGKILLed parent's children are re-parented to init or a subreaper).
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { isProcessAlive, sleep } from './process-utils.js';

/** Thrown when another live process runs a server on the datadir. */
export class DatadirInUseError extends Error {
  override readonly name = 'DatadirInUseError';
}

export interface OrphanReport {
  /** Pid of the orphaned mariadbd that was stopped, if one ran. */
  stoppedPid?: number;
  /** True if it had to be SIGKILLed after not stopping within the grace period. */
  killed?: boolean;
  /** True if a pid file without a matching live server was removed. */
  removedStalePidFile?: boolean;
}

const ORPHAN_STOP_GRACE_MS = 60_000;

/**
 * Makes sure no server runs on `datadir`, stopping an orphan left by a dead owner, then records
 * this process as the owner. Throws DatadirInUseError if a live owner still runs a server there.
 */
export async function claimDatadir(files: { datadir: string; pidFile: string; ownerFile: string }): Promise<OrphanReport> {
  const report: OrphanReport = {};
  const serverPid = Number((await readFile(files.pidFile, 'utf8').catch(() => '')).trim());
  const ownerPid = Number((await readFile(files.ownerFile, 'utf8').catch(() => '')).trim());
  if (serverPid > 0 && isMariadbdOn(serverPid, files.datadir)) {
    const parent = parentPidOf(serverPid);
    if (parent === ownerPid && ownerPid !== process.pid && isProcessAlive(ownerPid)) {
      throw new DatadirInUseError(
        `datadir ${files.datadir} is in use: mariadbd (pid ${serverPid}) runs there for process ${ownerPid}. ` +
          'Stop that gateway first, or use another dataDir.',
      );
    }
    report.stoppedPid = serverPid;
    report.killed = await stopOrphan(serverPid);
  } else if (serverPid > 0 || ownerPid > 0) {
    report.removedStalePidFile = serverPid > 0;
  }
  await rm(files.pidFile, { force: true });
  await writeFile(files.ownerFile, `${process.pid}\n`);
  return report;
}

/** Forgets the owner record once the server stopped cleanly. */
export async function releaseDatadir(ownerFile: string): Promise<void> {
  await rm(ownerFile, { force: true });
}

/** SIGTERM (InnoDB shuts down cleanly), then SIGKILL after the grace period; true if killed. */
async function stopOrphan(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + ORPHAN_STOP_GRACE_MS;
  while (Date.now() < deadline) {
    if (isGone(pid)) return false;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
  while (!isGone(pid)) await sleep(50);
  return true;
}

function isMariadbdOn(pid: number, datadir: string): boolean {
  const argv = commandLineOf(pid);
  return argv.length > 0 && /mariadbd|mysqld/.test(argv[0] ?? '') && argv.includes(`--datadir=${datadir}`);
}

function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Field 4 of /proc/<pid>/stat; the command name in field 2 may hold spaces and parentheses. */
function parentPidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** Gone, or a zombie that nobody reaped yet (PID 1 in containers often does not reap). */
function isGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}
