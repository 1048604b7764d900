/** The workspace's public packages, found the way the release scripts find them (pnpm's view). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface PublicPackage {
  name: string;
  dir: string;
  manifest: Record<string, any>;
}

export function publicPackages(root = repoRoot): PublicPackage[] {
  return workspacePackages(root).filter((p) => !p.manifest.private);
}

/** Every package of the workspace but its root, private ones included. */
export function workspacePackages(root = repoRoot): PublicPackage[] {
  const listed = JSON.parse(execFileSync('pnpm', ['ls', '--recursive', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8' })) as {
    name: string;
    path: string;
    private: boolean;
  }[];
  return listed
    .filter((p) => p.path !== root)
    .map((p) => ({ name: p.name, dir: p.path, manifest: JSON.parse(readFileSync(path.join(p.path, 'package.json'), 'utf8')) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
