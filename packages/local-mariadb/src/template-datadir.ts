import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MariaDbBinaries } from './mariadb-binaries.js';
import { isProcessAlive, sleep } from './process-utils.js';

const execFileAsync = promisify(execFile);

/**
 * Options baked into the template's InnoDB files. The server must start with the same log size,
 * so mariadb-server.ts imports these rather than repeating them.
 */
export const INNODB_SIZING = ['--innodb-log-file-size=8M', '--innodb-buffer-pool-size=16M'] as const;

// Bump when the way the template is built changes, so old cached templates are ignored.
const TEMPLATE_FORMAT = 'v1';
const LOCK_STALE_MS = 120_000;

/**
 * Per-process memo of the template path, keyed by mariadbd path.
 * Concurrency rule: the first caller stores the promise before awaiting, so concurrent
 * LocalCluster.start() calls in one process share a single initialisation.
 */
const templates = new Map<string, Promise<string>>();

/** Root folder for everything this package writes to disk (templates and cluster dirs). */
export function localMariaDbTmpRoot(): string {
  return join(tmpdir(), 'shardgate-local-mariadb');
}

/**
 * Returns a datadir initialised by mariadb-install-db (root@localhost, empty password, normal auth),
 * cached under os.tmpdir() and shared by every process. Callers copy it; they never start a server on it.
 */
export function templateDatadir(bins: MariaDbBinaries): Promise<string> {
  let pending = templates.get(bins.mariadbd);
  if (pending === undefined) {
    pending = buildOrReuseTemplate(bins);
    templates.set(bins.mariadbd, pending);
    // A failed build must not poison later attempts in this process.
    pending.catch(() => templates.delete(bins.mariadbd));
  }
  return pending;
}

async function templateKey(bins: MariaDbBinaries): Promise<string> {
  const st = await stat(bins.mariadbd);
  return createHash('sha256')
    .update([TEMPLATE_FORMAT, bins.mariadbd, bins.installDb, st.size, st.mtimeMs, process.getuid?.() ?? ''].join('\0'))
    .digest('hex')
    .slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function buildOrReuseTemplate(bins: MariaDbBinaries): Promise<string> {
  const root = localMariaDbTmpRoot();
  await mkdir(root, { recursive: true });
  const key = await templateKey(bins);
  const finalDir = join(root, `template-${key}`);
  const readyMarker = join(finalDir, '.shardgate-template-ready');
  const lockPath = join(root, `template-${key}.lock`);

  // Parallel test processes serialise on an O_EXCL lock file holding the owner's pid.
  // The ready marker is written last, inside the directory that is renamed into place atomically,
  // so a reader that sees the marker sees a complete datadir.
  for (;;) {
    if (await exists(readyMarker)) return finalDir;
    const lock = await tryLock(lockPath);
    if (lock) {
      try {
        if (await exists(readyMarker)) return finalDir;
        await buildTemplate(bins, finalDir, readyMarker);
        return finalDir;
      } finally {
        await unlink(lockPath).catch(() => undefined);
      }
    }
    await sleep(50);
  }
}

async function tryLock(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx');
    await handle.writeFile(`${process.pid}\n${Date.now()}\n`);
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Someone holds the lock: break it only if its owner is gone or it is absurdly old.
  try {
    const [pidText, sinceText] = (await readFile(lockPath, 'utf8')).split('\n');
    const ownerPid = Number(pidText);
    const since = Number(sinceText);
    const stale = !isProcessAlive(ownerPid) || (Number.isFinite(since) && Date.now() - since > LOCK_STALE_MS);
    if (stale) await unlink(lockPath).catch(() => undefined);
  } catch {
    // Lock vanished or is half-written; just retry.
  }
  return false;
}

async function buildTemplate(bins: MariaDbBinaries, finalDir: string, readyMarker: string): Promise<void> {
  const building = `${finalDir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await rm(finalDir, { recursive: true, force: true }); // a leftover without the ready marker
  const args = [
    '--no-defaults',
    `--datadir=${building}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...INNODB_SIZING,
  ];
  if (process.getuid?.() === 0) args.push('--user=root');
  try {
    await execFileAsync(bins.installDb, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    await rm(building, { recursive: true, force: true });
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `mariadb-install-db (${bins.installDb}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim(),
    );
  }
  const marker = await open(join(building, '.shardgate-template-ready'), 'w');
  await marker.close();
  await rename(building, finalDir);
  if (!(await exists(readyMarker))) throw new Error(`template datadir ${finalDir} is incomplete`);
}
