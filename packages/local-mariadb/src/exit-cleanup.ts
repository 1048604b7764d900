import { rmSync } from 'node:fs';

/** Something that must not outlive this Node process: a child server or a temp folder. */
export interface ExitCleanup {
  /** Synchronous, best effort: runs inside process 'exit', where nothing async can happen. */
  cleanupSync(): void;
  /**
   * True when the owner handles SIGINT/SIGTERM/SIGHUP itself (a server that drains first): the
   * signal handler then leaves this entry alone, and only process exit still cleans it up.
   */
  readonly leaveSignalsToOwner?: boolean;
}

/**
 * Every live server and temp folder of every LocalCluster in this process.
 * Concurrency rule: mutated only synchronously (register on start, unregister on stop), and read
 * only by the synchronous exit/signal handlers below, so no await can interleave with a read.
 */
const pending = new Set<ExitCleanup>();
let installed = false;

export function registerExitCleanup(entry: ExitCleanup): void {
  installHandlersOnce();
  pending.add(entry);
}

export function unregisterExitCleanup(entry: ExitCleanup): void {
  pending.delete(entry);
}

/** Kills every registered server with SIGKILL and removes every registered folder, synchronously. */
export function runExitCleanupSync(onSignal = false): void {
  // Servers before folders: entries are registered in start order (folder first), so run in reverse.
  for (const entry of [...pending].reverse()) {
    if (onSignal && entry.leaveSignalsToOwner === true) continue;
    pending.delete(entry);
    try {
      entry.cleanupSync();
    } catch {
      // Best effort on the way out; one failure must not leave the others running.
    }
  }
}

export function removeDirSync(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function onSignal(signal: NodeJS.Signals): void {
  runExitCleanupSync(true);
  // If nobody else handles the signal, behave as if we never listened: die by it (exit code 128+n).
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHandlersOnce(): void {
  if (installed) return;
  installed = true;
  // 'exit' also fires after an uncaught exception, and after process.exit(); it must be synchronous.
  process.on('exit', () => runExitCleanupSync());
  // A monitor does not change Node's default crash behaviour, unlike an 'uncaughtException' listener.
  process.on('uncaughtExceptionMonitor', () => {
    // Only when the process is about to crash: a test runner that keeps going after reporting the
    // error (it has its own 'uncaughtException' listener) still needs its servers.
    if (process.listenerCount('uncaughtException') === 0) runExitCleanupSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}
