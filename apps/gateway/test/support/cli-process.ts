/** Runs `shardgate up` as a child process, as an operator would, and collects what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CLI = path.resolve(here, '../../dist/cli.js');

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** JSON log lines printed so far. */
  logs(): Record<string, unknown>[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startGatewayProcess(config: string, env?: NodeJS.ProcessEnv): GatewayProcess {
  const child = spawn(process.execPath, [CLI, 'up', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: env === undefined ? undefined : { ...process.env, ...env } });
  let seen = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    seen += chunk.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => seen,
    logs: () =>
      seen
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    exited,
    waitFor(pattern, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(seen);
          if (m) {
            cleanup();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${seen}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void exited.then(() => {
          if (!waiters.has(check)) return;
          cleanup();
          reject(new Error(`exited before ${pattern}; output:\n${seen}`));
        });
        check();
      });
    },
  };
}

/** mariadbd processes whose command line names a datadir under `root`. */
export function mariadbdUnder(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.split(') ')[1]?.startsWith('Z')) continue;
      if (/mariadbd|mysqld/.test(cmd[0] ?? '') && cmd.some((a) => a.startsWith(`--datadir=${root}`))) pids.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return pids;
}
