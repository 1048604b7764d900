/**
 * The setup of the tests that send a gateway statements which once stalled it (stall-probe,
 * hostile-statements): a `shardgate up` process over two local shards holding STALL_SCHEMA, a
 * third local server (`reference`) as the plain MariaDB the answers are compared with, one client
 * of each, and the probe's row in both. The gateway runs as a process so that a stalled event
 * loop cannot stall the test's own clients: a stall shows as the test's timeout.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { LocalCluster } from '@shardgate/test-kit';
import { startGatewayProcess, type GatewayProcess } from './cli-process.js';
import { PROBE_ROW_SQL, STALL_SCHEMA, STALL_VSCHEMA, type ProbeOptions } from './stall-probe.js';

export interface StallGateway {
  /** The shards `-80` and `80-` behind the gateway, and `reference`. */
  readonly cluster: LocalCluster;
  readonly gw: GatewayProcess;
  /** How a client reaches the gateway (user app, database commerce). */
  readonly clientOptions: ProbeOptions;
  /** A client of the gateway. */
  readonly client: mysql.Connection;
  /** A client of the plain MariaDB. */
  readonly reference: mysql.Connection;
  /** Closes the clients, kills the gateway process if it still runs, stops the servers. */
  stop(): Promise<void>;
}

/**
 * Starts it all. `settings` are top-level config keys written into shardgate.yaml as
 * `key: value` lines (planTimeoutMs, netReadTimeoutMs...); `prefix` names the temporary folder.
 * What is started before a failure is stopped again.
 */
export async function startStallGateway(prefix: string, settings: Readonly<Record<string, string | number>>): Promise<StallGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  let cluster: LocalCluster | undefined;
  let gw: GatewayProcess | undefined;
  let client: mysql.Connection | undefined;
  let reference: mysql.Connection | undefined;
  const stop = async (): Promise<void> => {
    await client?.end().catch(() => undefined);
    await reference?.end();
    if (gw?.child.exitCode === null) {
      gw.child.kill('SIGKILL');
      await gw.exited;
    }
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    cluster = await LocalCluster.start({ shards: ['-80', '80-', 'reference'], database: 'commerce', schema: STALL_SCHEMA });
    writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(STALL_VSCHEMA));
    const shardUrl = (s: string): string => `mysql://root:@127.0.0.1:${cluster!.shard(s).port}/commerce`;
    const cfg = path.join(dir, 'shardgate.yaml');
    writeFileSync(
      cfg,
      `listen: { mysql: "127.0.0.1:0", http: null }\nusers: [ { user: app, password: secret } ]\nvschema: ./vschema.json\n` +
        Object.entries(settings)
          .map(([key, value]) => `${key}: ${value}\n`)
          .join('') +
        `keyspaces:\n  commerce:\n    shards: { "-80": "${shardUrl('-80')}", "80-": "${shardUrl('80-')}" }\n`,
    );
    gw = startGatewayProcess(cfg);
    const port = Number((await gw.waitFor(/mariadb -h 127\.0\.0\.1 -P (\d+) -u app/))[1]);
    const clientOptions: ProbeOptions = { host: '127.0.0.1', port, user: 'app', password: 'secret', database: 'commerce' };
    client = await mysql.createConnection(clientOptions);
    reference = await mysql.createConnection(cluster.shard('reference').connectionOptions());
    await client.query(PROBE_ROW_SQL);
    await reference.query(PROBE_ROW_SQL);
    return { cluster, gw, clientOptions, client, reference, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
