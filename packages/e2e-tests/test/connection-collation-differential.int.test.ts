/**
 * The client's connection collation (from its handshake, SET NAMES … COLLATE or SET
 * collation_connection) decides how literals and CAST/CONCAT results compare, as on one MariaDB:
 * each kind of client runs the same statements through a 4-shard gateway and on one plain MariaDB
 * holding the same rows, and the answers must be equal. The ORDER BY, GROUP BY and DISTINCT cases
 * scatter, so the gateway merges or deduplicates what the shards computed in that collation.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKeyspace } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const SCHEMA = 'create table word (id bigint primary key, n int, s varchar(20) collate utf8mb4_general_ci)';
// Punctuation sorts after letters in utf8mb4_general_ci and before them in the UCA collations;
// ß is s in general_ci, ss in the unicode ones, itself in utf8mb4_bin.
const WORDS = ['a', '_b', 'B', '-c', 'ß', 'ss', 's', 'Ä', 'a_b', '.x', 'A', '_', 'z', 'SS', 'ä', '#1'];
/** A string in the connection's collation (literals are), one per row: what a scatter merges. */
const LITERAL_WORD = `elt(id, ${WORDS.map((w) => `'${w}'`).join(', ')})`;
const INSERTS = [`insert into word (id, n, s) values ${WORDS.map((w, i) => `(${i + 1}, ${(i * 7) % 5}, '${w}')`).join(', ')}`];

/** How a client sets its collation: connection options, then statements run once connected. */
interface ClientKind {
  readonly name: string;
  readonly options: mysql.ConnectionOptions;
  readonly setup: readonly string[];
}
const CLIENTS: readonly ClientKind[] = [
  { name: 'mysql2 default (utf8mb4_unicode_ci)', options: {}, setup: [] },
  { name: "charset 'UTF8MB4_GENERAL_CI'", options: { charset: 'UTF8MB4_GENERAL_CI' }, setup: [] },
  { name: 'SET NAMES utf8mb4 COLLATE utf8mb4_bin', options: {}, setup: ['set names utf8mb4 collate utf8mb4_bin'] },
  { name: 'SET NAMES utf8mb4 COLLATE utf8mb4_unicode_520_ci', options: {}, setup: ['set names utf8mb4 collate utf8mb4_unicode_520_ci'] },
  { name: 'SET collation_connection = utf8mb4_bin', options: { charset: 'UTF8MB4_GENERAL_CI' }, setup: ['set collation_connection = utf8mb4_bin'] },
  { name: 'SET character_set_connection after a COLLATE', options: {}, setup: ['set names utf8mb4 collate utf8mb4_bin', 'set character_set_connection = utf8mb4'] },
];

/** Statements whose whole answer (rows in order) must be MariaDB's. */
const STATEMENTS = [
  "select 'ß' = 'ss' as eszett, 'a' = 'A' as letter_case, 'a' < '_' as punctuation, 'ä' = 'a' as accent",
  'select @@collation_connection as c, @@session.collation_connection as s, @@character_set_connection as cs',
  "select collation('x') as c, collation(cast(1 as char)) as k",
  "show variables like 'collation%'",
  "show session variables like 'character_set_connection'",
  // Scatters: the gateway merges, groups or deduplicates the shards' answers.
  `select id, ${LITERAL_WORD} as c from word order by c, id`,
  `select id, ${LITERAL_WORD} as c from word order by c desc, id desc limit 7`,
  "select id, concat(n, '_', n) as c from word order by c, id",
  `select min(id) as m, count(*) as k from word group by ${LITERAL_WORD} order by m`,
  `select count(*) as k from (select distinct ${LITERAL_WORD} as c from word) d`,
  `select count(distinct ${LITERAL_WORD}) as k from word`,
  "select id from word where cast(s as char) = 'ss' order by id",
  "select id from word where cast(s as char) < '_' order by id",
  "select hex(weight_string('aB_')) as w",
];

/** Rows, an error, or OK (whose session-tracking details are the server's own business). */
/**
 * Statements the gateway may refuse (1235) where it cannot compare as the collation does, but must
 * never answer differently from MariaDB.
 */
const ANSWERED_OR_REFUSED = [
  `select max(${LITERAL_WORD}) as x, min(${LITERAL_WORD}) as y from word`,
  `select n, max(${LITERAL_WORD}) as x from word group by n order by n`,
  `select group_concat(${LITERAL_WORD} order by ${LITERAL_WORD}, id) as g from word`,
  `select n, group_concat(id order by ${LITERAL_WORD}, id) as g from word group by n order by n`,
  `select count(*) as k from (select ${LITERAL_WORD} as c from word union select 'SS') u`,
  `select n, count(distinct ${LITERAL_WORD}) as k from word group by n order by n`,
  `select count(*) as k from (select ${LITERAL_WORD} as c from word) d group by c having c > 'a' order by k`,
  `select count(*) as k from (select ${LITERAL_WORD} as c, id from word) d where c > 'a' and id > 2`,
  `select upper(${LITERAL_WORD}) = 'SS' as e, count(*) as k from word group by e order by e`,
];

type Answer = { rows: unknown } | { error: string } | { ok: true };

/** Through the binary protocol (COM_STMT_PREPARE / EXECUTE), with a parameter compared as a literal. */
const PREPARED: readonly [string, readonly unknown[]][] = [
  ["select ? = 'ss' as e, ? < '_' as p, @@collation_connection as c", ['ß', 'a']],
  [`select id, ${LITERAL_WORD} as c from word where id > ? order by c, id`, [2]],
  [`select count(distinct ${LITERAL_WORD}) as k from word where id > ?`, [0]],
];

async function answer(c: mysql.Connection, sql: string, params?: readonly unknown[]): Promise<Answer> {
  try {
    const [rows] = params === undefined ? await c.query({ sql, rowsAsArray: true }) : await c.execute({ sql, rowsAsArray: true }, params as never);
    return Array.isArray(rows) ? { rows } : { ok: true };
  } catch (err) {
    const e = err as { errno?: number; sqlState?: string; message?: string };
    return { error: `${e.errno} (${e.sqlState}) ${e.message}` };
  }
}

let pair: GatewayAndReference;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { words: hashKeyspace({ word: 'id' }) } }, keyspaces: { words: { shards: SHARDS, schema: SCHEMA } } }, 'words', SCHEMA);
  await pair.loadBoth(INSERTS);
});

afterAll(() => pair?.stop());

async function connectBoth(kind: ClientKind): Promise<[mysql.Connection, mysql.Connection]> {
  const exact = { supportBigNumbers: true, bigNumberStrings: true };
  const ref = await mysql.createConnection({ ...pair.reference.shard('reference').connectionOptions(), database: 'words', ...exact, ...kind.options });
  const sub = await pair.gw.connect({ database: 'words', ...exact, ...kind.options });
  for (const s of kind.setup) {
    await ref.query(s);
    await sub.query(s);
  }
  return [ref, sub];
}

describe.each(CLIENTS)('connection collation: $name', (kind) => {
  it('literals, casts, merges, groups and the variables answer as one MariaDB', async () => {
    const [ref, sub] = await connectBoth(kind);
    try {
      for (const sql of STATEMENTS) {
        expect({ sql, ...(await answer(sub, sql)) }).toEqual({ sql, ...(await answer(ref, sql)) });
      }
      // After SET character_set_connection, MariaDB still compares a parameter in the collation
      // SET NAMES … COLLATE named; the gateway sends parameters as literals, in
      // collation_connection (README: Client character sets, not covered).
      const paramsDiffer = kind.setup.some((s) => s.startsWith('set character_set_connection'));
      for (const [sql, params] of paramsDiffer ? [] : PREPARED) {
        expect({ sql, ...(await answer(sub, sql, params)) }).toEqual({ sql, ...(await answer(ref, sql, params)) });
      }
      for (const sql of ANSWERED_OR_REFUSED) {
        const got = await answer(sub, sql);
        if ('error' in got && got.error.startsWith('1235 (42000)')) continue;
        expect({ sql, ...got }).toEqual({ sql, ...(await answer(ref, sql)) });
      }
    } finally {
      await Promise.all([ref.end(), sub.end()]);
    }
  });
});

describe('connection collation changes within one session', () => {
  it('follows each SET, and an unknown collation is refused as MariaDB refuses it', async () => {
    const [ref, sub] = await connectBoth(CLIENTS[0]!);
    try {
      const steps = [
        "select 'a' < '_' as p, @@collation_connection as c",
        'set names utf8mb4 collate utf8mb4_bin',
        "select 'a' < '_' as p, @@collation_connection as c",
        `select id, ${LITERAL_WORD} as c from word order by c, id`,
        'set collation_connection = utf8mb4_nope_ci',
        'set names utf8mb4 collate utf8mb4_nope_ci',
        'set names utf8mb4 collate latin1_swedish_ci',
        "select 'a' < '_' as p, @@collation_connection as c",
        'set names utf8mb4',
        "select 'a' < '_' as p, @@collation_connection as c",
        'set collation_connection = utf8mb4_unicode_ci',
        `select min(id) as m, count(*) as k from word group by ${LITERAL_WORD} order by m`,
        'set character set utf8mb4',
        "select 'a' < '_' as p, @@collation_connection as c, @@character_set_connection as cs",
        'set collation_connection = default',
        "select @@collation_connection as c",
        'set collation_connection = 46',
        "select 'a' < '_' as p, @@collation_connection as c",
        "set session collation_connection = 'UTF8MB4_UNICODE_520_CI'",
        "select 'a' < '_' as p, @@collation_connection as c",
        'set collation_connection = 99999',
      ];
      for (const sql of steps) {
        expect({ sql, ...(await answer(sub, sql)) }).toEqual({ sql, ...(await answer(ref, sql)) });
      }
    } finally {
      await Promise.all([ref.end(), sub.end()]);
    }
  });

  it('COM_RESET_CONNECTION goes back to the handshake collation, COM_CHANGE_USER to the one it names', async () => {
    const probe = "select 'a' < '_' as p, @@collation_connection as c";
    const [ref, sub] = await connectBoth(CLIENTS[0]!);
    try {
      for (const c of [ref, sub]) await c.query('set names utf8mb4 collate utf8mb4_bin');
      await Promise.all([ref.reset(), sub.reset()]);
      expect(await answer(sub, probe)).toEqual(await answer(ref, probe));
      expect((await answer(sub, probe)) as unknown).toEqual({ rows: [[0, 'utf8mb4_unicode_ci']] });
    } finally {
      await Promise.all([ref.end(), sub.end()]);
    }
    for (const charset of [undefined, 'UTF8MB4_BIN', 'UTF8MB4_GENERAL_CI']) {
      const [ref2, sub2] = await connectBoth(CLIENTS[0]!);
      try {
        for (const c of [ref2, sub2]) {
          await c.query('set collation_connection = utf8mb4_unicode_520_ci');
          await c.changeUser({ user: c.config.user, password: c.config.password, database: 'words', ...(charset ? { charset } : {}) });
        }
        expect({ charset, ...(await answer(sub2, probe)) }).toEqual({ charset, ...(await answer(ref2, probe)) });
      } finally {
        await Promise.all([ref2.end(), sub2.end()]);
      }
    }
  });

  it('another session on the same pooled connections keeps its own collation', async () => {
    const [refBin, subBin] = await connectBoth(CLIENTS[2]!);
    const [refGen, subGen] = await connectBoth(CLIENTS[1]!);
    try {
      for (let i = 0; i < 6; i++) {
        for (const [ref, sub] of [[refBin, subBin], [refGen, subGen]] as const) {
          const sql = "select 'ß' = 's' as e, 'a' < '_' as p, @@collation_connection as c";
          expect(await answer(sub, sql)).toEqual(await answer(ref, sql));
          const merged = `select id, ${LITERAL_WORD} as c from word order by c, id`;
          expect(await answer(sub, merged)).toEqual(await answer(ref, merged));
        }
      }
    } finally {
      await Promise.all([refBin.end(), subBin.end(), refGen.end(), subGen.end()]);
    }
  });
});
