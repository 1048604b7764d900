import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ColumnType, columnDefinition, ErrorCode, mysqlError, textColumn } from '../src/index.js';
import { PASSWORD, startServer, USER, type TestServer } from './helpers.js';

const run = promisify(execFile);
const MARIADB = '/usr/bin/mariadb';

/** Runs the mariadb CLI against the test server; resolves with stdout, or with the failure's stderr and exit code. */
async function mariadb(port: number, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(MARIADB, ['--no-defaults', '-h', '127.0.0.1', '-P', String(port), '--protocol=TCP', ...args], { timeout: 20_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
  }
}

describe.skipIf(!existsSync(MARIADB))('mariadb CLI', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(() => ({
      query: async (sql, out) => {
        if (sql === 'select 1') {
          out.columns([columnDefinition('1', ColumnType.LONGLONG)]);
          out.row(['1']);
          out.end();
        } else if (sql === 'select @@version_comment limit 1') {
          out.columns([textColumn('@@version_comment')]);
          out.row(['shardgate']);
          out.end();
        } else if (sql === 'select name, note from t') {
          out.columns([textColumn('name'), textColumn('note')]);
          out.row(['alice', null]);
          out.row(['bob', 'tab\there']);
          out.end();
        } else if (sql === 'select * from missing') {
          throw mysqlError(ErrorCode.ER_NO_SUCH_TABLE, "Table 'shop.missing' doesn't exist");
        } else {
          out.ok();
        }
      },
    }));
  });
  afterAll(() => t.close());

  it('runs select 1', async () => {
    const r = await mariadb(t.port, ['-u', USER, `-p${PASSWORD}`, '-e', 'select 1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1\n1\n');
  });

  it('prints rows with NULLs and escapes in --batch mode, several statements in one -e', async () => {
    const r = await mariadb(t.port, ['-u', USER, `-p${PASSWORD}`, '--batch', '-e', 'select name, note from t; select 1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('name\tnote\nalice\tNULL\nbob\ttab\\there\n1\n1\n');
  });

  it('shows server errors with errno and SQLSTATE', async () => {
    const r = await mariadb(t.port, ['-u', USER, `-p${PASSWORD}`, '--batch', '-e', 'select * from missing']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("ERROR 1146 (42S02)");
    expect(r.stderr).toContain("Table 'shop.missing' doesn't exist");
  });

  it('is refused with a wrong password', async () => {
    const r = await mariadb(t.port, ['-u', USER, '-pnope', '-e', 'select 1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1' (using password: YES)");
  });

  it('connects with a database argument', async () => {
    const r = await mariadb(t.port, ['-u', USER, `-p${PASSWORD}`, '--batch', '-N', '-e', 'select 1', 'shop']);
    expect(r.stdout).toBe('1\n');
    expect(t.sessions.at(-1)!.info.database).toBe('shop');
  });
});
