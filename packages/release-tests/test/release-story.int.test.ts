/**
 * The release process end to end, with the exact commands maintainers run, against a real
 * registry (Verdaccio). In a temporary clone of this repository:
 *   1. main, with every changeset versioned, is released (`latest`);
 *   2. its line X.Y is cut;
 *   3. main moves on with a minor feature in the planner and releases it as `latest`;
 *   4. a fix lands on main;
 *   5. the fix is backported to release-X.Y and the line is published (`release-X.Y`).
 * Along the way each command's refusals are checked. Then a fresh consumer project installs from
 * the registry what users would: the line has the fix and not main's feature, its dependencies
 * stay on the line, `latest` is still main's, and the gateway runs from the registry (`--version`
 * through npx, `up` with a local MariaDB shard). Publishing the line again changes nothing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRegistry, type LocalRegistry } from './local-registry.js';
import { publicPackages, repoRoot } from './public-packages.js';

const execFileAsync = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'sg-release-'));
const clone = path.join(work, 'clone');
const consumer = path.join(work, 'consumer');
let registry: LocalRegistry;

const baseEnv: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|pnpm_|turbo_)/i.test(k)) baseEnv[k] = v;
Object.assign(baseEnv, {
  npm_config_update_notifier: 'false',
  TURBO_TELEMETRY_DISABLED: '1',
  GIT_AUTHOR_NAME: 'Release Test',
  GIT_AUTHOR_EMAIL: 'release-test@shardgate.invalid',
  GIT_COMMITTER_NAME: 'Release Test',
  GIT_COMMITTER_EMAIL: 'release-test@shardgate.invalid',
});

/**
 * Maintainers publish to the test registry, logged in as its user; consumers get @shardgate/*
 * from it and everything else from npm's usual registry. Each has its own empty npm cache, as on
 * a fresh machine. No inherited npm, pnpm or turbo settings leak in from the test runner.
 */
const env = { workspace: baseEnv, maintainer: baseEnv, consumer: baseEnv };
type Role = keyof typeof env;

function setUpEnvironments(upstream: string, turboCache: string): void {
  const maintainerNpmrc = path.join(work, 'maintainer.npmrc');
  writeFileSync(maintainerNpmrc, `registry=${registry.url}\n${registry.authLine}\n`);
  env.maintainer = {
    ...baseEnv,
    npm_config_userconfig: maintainerNpmrc,
    npm_config_cache: path.join(work, 'maintainer-npm-cache'),
    // git as on a fresh machine: no user or system config (hooks, signing, aliases).
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    // Builds read the workspace's turbo cache (never write it): a package whose inputs hash the
    // same as one the workspace built is restored, anything else is built.
    TURBO_CACHE_DIR: turboCache,
    TURBO_CACHE: 'local:r',
  };
  const consumerNpmrc = path.join(work, 'consumer.npmrc');
  writeFileSync(consumerNpmrc, `registry=${upstream}\n@shardgate:registry=${registry.url}\n`);
  env.consumer = { ...baseEnv, npm_config_userconfig: consumerNpmrc, npm_config_cache: path.join(work, 'consumer-npm-cache') };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and returns its exit code and output, whatever the code. */
async function sh(role: Role, cwd: string, command: string, ...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, env: env[role], maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** Like sh, but the command must succeed. */
async function ok(role: Role, cwd: string, command: string, ...args: string[]): Promise<string> {
  const r = await sh(role, cwd, command, ...args);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

const git = (...args: string[]) => ok('maintainer', clone, 'git', ...args);
const pnpm = (...args: string[]) => sh('maintainer', clone, 'pnpm', ...args);
const planner = (file: string) => path.join(clone, 'packages', 'planner', file);
const version = () => (JSON.parse(readFileSync(planner('package.json'), 'utf8')) as { version: string }).version;

interface Packument {
  'dist-tags': Record<string, string>;
  versions: Record<string, unknown>;
  time: Record<string, string>;
}

/** Every public package's document as the registry serves it (dist-tags, versions, publish times). */
async function registryState(): Promise<Record<string, Packument>> {
  const names = publicPackages(clone).map((p) => p.name);
  const docs = await Promise.all(
    names.map(async (name) => {
      const res = await fetch(`${registry.url}${name.replace('/', '%2f')}`);
      if (!res.ok) throw new Error(`${name}: ${res.status} from the registry`);
      return (await res.json()) as Packument;
    }),
  );
  return Object.fromEntries(names.map((name, i) => [name, docs[i]]));
}

/** The dist-tags of every public package. */
async function distTags(): Promise<Record<string, Record<string, string>>> {
  return Object.fromEntries(Object.entries(await registryState()).map(([name, doc]) => [name, doc['dist-tags']]));
}

/** Runs release:publish, which must succeed, and shows its summary line. */
async function publish(): Promise<void> {
  const r = await pnpm('release:publish');
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  console.log(r.stdout.split('\n').filter((l) => l.startsWith('release:publish:') || /^\s*Cached:/.test(l)).join('\n'));
}

function addChangeset(name: string, bump: 'major' | 'minor' | 'patch', summary: string): void {
  writeFileSync(path.join(clone, '.changeset', `${name}.md`), `---\n"@shardgate/planner": ${bump}\n---\n\n${summary}\n`);
}

async function commitAll(message: string): Promise<string> {
  await git('add', '--all');
  await git('commit', '--quiet', '--message', message);
  return git('rev-parse', 'HEAD');
}

beforeAll(async () => {
  // Where consumers get everything but @shardgate/*: the registry npm is configured with here.
  const upstream = (await execFileAsync('npm', ['config', 'get', 'registry'], { cwd: repoRoot })).stdout.trim();
  registry = await startLocalRegistry(path.join(work, 'registry'));
  // turbo keeps one cache per repository, in the main worktree (CI: the checkout itself).
  const gitCommonDir = path.resolve(repoRoot, await ok('workspace', repoRoot, 'git', 'rev-parse', '--git-common-dir'));
  setUpEnvironments(upstream, process.env.TURBO_CACHE_DIR ?? path.join(path.dirname(gitCommonDir), '.turbo', 'cache'));
  // The clone is this working tree as it is (tracked and new files, ignored ones excluded), as
  // one commit on a fresh main: the story runs on exactly the code under test.
  const files = (await ok('workspace', repoRoot, 'git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard')).split('\0');
  for (const file of files) {
    const from = path.join(repoRoot, file);
    if (file && existsSync(from)) cpSync(from, path.join(clone, file), { recursive: true });
  }
  await git('init', '--quiet', '--initial-branch=main');
  await commitAll('Snapshot of the repository under test');
  // Dependencies come from pnpm's store, which installing this workspace filled (found through
  // the same npm config as the workspace's, hence not the maintainer's).
  await ok('workspace', clone, 'pnpm', 'install', '--offline', '--frozen-lockfile');
});

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('release story', () => {
  let line = '';
  let released = ''; // the line's tag that main released
  let backport = ''; // the line's next patch version
  let mainVersion = '';

  it('1. refuses to publish from a topic branch, with pending changesets or a dirty tree, then releases main as latest', async () => {
    await git('switch', '--quiet', '--create', 'topic');
    let r = await pnpm('release:publish');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("this is 'topic'");
    await git('switch', '--quiet', 'main');

    addChangeset('story-pending', 'patch', 'A change not yet versioned.');
    await commitAll('A change with its changeset');
    r = await pnpm('release:publish');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/changeset\(s\) are pending/);

    // The story starts from a main whose changesets are all versioned, at the version the
    // workspace has: its packages then hash as the workspace's do, so turbo restores the build
    // the workspace already made instead of building it again.
    for (const file of readdirSync(path.join(clone, '.changeset'))) {
      if (file.endsWith('.md') && file !== 'README.md') rmSync(path.join(clone, '.changeset', file));
    }
    writeFileSync(path.join(clone, 'untracked.txt'), 'not committed\n');
    r = await pnpm('release:publish');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('needs a clean working tree');
    rmSync(path.join(clone, 'untracked.txt'));
    await commitAll('Every changeset versioned');

    const v = version();
    for (const p of publicPackages(clone)) expect(p.manifest.version, p.name).toBe(v);
    await publish();
    expect(await git('tag', '--points-at', 'HEAD')).toBe(`v${v}`);
    for (const [name, tags] of Object.entries(await distTags())) expect(tags, name).toEqual({ latest: v });
    line = v.split('.').slice(0, 2).join('.');
    const [major, minor, patch] = v.split('.').map(Number);
    released = `v${v}`;
    backport = `${major}.${minor}.${patch + 1}`;
  });

  it('2. cuts the line from its tag; cutting it again or a line never released refuses', async () => {
    const r = await pnpm('release:cut', line);
    expect(r.code, r.stderr).toBe(0);
    expect(await git('rev-parse', '--abbrev-ref', 'HEAD')).toBe(`release-${line}`);
    expect(await git('rev-parse', 'HEAD~1')).toBe(await git('rev-list', '-n', '1', released));
    const config = JSON.parse(readFileSync(path.join(clone, '.changeset', 'config.json'), 'utf8'));
    expect(config.baseBranch).toBe(`release-${line}`);

    await git('switch', '--quiet', 'main');
    expect(JSON.parse(readFileSync(path.join(clone, '.changeset', 'config.json'), 'utf8')).baseBranch).toBe('main');
    const again = await pnpm('release:cut', line);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    const never = await pnpm('release:cut', '99.0');
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('no v99.0.* tag');
  });

  let fix = '';
  let conflicting = '';
  let breaking = '';

  it('3. main moves on with a minor feature and releases it as latest', async () => {
    writeFileSync(planner('src/story-feature.ts'), `export const storyFeature = 'only on main';\n`);
    writeFileSync(planner('src/index.ts'), `${readFileSync(planner('src/index.ts'), 'utf8')}export { storyFeature } from './story-feature.js';\n`);
    addChangeset('story-feature', 'minor', 'planner: storyFeature.');
    await commitAll('planner: storyFeature');
    await ok('maintainer', clone, 'pnpm', 'exec', 'changeset', 'version');
    await commitAll('Version packages');
    mainVersion = version();
    expect(mainVersion.startsWith(`${line}.`)).toBe(false);

    await publish();
    for (const [name, tags] of Object.entries(await distTags())) expect(tags, name).toEqual({ latest: mainVersion });
  });

  it('4. a fix lands on main (with a minor changeset, which the line must take as a patch)', async () => {
    // Added at the top of index.ts, apart from the feature's line, so it applies to the line too.
    writeFileSync(planner('src/story-fix.ts'), `export const storyFix = 'fixed';\n`);
    writeFileSync(planner('src/index.ts'), `export { storyFix } from './story-fix.js';\n${readFileSync(planner('src/index.ts'), 'utf8')}`);
    addChangeset('story-fix', 'minor', 'planner: storyFix.');
    fix = await commitAll('planner: storyFix');

    // Two commits the line must not take: one edits a file the line does not have, one is major.
    writeFileSync(planner('src/story-feature.ts'), `export const storyFeature = 'changed on main';\n`);
    conflicting = await commitAll('planner: change storyFeature');
    writeFileSync(planner('src/story-breaking.ts'), `export const storyBreaking = true;\n`);
    addChangeset('story-breaking', 'major', 'planner: a breaking change.');
    breaking = await commitAll('planner: a breaking change');
  });

  it('5. backport refuses a conflict or a major change and leaves the line as it was, then backports the fix', async () => {
    const lineHead = await git('rev-parse', `release-${line}`);

    let r = await pnpm('release:backport', line, fix, conflicting);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`commit ${conflicting.slice(0, 12)} "planner: change storyFeature" does not apply to release-${line}`);
    expect(await git('rev-parse', 'HEAD')).toBe(lineHead);
    expect(await git('status', '--porcelain')).toBe('');
    expect(existsSync(path.join(clone, '.git', 'CHERRY_PICK_HEAD'))).toBe(false);

    r = await pnpm('release:backport', line, breaking);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('story-breaking.md is a major change');
    expect(await git('rev-parse', 'HEAD')).toBe(lineHead);
    expect(await git('status', '--porcelain')).toBe('');

    r = await pnpm('release:backport', line, fix);
    expect(r.code, r.stderr).toBe(0);
    expect(version()).toBe(backport);
    for (const p of publicPackages(clone)) expect(p.manifest.version, p.name).toBe(backport);
    expect(await git('log', '-1', '--format=%s')).toBe(`Release ${backport}`);
    expect(await git('log', '-1', '--format=%B', 'HEAD~1')).toContain(`(cherry picked from commit ${fix})`);
    const changelog = readFileSync(planner('CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(new RegExp(`## ${backport.replaceAll('.', '\\.')}\\n\\n### Patch Changes\\n\\n- [0-9a-f]+: planner: storyFix\\.`));
    expect(changelog).not.toContain('storyFeature');
    expect(existsSync(planner('src/story-feature.ts'))).toBe(false);
  });

  it('5. publishing refuses a version outside the branch line, then publishes the line under its own dist-tag', async () => {
    await git('switch', '--quiet', '--create', 'release-99.0', `v${mainVersion}`);
    let r = await pnpm('release:publish');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`release-99.0 publishes 99.0.x versions only, but the packages are at ${mainVersion}`);
    await git('switch', '--quiet', `release-${line}`);
    await git('branch', '--quiet', '-D', 'release-99.0');

    await publish();
    expect(await git('tag', '--points-at', 'HEAD')).toBe(`v${backport}`);
    for (const [name, tags] of Object.entries(await distTags())) {
      expect(tags, name).toEqual({ latest: mainVersion, [`release-${line}`]: backport });
    }
  });

  it('publishing the line again says so and changes nothing', async () => {
    const before = await registryState();
    const r = await pnpm('release:publish');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${backport} is already published`);
    expect(await registryState()).toEqual(before);
  });

  describe('a fresh consumer project', () => {
    beforeAll(() => {
      mkdirSync(consumer);
      writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    });
    const npm = (...args: string[]) => ok('consumer', consumer, 'npm', ...args);

    it(`gets the fix and not main's feature from @shardgate/planner@release-X.Y, with dependencies on the same line`, async () => {
      await npm('install', '--no-audit', '--no-fund', `@shardgate/planner@release-${line}`);
      const check = `import * as planner from '@shardgate/planner';
        console.log(JSON.stringify({ fix: planner.storyFix ?? null, feature: planner.storyFeature ?? null }));`;
      expect(JSON.parse(await ok('consumer', consumer, 'node', '--input-type=module', '-e', check))).toEqual({ fix: 'fixed', feature: null });

      const tree = JSON.parse(await npm('ls', '--all', '--json')) as Dependencies;
      const shardgate = collect(tree).filter(([name]) => name.startsWith('@shardgate/'));
      expect(shardgate.map(([name]) => name)).toEqual(expect.arrayContaining(['@shardgate/planner', '@shardgate/vschema', '@shardgate/cache']));
      for (const [name, v] of shardgate) expect(v, name).toBe(backport);
    });

    it(`sees main's version as latest`, async () => {
      expect(await npm('view', '@shardgate/planner', 'dist-tags.latest')).toBe(mainVersion);
      expect(await npm('view', '@shardgate/gateway@latest', 'version')).toBe(mainVersion);
    });

    it('runs the line\'s gateway with npx: shardgate --version prints the line\'s new patch version', async () => {
      expect(await npm('exec', '--yes', '--package', `@shardgate/gateway@release-${line}`, '--', 'shardgate', '--version')).toBe(backport);
    });

    it('runs `npx @shardgate/gateway up --config …` from the registry and serves queries on a local shard', async () => {
      writeFileSync(path.join(consumer, 'vschema.json'), JSON.stringify({ keyspaces: { main: { sharded: false, tables: { note: {} } } } }));
      writeFileSync(path.join(consumer, 'main.sql'), 'create table note (id bigint primary key, body varchar(100));\n');
      writeFileSync(
        path.join(consumer, 'shardgate.yaml'),
        `listen: { mysql: "127.0.0.1:0", http: null }
users: [ { user: app, password: secret } ]
vschema: ./vschema.json
keyspaces:
  main: { schema: ./main.sql, shards: { "0": local } }
`,
      );
      const gateway = spawn('npx', ['--yes', '@shardgate/gateway', 'up', '--config', 'shardgate.yaml'], {
        cwd: consumer,
        env: env.consumer,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group, so that a failed test can still end all of it
      });
      let output = '';
      gateway.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      gateway.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      let started: { pid: number; cmdline: string }[] = [];
      try {
        const port = Number((await waitForOutput(gateway, /mariadb -h 127\.0\.0\.1 -P (\d+)/, 180_000))[1]);
        started = descendantsOf(gateway.pid!);
        expect(started.some((p) => p.cmdline.includes('mariadbd'))).toBe(true);
        const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'main' });
        try {
          await conn.query(`insert into note values (1, 'from the registry')`);
          const [rows] = await conn.query<mysql.RowDataPacket[]>('select body from note where id = 1');
          expect(rows.map((r) => r.body)).toEqual(['from the registry']);
        } finally {
          await conn.end();
        }
        // Ctrl-C in a terminal: SIGINT to the whole foreground process group (npx and the gateway).
        process.kill(-gateway.pid!, 'SIGINT');
        await until(() => started.every((p) => !alive(p.pid)));
        expect(output).toMatch(/"msg":"stopped"/); // the gateway's JSON log line
      } finally {
        if (started.some((p) => alive(p.pid))) process.kill(-gateway.pid!, 'SIGKILL');
      }
    });
  });
});

interface Dependencies {
  version?: string;
  dependencies?: Record<string, Dependencies>;
}

/** [name, version] of every package in an `npm ls --all --json` tree. */
function collect(tree: Dependencies): [string, string][] {
  return Object.entries(tree.dependencies ?? {}).flatMap(([name, dep]) => [[name, dep.version ?? ''] as [string, string], ...collect(dep)]);
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; output:\n${seen}`));
    });
  });
}

/** All processes below `pid` (npx → sh → node gateway → mariadbd), with their command lines. */
function descendantsOf(pid: number): { pid: number; cmdline: string }[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const isBelow = (p: number): boolean => {
    for (let q = parentOf.get(p); q !== undefined && q > 1; q = parentOf.get(q)) if (q === pid) return true;
    return false;
  };
  return [...parentOf.keys()].filter(isBelow).map((p) => {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      // ended
    }
    return { pid: p, cmdline };
  });
}

/** Polls until `done` holds; the test's own timeout bounds the wait. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 100));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
