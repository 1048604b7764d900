/**
 * A gateway started from a config written into a temporary folder, as a user's deployment would
 * have it: the vschema and schema files beside shardgate.yaml, local MariaDB shards behind it.
 * Integration tests start one per file and stop it in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config.js';
import { Gateway } from '../../src/gateway.js';

export interface TempGatewayOptions {
  /** Prefix of the temporary folder's name, to tell test files apart in /tmp. */
  prefix: string;
  /** Files written into the folder before the config is parsed (name → content). */
  files: Record<string, string>;
  /** The config as shardgate.yaml would hold it; relative paths resolve against the folder. */
  config: Record<string, unknown>;
  /** Write a self-signed certificate for 127.0.0.1 as gw.pem / gw.key (for `tls` in the config). */
  selfSignedCert?: boolean;
}

export interface TempGateway {
  gateway: Gateway;
  dir: string;
  /** The gateway's MySQL port. */
  port: number;
  /** The gateway's HTTP port, when the config listens on one. */
  httpPort: number | undefined;
  /** The self-signed certificate (PEM), usable as the client's CA. */
  ca: string | undefined;
  /** Stops the gateway and removes the folder. */
  stop(): Promise<void>;
}

export async function startTempGateway(options: TempGatewayOptions): Promise<TempGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), options.prefix));
  try {
    const ca = options.selfSignedCert === true ? writeSelfSignedCert(dir) : undefined;
    for (const [name, content] of Object.entries(options.files)) writeFileSync(path.join(dir, name), content);
    const gateway = new Gateway(parseConfig(options.config, path.join(dir, 'shardgate.yaml')));
    const addr = await gateway.start();
    return {
      gateway,
      dir,
      port: addr.mysql.port,
      httpPort: addr.http?.port,
      ca,
      async stop() {
        try {
          await gateway.stop();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Writes gw.pem and gw.key (valid one day for 127.0.0.1 and localhost); returns the PEM. */
function writeSelfSignedCert(dir: string): string {
  // openssl is installed by scripts/setup.sh --test-tools.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', path.join(dir, 'gw.key'), '-out', path.join(dir, 'gw.pem'),
  ], { stdio: 'ignore' });
  return readFileSync(path.join(dir, 'gw.pem'), 'utf8');
}
