/**
 * A real npm registry for one test: Verdaccio in this process, on a port the OS picks on
 * 127.0.0.1, with storage in a temporary folder and one htpasswd user created through the
 * registry's own adduser endpoint (what `npm adduser` calls). It serves only @shardgate/*, with
 * no uplink, so nothing can come from the public registry under that scope by accident.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runServer } from 'verdaccio';

export interface LocalRegistry {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  /** An npmrc line that authenticates as the test's user. */
  authLine: string;
  stop(): Promise<void>;
}

export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    `storage: ./storage
auth:
  htpasswd:
    file: ./htpasswd
    max_users: 1
uplinks: {}
packages:
  '@shardgate/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
web: { enable: false }
log: { type: stdout, format: pretty, level: error }
`,
  );
  const server = (await runServer(configFile)) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const user = 'release-test';
  const res = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: user, password: 'release-test-password' }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 201 || !body.token) {
    await stop();
    throw new Error(`creating the registry user failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return { url, authLine: `//127.0.0.1:${port}/:_authToken=${body.token}`, stop };
}
