/**
 * Every public package as npm would get it: packed with pnpm (which rewrites `workspace:*`), then
 * checked for what a published package needs (metadata, README, LICENSE), linted by publint and
 * arethetypeswrong, and scanned so that every package its built code imports is a declared
 * dependency (a devDependency is not installed for users; the gateway must run from the registry).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { publicPackages, workspacePackages } from './public-packages.js';

const run = promisify(execFile);
const bin = (name: string) => path.resolve(import.meta.dirname, '../node_modules/.bin', name);
const work = mkdtempSync(path.join(tmpdir(), 'sg-packed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const packages = publicPackages();

it('finds the public packages in the workspace', () => {
  expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@shardgate/gateway', '@shardgate/planner']));
  expect(packages.map((p) => p.name)).not.toContain('@shardgate/release-tests');
});

it('gives every public package one version, which no private @shardgate package exceeds', () => {
  // changesets' fixed group is "@shardgate/*" and takes the highest version in it, private
  // packages included, as the group's current version.
  const versions = new Set(packages.map((p) => p.manifest.version as string));
  expect(versions.size).toBe(1);
  const [shared] = versions;
  const key = (v: string) => v.split('.').map((n) => n.padStart(6, '0')).join('.');
  for (const p of workspacePackages().filter((w) => w.manifest.private && w.name.startsWith('@shardgate/'))) {
    expect(key(p.manifest.version ?? '0.0.0') <= key(shared), `${p.name}@${p.manifest.version}`).toBe(true);
  }
});

describe.each(packages.map((p) => [p.name, p] as const))('%s', (name, pkg) => {
  const m = pkg.manifest;
  const out = path.join(work, name.replace('/', '+'));
  let tarball = '';

  it('declares what a published package needs', () => {
    expect(m.license).toBe('Apache-2.0');
    expect(m.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'LICENSE']));
    expect(m.publishConfig?.access).toBe('public');
    expect(m.repository?.url).toMatch(/^git\+https:\/\//);
    expect(m.repository?.directory).toBe(path.relative(path.resolve(pkg.dir, '../..'), pkg.dir));
    expect(m.engines?.node).toBe('>=20');
    for (const [subpath, target] of Object.entries(m.exports as Record<string, unknown>)) {
      if (subpath.endsWith('.json')) continue;
      expect(target, `exports["${subpath}"]`).toMatchObject({ types: expect.stringMatching(/\.d\.ts$/), import: expect.stringMatching(/\.js$/) });
    }
  });

  it('packs with its README, LICENSE and built code', async () => {
    mkdirSync(out, { recursive: true });
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', out], { cwd: pkg.dir });
    tarball = stdout.trim().split('\n').at(-1)!;
    await run('tar', ['xzf', tarball, '-C', out]);
    for (const file of ['README.md', 'LICENSE', 'package.json']) expect(existsSync(path.join(out, 'package', file)), file).toBe(true);
    const packed = JSON.parse(readFileSync(path.join(out, 'package', 'package.json'), 'utf8'));
    expect(JSON.stringify(packed)).not.toContain('workspace:');
  });

  it('imports only what it declares as dependencies', () => {
    const declared = new Set([name, ...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
    const undeclared = new Set<string>();
    for (const file of jsFiles(path.join(out, 'package', 'dist'))) {
      const code = readFileSync(file, 'utf8');
      for (const spec of importedSpecifiers(code)) {
        if (spec.startsWith('.')) continue;
        const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!isBuiltin(spec) && !declared.has(pkgName)) undeclared.add(`${pkgName} (${path.basename(file)})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it('passes publint', async () => {
    const { stdout } = await run(bin('publint'), ['run', tarball, '--strict']);
    expect(stdout).toContain('All good!');
  });

  it('passes arethetypeswrong for ESM consumers', async () => {
    // ESM-only packages: require() from CommonJS is reported, but is not what we support.
    await run(bin('attw'), ['--profile', 'esm-only', '--format', 'ascii', tarball]);
  });
});

/** Module specifiers of static imports and re-exports (tsc emits them at a line's start) and of import(). */
function importedSpecifiers(code: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((re) => [...code.matchAll(re)].map((m) => m[1]));
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(dir, f));
}
