// Packs the package in the current folder, installs the tarball into a scratch folder (its
// dependencies linked from the package's node_modules), and imports every entry of the exports
// map, so a missing file or a workspace-only import fails here instead of in a user's project.
// Usage, from a package: pnpm run check:exports (after build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkgDir = process.cwd();
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), `${pkg.name.replace(/\W/g, '-')}-pack-`));
try {
  execFileSync('pnpm', ['pack', '--pack-destination', scratch], { cwd: pkgDir, stdio: 'ignore' });
  const tarball = join(scratch, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`);
  const installed = join(scratch, 'node_modules', ...pkg.name.split('/'));
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', installed, '--strip-components=1']);
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    symlinkSync(realpathSync(join(pkgDir, 'node_modules', dep)), join(scratch, 'node_modules', dep));
  }

  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const types = join(installed, target.types);
    readFileSync(types); // throws if the declaration file is missing from the tarball
    // Import by package specifier from a file in the scratch folder, so Node resolves through
    // the exports map exactly as a user's project would.
    const consumer = join(scratch, `consumer-${subpath.replace(/\W/g, '_')}.mjs`);
    writeFileSync(consumer, `export * from ${JSON.stringify(specifier)};\n`);
    const mod = await import(pathToFileURL(consumer).href);
    const names = Object.keys(mod);
    if (names.length === 0) throw new Error(`${specifier} exports nothing`);
    console.log(`ok ${specifier}: ${names.length} exports`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
