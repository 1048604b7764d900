/**
 * The packages as npm consumers get them: each public package is packed (`pnpm pack` rewrites
 * `workspace:*` to real versions), installed from tarballs into a fresh project outside the
 * monorepo, and used there through its exports map only. This catches a missing `files` entry,
 * a broken `exports` map, or an import of a workspace-only path.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = ['mysql-protocol', 'vschema', 'cache', 'planner', 'executor', 'local-mariadb', 'test-kit'].map((p) => path.join(root, 'packages', p));
PACKAGES.push(path.join(root, 'apps', 'gateway'));

const work = mkdtempSync(path.join(tmpdir(), 'sg-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CHECK = `
import assert from 'node:assert/strict';
import { createMysqlServer, MysqlError } from '@shardgate/mysql-protocol';
import { loadVSchema, ShardMap } from '@shardgate/vschema';
import { MutexCache, ShardedCache } from '@shardgate/cache';
import { Planner, toVitessJson } from '@shardgate/planner';
import { Executor } from '@shardgate/executor';
import { LocalCluster, explore, raceYield } from '@shardgate/test-kit';
import { LocalCluster as LocalMariaDbCluster, DatadirInUseError } from '@shardgate/local-mariadb';
import { parseConfig, createLogger } from '@shardgate/gateway';

assert.equal(typeof createMysqlServer, 'function');
assert.equal(typeof MysqlError, 'function');
assert.equal(typeof Executor, 'function');
assert.equal(typeof parseConfig, 'function');
assert.equal(typeof createLogger, 'function');
// The test kit re-exports the local cluster: one class, not a copy.
assert.equal(LocalCluster, LocalMariaDbCluster);
assert.equal(typeof DatadirInUseError, 'function');

const vschema = loadVSchema({ keyspaces: { ks: { sharded: true, vindexes: { hash: { type: 'hash' } }, tables: { t: { column_vindexes: [{ column: 'id', name: 'hash' }] } } } } });
const ksid = vschema.keyspace('ks').vindexes.get('hash').map(1n);
assert.equal(Buffer.from(ksid).toString('hex'), '166b40b44aba4bd6');
assert.equal(new ShardMap(['-80', '80-']).shardFor(ksid), '-80');

const cache = new ShardedCache({ maxEntries: 10 });
assert.equal(await cache.getOrCompute('k', async () => 42), 42);
assert.equal(cache.peek('k'), 42);
assert.equal(await new MutexCache().getOrCompute('k', () => 1), 1);

const planner = new Planner({ vschema });
const planned = await planner.plan('select * from t where id = 1', { keyspace: 'ks' });
assert.equal(toVitessJson(planned.plan).Instructions.Variant, 'EqualUnique');

let ran = 0;
await explore(async () => { await raceYield(); ran++; }, { seeds: 5 });
assert.equal(ran, 5);

const cluster = await LocalCluster.start({ shards: ['-80'], schema: 'create table t (id bigint primary key)' });
try {
  assert.equal(cluster.shards.length, 1);
} finally {
  await cluster.stop();
}
console.log('consumer check ok');
`;

it('installs every public package from its tarball and uses it in a fresh ESM project', async () => {
  const tarballs = path.join(work, 'tarballs');
  mkdirSync(tarballs);
  for (const dir of PACKAGES) await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
  const files = readdirSync(tarballs).map((f) => path.join(tarballs, f));
  expect(files.length).toBe(PACKAGES.length);

  const project = path.join(work, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], { cwd: project, maxBuffer: 64 * 1024 * 1024 });
  writeFileSync(path.join(project, 'check.mjs'), CHECK);
  const { stdout } = await run('node', ['check.mjs'], { cwd: project });
  expect(stdout).toContain('consumer check ok');
});
