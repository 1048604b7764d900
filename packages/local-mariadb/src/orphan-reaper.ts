import { readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from './process-utils.js';

const CLUSTER_DIR = /^cluster-(\d+)-/;

/**
 * Removes what SIGKILLed test processes left behind: their exit handlers never ran, so their
 * mariadbd children still run and their cluster folders remain. A cluster folder is orphaned when
 * the pid in its name is dead; a server is only killed if its command line names that folder, so
 * a recycled pid is never touched. Best effort: errors are ignored.
 */
export async function reapOrphanedClusters(root: string): Promise<number> {
  let reaped = 0;
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const owner = CLUSTER_DIR.exec(entry);
    if (owner === null || isProcessAlive(Number(owner[1]))) continue;
    const clusterDir = join(root, entry);
    try {
      for (const shardDir of await readdir(clusterDir)) {
        const pidText = await readFile(join(clusterDir, shardDir, 'mysqld.pid'), 'utf8').catch(() => '');
        const pid = Number(pidText.trim());
        if (pid > 0 && commandLineOf(pid).includes(clusterDir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      await rm(clusterDir, { recursive: true, force: true, maxRetries: 3 });
      reaped++;
    } catch {
      // Another process may be reaping the same folder.
    }
  }
  return reaped;
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
