/**
 * Real clients against a gateway, used the way their users use them: mysql2 (connections, a
 * 16-connection pool, text `query` and server-side prepared `execute`), the `mariadb` CLI, and
 * sysbench. The gateway owns an unsharded keyspace `main` and a 2-shard keyspace `commerce`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type mysql from 'mysql2/promise';
import { createConnection, createPool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVSchema, ShardMap, type FunctionalVindex } from '@shardgate/vschema';
import { hashKeyspace, PASSWORD, startGateway, USER, type RunningGateway } from './support/gateway-harness.js';

const run = promisify(execFile);

const SHARDS = ['-80', '80-'];
const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: {} },
    commerce: hashKeyspace({ items: 'id', docs: 'id' }),
  },
};
const ITEMS_DDL = `CREATE TABLE items (
  id BIGINT NOT NULL PRIMARY KEY,
  name VARCHAR(64) NULL,
  price DECIMAL(30,6) NULL,
  born DATE NULL,
  seen_at DATETIME(3) NULL,
  data VARBINARY(64) NULL,
  note TEXT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE docs (id BIGINT NOT NULL PRIMARY KEY, doc JSON NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const hash = loadVSchema(VSCHEMA).keyspace('commerce')!.vindexes.get('hash') as FunctionalVindex;
const shardMap = new ShardMap(SHARDS);
const shardOf = (id: string): string => shardMap.shardFor(hash.map(BigInt(id))!);

let gw: RunningGateway;
let conn: mysql.Connection;

beforeAll(async () => {
  gw = await startGateway({
    vschema: VSCHEMA,
    keyspaces: { main: { shards: ['0'] }, commerce: { shards: SHARDS, schema: ITEMS_DDL } },
    // A small OLTP row limit, so the test can see that `set workload = 'olap'` takes effect.
    config: { poolSize: 16, maxMemoryRows: 500 },
  });
  conn = await gw.connect({ database: 'commerce' });
});

afterAll(async () => {
  await conn?.end().catch(() => undefined);
  await gw?.stop();
});

/** The row a client should get back for each inserted id (mysql2 with bigNumberStrings + dateStrings). */
const SPECIAL_ROWS = [
  { id: '9223372036854775807', name: 'max 😀 émoji', price: '12345678901234567890.123456', born: '2024-02-29', seen_at: '2024-02-29 23:59:59.999', data: Buffer.from([0, 1, 2, 255, 0x5c, 0x27]), note: null },
  { id: '1', name: null, price: '-0.000001', born: '1000-01-01', seen_at: '1970-01-01 00:00:01.000', data: Buffer.alloc(0), note: 'Ålice\n\ttab' },
  { id: '9007199254740993', name: "O'Brien \\ back", price: null, born: null, seen_at: null, data: null, note: '中文🀄' },
];

async function readRow(c: mysql.Connection, id: string, prepared: boolean): Promise<mysql.RowDataPacket[]> {
  const sql = 'select id, name, price, born, seen_at, data, note from items where id = ?';
  const [rows] = prepared ? await c.execute<mysql.RowDataPacket[]>(sql, [id]) : await c.query<mysql.RowDataPacket[]>(sql, [id]);
  return rows;
}

/** The same read on the owning shard's MariaDB directly, with the same client options. */
async function readRowOnShard(id: string, prepared: boolean): Promise<mysql.RowDataPacket[]> {
  const o = gw.gateway.topology.commerce[shardOf(id)];
  const direct = await createConnection({ ...gw.clientOptions(), host: o.host, port: o.port, user: o.user, password: o.password, database: o.database });
  try {
    return await readRow(direct, id, prepared);
  } finally {
    await direct.end();
  }
}

describe('JSON columns', () => {
  it('reach mysql2 as parsed values, as from one MariaDB, in query() and execute(), point and scatter', async () => {
    const docs: [string, unknown][] = [
      ['1', { k: [1, 2, 'three 😀'], nested: { ok: true, none: null } }],
      ['2', [1.5, 'x', { a: 'b' }]],
      ['3', 'just a string'],
    ];
    for (const [id, doc] of docs) await conn.query('insert into docs (id, doc) values (?, ?)', [id, JSON.stringify(doc)]);
    await conn.query('insert into docs (id, doc) values (4, NULL)');
    for (const prepared of [false, true]) {
      for (const [id, doc] of docs) {
        const sql = 'select doc, json_object(\'id\', id) as o from docs where id = ?';
        const [rows] = prepared ? await conn.execute<mysql.RowDataPacket[]>(sql, [id]) : await conn.query<mysql.RowDataPacket[]>(sql, [id]);
        const o = gw.gateway.topology.commerce[shardOf(id)];
        const direct = await createConnection({ ...gw.clientOptions(), host: o.host, port: o.port, user: o.user, password: o.password, database: o.database });
        try {
          const [want] = prepared ? await direct.execute<mysql.RowDataPacket[]>(sql, [id]) : await direct.query<mysql.RowDataPacket[]>(sql, [id]);
          expect(rows, `${id} prepared=${prepared}`).toEqual(want);
          expect(rows[0]!.doc).toEqual(doc);
        } finally {
          await direct.end();
        }
      }
    }
    const [all] = await conn.query<mysql.RowDataPacket[]>('select id, doc from docs order by id');
    expect(all.map((r) => r.doc)).toEqual([...docs.map(([, d]) => d), null]);
  });
});

describe('mysql2 createConnection', () => {
  it('inserts with query() placeholders (NULL, max BIGINT, decimals, dates, Buffers, emoji) and reads them back exactly', async () => {
    for (const r of SPECIAL_ROWS) {
      const [res] = await conn.query<mysql.ResultSetHeader>('insert into items (id, name, price, born, seen_at, data, note) values (?, ?, ?, ?, ?, ?, ?)', [
        r.id, r.name, r.price, r.born, r.seen_at, r.data, r.note,
      ]);
      expect(res.affectedRows).toBe(1);
    }
    for (const r of SPECIAL_ROWS) expect(await readRow(conn, r.id, false)).toEqual([r]);
  });

  it('places each row on the shard its hash picks (checked directly on the shards)', async () => {
    for (const shard of SHARDS) {
      const direct = await gw.connectShard('commerce', shard);
      try {
        const [rows] = await direct.query<mysql.RowDataPacket[]>('select cast(id as char) id from items order by id');
        const expected = SPECIAL_ROWS.map((r) => r.id).filter((id) => shardOf(id) === shard).sort();
        expect(rows.map((r) => r.id).sort()).toEqual(expected);
      } finally {
        await direct.end();
      }
    }
  });

  it('reads the same rows with execute() (binary protocol) as MariaDB itself returns them', async () => {
    for (const r of SPECIAL_ROWS) {
      const rows = await readRow(conn, r.id, true);
      expect(rows).toEqual(await readRowOnShard(r.id, true));
      // mysql2 prints a binary DATETIME(3) whose fraction is zero without '.000', as MariaDB sends it.
      expect(rows).toEqual([{ ...r, seen_at: r.seen_at?.replace(/\.000$/, '') ?? null }]);
    }
  });

  it('inserts with execute() parameters of every type, including NULL and a JS bigint', async () => {
    const [res] = await conn.execute<mysql.ResultSetHeader>('insert into items (id, name, price, born, seen_at, data, note) values (?, ?, ?, ?, ?, ?, ?)', [
      '9223372036854775806', 'prepared 🚀', '99999999999999999999.999999', '2000-01-01', '2000-01-01 12:34:56.789', Buffer.from('bytes\0here'), null,
    ]);
    expect(res.affectedRows).toBe(1);
    const [res2] = await conn.execute<mysql.ResultSetHeader>('insert into items (id, name, price) values (?, ?, ?)', [4242n, 'js bigint', 1.5]);
    expect(res2.affectedRows).toBe(1);
    expect(await readRow(conn, '9223372036854775806', true)).toEqual([
      { id: '9223372036854775806', name: 'prepared 🚀', price: '99999999999999999999.999999', born: '2000-01-01', seen_at: '2000-01-01 12:34:56.789', data: Buffer.from('bytes\0here'), note: null },
    ]);
    const [rows] = await conn.execute<mysql.RowDataPacket[]>('select id, name, price from items where id = ?', [4242n]);
    expect(rows).toEqual([{ id: '4242', name: 'js bigint', price: '1.500000' }]);
  });

  it('runs prepared IN, NULL-safe and scatter statements', async () => {
    const [inRows] = await conn.execute<mysql.RowDataPacket[]>('select id from items where id in (?, ?, ?) order by id', ['1', '4242', '9223372036854775807']);
    expect(inRows.map((r) => r.id)).toEqual(['1', '4242', '9223372036854775807']);
    const [nulls] = await conn.execute<mysql.RowDataPacket[]>('select id from items where name is null and id > ?', [0]);
    expect(nulls.map((r) => r.id)).toEqual(['1']);
    const [count] = await conn.execute<mysql.RowDataPacket[]>('select count(*) as n from items where price > ?', ['0']);
    expect(String(count[0].n)).toBe('3');
  });

  it('updates and deletes through execute() with parameters', async () => {
    const [upd] = await conn.execute<mysql.ResultSetHeader>('update items set note = ? where id = ?', ['touched ✓', '9223372036854775806']);
    expect(upd.affectedRows).toBe(1);
    const [del] = await conn.execute<mysql.ResultSetHeader>('delete from items where id = ?', [4242n]);
    expect(del.affectedRows).toBe(1);
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select id, note from items where id in (4242, 9223372036854775806)');
    expect(rows).toEqual([{ id: '9223372036854775806', note: 'touched ✓' }]);
  });

  it('reports a duplicate key as 1062 / 23000 and a syntax error as 1064, then keeps working', async () => {
    const dup = await conn.execute('insert into items (id) values (?)', ['1']).then(
      () => null,
      (e: { errno: number; sqlState: string }) => e,
    );
    expect(dup?.errno).toBe(1062);
    expect(dup?.sqlState).toBe('23000');
    const bad = await conn.query('select from where').then(
      () => null,
      (e: { errno: number }) => e,
    );
    expect(bad?.errno).toBe(1064);
    expect(await readRow(conn, '1', false)).toEqual([SPECIAL_ROWS[1]]);
  });

  it('commits and rolls back a single-shard transaction', async () => {
    await conn.beginTransaction();
    await conn.execute('insert into items (id, name) values (?, ?)', ['777', 'kept']);
    await conn.commit();
    await conn.beginTransaction();
    await conn.execute('insert into items (id, name) values (?, ?)', ['778', 'discarded']);
    await conn.rollback();
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select id, name from items where id in (777, 778)');
    expect(rows).toEqual([{ id: '777', name: 'kept' }]);
  });
});

describe('mysql2 createPool with 16 connections', () => {
  it('runs 400 concurrent prepared and text statements, each seeing its own rows', async () => {
    const pool = createPool({ ...gw.clientOptions({ database: 'commerce' }), connectionLimit: 16 });
    try {
      const ids = Array.from({ length: 200 }, (_, i) => String(100_000 + i * 7919));
      await Promise.all(ids.map((id) => pool.execute('insert into items (id, name, price) values (?, ?, ?)', [id, `pool ${id} 🐝`, `${id}.5`])));
      const results = await Promise.all(
        ids.map(async (id, i) => {
          const [rows] =
            i % 2 === 0
              ? await pool.execute<mysql.RowDataPacket[]>('select id, name, price from items where id = ?', [id])
              : await pool.query<mysql.RowDataPacket[]>('select id, name, price from items where id = ?', [id]);
          return rows;
        }),
      );
      results.forEach((rows, i) => expect(rows).toEqual([{ id: ids[i], name: `pool ${ids[i]} 🐝`, price: `${ids[i]}.500000` }]));
      const [count] = await pool.query<mysql.RowDataPacket[]>("select count(*) as n from items where name like 'pool %'");
      expect(String(count[0].n)).toBe('200');
    } finally {
      await pool.end();
    }
  });

  it('keeps concurrent transactions on pooled connections apart', async () => {
    const pool = createPool({ ...gw.clientOptions({ database: 'commerce' }), connectionLimit: 16 });
    try {
      await Promise.all(
        Array.from({ length: 32 }, async (_, i) => {
          const c = await pool.getConnection();
          try {
            const id = String(200_000 + i);
            await c.beginTransaction();
            await c.execute('insert into items (id, name) values (?, ?)', [id, `tx ${i}`]);
            if (i % 2 === 0) await c.commit();
            else await c.rollback();
          } finally {
            c.release();
          }
        }),
      );
      const [rows] = await pool.query<mysql.RowDataPacket[]>("select id from items where name like 'tx %'");
      expect(rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, k) => 200_000 + 2 * k));
    } finally {
      await pool.end();
    }
  });
});

describe('mariadb CLI', () => {
  const cli = (args: string[]) => run('mariadb', ['-h', '127.0.0.1', '-P', String(gw.port), `-u${USER}`, `-p${PASSWORD}`, ...args]);

  it('runs several statements with -e in --batch mode: show databases, use, show tables', async () => {
    const { stdout } = await cli(['--batch', '-e', 'show databases; use commerce; show tables; select count(*) from items where id = 1']);
    const lines = stdout.trim().split('\n');
    // Each result prints its header then its rows.
    expect(lines[0]).toBe('Database');
    expect(lines.slice(1, 3).sort()).toEqual(['commerce', 'main']);
    expect(lines.slice(3)).toEqual(['Tables_in_commerce', 'docs', 'items', 'count(*)', '1']);
  });

  it('answers select database() after use, and on a connection opened with a database', async () => {
    const { stdout } = await cli(['--batch', '--skip-column-names', '-e', 'use main; select database(); use commerce; select database()']);
    expect(stdout).toBe('main\ncommerce\n');
  });

  it('prints a --table result with borders', async () => {
    const { stdout } = await cli(['--table', 'commerce', '-e', 'select id, name from items where id = 777']);
    expect(stdout).toBe(['+-----+------+', '| id  | name |', '+-----+------+', '| 777 | kept |', '+-----+------+', ''].join('\n'));
  });

  it('round-trips max BIGINT, decimals and utf8mb4 text in --batch output', async () => {
    const { stdout } = await cli(['--batch', '--skip-column-names', '--default-character-set=utf8mb4', 'commerce', '-e', 'select id, name, price from items where id = 9223372036854775807']);
    expect(stdout).toBe('9223372036854775807\tmax 😀 émoji\t12345678901234567890.123456\n');
  });

  it('works interactively-style from stdin (the way scripts pipe SQL in)', async () => {
    const child = execFile('mariadb', ['-h', '127.0.0.1', '-P', String(gw.port), `-u${USER}`, `-p${PASSWORD}`, '--batch', '--skip-column-names']);
    const out = new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`mariadb exited ${code}`))));
    });
    child.stdin!.end('use commerce;\nselect count(*) from items where id in (1, 777);\nselect name from items where id = 777;\n');
    expect(await out).toBe('2\nkept\n');
  });

  it('reports errors with their code and the server keeps serving', async () => {
    const bad = await cli(['commerce', '-e', 'select * from no_such_table']).then(
      () => null,
      (e: { stderr: string }) => e,
    );
    expect(bad?.stderr).toMatch(/ERROR 1146/);
  });
});

describe('sysbench', () => {
  const sysbench = (args: string[]) =>
    run(
      'sysbench',
      ['oltp_point_select', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${gw.port}`, `--mysql-user=${USER}`, `--mysql-password=${PASSWORD}`, '--mysql-db=main', '--tables=1', '--table-size=1000', ...args],
      { maxBuffer: 16 << 20 },
    );

  it('prepares oltp_point_select through the gateway on an unsharded keyspace', async () => {
    const { stdout } = await sysbench(['prepare']);
    expect(stdout).toMatch(/Inserting 1000 records into 'sbtest1'/);
    const [rows] = await conn.query<mysql.RowDataPacket[]>('select count(*) as n, min(id) as lo, max(id) as hi from main.sbtest1');
    expect(rows.map((r) => [String(r.n), String(r.lo), String(r.hi)])).toEqual([['1000', '1', '1000']]);
  });

  it("refuses an OLTP result over maxMemoryRows and streams it after set workload = 'olap'", async () => {
    const c = await gw.connect({ database: 'main' });
    try {
      const err = await c.query('select id from sbtest1').then(
        () => null,
        (e: { errno: number; sqlState: string; message: string }) => e,
      );
      expect(err?.errno).toBe(1041);
      expect(err?.message).toMatch(/500/);
      await c.query("set workload = 'olap'");
      const [rows] = await c.query<mysql.RowDataPacket[]>('select id from sbtest1');
      expect(rows.length).toBe(1000);
    } finally {
      await c.end();
    }
  });

  for (const psMode of ['auto', 'disable']) {
    it(`runs oltp_point_select for 5 s with --db-ps-mode=${psMode} and 0 errors`, async () => {
      const { stdout } = await sysbench(['--threads=4', '--time=5', `--db-ps-mode=${psMode}`, 'run']);
      const queries = Number(/queries:\s+(\d+)/.exec(stdout)?.[1]);
      const errors = Number(/ignored errors:\s+(\d+)/.exec(stdout)?.[1]);
      const reconnects = Number(/reconnects:\s+(\d+)/.exec(stdout)?.[1]);
      expect(queries).toBeGreaterThan(0);
      expect({ errors, reconnects }).toEqual({ errors: 0, reconnects: 0 });
    });
  }
});

describe('session values answered by the gateway', () => {
  const cli = (args: string[]) => run('mariadb', ['-h', '127.0.0.1', '-P', String(gw.port), `-u${USER}`, `-p${PASSWORD}`, ...args]);

  it('mariadb --batch -e "show databases" lists keyspaces sorted', async () => {
    const { stdout } = await cli(['--batch', '-e', 'show databases']);
    expect(stdout).toBe('Database\ncommerce\nmain\n');
  });

  it('select database() and last_insert_id() keep their column names', async () => {
    const { stdout } = await cli(['--batch', 'commerce', '-e', 'select database(); select last_insert_id()']);
    expect(stdout).toBe('database()\ncommerce\nlast_insert_id()\n0\n');
  });

  it('select @@version_comment and @@workload are answered by the gateway', async () => {
    const { stdout } = await cli(['--batch', '--skip-column-names', 'commerce', '-e', "select @@version_comment; set workload = 'olap'; select @@workload"]);
    expect(stdout).toBe('shardgate\nOLAP\n');
  });
});
