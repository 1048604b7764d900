import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { reapOrphanedClusters } from '../src/orphan-reaper.js';
import { localMariaDbTmpRoot } from '../src/template-datadir.js';

const child = fileURLToPath(new URL('./fixtures/cluster-child.ts', import.meta.url));

/** Gone, or a zombie nobody reaped yet (PID 1 in containers often does not reap). */
function isGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

async function runChild(how: string, signal?: NodeJS.Signals) {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, how], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', resolve);
    void exited.then(() => reject(new Error(`child exited before reporting its cluster: ${stderr}`)));
  });
  const info = JSON.parse(line) as { pids: number[]; rootDir: string };
  expect(info.pids.every((pid) => !isGone(pid))).toBe(true);
  expect(existsSync(info.rootDir)).toBe(true);
  if (signal !== undefined) proc.kill(signal);
  else proc.stdin.write('go\n');
  const result = await exited;
  await waitUntil(() => info.pids.every(isGone), `mariadbd ${info.pids.join(', ')} are gone`);
  expect(existsSync(info.rootDir)).toBe(false);
  return { ...result, stderr };
}

describe('LocalCluster cleans up on every exit path', () => {
  it('SIGTERM: servers killed, folders removed, and the process still dies by SIGTERM', async () => {
    expect((await runChild('wait', 'SIGTERM')).signal).toBe('SIGTERM');
  });

  it('SIGINT', async () => {
    expect((await runChild('wait', 'SIGINT')).signal).toBe('SIGINT');
  });

  it('process.exit() without stop()', async () => {
    expect((await runChild('exit')).code).toBe(0);
  });

  it('uncaught exception', async () => {
    const result = await runChild('throw');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('planted uncaught exception');
  });

  it('unhandled rejection', async () => {
    const result = await runChild('reject');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('planted unhandled rejection');
  });

  it('SIGKILL cannot be caught: the orphans it leaves are reaped by the next cluster start', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, 'wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const line = await new Promise<string>((resolve) => createInterface({ input: proc.stdout }).once('line', resolve));
    const info = JSON.parse(line) as { pids: number[]; rootDir: string };
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    expect(info.pids.some((pid) => !isGone(pid))).toBe(true);
    expect(existsSync(info.rootDir)).toBe(true);
    expect(await reapOrphanedClusters(localMariaDbTmpRoot())).toBeGreaterThanOrEqual(1);
    await waitUntil(() => info.pids.every(isGone), 'orphaned mariadbd are gone');
    expect(existsSync(info.rootDir)).toBe(false);
  });
});
