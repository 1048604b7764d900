/**
 * The floor for anything in Node in the gateway's place: a plain TCP relay from a listening port
 * to one MariaDB, one upstream connection per client, bytes copied both ways with no parsing.
 * relay-vs-gateway.ts runs it as a child process (its CPU is read from /proc like the gateway's).
 *
 *   node bench/tcp-relay.mjs <listen port> <target port>
 */
import net from 'node:net';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const server = net.createServer((client) => {
  const upstream = net.connect(targetPort, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
});
server.listen(listenPort, '127.0.0.1', () => console.log(`relay listening on ${listenPort}`));
process.on('SIGTERM', () => process.exit(0));
