/**
 * The gateway's node flags (V8's young generation at a fixed 2 × 4 MiB: memory cap and scavenge
 * rate, see src/cli.ts) are written in three places: the bin's first line, `npm start`'s
 * scripts/start.sh and the root package.json's `shardgate` script. A gateway started one way must
 * run as one started another, so they must say the same.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

/** The flags between `node` and the script in a command line. */
function flagsBefore(command: string, script: string): string[] {
  const m = new RegExp(`\\bnode((?:\\s+--\\S+)*)\\s+${script.replace(/[.]/g, '\\.')}`).exec(command);
  if (m === null) throw new Error(`no "node … ${script}" in: ${command}`);
  return m[1].trim().split(/\s+/);
}

describe('the gateway node flags', () => {
  const binLine = read('apps/gateway/src/cli.ts').split('\n', 1)[0];
  const binFlags = /^#!\/usr\/bin\/env -S node\s+(.*)$/.exec(binLine)![1].split(/\s+/);

  it('fix the young generation at its cap in the bin', () => {
    expect(binFlags).toEqual(['--max-semi-space-size=4', '--min-semi-space-size=4']);
  });

  it('are the same in npm start and in the root shardgate script', () => {
    const start = read('scripts/start.sh').split('\n').find((l) => l.startsWith('exec node'))!;
    expect(flagsBefore(start, 'apps/gateway/dist/cli.js')).toEqual(binFlags);
    const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.shardgate;
    expect(flagsBefore(script, 'apps/gateway/dist/cli.js')).toEqual(binFlags);
  });
});
