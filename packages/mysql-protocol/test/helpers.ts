import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { createMysqlServer, textColumn, type ConnectionInfo, type MysqlServer, type MysqlServerOptions, type ResultSink, type SessionHandler } from '../src/index.js';

export const USER = 'app';
export const PASSWORD = 's3cret';

/** What a test can observe about each session the server created. */
export interface SessionRecord {
  info: ConnectionInfo;
  closeCalls: number;
  queries: string[];
  signal?: AbortSignal;
}

export interface TestServer {
  server: MysqlServer;
  port: number;
  errors: Error[];
  sessions: SessionRecord[];
  connect(opts?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  close(): Promise<void>;
}

/** Default query behaviour: a few canned statements, everything else is OK with the SQL echoed as info. */
export async function defaultQuery(sql: string, out: ResultSink): Promise<void> {
  if (sql === 'select 1') {
    out.columns([textColumn('1')]);
    out.row(['1']);
    out.end();
    return;
  }
  out.ok({ info: sql });
}

export async function startServer(
  session: (record: SessionRecord) => Partial<SessionHandler> = () => ({}),
  options: Partial<MysqlServerOptions> = {},
): Promise<TestServer> {
  const errors: Error[] = [];
  const sessions: SessionRecord[] = [];
  const server = createMysqlServer({
    lookupUser: (user) => (user === USER ? { password: PASSWORD } : user === 'nopw' ? { password: '' } : null),
    onError: (err) => errors.push(err),
    ...options,
    createSession: (info) => {
      const record: SessionRecord = { info, closeCalls: 0, queries: [] };
      sessions.push(record);
      const custom = session(record);
      return {
        query: (sql, out) => {
          record.queries.push(sql);
          record.signal = out.signal;
          return (custom.query ?? defaultQuery)(sql, out);
        },
        initDb: custom.initDb ?? (async () => {}),
        prepare: custom.prepare,
        execute: custom.execute,
        status: custom.status,
        resetConnection: custom.resetConnection,
        idleTimeoutSeconds: custom.idleTimeoutSeconds,
        close: () => {
          record.closeCalls++;
          return custom.close?.();
        },
      };
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    server,
    port,
    errors,
    sessions,
    connect: (opts = {}) => mysql.createConnection({ host: '127.0.0.1', port, user: USER, password: PASSWORD, ...opts }),
    close: () => server.close(),
  };
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A self-signed certificate for 127.0.0.1, made by the openssl CLI (installed by scripts/setup.sh). */
export function makeCertificate(dir: string): { cert: string; key: string } {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

