// pnpm release:publish — builds and publishes every public package of the current branch at its
// version to the registry from npm's config, under `latest` on main and `release-X.Y` on a
// release branch, then tags the commit vX.Y.Z. See docs/releasing.md.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  Refusal, currentBranch, git, inLine, main, pendingChangesets, publicPackages, refuseIfDirty, root,
  runVisibly, sharedVersion,
} from './workspace.mjs';

const execFileAsync = promisify(execFile);
const COMMAND = 'release:publish';

main(COMMAND, async () => {
  const branch = currentBranch();
  const line = /^release-(\d+\.\d+)$/.exec(branch)?.[1];
  if (branch !== 'main' && !line) {
    throw new Refusal(`publishes only from main (dist-tag latest) or a release-X.Y branch (dist-tag release-X.Y); this is '${branch}'`);
  }
  const distTag = line ? branch : 'latest';
  refuseIfDirty();
  const pending = pendingChangesets();
  if (pending.length > 0) {
    const names = pending.map((f) => `  ${path.relative(root, f)}`).join('\n');
    throw new Refusal(`${pending.length} changeset(s) are pending; version them first (pnpm changeset version, on a release branch pnpm release:backport), commit, then publish:\n${names}`);
  }
  const packages = publicPackages();
  const version = sharedVersion(packages);
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Refusal(`${version} is a prerelease version; release:publish publishes releases only (latest or release-X.Y)`);
  }
  if (line && !inLine(version, line)) {
    throw new Refusal(`${branch} publishes ${line}.x versions only, but the packages are at ${version}`);
  }
  const tag = `v${version}`;

  const published = await Promise.all(packages.map((p) => isPublished(p.name, version)));
  const unpublished = packages.filter((_, i) => !published[i]);
  if (unpublished.length === 0) {
    console.log(`${COMMAND}: ${version} is already published for all ${packages.length} packages; nothing published, no dist-tag changed.`);
    return;
  }
  const tagged = git('tag', '--list', tag) ? git('rev-list', '-n', '1', tag) : null;
  if (tagged && tagged !== git('rev-parse', 'HEAD')) {
    throw new Refusal(`tag ${tag} already marks commit ${tagged.slice(0, 12)}, not this one; ${version} must be published from that commit`);
  }

  console.log(`${COMMAND}: publishing ${version} under dist-tag '${distTag}': ${unpublished.map((p) => p.name).join(', ')}`);
  // A clean build: dist/ is ignored by git, so it survives branch switches and could otherwise
  // ship another branch's files. turbo restores unchanged packages from its cache.
  const started = Date.now();
  for (const p of packages) rmSync(path.join(p.dir, 'dist'), { recursive: true, force: true });
  runVisibly('pnpm', ['exec', 'turbo', 'run', 'build', ...packages.map((p) => `--filter=${p.name}`)]);
  const built = Date.now();
  // pnpm publishes the non-private packages in dependency order, skips versions the registry
  // already has, and turns `workspace:*` into this exact version.
  runVisibly('pnpm', ['--recursive', 'publish', '--tag', distTag, '--no-git-checks']);
  if (!tagged) git('tag', tag);
  const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
  console.log(`${COMMAND}: published ${version} under '${distTag}' (build ${seconds(built - started)}, publish ${seconds(Date.now() - built)}) and tagged ${tag}; push it with: git push origin ${tag}`);
});

/** Whether the registry from npm's config has this exact version; any error other than "no such package" is fatal. */
async function isPublished(name, version) {
  try {
    const { stdout } = await execFileAsync('npm', ['view', `${name}@${version}`, 'version', '--json'], { cwd: root });
    return stdout.trim() !== '';
  } catch (err) {
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    if (/\bE404\b/.test(out)) return false;
    throw new Error(`npm view ${name}@${version} failed:\n${out}`);
  }
}
