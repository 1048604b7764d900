import { createServer } from 'node:net';

/**
 * Asks the kernel for a currently free TCP port on 127.0.0.1. Another process may grab it before
 * our server binds, so callers must treat "address in use" at startup as "pick another port".
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('kernel returned no port'))));
    });
  });
}
