/**
 * INSERTs whose vindex or auto-increment column value is an expression (`1 + 1`, `'7' + 0`,
 * `5 / 2`, `concat('n', 1)`, `cast(' 70' as signed)`), through a 2-shard gateway and on one plain MariaDB holding the same
 * tables: the gateway evaluates the value, routes on it and sends the shard the evaluated value.
 * Each statement's answer (or error) is compared with MariaDB's; then every row is read back by
 * id through the gateway (a point query routed by the id's hash finds the row only on the shard
 * that hash names) and directly from both shards (each row is on exactly one), and the tables
 * compared whole. What the gateway cannot compute as MariaDB would is refused with 1235.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

// `u.id` is an INT whose type the vschema declares (so a fraction rounds as MariaDB stores it);
// `t.id` is a BIGINT the vschema says nothing about.
const SCHEMA = `create table u (id int primary key auto_increment, name varchar(40), unique key (name)) auto_increment = 1000;
create table t (id bigint primary key, v varchar(40));`;
const MAIN = `create table u_seq (id int not null primary key, next_id bigint not null, cache bigint not null); insert into u_seq values (0, 1000, 10);
create table name_lkp (name varchar(40) primary key, keyspace_id varbinary(16) not null);`;
const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: { u_seq: { type: 'sequence' }, name_lkp: {} } },
    ks: {
      sharded: true,
      vindexes: { hash: { type: 'hash' }, name_lkp: { type: 'consistent_lookup_unique', params: { table: 'main.name_lkp', from: 'name', to: 'keyspace_id' }, owner: 'u' } },
      tables: {
        u: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'name', name: 'name_lkp' }], auto_increment: { column: 'id', sequence: 'main.u_seq' }, columns: [{ name: 'id', type: 'INT32' }] },
        t: { column_vindexes: [{ column: 'id', name: 'hash' }] },
      },
    },
  },
};

let pair: GatewayAndReference;
let shards: mysql.Connection[];

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: VSCHEMA, keyspaces: { main: { shards: ['0'], schema: MAIN }, ks: { shards: ['-80', '80-'], schema: SCHEMA } } }, 'ks', SCHEMA);
  shards = await Promise.all(['-80', '80-'].map((s) => pair.gw.connectShard('ks', s)));
});

afterAll(async () => {
  for (const s of shards ?? []) await s.end().catch(() => undefined);
  await pair?.stop();
});

type Outcome = { affected: number } | { errno: number };

async function outcome(conn: mysql.Connection, sql: string, params?: (string | number)[]): Promise<Outcome> {
  try {
    const [r] = params ? await conn.execute(sql, params) : await conn.query(sql);
    return { affected: (r as mysql.ResultSetHeader).affectedRows };
  } catch (err) {
    return { errno: (err as { errno: number }).errno };
  }
}

const SAME: [string, (string | number)[]?][] = [
  ["insert into t (id, v) values (1 + 1, 'int sum')"],
  ["insert into t (id, v) values ('7' + 0, 'string + 0 is a double')"],
  ["insert into t (id, v) values (-(3) * 4 + 20, 'unary minus')"],
  ["insert into t (id, v) values (20 / 2, 'whole quotient')"],
  ["insert into t (id, v) values (concat('1', '2'), 'concat on an integer column')"],
  ["insert into t (id, v) values (1.5e0 * 2, 'double')"],
  ["insert into t (id, v) values (2.5 * 2, 'decimal product')"],
  ["insert into t (id, v) values (if(1 < 2, 30, 31), 'if'), (coalesce(null, 32), 'coalesce'), (33, 'literal')"],
  ["insert into t (id, v) values (100, 'm1'), (100 + 1, 'm2'), ('102' + 0, 'm3')"],
  ["insert into t (id, v) values (cast(' 70' as signed), 'cast string'), (cast(71.5 as signed), 'cast decimal: 72'), (cast(74.5e0 as unsigned), 'cast double: 74'), (cast(73 as char), 'cast char')"],
  ['insert into t (id, v) values (? * 2, ?)', [60, 'prepared']],
  // A type's arguments in a row are not row values (they were, and the statement failed with 1064).
  ["insert into t (id, v) values (80, cast(5 as decimal(4, 1))), (81, convert('abc', char(3)))"],
  // A user variable in a row is its value before the statement, as MariaDB reads it.
  ["set @x = 90, @s = '95'"],
  ["insert into t (id, v) values (@x + 1, 'integer user variable'), (@s + 0, 'string user variable')"],
  ["insert into t (id, v) values (1 + 1, 'upsert') on duplicate key update v = values(v)"],
  ["replace into t (id, v) values (5 + 5, 'replaced')"],
  // Errors both sides give: a NULL primary vindex value; an INT out of range (the shard's 1264).
  ["insert into u (id, name) values (2147483647 + 1, 'too big')"],
  // u.id is an INT32 in the vschema: a DECIMAL rounds half away from zero, a DOUBLE half to even.
  ["insert into u (id, name) values (5 / 2, 'five halves')"],
  ["insert into u (id, name) values ('9' / '2', 'nine halves')"],
  // A DOUBLE user variable set from a query (its text has no exponent) is still a DOUBLE: half to even.
  ['set @h = 5 / 2 * 1e0, @p = pi()'],
  ["insert into u (id, name) values (@h + 0, 'double variable, half to even'), (@p * 20, 'pi times twenty')"],
  ["insert into u (id, name) values (40 + 1, concat('n', 41)), (42, lower('N42'))"],
  ["insert into u (id, name) values (truncate(43.9, 0), 'truncated decimal'), (truncate(-44.9e0, 0) + 90, 'truncated double'), (truncate(479, -1), 'truncated tens')"],
  ["insert into u (id, name) values (floor(-45.5) + 100, 'floor'), (ceil(46.1), 'ceil'), (ceiling(47.5e0), 'ceiling double')"],
  ["insert into u (id, name) values (50 % 7 + 100, 'mod'), (mod(-7.5, 2) + 110, 'mod decimal')"],
  ["insert into u (id, name) values (250 div 2, 'div'), (-25.9 div 2 + 140, 'div decimal')"],
  // A NULL auto-increment value takes the next id (the sequence here, AUTO_INCREMENT there: both 1000).
  ["insert into u (id, name) values (null + 1, 'generated')"],
];

describe('INSERT with expressions for vindex columns, as one MariaDB answers', () => {
  it.each(SAME)('%s', async (sql, params) => {
    expect(await outcome(pair.sub, sql, params)).toEqual(await outcome(pair.ref, sql, params));
  });

  it('refuses with 1235 what it cannot compute as MariaDB stores it, and stays up', async () => {
    const refused = [
      "insert into t (id, v) values (5 / 2, 'no column type: 3 or 2.5?')",
      "insert into t (id, v) values ('7abc' + 0, 'MariaDB: 1292 in strict mode')",
      "insert into t (id, v) values (9223372036854775807 + 1, 'MariaDB: 1690')",
      "insert into t (id, v) values (1 / 0, 'MariaDB: 1365 in strict mode')",
      "insert into t (id, v) values (now() + 0, 'not deterministic')",
      "insert into t (id, v) values (rand(), 'not deterministic')",
      "insert into t (id, v) values ((select 1), 'subquery')",
      "insert into u (id, name) values (50, concat('n', 1e0))",
      "insert into t (id, v) values (cast('2.5' as signed), 'MariaDB: 1292 in strict mode')",
      "insert into t (id, v) values (cast(5 / 2 as char), 'quotient digits')",
      "insert into t (id, v) values (cast(5 as decimal(4, 1)), 'DECIMAL(p, s) is not evaluated')",
    ];
    for (const sql of refused) expect(await outcome(pair.sub, sql), sql).toEqual({ errno: 1235 });
    expect(await outcome(pair.sub, "insert into t (id, v) values (id + 1, 'a column')")).toEqual({ errno: 1235 });
    expect(await outcome(pair.sub, "insert into t (id, v) values (null + 1, 'null')")).toHaveProperty('errno');
    expect(await outcome(pair.ref, "insert into t (id, v) values (null + 1, 'null')")).toEqual({ errno: 1048 });
  });

  it('stores every row once, on the shard its id hashes to, with the values MariaDB stores', async () => {
    for (const table of ['t', 'u']) {
      const [all] = await pair.sub.query(`select * from ${table} order by id`);
      const [expected] = await pair.ref.query(`select * from ${table} order by id`);
      expect(all, table).toEqual(expected);
      const onShards: unknown[] = [];
      for (const s of shards) onShards.push(...((await s.query(`select id from ${table}`))[0] as { id: string }[]).map((r) => String(r.id)));
      const ids = (all as { id: string }[]).map((r) => String(r.id));
      expect(onShards.sort(), table).toEqual([...ids].sort());
      for (const id of ids) {
        const [rows] = await pair.sub.query(`select id from ${table} where id = ${id}`);
        expect(rows, `${table}.id = ${id} through its vindex`).toEqual([{ id: table === 't' ? id : Number(id) }]);
      }
    }
    // The owned lookup rows hold what the shard stored.
    const [byName] = await pair.sub.query("select id, name from u where name in ('n41', 'n42', 'five halves') order by id");
    expect(byName).toEqual([{ id: 3, name: 'five halves' }, { id: 41, name: 'n41' }, { id: 42, name: 'n42' }]);
  });
});
