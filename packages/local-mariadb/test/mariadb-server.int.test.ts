/**
 * A mariadbd that cannot bind its port must not pass for ready because another server already
 * answers there (two shards starting at once can be handed the same free port): start() must
 * fail with PortInUseError, so LocalCluster picks another port.
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../src/index.js';
import { findMariaDbBinaries } from '../src/mariadb-binaries.js';
import { MariaDbServer, PortInUseError } from '../src/mariadb-server.js';
import { templateDatadir, localMariaDbTmpRoot } from '../src/template-datadir.js';

describe('MariaDbServer start on a port another server holds', () => {
  let cluster: LocalCluster | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await cluster?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('fails with PortInUseError instead of reporting the other server as its own', async () => {
    cluster = await LocalCluster.start({ shards: ['0'] });
    const holder = cluster.shard('0');
    const bins = findMariaDbBinaries();
    dir = await mkdtemp(join(localMariaDbTmpRoot(), 'port-clash-'));
    await mkdir(join(dir, 'tmp'));
    await cp(await templateDatadir(bins), join(dir, 'data'), { recursive: true });
    const second = new MariaDbServer(bins, {
      datadir: join(dir, 'data'),
      tmpdir: join(dir, 'tmp'),
      socket: join(dir, 'mysqld.sock'),
      pidFile: join(dir, 'mysqld.pid'),
      errorLog: join(dir, 'error.log'),
      port: holder.port,
    });
    await expect(second.start()).rejects.toBeInstanceOf(PortInUseError);
    await second.kill();
    // The server that holds the port is untouched.
    const conn = await mysql.createConnection({ host: holder.host, port: holder.port, user: holder.user, password: holder.password });
    try {
      const [rows] = await conn.query('select 1 as one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await conn.end();
    }
  });
});
