/**
 * What the write differential found once it ran transactions, prepared DML and plain lookups,
 * through a 4-shard gateway and on one plain MariaDB holding the same rows:
 * - In a transaction, a failed INSERT across shards left the rows other shards had written, and
 *   a failed INSERT into an owner of a plain lookup left its lookup rows (MariaDB undoes the
 *   failed statement and keeps the transaction).
 * - In a transaction, a row inserted with a consistent lookup value was not found by that value
 *   (its lookup row is in the pre transaction, and the lookup was read elsewhere).
 * - INSERT IGNORE / ON DUPLICATE KEY UPDATE / REPLACE into an owner of a plain lookup left the
 *   lookup rows of the rows left out; a lookup_unique's orphan then failed a later INSERT with
 *   1062. Refused now (1235, 42000).
 * - In a transaction, deleting a row it had inserted into an owner of a consistent lookup (or
 *   moving its lookup value) waited for the transaction's own lock on the lookup row (created in
 *   the pre transaction, deleted in the post one): 1205 after innodb_lock_wait_timeout.
 * - A prepared statement's DOUBLE parameter (every JS number mysql2 sends) went to the shards as
 *   an exact decimal: `balance + ?` rounded otherwise and without MariaDB's truncation notes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SCHEMA = `create table customer (id bigint not null auto_increment primary key, name varchar(40) not null, email varchar(64) null, balance decimal(12,2) null, unique key (email)) default charset=utf8mb4 collate=utf8mb4_general_ci;
create table item (id bigint primary key, tag varchar(16) null, code varchar(16) null, unique key (code)) default charset=utf8mb4 collate=utf8mb4_general_ci;`;
const CODE_LKP = `create table code_lkp (code varchar(16) not null primary key, keyspace_id varbinary(16) not null) default charset=utf8mb4 collate=utf8mb4_general_ci;`;
const MAIN = `create table customer_seq (id int not null primary key, next_id bigint not null, cache bigint not null);
insert into customer_seq values (0, 1000, 10);
create table email_lkp (email varchar(64) not null primary key, keyspace_id varbinary(16) not null) default charset=utf8mb4 collate=utf8mb4_general_ci;
create table tag_lkp (tag varchar(16) not null, item_id bigint unsigned not null, primary key (tag, item_id)) default charset=utf8mb4 collate=utf8mb4_general_ci;`;
const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const VSCHEMA = {
  keyspaces: {
    main: { sharded: false, tables: { customer_seq: { type: 'sequence' }, email_lkp: {}, tag_lkp: {} } },
    ks: {
      sharded: true,
      vindexes: {
        hash: { type: 'hash' },
        loose: { type: 'unicode_loose_xxhash' },
        email_lkp: { type: 'consistent_lookup_unique', params: { table: 'main.email_lkp', from: 'email', to: 'keyspace_id' }, owner: 'customer' },
        tag_lkp: { type: 'lookup_hash', params: { table: 'main.tag_lkp', from: 'tag', to: 'item_id', ignore_nulls: 'true' }, owner: 'item' },
        code_lkp: { type: 'lookup_unique', params: { table: 'ks.code_lkp', from: 'code', to: 'keyspace_id', ignore_nulls: 'true' }, owner: 'item' },
      },
      tables: {
        customer: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'email', name: 'email_lkp' }], auto_increment: { column: 'id', sequence: 'main.customer_seq' } },
        item: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'tag', name: 'tag_lkp' }, { column: 'code', name: 'code_lkp' }] },
        code_lkp: { column_vindexes: [{ column: 'code', name: 'loose' }] },
      },
    },
  },
};

let pair: GatewayAndReference;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: VSCHEMA, keyspaces: { main: { shards: ['0'], schema: MAIN }, ks: { shards: SHARDS, schema: `${SCHEMA}\n${CODE_LKP}` } } }, 'ks', SCHEMA);
  // A lookup-table statement waiting for a row lock gives up after 3 s, not 50 (set before the
  // gateway's first connection to main/0, which holds email_lkp): a transaction that waits for
  // its own lock there fails its case fast with 1205.
  const lookupShard = await pair.gw.connectShard('main', '0');
  await lookupShard.query('set global innodb_lock_wait_timeout = 3');
  await lookupShard.end();
  // The reference's AUTO_INCREMENT hands out the sequence's ids.
  await pair.ref.query('alter table customer auto_increment = 1000');
  await pair.loadBoth([
    "insert into customer (id, name, email, balance) values (1, 'a', 'c1@example.com', 1.00), (2, 'a', 'c2@example.com', 2.00), (3, 'b', null, 0.10), (4, 'b', 'c4@example.com', null)",
    "insert into item (id, tag, code) values (1, 'red', 'k1'), (2, 'blue', 'k2'), (3, 'red', null), (4, null, 'k4')",
  ]);
}, 120_000);

afterAll(async () => {
  await pair?.stop();
});

type Answer = { affected: number; warnings: number } | { errno: number; sqlState?: string };

async function answer(conn: mysql.Connection, sql: string, params?: unknown[]): Promise<Answer> {
  try {
    const [r] = params === undefined ? await conn.query(sql) : await conn.execute(sql, params as never);
    const h = r as mysql.ResultSetHeader;
    return { affected: h.affectedRows, warnings: h.warningStatus };
  } catch (err) {
    return { errno: (err as { errno: number }).errno };
  }
}

const rows = async (conn: mysql.Connection, sql: string) => (await conn.query(sql))[0];

/** The same statement on both, in order: the answers must be equal. */
async function both(sql: string, params?: unknown[]): Promise<Answer> {
  const ref = await answer(pair.ref, sql, params);
  const sub = await answer(pair.sub, sql, params);
  expect(sub, sql).toEqual(ref);
  return sub;
}

async function sameRows(sql: string, refSql = sql): Promise<void> {
  expect(await rows(pair.sub, sql), sql).toEqual(await rows(pair.ref, refSql));
}

async function plainLookupsMatch(): Promise<void> {
  await sameRows('select item_id as id, tag from main.tag_lkp order by item_id, tag', 'select id, tag from item where tag is not null order by id');
  await sameRows('select code from code_lkp order by code', 'select code from item where code is not null order by code');
}

describe('a failed statement in a transaction is undone whole, the transaction kept', () => {
  it('an INSERT across shards that fails on one shard leaves no row on the others', async () => {
    await both('begin');
    await both("update customer set name = 'kept' where id = 2");
    expect(await both("insert into customer (id, name, email) values (57, 'd', null), (61, 'd', null), (70, 'd', null), (1, 'dup', null)")).toMatchObject({ errno: 1062 });
    // (Each case reads only its own rows, so that one failing does not fail the others.)
    await sameRows('select * from customer where id = 2 or id between 50 and 79 order by id');
    await both('commit');
    await sameRows('select * from customer where id = 2 or id between 50 and 79 order by id');
  });

  it('an INSERT into an owner of plain lookups that fails leaves no lookup row', async () => {
    await both('begin');
    expect(await both("insert into item (id, tag, code) values (9, 'green', 'K1')")).toMatchObject({ errno: 1062 });
    expect(await both("insert into item (id, tag, code) values (10, 'green', 'k10'), (11, 'blue', 'k2')")).toMatchObject({ errno: 1062 });
    await both('commit');
    await sameRows('select * from item where id between 9 and 12 order by id');
    await plainLookupsMatch();
    // The codes of the failed rows are free.
    await both("insert into item (id, tag, code) values (12, 'green', 'k10')");
    await sameRows('select * from item where id between 9 and 12 order by id');
  });
});

describe('a transaction reads its own writes through a consistent lookup', () => {
  it('finds a row it inserted by its lookup value, and not after ROLLBACK', async () => {
    await both('begin');
    await both("insert into customer (id, name, email) values (80, 'tx', 'tx80@example.com')");
    await sameRows("select * from customer where email = 'tx80@example.com'");
    // Ids from the sequence (main.customer_seq, on the lookup's shard): the first is fetched, the
    // second comes from the gateway's cache of them.
    await both("insert into customer (name, email) values ('tx', 'tx1000@example.com')");
    await sameRows("select * from customer where email = 'tx1000@example.com'");
    await both("insert into customer (name, email) values ('tx', 'tx1001@example.com')");
    await sameRows("select * from customer where email = 'tx1001@example.com'");
    await pair.sub.query("set workload = 'olap'");
    await sameRows("select * from customer where email = 'tx1000@example.com'");
    await pair.sub.query("set workload = 'oltp'");
    await both("update customer set email = 'tx2@example.com' where id = 2");
    await sameRows("select * from customer where email = 'tx2@example.com'");
    await sameRows("select * from customer where email = 'c2@example.com'");
    await both('rollback');
    await sameRows("select * from customer where email = 'tx80@example.com'");
    await sameRows("select * from customer where email = 'tx1000@example.com'");
    await sameRows("select * from customer where email = 'tx1001@example.com'");
    await sameRows("select * from customer where email = 'c2@example.com'");
    await sameRows('select * from customer where id = 2 or id between 80 and 89 or id >= 1000 order by id');
  });

  it('finds it through a prepared statement too (COM_STMT_PREPARE, then EXECUTE in the transaction)', async () => {
    const executed = async (conn: mysql.Connection, sql: string, params: unknown[]) => (await conn.execute(sql, params as never))[0];
    const sameExecuted = async (sql: string, params: unknown[]): Promise<void> => {
      expect(await executed(pair.sub, sql, params), `${sql} ${JSON.stringify(params)}`).toEqual(await executed(pair.ref, sql, params));
    };
    const emails = ['tx81@example.com', 'tx-prepared@example.com'];
    const found = async (): Promise<void> => {
      for (const email of emails) {
        // The lookup value as a parameter, and in the prepared text itself (known at PREPARE).
        await sameExecuted('select * from customer where email = ?', [email]);
        await sameExecuted(`select * from customer where email = '${email}' and id > ?`, [0]);
      }
      await sameExecuted('select * from customer where email in (?, ?) order by id', emails);
    };
    await both('begin');
    await both("insert into customer (id, name, email) values (81, 'tx', 'tx81@example.com')");
    // A prepared INSERT, its id from the sequence.
    await both('insert into customer (name, email) values (?, ?)', ['tx', 'tx-prepared@example.com']);
    await found();
    expect(await executed(pair.sub, 'select id from customer where email in (?, ?)', emails)).toHaveLength(2);
    await both('rollback');
    await found();
    expect(await executed(pair.sub, 'select id from customer where email in (?, ?)', emails)).toHaveLength(0);
  });
});

describe('a transaction deletes or moves the consistent lookup rows it created', () => {
  const emails = 'select email from customer where email like \'own%\' order by email';
  /** The lookup table holds the owner rows' emails, no more, no less. */
  async function lookupMatches(): Promise<void> {
    await sameRows("select email from main.email_lkp where email like 'own%' order by email", emails);
  }

  it.each(['commit', 'rollback'])('INSERT then DELETE, %s', async (end) => {
    await both('begin');
    await both("insert into customer (id, name, email) values (100, 'own', 'own100@example.com'), (101, 'own', 'own101@example.com')");
    expect(await both('delete from customer where id = 100')).toMatchObject({ affected: 1 });
    await both("insert into customer (name, email) values ('own', 'own-seq@example.com')");
    expect(await both("delete from customer where email in ('own101@example.com', 'own-seq@example.com')")).toMatchObject({ affected: 2 });
    await sameRows(emails);
    await both(end);
    await sameRows(emails);
    await lookupMatches();
    // The values are free again.
    await both("insert into customer (id, name, email) values (102, 'own', 'own100@example.com')");
    await both('delete from customer where id = 102');
    await lookupMatches();
  });

  it.each(['commit', 'rollback'])('INSERT then UPDATE its email (and back, and again), then DELETE another, %s', async (end) => {
    await both('begin');
    await both("insert into customer (id, name, email) values (103, 'own', 'own103@example.com'), (104, 'own', 'own104@example.com')");
    await both("update customer set email = 'own103b@example.com' where id = 103");
    await both("update customer set email = 'own103@example.com' where id = 103");
    await both("update customer set email = 'own103c@example.com' where id = 103");
    // Respelled in place (the same lookup row), then gone.
    await both("update customer set email = 'OWN104@example.com' where id = 104");
    await both('delete from customer where id = 104');
    await sameRows("select * from customer where email = 'own103c@example.com'");
    await both(end);
    await sameRows(emails);
    await lookupMatches();
    await both('delete from customer where id = 103');
    await lookupMatches();
  });

  it('a ROLLBACK TO SAVEPOINT brings back a row it deleted, and the lookup row with it', async () => {
    await both('begin');
    await both("insert into customer (id, name, email) values (105, 'own', 'own105@example.com')");
    await both('savepoint s');
    await both('delete from customer where id = 105');
    await both('rollback to savepoint s');
    await sameRows("select * from customer where email = 'own105@example.com'");
    await both("update customer set email = 'own105b@example.com' where id = 105");
    await both('commit');
    await sameRows(emails);
    await lookupMatches();
    await both('delete from customer where id = 105');
    await lookupMatches();
  });
});

describe('a transaction goes on after an INSERT met a consistent lookup value a live row holds', () => {
  const emails = "select email from customer where email like 'held%' order by email";
  /** The lookup table holds the owner rows' emails, no more, no less. */
  async function lookupMatches(): Promise<void> {
    await sameRows(emails);
    await sameRows("select email from main.email_lkp where email like 'held%' order by email", emails);
  }

  // The INSERT fails (1062 on both); the transaction then deletes or changes the row that holds
  // the value, and takes the value. Through the gateway the failed INSERT locked the value's
  // lookup row in the pre transaction, and the later statement deletes that row in the post
  // transaction: it waited for its own transaction (1205 after innodb_lock_wait_timeout).
  it.each([
    ['DELETE', 130, (id: number) => `delete from customer where id = ${id}`],
    ['UPDATE of its email', 132, (id: number) => `update customer set email = 'held${id}b@example.com' where id = ${id}`],
    ['UPDATE of its email, the INSERT spelling the value in other letter case', 134, (id: number) => `update customer set email = 'held${id}b@example.com' where id = ${id}`],
  ] as const)('%s of the holder, then the INSERT again', async (what, id, change) => {
    const value = `held${id}@example.com`;
    const spelled = what.includes('letter case') ? value.toUpperCase() : value;
    await both(`insert into customer (id, name, email) values (${id}, 'held', '${value}')`);
    await both('begin');
    expect(await both(`insert into customer (id, name, email) values (${id + 1}, 'held', '${spelled}')`)).toMatchObject({ errno: 1062 });
    expect(await both(change(id))).toMatchObject({ affected: 1 });
    expect(await both(`insert into customer (id, name, email) values (${id + 1}, 'held', '${spelled}')`)).toMatchObject({ affected: 1 });
    await both('commit');
    await lookupMatches();
  });

  it('after earlier writes of its own (their lookup rows held in pre), and with other rows deleted beside it', async () => {
    await both("insert into customer (id, name, email) values (136, 'held', 'held136@example.com'), (137, 'held', 'held137@example.com'), (138, 'held', 'held138@example.com')");
    await both('begin');
    await both("insert into customer (id, name, email) values (139, 'held', 'held139@example.com')");
    expect(await both("insert into customer (id, name, email) values (140, 'held', 'held136@example.com')")).toMatchObject({ errno: 1062 });
    expect(await both('delete from customer where id in (136, 137, 138)')).toMatchObject({ affected: 3 });
    expect(await both("insert into customer (id, name, email) values (140, 'held', 'held136@example.com'), (141, 'held', 'held137@example.com')")).toMatchObject({ affected: 2 });
    await sameRows("select * from customer where email in ('held136@example.com', 'held137@example.com', 'held138@example.com') order by id");
    await both('commit');
    await lookupMatches();
    // The value of 138, deleted beside them, is free: its lookup row went with it.
    await both("insert into customer (id, name, email) values (142, 'held', 'held138@example.com')");
    await lookupMatches();
  });

  it.each(['commit', 'rollback'])('a value moved away and back, then respelled and deleted, %s', async (end) => {
    const id = end === 'commit' ? 143 : 144;
    await both(`insert into customer (id, name, email) values (${id}, 'held', 'held${id}@example.com')`);
    await both('begin');
    await both(`update customer set email = 'held${id}b@example.com' where id = ${id}`);
    await both(`update customer set email = 'held${id}@example.com' where id = ${id}`);
    await sameRows(`select * from customer where email = 'held${id}@example.com'`);
    await both(`update customer set email = 'HELD${id}@example.com' where id = ${id}`);
    await both(`delete from customer where id = ${id}`);
    await both(`insert into customer (id, name, email) values (${id + 100}, 'held', 'held${id}@example.com')`);
    await sameRows(`select * from customer where email = 'held${id}@example.com'`);
    await both(end);
    await lookupMatches();
  });

  it('a DELETE undone by ROLLBACK TO SAVEPOINT: the value is held again (1062), and the transaction goes on', async () => {
    await both("insert into customer (id, name, email) values (150, 'held', 'held150@example.com')");
    await both('begin');
    await both('savepoint s');
    await both('delete from customer where id = 150');
    await both('rollback to savepoint s');
    expect(await both("insert into customer (id, name, email) values (151, 'held', 'held150@example.com')")).toMatchObject({ errno: 1062 });
    await both('delete from customer where id = 150');
    await both("insert into customer (id, name, email) values (151, 'held', 'held150@example.com')");
    await both('commit');
    await lookupMatches();
  });
});

describe('writes that may leave a plain lookup row behind are refused', () => {
  it.each([
    "insert ignore into item (id, tag, code) values (1, 'blue', 'k7')",
    "insert into item (id, tag, code) values (2, 'blue', 'k8') on duplicate key update tag = 'blue'",
    "replace into item (id, tag, code) values (3, 'blue', 'k9')",
  ])('%s', async (sql) => {
    const [got] = await Promise.allSettled([pair.sub.query(sql)]);
    expect(got.status).toBe('rejected');
    expect((got as PromiseRejectedResult).reason).toMatchObject({ errno: 1235, sqlState: '42000' });
    await sameRows('select * from item where id between 1 and 4 order by id');
  });
});

describe('a prepared DOUBLE parameter is a DOUBLE on the shards', () => {
  it.each([
    // 0.10 + 0.2 is 0.30000000000000004 as a DOUBLE: stored as 0.30 with a truncation note.
    ['update customer set balance = balance + ? where id = ?', [0.2, 3]],
    ['update customer set balance = ? + ? where id in (?, ?)', [0.1, 0.2, 1, 2]],
    ['update customer set balance = ? where id = ?', [1.005, 4]],
    ['insert into customer (id, name, balance) values (?, ?, ? * 3)', [90, 'p', 0.1]],
  ] as const)('%s %j', async (sql, params) => {
    await both(sql, [...params]);
    await sameRows('select id, balance from customer where id between 1 and 4 or id between 90 and 99 order by id');
  });
});
