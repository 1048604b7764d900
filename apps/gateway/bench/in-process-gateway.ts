/**
 * The gateway of an in-process A/B bench: built from `dist` (this checkout's, or another build's
 * given as BASE_DIST), configured from a vschema and shard URLs written to `dir`, and started in
 * this process, where the bench's driver runs too (so the process's CPU is gateway + driver).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface GatewayModule {
  Gateway: new (config: unknown) => { start(): Promise<{ mysql: { port: number } }>; stop(): Promise<void> };
}
interface ConfigModule {
  loadConfig(file: string): unknown;
}

export interface InProcessGatewayOptions {
  vschema: unknown;
  keyspace: string;
  /** Shard name → MySQL URL. */
  shards: Record<string, string>;
  /** The one user, whose password is its name. */
  user: string;
  /** Further top-level config lines (`poolSize: 8`, `workload: olap`). */
  settings: readonly string[];
}

export interface InProcessGateway {
  /** The MySQL port it listens on (127.0.0.1). */
  port: number;
  stop(): Promise<void>;
}

export async function startGatewayFromDist(dist: string, dir: string, o: InProcessGatewayOptions): Promise<InProcessGateway> {
  const { Gateway } = (await import(pathToFileURL(path.join(dist, 'gateway.js')).href)) as GatewayModule;
  const { loadConfig } = (await import(pathToFileURL(path.join(dist, 'config.js')).href)) as ConfigModule;
  writeFileSync(path.join(dir, 'vschema.json'), JSON.stringify(o.vschema));
  const shards = Object.entries(o.shards).map(([name, url]) => `      "${name}": "${url}"`);
  const cfg = path.join(dir, 'gw.yaml');
  writeFileSync(
    cfg,
    [
      'listen: { mysql: "127.0.0.1:0", http: null }',
      `users: [ { user: ${o.user}, password: ${o.user} } ]`,
      'vschema: ./vschema.json',
      ...o.settings,
      'keyspaces:',
      `  ${o.keyspace}:`,
      '    shards:',
      ...shards,
      '',
    ].join('\n'),
  );
  const gw = new Gateway(loadConfig(cfg));
  const { mysql } = await gw.start();
  return { port: mysql.port, stop: () => gw.stop() };
}
