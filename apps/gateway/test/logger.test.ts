import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskCredentials } from '../src/logger.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('gateway logger', () => {
  it('writes one JSON object per line', () => {
    const { lines, stream } = capture();
    createLogger({ pretty: false, destination: stream }).info({ port: 15306 }, 'shardgate started');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, name: 'shardgate', msg: 'shardgate started', port: 15306 });
  });

  it('never writes a password: fields are redacted, credentials in URLs and command lines masked', () => {
    const { lines, stream } = capture();
    const log = createLogger({ pretty: false, destination: stream });
    log.info({ users: [{ user: 'app', password: 'hunter2' }], shard: { url: 'mysql://root:hunter2@10.0.0.7:3306/ks', password: 'hunter2' } }, 'config');
    log.error({ err: new Error('connect to mariadb://ops:hunter2@db/x failed') }, 'shard mysql://a:hunter2@h/ks is down');
    log.warn('run mariadb -u app -phunter2 or --password=hunter2');
    const text = lines.join('\n');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('mysql://root:***@10.0.0.7:3306/ks');
    expect(text).toContain('mariadb://ops:***@db/x');
    expect(JSON.parse(lines[0]!).users[0]).toEqual({ user: 'app', password: '***' });
  });

  it('masks only credentials', () => {
    expect(maskCredentials('mysql://root@host:3306/db and mysql://u:p@h/d')).toBe('mysql://root@host:3306/db and mysql://u:***@h/d');
    expect(maskCredentials('select 1')).toBe('select 1');
    expect(maskCredentials('shard-pool x-pos is full')).toBe('shard-pool x-pos is full');
    expect(maskCredentials('mariadb -u app -psecret, password: "x y"')).toBe('mariadb -u app -p*** password: ***');
  });
});
