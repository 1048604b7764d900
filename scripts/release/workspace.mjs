// What the release commands share: git and pnpm invocations, the workspace's public packages and
// their one version, pending changesets, and the way a command refuses.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Thrown by a command that refuses; the entry point prints the message and exits 1. */
export class Refusal extends Error {}

/** Runs a command in the repository root and returns its trimmed stdout; throws on a non-zero exit. */
export function run(command, args, options = {}) {
  return execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }).trim();
}

/** Runs a command with its output shown to the user (builds, publishes, changeset version). */
export function runVisibly(command, args) {
  execFileSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

export const git = (...args) => run('git', args);

export function currentBranch() {
  return git('rev-parse', '--abbrev-ref', 'HEAD');
}

export function refuseIfDirty() {
  const status = git('status', '--porcelain');
  if (status) throw new Refusal(`needs a clean working tree; commit or stash first:\n${status}`);
}

/** `X.Y` as typed by a maintainer, or a refusal. */
export function parseLine(text, usage) {
  if (!/^\d+\.\d+$/.test(text ?? '')) throw new Refusal(`expected a release line X.Y, got '${text ?? ''}'\n${usage}`);
  return text;
}

export const releaseBranch = (line) => `release-${line}`;
export const inLine = (version, line) => version.startsWith(`${line}.`) && /^\d+\.\d+\.\d+$/.test(version);

/**
 * Every package of the workspace that npm users get: the non-private ones, as pnpm sees them, so
 * a package added later is released without touching this list.
 */
export function publicPackages() {
  const all = JSON.parse(run('pnpm', ['ls', '--recursive', '--depth', '-1', '--json']));
  return all
    .filter((p) => !p.private && p.path !== root)
    .map((p) => ({ name: p.name, dir: p.path, version: readPackageJson(p.path).version }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function readPackageJson(dir) {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

/** The version all public packages share (changesets `fixed`), or a refusal naming the odd ones. */
export function sharedVersion(packages) {
  const versions = new Set(packages.map((p) => p.version));
  if (versions.size !== 1) {
    const list = packages.map((p) => `  ${p.name}@${p.version}`).join('\n');
    throw new Refusal(`the public packages must share one version (changesets "fixed"), but they are at:\n${list}`);
  }
  return [...versions][0];
}

/** Changeset files not yet consumed by `changeset version`. */
export function pendingChangesets() {
  const dir = path.join(root, '.changeset');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => path.join(dir, f));
}

/** Runs a command's body (sync or async); a Refusal becomes a message on stderr and exit code 1. */
export function main(command, body) {
  Promise.resolve()
    .then(body)
    .catch((err) => {
      if (!(err instanceof Refusal)) throw err;
      console.error(`${command}: ${err.message}`);
      process.exitCode = 1;
    });
}
