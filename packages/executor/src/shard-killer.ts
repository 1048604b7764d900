/**
 * KILL QUERY for one shard, from a connection outside its pool (the pool may be exhausted, and
 * the statement to kill holds one of its connections). mysql2 serves this administrative path.
 */
import mysql from 'mysql2';
import type { Connection } from 'mysql2';
import type { ShardConnectionOptions } from './types.js';

/**
 * Concurrency rule: `admin` is replaced synchronously; concurrent kill() calls share the one
 * connection (mysql2 queues their commands), and a failed connection is forgotten so the next
 * kill() opens a fresh one.
 */
export class ShardKiller {
  private admin: Promise<Connection> | null = null;
  private closed = false;

  constructor(private readonly options: ShardConnectionOptions) {}

  async kill(threadId: number): Promise<void> {
    if (this.closed) return;
    if (!this.admin) {
      const p = new Promise<Connection>((resolve, reject) => {
        const c = mysql.createConnection({
          host: this.options.host,
          port: this.options.port,
          user: this.options.user,
          password: this.options.password,
          connectTimeout: 10_000,
        });
        c.on('error', () => {
          if (this.admin === p) this.admin = null;
        });
        c.connect((err) => (err ? reject(err) : resolve(c)));
      });
      this.admin = p;
      p.catch(() => {
        if (this.admin === p) this.admin = null;
      });
    }
    const admin = await this.admin;
    await new Promise<void>((resolve) => admin.query(`KILL QUERY ${threadId}`, () => resolve()));
  }

  close(): void {
    this.closed = true;
    const admin = this.admin;
    this.admin = null;
    if (admin) {
      // The KILL connection may still be connecting to an unreachable shard: shutdown must not
      // wait out its connect timeout, so it is destroyed whenever it settles.
      void admin.then(
        (c) => c.destroy(),
        () => {},
      );
    }
  }
}
