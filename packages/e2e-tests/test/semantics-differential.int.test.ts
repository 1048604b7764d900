/**
 * Differential test of what the gateway itself evaluates or compares (merge order, GROUP BY,
 * DISTINCT, MIN/MAX, NULL logic, empty inputs, result types): strings that differ only by case,
 * accents or trailing spaces in several collations, NULLs, and no rows at all, through a 4-shard
 * gateway and on one plain MariaDB holding the same rows.
 */
import { execFile } from 'node:child_process';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '@shardgate/test-kit';
import { hashKeyspace, PASSWORD, USER, type RunningGateway } from './support/gateway-harness.js';
import { startGatewayAndReference, type GatewayAndReference } from './support/gateway-and-reference.js';

const SHARDS = ['-40', '40-80', '80-c0', 'c0-'];
const SCHEMA = `
create table item (
  id bigint primary key,
  gci varchar(20) collate utf8mb4_general_ci,
  uci varchar(20) collate utf8mb4_unicode_ci,
  bin varchar(20) collate utf8mb4_bin,
  raw varbinary(20),
  lat varchar(20) character set latin1 collate latin1_swedish_ci,
  grp int,
  price decimal(10,2),
  created_at datetime,
  size enum('small','large','medium')
);
create table referral (id bigint primary key, referrer_id bigint, email varchar(40));
create table line (order_id bigint, line_no int, note varchar(20) collate utf8mb4_general_ci, primary key (order_id, line_no));
`;

const WORDS = ['alice', 'alice ', 'Alice', 'ålice', 'ALICE  ', 'bob ', 'BOB', 'bob', 'OK ', 'ok', 'Ok', 'zed', 'Åsa', 'asa', 'ärm', 'arm', 'über', 'uber', 'y', null];
const ROWS: string[] = [];
for (let i = 1; i <= 48; i++) {
  const w = WORDS[i % WORDS.length];
  const q = w === null ? 'null' : `'${w}'`;
  const grp = i % 7 === 0 ? 'null' : String(i % 5);
  const price = i % 6 === 0 ? 'null' : `${(i * 37) % 100}.${String(i % 100).padStart(2, '0')}`;
  const created = i % 9 === 0 ? 'null' : `'2024-0${1 + (i % 9)}-1${i % 10} 10:00:00'`;
  const size = i % 8 === 0 ? 'null' : `'${['small', 'large', 'medium'][i % 3]}'`;
  ROWS.push(`(${i}, ${q}, ${q}, ${q}, ${q}, ${q}, ${grp}, ${price}, ${created}, ${size})`);
}
const INSERTS = [
  `insert into item (id, gci, uci, bin, raw, lat, grp, price, created_at, size) values ${ROWS.join(', ')}`,
  `insert into referral (id, referrer_id, email) values (1, null, 'a@x'), (2, 1, null), (3, 1, 'c@x'), (4, 2, 'd@x'), (5, null, null), (6, 5, 'f@x')`,
  // Order ids 1..100 with two lines each: every item price (say 37.01) is near one of them.
  `insert into line (order_id, line_no, note) values ${Array.from({ length: 100 }, (_, i) => `(${i + 1}, 1, '${['gift', 'rush', 'GIFT'][i % 3]}'), (${i + 1}, 2, '${['Gift ', 'rush', 'gift'][i % 3]}')`).join(', ')}`,
];

let pair: GatewayAndReference;
let gw: RunningGateway;
let reference: LocalCluster;
let ref: mysql.Connection;
let sub: mysql.Connection;

beforeAll(async () => {
  pair = await startGatewayAndReference({ vschema: { keyspaces: { commerce: hashKeyspace({ item: 'id', referral: 'id', line: 'order_id' }) } }, keyspaces: { commerce: { shards: SHARDS, schema: SCHEMA } } }, 'commerce', SCHEMA);
  ({ gw, reference, ref, sub } = pair);
  await pair.loadBoth(INSERTS);
});

afterAll(() => pair?.stop());


/**
 * How two answers must agree. exact: same rows in the same order (ORDER BY is total). unordered:
 * same multiset. collated: same multiset after folding each string as its collation compares it,
 * because which of several collation-equal values a group or DISTINCT shows is unspecified.
 */
type Mode = 'exact' | 'unordered' | 'collated' | 'collatedOrdered';
interface Case {
  readonly sql: string;
  readonly mode: Mode;
}

/** utf8mb4_general_ci / unicode_ci equality for the strings above: case, accents, trailing spaces. */
const foldCi = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ +$/, '');
/** latin1_swedish_ci for the strings above: case and trailing spaces (å, ä, ü stay distinct letters). */
const foldLatin1 = (s: string) => s.toLowerCase().replace(/ +$/, '');
/** utf8mb4_bin: trailing spaces only. */
const foldBin = (s: string) => s.replace(/ +$/, '');

function normalize(rows: unknown[][], mode: Mode, fold: (s: string) => string): string[] {
  const folds = mode === 'collated' || mode === 'collatedOrdered';
  const cells = rows.map((r) => JSON.stringify(r.map((c) => (folds && typeof c === 'string' && !/^-?\d+(\.\d+)?$/.test(c) ? fold(c) : c))));
  return mode === 'exact' || mode === 'collatedOrdered' ? cells : cells.sort();
}

const CASES: readonly (Case & { fold?: (s: string) => string })[] = [
  // ORDER BY an expression over aggregates across shards, selected or not: computed at the gateway, then sorted.
  // CONVERT(expr, type) over an expression and the optional INTEGER of SIGNED / UNSIGNED
  // (MariaDB Connector/J's metadata queries), which the parser did not take (1064).
  // Minus signs written together (`--1` is not a comment without a space): 1064 from the parser before.
  { sql: 'select id, ---id, 1 - --grp, ----1 from item order by id', mode: 'exact' },
  // `$` inside unquoted names and aliases, as MariaDB allows (1064 from the parser before).
  { sql: 'select id as $id, grp as g$1, i$.price from item i$ where i$.id < 4 order by $id', mode: 'exact' },
  { sql: 'select id, convert(case grp when 1 then -2 else grp end, signed integer) as s, convert(price, unsigned int), cast(grp as signed int), convert(id + 1, char) from item order by id', mode: 'exact' },
  { sql: 'select grp, count(*) from item group by grp order by max(price) + 1 desc, grp', mode: 'exact' },
  { sql: 'select grp from item group by grp order by sum(price) / count(*), grp', mode: 'exact' },
  { sql: 'select grp, sum(price) / count(*) as a from item group by grp order by a desc, grp', mode: 'exact' },
  { sql: 'select grp, round(sum(price) / count(*), 1) as r from item group by grp order by r, grp limit 3', mode: 'exact' },
  // TRUNCATE over aggregates, evaluated at the gateway (refused before): toward zero, ROUND's
  // types but for its carry digit; a double by floor/ceil as MariaDB's my_double_round.
  { sql: 'select grp, truncate(sum(price) / count(*), 1) as r, truncate(-sum(price), -1), truncate(sum(price) / 7e0, 3), truncate(max(price), 5) from item group by grp order by grp', mode: 'exact' },
  { sql: 'select truncate(avg(price), 2), truncate(-avg(price) / 3, 4), truncate(sum(id) * 1.5, 0), truncate(count(*) / 7e0, 2) from item', mode: 'exact' },
  // FLOOR and CEIL over aggregates (refused before): an INT, BIGINT or DECIMAL(p, 0) by the
  // digits before the point (one more for a carry), a DOUBLE over a double.
  { sql: 'select grp, ceil(count(*) / 10), floor(avg(price)), ceiling(-avg(price)), floor(-sum(price) * 1000000000000000000) from item group by grp order by grp', mode: 'exact' },
  { sql: 'select floor(sum(price) / 7), ceil(sum(price) / 7e0), floor(count(*)), ceil(max(id)) from item', mode: 'exact' },
  // % and MOD over aggregates (refused before): the dividend's sign, at the larger scale; by 0, NULL.
  { sql: 'select grp, count(*) % 2, sum(price) % 7, mod(-sum(price), 2.5), sum(id) mod 0, sum(price) % 3e0 from item group by grp order by grp', mode: 'exact' },
  // DIV over aggregates (refused before): toward zero over the exact values, a BIGINT; by 0, NULL.
  { sql: 'select grp, count(*) div 2, sum(price) div 7, -sum(price) div 2.5, sum(id) div 0, sum(price) div count(*) from item group by grp order by grp', mode: 'exact' },
  { sql: 'select count(*) from item group by grp having count(*) > 1 order by count(*) * -1, min(id)', mode: 'exact' },
  // ORDER BY a position over a lone * across shards: merged by the column's value.
  { sql: 'select * from item order by 1 desc limit 7', mode: 'exact' },
  { sql: 'select * from item order by 8, 1 limit 10', mode: 'exact' },
  { sql: 'select * from line order by 2, 1 desc limit 9', mode: 'exact' },
  // GROUP BY a name that is both a select alias and a column: MariaDB groups by the column (the
  // gateway grouped by the alias: 2 groups instead of 5), HAVING reads the column too, ORDER BY
  // the alias; a name no column has groups by the alias.
  { sql: 'select grp % 2 as grp, count(*), min(id) from item group by grp order by grp, min(id)', mode: 'exact' },
  { sql: 'select grp % 2 as grp, count(*) from item group by grp', mode: 'unordered' },
  { sql: 'select grp % 2 as grp, count(*) from item group by grp having grp > 1 order by 2, 1', mode: 'exact' },
  { sql: 'select lower(gci) as bin, count(*) from item group by bin order by 2, 1', mode: 'collatedOrdered', fold: foldCi },
  { sql: 'select grp % 2 as parity, count(*) from item group by parity order by parity', mode: 'exact' },
  // An expression of the group keys alone, and a grouped derived table ordered outside (its
  // collation key is such an expression): any value of the group, refused before.
  { sql: 'select grp * 2 + 1, count(*) from item group by grp order by grp', mode: 'exact' },
  { sql: 'select t.gci, t.c from (select gci, count(*) c from item group by gci) t order by t.gci', mode: 'collatedOrdered', fold: foldCi },
  { sql: 'select t.grp, t.c from (select grp, count(*) c from item group by grp) t where t.c > 5 order by t.c desc, t.grp', mode: 'exact' },
  // A scalar AVG of decimals beside a DOUBLE is MariaDB's sum / count in double, not its decimal;
  // a grouped one is the unrounded decimal of MariaDB's temporary table.
  { sql: 'select avg(price) * 1e0, avg(id) + 0.5e0, avg(price) * 3, avg(price) < 50.74e0, avg(price) = 50.74e0 from item', mode: 'exact' },
  { sql: 'select grp, avg(price) * 1e0, avg(id) + 0.5e0, avg(price) * 3 from item group by grp order by grp', mode: 'exact' },
  // A DOUBLE in CONCAT: MariaDB's text of it there (1.5e0 is '1.5'; the gateway wrote '1.5e0').
  { sql: "select grp, concat(max(price) * 1.5e0, '|', 1.5e0, '|', sum(price) / 7e0) from item group by grp order by grp", mode: 'exact' },
  // UPPER/LOWER of a binary string keep its bytes; of ASCII text they are evaluated.
  { sql: "select upper(max(raw)), lower(min(raw)) from item where id < 20 and bin < 'c'", mode: 'exact' },
  { sql: "select upper(max(bin)), lower(min(bin)) from item where id < 20 and bin < 'c'", mode: 'collated', fold: foldBin },
  // A searched CASE over aggregates, evaluated at the gateway as IF (refused before).
  { sql: 'select grp, case when count(*) > 8 then sum(price) when count(*) > 5 then 1 else avg(price) end from item group by grp order by grp', mode: 'exact' },
  { sql: "select grp, case when max(price) > 90 then 'hi' end, case when min(price) is null then max(created_at) else min(created_at) end from item group by grp order by grp", mode: 'exact' },
  { sql: 'select grp from item group by grp having case when sum(price) > 300 then 1 else 0 end = 1 order by grp', mode: 'exact' },
  // A DATETIME aggregate in arithmetic is the number its digits spell (20240915100000), not its year.
  { sql: 'select max(created_at) + 0, min(created_at) - 1, -max(created_at), abs(min(created_at)) from item', mode: 'exact' },
  { sql: 'select grp, max(created_at) * 1, min(created_at) + 0.5 from item group by grp order by grp', mode: 'exact' },
  // ORDER BY a column or an expression of the group keys kept as any value of its group: sorted
  // by its collation's key (an expression of a utf8mb4_bin key was sorted case-insensitively).
  { sql: 'select bin, count(*) from item group by id order by bin, id', mode: 'exact' },
  { sql: "select concat(bin, '') as b, count(*) from item where bin is not null group by bin order by b", mode: 'collatedOrdered', fold: foldBin },
  // Collations: GROUP BY, COUNT(DISTINCT), DISTINCT, MIN/MAX, merge order.
  ...['gci', 'uci'].flatMap((c) => [
    { sql: `select ${c}, count(*) from item group by ${c}`, mode: 'collated' as Mode, fold: foldCi },
    { sql: `select count(distinct ${c}) from item`, mode: 'exact' as Mode },
    { sql: `select distinct ${c} from item`, mode: 'collated' as Mode, fold: foldCi },
    { sql: `select ${c}, count(*), min(id), max(id) from item where id > 5 group by ${c} order by ${c}`, mode: 'collated' as Mode, fold: foldCi },
    // A string and a second key: each shard must sort the string by its collation weight
    // (trailing spaces ignored), or the merge splits groups like 'bob' / 'BOB ' (the random
    // differential found this).
    { sql: `select ${c}, grp is null, count(*) from item group by ${c}, grp is null`, mode: 'collated' as Mode, fold: foldCi },
    { sql: `select grp, ${c}, count(*), max(id) from item group by ${c}, grp`, mode: 'collated' as Mode, fold: foldCi },
  ]),
  { sql: 'select lat, count(*) from item group by lat', mode: 'collated', fold: foldLatin1 },
  { sql: 'select count(distinct lat) from item', mode: 'exact' },
  { sql: 'select distinct lat from item', mode: 'collated', fold: foldLatin1 },
  { sql: 'select bin, count(*) from item group by bin', mode: 'collated', fold: foldBin },
  { sql: 'select lat, grp, count(*) from item group by lat, grp', mode: 'collated', fold: foldLatin1 },
  { sql: 'select bin, grp, count(*) from item group by bin, grp', mode: 'collated', fold: foldBin },
  { sql: 'select count(distinct bin) from item', mode: 'exact' },
  { sql: 'select distinct bin from item', mode: 'collated', fold: foldBin },
  { sql: 'select raw, count(*) from item group by raw', mode: 'unordered' },
  { sql: 'select count(distinct raw) from item', mode: 'exact' },
  // count(DISTINCT a, b) (refused before): tuples compared by each column's collation, none with a NULL.
  { sql: 'select count(distinct gci, grp), count(distinct bin, lat), count(distinct raw, uci, grp), count(distinct grp, price) from item', mode: 'exact' },
  { sql: 'select grp, count(distinct gci, lat), count(distinct created_at, bin) from item group by grp', mode: 'unordered' },
  { sql: 'select distinct raw from item', mode: 'unordered' },
  { sql: 'select min(gci), max(gci), min(uci), max(uci), min(bin), max(bin), min(raw), max(raw), min(lat), max(lat) from item where id > 30', mode: 'collated', fold: foldCi },
  { sql: 'select grp, min(lat), max(lat), max(raw) from item group by grp', mode: 'collated', fold: foldLatin1 },
  ...['gci', 'uci', 'bin', 'raw', 'lat'].flatMap((c) => [
    { sql: `select id, ${c} from item order by ${c}, id`, mode: 'exact' as Mode },
    { sql: `select id, ${c} from item order by ${c} desc, id desc limit 7, 20`, mode: 'exact' as Mode },
  ]),
  { sql: 'select distinct gci, bin from item order by gci', mode: 'collated', fold: foldCi },
  // Empty inputs: an aggregate without GROUP BY is one row, even when no shard is asked.
  { sql: 'select count(*) from item where grp not in (1, 2, null)', mode: 'exact' },
  { sql: 'select count(*), max(id) from item where 1 = 0', mode: 'exact' },
  { sql: "select count(*) from item where gci not in ('x', null)", mode: 'exact' },
  { sql: 'select coalesce(max(price), 0), sum(price), avg(price), min(gci) from item where 1 = 0', mode: 'exact' },
  { sql: 'select count(*), max(id) from item where id in (null)', mode: 'exact' },
  { sql: 'select count(*), max(id) from item where id = 7 and id = 8', mode: 'exact' },
  { sql: 'select id from item where 1 = 0', mode: 'exact' },
  { sql: 'select grp, count(*) from item where 1 = 0 group by grp', mode: 'exact' },
  // NULL groups from several shards merge into one.
  { sql: 'select grp, count(*), max(price) from item group by grp', mode: 'unordered' },
  { sql: 'select price is null, count(*) from item group by price is null', mode: 'unordered' },
  // HAVING over a datetime compared with numbers, and strings with numbers.
  { sql: 'select grp, max(created_at) as m from item group by grp having m < 3', mode: 'unordered' },
  { sql: 'select grp, max(created_at) as m from item group by grp having m < 20240301000000', mode: 'unordered' },
  { sql: 'select grp, max(created_at) as m from item group by grp having m > 2024', mode: 'unordered' },
  { sql: 'select grp, count(*) as n from item group by grp having n > 8 or grp is null', mode: 'unordered' },
  { sql: 'select grp, max(price) as m from item group by grp having m > 90 and grp > 0', mode: 'unordered' },
  // Cross-shard LEFT JOIN: right-side expressions over a NULL-extended row.
  { sql: "select i.id, r.id, r.email, r.referrer_id is null, coalesce(r.email, 'none') from item i left join referral r on r.referrer_id = i.grp where i.id < 12", mode: 'unordered' },
  { sql: "select i.id, r.id + 1, concat(r.email, 'x'), ifnull(r.id, 0), if(r.id is null, 'none', 'some') from item i left join referral r on r.referrer_id = i.grp where i.id < 12", mode: 'unordered' },
  { sql: 'select i.id, r.id is not null from item i left join referral r on r.id = i.id + 100 where i.id < 5', mode: 'unordered' },
  // The NULL-extended side of a LEFT JOIN: its vindex column is NULL on every shard, so grouping
  // or DISTINCT on it still merges at the gateway (the random differential found 3 NULL groups).
  { sql: 'select r.id, count(*), max(i.price) from item i left join referral r on r.id = i.id group by r.id', mode: 'unordered' },
  { sql: 'select distinct r.id from item i left join referral r on r.id = i.id', mode: 'unordered' },
  // A value no integer equals routes nowhere, and the statement planned for one shard still
  // answers once (it went to every shard and gave one row per shard).
  { sql: 'select count(*), max(price) from item where id = 1.5', mode: 'exact' },
  { sql: 'select count(*), max(price) from item where id = (select min(price) from item where price > 10.5)', mode: 'exact' },
  { sql: 'select id from item where id = 7.5 order by price limit 1', mode: 'exact' },
  // A left value bound into a right-side expression is NULL on some rows: the column's type must
  // still be the one its non-NULL values give (`r.id * NULL` is a DOUBLE, `r.id * 3` a BIGINT).
  { sql: 'select avg(r.id * i.grp), sum(r.id + i.grp), max(r.id * i.price) from item i join referral r on r.referrer_id = i.id where i.grp is null', mode: 'exact' },
  { sql: 'select avg(r.id * i.grp), sum(r.id + i.grp), max(r.id * i.price) from item i join referral r on r.referrer_id = i.id where i.grp is null or i.id < 6', mode: 'exact' },
  // An aggregate subquery whose WHERE matches nothing still answers (0), so it does not narrow
  // the outer statement to one shard.
  { sql: 'select id from item where price >= (select count(grp) from item where grp not in (null, null, 4)) order by id', mode: 'exact' },
  { sql: 'select i.id from item i join referral r on r.id = i.id where i.grp >= (select count(*) from item where id in (null)) order by i.id', mode: 'exact' },
  // A scalar subquery inside a select-list expression or a HAVING condition: bound with its type.
  { sql: 'select id, price - (select min(price) from item) as d, grp * (select count(*) from item where grp > 2) as n from item order by id', mode: 'exact' },
  { sql: 'select id, price / (select avg(price) from item) as r, (select max(grp) from item) + grp from item where id < 9 order by id', mode: 'exact' },
  { sql: 'select id, created_at > (select min(created_at) from item) as later from item order by id', mode: 'exact' },
  { sql: 'select grp, count(*) from item group by grp having count(*) > (select count(*) from item) / 10 order by grp', mode: 'exact' },
  { sql: 'select grp, sum(price) as s from item group by grp having sum(price) >= (select avg(price) from item) and grp is not null order by grp', mode: 'exact' },
  // Cross-shard joins: expressions over both sides (the right shard computes them with the left
  // values bound), sum/avg over the joined rows, ORDER BY keys outside the select list.
  { sql: 'select i.id, i.grp + r.id, i.price * r.id, r.id - i.grp as d, i.price / r.id from item i join referral r on r.referrer_id = i.grp', mode: 'unordered' },
  { sql: 'select i.id * r.id as amount from item i, referral r where i.id < 6', mode: 'unordered' },
  { sql: 'select sum(i.price), avg(i.grp), sum(r.id), avg(i.price), count(*), sum(distinct i.grp) from item i join referral r on r.referrer_id = i.grp', mode: 'exact' },
  { sql: 'select sum(i.price), avg(i.grp), sum(r.referrer_id) from item i join referral r on r.referrer_id = i.grp where i.id > 1000', mode: 'exact' },
  { sql: 'select r.email, sum(i.grp), avg(r.id), sum(i.price + r.id), max(i.id * r.id) from item i join referral r on r.referrer_id = i.grp group by r.email', mode: 'unordered' },
  { sql: 'select i.grp, sum(r.referrer_id), avg(r.referrer_id) from item i left join referral r on r.referrer_id = i.grp group by i.grp', mode: 'unordered' },
  { sql: 'select count(*), min(i.id + r.id) from item i, referral r group by i.id + r.id having count(*) > 1', mode: 'unordered' },
  { sql: 'select i.id, r.id as rid from item i join referral r on r.referrer_id = i.grp order by id desc, rid', mode: 'exact' },
  { sql: 'select i.id, r.id from item i join referral r on r.referrer_id = i.grp order by i.gci, i.id, r.id desc', mode: 'exact' },
  { sql: 'select i.id, r.id from item i join referral r on r.referrer_id = i.grp order by r.email desc, i.price, i.id, r.id', mode: 'exact' },
  { sql: 'select i.id, r.id from item i join referral r on r.referrer_id = i.grp order by i.id * r.id desc, i.id limit 10', mode: 'exact' },
  // A WHERE term over both sides of a LEFT JOIN: the right shard evaluates it with the left
  // values bound, over the right row or, per unmatched left row, over NULLs.
  { sql: 'select i.id, r.id from item i left join referral r on r.referrer_id = i.grp where coalesce(r.id, i.grp) > 2 and i.id < 30', mode: 'unordered' },
  { sql: 'select i.id, r.id from item i left join referral r on r.referrer_id = i.grp where (r.email > i.gci or r.id is null) and i.id < 30', mode: 'unordered' },
  { sql: 'select i.grp, count(*), count(r.id) from item i left join referral r on r.referrer_id = i.grp where ifnull(r.id, i.id) < 20 group by i.grp', mode: 'unordered' },
  // `<=>` goes to the shards as written (the gateway never evaluates it); it keeps NULL-extended rows.
  { sql: 'select i.id, r.id from item i left join referral r on r.referrer_id = i.grp where r.email <=> null and i.id < 12', mode: 'unordered' },
  { sql: 'select i.id, r.id, i.grp <=> r.referrer_id as same from item i join referral r on r.id <=> i.grp where i.id < 20', mode: 'unordered' },
  // Three routes: the left two are joined first, then the third (nested Joins).
  { sql: 'select i.id, r.id, i2.id, i.grp * i2.grp from item i join referral r on r.referrer_id = i.grp join item i2 on i2.grp = r.id where i.id < 15', mode: 'unordered' },
  { sql: 'select count(*), sum(i2.price), max(i.id + i2.id), avg(r.id) from item i join referral r on r.referrer_id = i.grp join item i2 on i2.grp = r.id', mode: 'exact' },
  { sql: 'select count(*), count(*), count(i.grp) from item i, referral r, item i2 where i.id < 4 and i2.id < 5', mode: 'exact' },
  // A LEFT JOIN whose WHERE rejects NULL-extended rows is an inner join; other terms over the
  // right side are evaluated by its shard (over NULLs for a row without a match).
  { sql: "select i.id, r.email from item i left join referral r on r.referrer_id = i.grp where r.email = 'c@x'", mode: 'unordered' },
  { sql: "select i.id, r.id from item i left join referral r on r.referrer_id = i.grp where ifnull(r.email, 'none') != 'a@x' and i.id < 20", mode: 'unordered' },
  { sql: "select count(*), count(r.id) from item i left join referral r on r.referrer_id = i.grp where coalesce(r.email, 'zz') like 'Z%'", mode: 'exact' },
  { sql: "select i.id, r.id from item i left join referral r on r.referrer_id = i.grp where i.id < 9 and (r.email is null or r.email > 'B') order by i.id, r.id", mode: 'exact' },
  // Expressions over aggregates at the gateway take the type (and scale) of the shard's column.
  { sql: 'select grp, coalesce(max(price), 0), ifnull(max(grp), 0.5), coalesce(min(price), 1.125), max(price) - 1, max(grp) + 0.0 from item group by grp', mode: 'unordered' },
  // Division and avg inside such expressions keep MariaDB's unrounded precision (1/3*3 is 1.0000).
  { sql: 'select grp, avg(price) * 2, avg(price) * avg(price), sum(price) / count(*), avg(grp) / 3, max(price) / min(price), count(*) * 1.5, -max(price), abs(min(price) - 5), sum(grp) / 7 / 3 * 3 from item group by grp', mode: 'unordered' },
  { sql: 'select avg(price) * 2, avg(grp) / 3 * 3, sum(price) / 7 * 7, avg(id) from item', mode: 'exact' },
  { sql: 'select grp, avg(id) from item group by grp having avg(id) * 3 >= 75 or avg(id) > 24.33', mode: 'unordered' },
  // SUM/AVG(DISTINCT …) read strings as DOUBLE before dropping duplicates (' 1', '01', '1.0' are
  // one value; 'alice' is 0), temporal values as their digits, and add doubles in MariaDB's order.
  { sql: "select sum(distinct concat(grp, ' ')), avg(distinct concat('0', grp, '.0')), sum(distinct gci), avg(distinct lat), count(distinct concat(grp, ' ')) from item", mode: 'exact' },
  { sql: 'select sum(distinct created_at), avg(distinct created_at), avg(distinct price), avg(distinct grp), sum(distinct grp) from item', mode: 'exact' },
  { sql: 'select grp, sum(distinct price * 1e0), avg(distinct price / 7e0), avg(distinct price), sum(distinct concat(price, \'x\')) from item group by grp', mode: 'unordered' },
  { sql: 'select avg(distinct price) * 2, round(avg(distinct grp), 1), sum(distinct id % 3 / 10e0) from item where id > 3', mode: 'exact' },
  { sql: 'select avg(distinct price), sum(distinct gci) from item where 1 = 0', mode: 'exact' },
  // UNION parts planned separately: each column's type is the aggregate of the parts' types.
  { sql: 'select max(grp) from item union select avg(grp) from item', mode: 'unordered' },
  { sql: 'select max(grp) from item union all select sum(price) from item union all select min(gci) from item', mode: 'collated', fold: foldCi },
  { sql: 'select count(*) from item union all select max(price) from item union all select null', mode: 'unordered' },
  { sql: 'select null union all select max(price) from item', mode: 'unordered' },
  { sql: 'select max(created_at) from item union all select min(date(created_at)) from item', mode: 'unordered' },
  { sql: 'select max(price) from item union all select max(id) * 1e0 from item', mode: 'unordered' },
  { sql: 'select min(grp) from item union all select max(created_at) from item', mode: 'unordered' },
  { sql: 'select max(price) from item union select count(*) from referral', mode: 'unordered' },
  // Every part converts straight to the type of the whole chain before duplicates are compared.
  { sql: 'select max(grp) from item union select 2.5 union all select max(id) from item union all select max(grp) from item', mode: 'unordered' },
  { sql: 'select max(price) from item union select max(price) * 1 from item union all select max(price) * 1.000 from item', mode: 'unordered' },
  { sql: 'select avg(price) from item union all select max(price) from item', mode: 'unordered' },
  // A DISTINCT union removes duplicates from everything to its left; a later UNION ALL appends.
  { sql: 'select grp from item where id < 20 union select grp from item where id < 10 union all select grp from item where id < 8', mode: 'unordered' },
  { sql: 'select grp from item where id < 20 union all select grp from item where id < 10 union select grp from item where id < 8', mode: 'unordered' },
  { sql: 'select grp from item where id < 20 union all select grp from item where id < 10 union select grp from item where id < 8 union all select grp from item where id < 4', mode: 'unordered' },
  // UNION (DISTINCT) and a UNION's ORDER BY compare strings in the columns' collation.
  ...['gci', 'uci', 'bin', 'raw', 'lat'].flatMap((c) => [
    { sql: `select ${c} from item union select ${c} from item where id > 20`, mode: 'collated' as Mode, fold: c === 'lat' ? foldLatin1 : c === 'bin' ? foldBin : c === 'raw' ? (x: string) => x : foldCi },
    { sql: `select null union select ${c} from item`, mode: 'collated' as Mode, fold: c === 'lat' ? foldLatin1 : c === 'bin' ? foldBin : c === 'raw' ? (x: string) => x : foldCi },
    { sql: `select ${c}, id from item union all select ${c}, id + 100 from item where id < 30 order by ${c} desc, id limit 40`, mode: 'exact' as Mode },
    { sql: `(select ${c} from item where id < 30) union (select ${c} from item where id > 20) union all select ${c} from item where id < 3`, mode: 'collated' as Mode, fold: c === 'lat' ? foldLatin1 : c === 'bin' ? foldBin : c === 'raw' ? (x: string) => x : foldCi },
  ]),
  { sql: 'select lat, grp from item union select lat, grp from item where id > 10', mode: 'collated', fold: foldLatin1 },
  // ENUM: MIN/MAX compare member names; `+0` orders by member index; a UNION makes it a VARCHAR.
  { sql: 'select min(size), max(size) from item', mode: 'exact' },
  { sql: 'select grp, min(size), max(size) from item group by grp', mode: 'unordered' },
  { sql: 'select size, count(*) from item group by size', mode: 'unordered' },
  { sql: 'select distinct size from item', mode: 'unordered' },
  { sql: 'select id, size from item order by size+0 desc, id limit 30', mode: 'exact' },
  { sql: 'select size, id from item where id < 20 union all select size, id from item where id > 30 order by 1, 2', mode: 'exact' },
  { sql: "select size from item union select convert('large' using utf8mb4) order by 1", mode: 'exact' },
  // A DECIMAL from one side of a join or subquery, sent to the other side's shards, compares as the
  // column did: MariaDB 10.11 rounds a bare literal 37.01 against a prefix of a two-column integer
  // key (order_id = 37.01 finds order 37), so it goes as a CAST (random differential, seed 3).
  { sql: 'select i.id, i.price from item i where exists (select 1 from line l where l.order_id = i.price)', mode: 'unordered' },
  { sql: 'select i.id from item i where not exists (select 1 from line l where l.order_id = i.price)', mode: 'unordered' },
  // A NOT EXISTS that matches no row anywhere (`= null`) holds on every shard: its correlation to a
  // non-vindex column set to a value does not send the statement to that value's shard (seed 64 #18672).
  { sql: 'select i.id from item i where i.grp = 1 and not exists (select 1 from line l where l.order_id = i.grp and l.note = null)', mode: 'unordered' },
  { sql: 'select count(*) from item i where i.grp = 1 and exists (select 1 from line l where l.order_id = i.grp and l.note = null)', mode: 'exact' },
  // With `*`: the values the subquery reads ride as the outer query's last columns.
  { sql: 'select * from item i where not exists (select 1 from line l where l.order_id = i.price) order by id', mode: 'exact' },
  { sql: 'select i.*, i.grp + 1 as g from item i where exists (select 1 from line l where l.order_id = i.grp and l.line_no > i.id - 50) order by i.id', mode: 'exact' },
  { sql: 'select *, i.id from item i where i.grp in (select l.line_no from line l where l.order_id = i.id) order by i.id', mode: 'exact' },
  { sql: 'select l.order_id, l.line_no from line l where l.order_id in (select price from item where price is not null)', mode: 'unordered' },
  { sql: 'select i.id, l.line_no from item i join line l on l.order_id = i.price', mode: 'unordered' },
  { sql: 'select i.id, l.order_id from item i left join line l on l.order_id = i.price * 2 where i.id < 20', mode: 'unordered' },
  // A shard's own DISTINCT (the select list holds the vindex column) with the gateway's collation
  // keys beside it still treats 'gift' and 'Gift ' as one row (random differential, seed 3).
  { sql: 'select distinct l.order_id, l.note from line l order by 1, 2', mode: 'collated', fold: foldCi },
  { sql: 'select distinct l.order_id, l.note from line l order by 2 desc, 1 limit 30', mode: 'collated', fold: foldCi },
  // A DATETIME compared with a string at the gateway compares as a DATETIME ('2024-3-1' is March 1st).
  { sql: "select grp, max(created_at) as m from item group by grp having m > '2024-3-1'", mode: 'unordered' },
  { sql: "select grp, min(created_at) as m from item group by grp having m <= '2024-02-11 10:00:00.000' or m = '2024-2-12 10:00:00'", mode: 'unordered' },
  { sql: "select count(*) from item having max(created_at) >= '2024-09-18'", mode: 'exact' },
  // `x IN (subquery)` implies x equals a subquery row only where the IN must hold: under NOT, IS
  // or in the select list it must not route the statement by x (random differential, seed 11
  // #17606: `line_no = 1 AND NOT line_no IN (SELECT id FROM item …)` went to item 1's shard alone).
  { sql: 'select l.order_id, l.note from line l where l.line_no = 1 and (not l.line_no in (select id from item where 1 = 0))', mode: 'unordered' },
  { sql: 'select l.order_id from line l where l.line_no = 2 and (not l.line_no in (select id from item where id > 100))', mode: 'unordered' },
  { sql: 'select l.order_id from line l where l.line_no = 1 and (l.line_no in (select id from item where 1 = 0)) is null', mode: 'unordered' },
  { sql: 'select l.order_id from line l where l.line_no = 1 and l.line_no in (select id from item)', mode: 'unordered' },
  // NULL-safe equality where the gateway evaluates it (derived-table WHERE, HAVING and expressions
  // over aggregates across shards or over a join, constant folding), with NULLs on either side
  // and both: NULL <=> NULL is 1, NULL <=> 2 is 0, never NULL (random differential, seed 3 #19455:
  // the parser reads `<=>` as `>=`; the planner gives the node its operator back).
  { sql: 'select t.grp, t.c from (select grp, count(*) as c from item group by grp) t where t.c <=> null or t.c <=> 6', mode: 'unordered' },
  { sql: 'select t.grp, t.c from (select grp, count(*) as c from item group by grp) t where t.c <=> 9 or t.c <=> 8', mode: 'unordered' },
  { sql: 'select t.grp, t.s from (select grp, sum(id * grp) as s from item where id < 30 group by grp) t where t.s <=> null or t.s <=> 0', mode: 'unordered' },
  { sql: 'select grp, count(*) as c from item group by grp having c <=> 9 or grp <=> null', mode: 'unordered' },
  { sql: 'select grp, max(price) as m from item where id % 6 = 0 group by grp having m <=> null', mode: 'unordered' },
  { sql: 'select grp, max(price) <=> min(price), max(price) <=> null, null <=> min(price), null <=> null from item where id % 3 = 0 group by grp', mode: 'unordered' },
  { sql: 'select i.grp, count(*) from item i join referral r on r.referrer_id = i.id group by i.grp having max(r.email) <=> null or i.grp <=> null', mode: 'unordered' },
  { sql: 'select i.grp, count(*) from item i left join referral r on r.referrer_id = i.grp group by i.grp having min(r.referrer_id) <=> null', mode: 'unordered' },
  { sql: 'select count(*) from item where null <=> null', mode: 'exact' },
  { sql: 'select count(*) from item where price <=> null and (1 <=> 1)', mode: 'exact' },
  { sql: 'select grp <=> null as g, count(*) from item group by g order by g', mode: 'exact' },
  // MIN/MAX at the gateway carry the winning value's collation key to a later ORDER BY (random
  // differential, seed 5: the group's first row's key was sorted by).
  { sql: 'select i.grp, max(i.raw) as m, min(i.raw) from item i left join referral r on r.id = i.grp group by i.grp order by max(i.raw), i.grp', mode: 'exact' },
  { sql: 'select i.grp, min(i.raw) from item i join referral r on r.id = i.grp group by i.grp order by min(i.raw) desc, i.grp', mode: 'exact' },
  // ORDER BY a string MIN/MAX of a scatter GROUP BY sorts by its collation key (latin1_swedish_ci
  // puts 'ä' after 'z'; utf8mb4_bin puts 'B' before 'a'): random differential, seed 7.
  { sql: 'select max(lat) as m from item group by grp order by max(lat), grp', mode: 'collatedOrdered', fold: foldLatin1 },
  { sql: 'select min(lat) as m, grp from item group by grp order by m desc, grp', mode: 'collatedOrdered', fold: foldLatin1 },
  { sql: 'select max(bin) as m, grp from item group by grp order by m, grp', mode: 'collatedOrdered', fold: foldBin },
  // GROUP_CONCAT across shards: the shards' pieces, put in the ORDER BY inside it (strings by
  // their collation keys), with DISTINCT over numbers and SEPARATOR, joined at the gateway.
  { sql: 'select grp, group_concat(id order by id), count(*) from item group by grp', mode: 'unordered' },
  { sql: "select grp, group_concat(distinct grp order by grp desc separator '; '), group_concat(distinct price, id order by id desc) from item group by grp", mode: 'unordered' },
  { sql: "select group_concat(price order by price desc, id separator '') from item", mode: 'exact' },
  { sql: "select grp, group_concat(gci, '-', id order by id desc), max(id) from item group by grp order by grp", mode: 'exact' },
  ...['gci', 'uci', 'bin', 'raw', 'lat'].map((c) => ({ sql: `select grp, group_concat(${c} order by ${c} desc, id), group_concat(id order by ${c}, id separator ' ') from item group by grp`, mode: 'unordered' as Mode })),
  { sql: 'select group_concat(id order by id), count(*) from item where 1 = 0', mode: 'exact' },
  { sql: 'select grp, group_concat(id order by id) from item where 1 = 0 group by grp', mode: 'exact' },
  { sql: "select grp, group_concat(id, '/', price order by price, id) as g from item group by grp having count(*) > 7 and g is not null", mode: 'unordered' },
  { sql: 'select grp, group_concat(created_at order by created_at, id) from item where id < 30 group by grp', mode: 'unordered' },
  // A string compared with a number at the gateway, whose digits overflow a decimal ('2E3031…').
  // ORDER BY an expression of the group's rows, not selected.
  { sql: 'select grp, count(*) from item group by grp order by grp + 1 desc', mode: 'exact' },
  { sql: 'select count(*), max(id) from item group by grp order by grp * -1, 2', mode: 'exact' },
  { sql: "select max(id) from item group by gci order by concat(gci, 'x') desc, max(id)", mode: 'exact' },
  // HAVING on a column neither grouped nor selected: MariaDB's own error.
  { sql: 'select count(*) from item where id > 7 having count(id) = 1 and price > 0', mode: 'exact' },
  { sql: 'select count(*) from item where id < 0 having price is null', mode: 'exact' },
  // Subqueries inside select expressions that cannot merge into the outer route: evaluated first.
  { sql: 'select exists(select * from item where grp is null)', mode: 'exact' },
  { sql: 'select exists(select id from referral where id > 100) or 0 as e', mode: 'exact' },
  { sql: 'select id, exists(select 1 from referral where referrer_id is null) as e from item where id < 4 order by id', mode: 'exact' },
  { sql: "select r.id, if(r.id in (select grp from item where id < 10), 'y', 'n') as g from referral r order by r.id", mode: 'exact' },
  // GROUP BY a constant that is not an integer (a position) is one group, none over no rows.
  { sql: 'select max(id), count(*) from item group by 1.1', mode: 'exact' },
  { sql: 'select max(id), count(*) from item where 1 = 0 group by 1.1', mode: 'exact' },
  // Adjacent string literals are one literal.
  { sql: "select 'a' 'b', _utf8mb4'x' 'y', 'it''s' \" ok\"", mode: 'exact' },
  { sql: "select id from item where gci = 'ali' 'ce' order by id", mode: 'exact' },
  { sql: "select id, concat(bin, 'a' 'b') from item where id < 9 order by id", mode: 'exact' },
];

async function answer(conn: mysql.Connection, sql: string): Promise<{ rows: unknown[][]; types: string[] } | { error: string }> {
  try {
    const [rows, fields] = await conn.query({ sql, rowsAsArray: true });
    return { rows: rows as unknown[][], types: (fields as mysql.FieldPacket[]).map((f) => `${f.columnType}/${f.decimals}`) };
  } catch (e) {
    return { error: `${(e as { errno?: number }).errno} ${(e as Error).message}` };
  }
}

/** Strings the gateway cannot compare exactly: MariaDB answers, the gateway refuses (1235), never guesses. */
const REFUSED = [
  // UPPER/LOWER beyond ASCII: MariaDB maps case by its collation's own tables ('ü' is one, 'ﬁ', 'İ', 'Σ' are not alike).
  "select upper(max(gci)) from item where bin = 'über'",
  "select grp, lower(min(uci)) from item where bin = 'Åsa' group by grp",
  // A DOUBLE MariaDB writes otherwise in CONCAT than as a column ('0.00000000005' there, '5e-11' here).
  'select concat(max(price) / 1e12) from item',
  // ROUND of a DATETIME is a DATETIME in MariaDB.
  'select round(max(created_at)) from item',
  // WITH ROLLUP across shards: the gateway dropped the super-aggregate rows.
  'select grp, count(*) from item group by grp with rollup',
  'select * from (select grp, sum(price) s from item group by grp with rollup) t',
  // A GROUP BY name that is an alias and maybe a column, over a join across shards.
  'select i.grp % 2 as grp, count(*) from item i join referral r on r.referrer_id = i.id group by grp',
  // An expression over aggregates that is a character string: no collation key at the gateway.
  "select grp from item group by grp order by concat(max(gci), '')",
  // A position over * naming a character string column: no collation key could be pushed.
  'select * from item order by 2',
  'select lat from item union select gci from item',
  // A literal is in the connection's collation (this client's utf8mb4_unicode_ci), its key too;
  // MariaDB compares it in the column's (utf8mb4_general_ci), which its part's shard cannot know.
  "select size from item union select 'large' order by 1",
  'select 1 union select lat from item',
  'select max(gci) from item union select lat from item where id = 3',
  'select gci from item intersect select gci from item where id > 20',
  'select grp from item except select grp from item where id > 20',
  // MariaDB converts a divided or averaged DECIMAL from its unrounded value (3.475000000).
  'select avg(price) from item union all select max(gci) from item',
  'select max(grp) / 7 from item union all select max(price) * 1.00000 from item',
  // A value sent from one side of a join to the other's shard as a literal would change its
  // type (a string's collation, a date, a double); strings and dates are not summed.
  'select concat(i.gci, r.email) as c from item i join referral r on r.referrer_id = i.grp',
  'select i.created_at + r.id as x from item i join referral r on r.referrer_id = i.grp',
  'select sum(i.gci) from item i join referral r on r.referrer_id = i.grp',
  'select avg(i.created_at) from item i join referral r on r.referrer_id = i.grp',
  // MariaDB orders an ENUM by member index, which the gateway does not know.
  'select id, size from item order by size, id',
  'select size, count(*) from item group by size order by size',
  'select grp, max(size) as m from item group by grp order by m',
  // A string compared with an integer vindex column may equal rows on several shards (' 7' and
  // '7abc' are 7 to MariaDB): a query planned whole for one shard is refused rather than summed up.
  // A left string bound into the right shard's WHERE as a literal would compare in the
  // connection's collation, not utf8mb4_bin's ('alice' = 'ALICE' there).
  "select i.id, r.id from item i join referral r on r.referrer_id = i.grp where i.bin = 'ALICE' or r.email is null",
  "select count(*), max(price) from item where id = ' 7'",
  "select price from item where id = '7abc' order by price limit 1",
  // A DATETIME compared with a string that is not a datetime: MariaDB makes it a zero date.
  "select grp, max(created_at) as m from item group by grp having m > 'Emile'",
  "select count(*) from item having min(created_at) > 'u0@example.com'",
  // Two strings compared at the gateway: their collation is not known there (random differential, seed 20261205).
  "select grp, max(gci) as m from item group by grp having m > 'b'",
  "select count(*) from item group by grp having min(bin) >= 'Alice'",
  // `x IN (subquery)` in the select list says nothing about x: not routed by it (seed 11 #17606).
  'select l.order_id, l.line_no in (select id from item where id > 1) from line l where l.line_no = 1',
  // A `*` gives the gateway's DISTINCT no collation keys ('ab' and 'AB' of a _bin column are two rows).
  'select distinct * from (select bin from item) t',
  // avg() in an expression, grouped, ordered, with a DISTINCT aggregate outside the ORDER BY:
  // MariaDB takes avg's rounded or unrounded value depending on its plan (seed 54 #7800).
  'select sum(distinct id), avg(price) * count(*) from item group by grp order by coalesce(sum(id), 0), grp',
  // … and grouped with an ORDER BY other than the GROUP BY's columns: grouping along an index and
  // then sorting the groups uses the rounded value, grouping in a temporary table the exact one (seed 55 #3564).
  'select grp, avg(price) * count(*) from item group by grp order by sum(id), grp',
  'select grp, round(avg(price), 6) from item group by grp order by grp + 0',
  // … and so over a subquery the gateway runs first, even grouped on the shards: the statement
  // they run has the subquery's values in its place, and MariaDB may plan it otherwise (seed 116 #2020).
  'select id, avg(price) * count(*) from item where size in (select line_no from line) group by id order by sum(price), id',
  // A scalar subquery bound as a literal inside an expression would change the expression's type
  // when it is NULL (refused when it runs: a bare NULL has no type).
  'select r.id, coalesce((select max(price) from item where id > 1000), r.id) as c from referral r',
  'select id, price - (select max(price) from item where id > 1000) as d from item',
  // GROUP_CONCAT's text read as a number: MariaDB converts a long one by its own rules (seed 31 #20269).
  'select grp, count(*) from item group by grp having group_concat(hex(gci) order by hex(gci)) <> 59',
  // GROUP_CONCAT(DISTINCT) of strings: which of 'alice' and 'Alice' stays needs the collation.
  'select grp, group_concat(distinct gci order by id) from item group by grp',
  // The joined text would be sorted without its collation's keys.
  'select grp from item group by grp order by group_concat(gci order by id)',
];

describe('gateway-side comparison and NULL logic vs one MariaDB', () => {
  it('refuses what it cannot answer exactly: string comparisons, WITH ROLLUP, an alias-or-column GROUP BY over a join', async () => {
    for (const sql of REFUSED) {
      expect('error' in (await answer(ref, sql)), sql).toBe(false);
      expect(await answer(sub, sql), sql).toMatchObject({ error: expect.stringMatching(/^1235 /) });
    }
  });

  it('names join columns computed over both sides as MariaDB does', async () => {
    const names = async (conn: mysql.Connection, sql: string) => ((await conn.query({ sql, rowsAsArray: true }))[1] as mysql.FieldPacket[]).map((f) => f.name);
    for (const sql of [
      'select i.grp+r.id, i.price * r.id, r.id - i.grp as d from item i join referral r on r.referrer_id = i.grp',
      'select sum(i.price), avg(i.grp), max(i.id * r.id) from item i join referral r on r.referrer_id = i.grp',
      'select i.id, r.id from item i join referral r on r.referrer_id = i.grp order by i.id * r.id',
    ]) {
      expect(await names(sub, sql), sql).toEqual(await names(ref, sql));
    }
  });

  it('reports string columns in the collation the connection asked for, as MariaDB does', async () => {
    const sql = 'select gci, bin, raw, lat, size, id, concat(gci, id) from item where id < 3';
    const seen = async (conn: mysql.Connection) => {
      const out: string[] = [];
      for (const step of ['', 'set names utf8mb4 collate utf8mb4_unicode_ci', 'set names utf8mb4 collate utf8mb4_bin', 'set names utf8mb4', 'set character_set_results = utf8mb4']) {
        if (step !== '') await conn.query(step);
        const [, text] = await conn.query(sql);
        const [, binary] = await conn.execute(sql);
        out.push(`${step}: ${(text as mysql.FieldPacket[]).map((f) => f.characterSet).join('/')} ${(binary as mysql.FieldPacket[]).map((f) => f.characterSet).join('/')}`);
      }
      return out;
    };
    for (const charset of ['UTF8MB4_GENERAL_CI', 'UTF8MB4_UNICODE_CI', 'UTF8MB4_BIN', 'UTF8MB4_0900_AI_CI']) {
      const r = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), charset });
      const g = await gw.connect({ database: 'commerce', charset });
      try {
        expect(await seen(g), charset).toEqual(await seen(r));
      } finally {
        await Promise.all([r.end(), g.end()]);
      }
    }
  });

  it('locks the rows a join across shards reads FOR UPDATE, on each side, until COMMIT', async () => {
    const sql = 'select i.id, r.id from item i join referral r on r.referrer_id = i.grp where i.id < 12 order by i.id, r.id for update';
    const a = await gw.connect({ database: 'commerce' });
    const b = await gw.connect({ database: 'commerce' });
    try {
      await a.query('begin');
      expect(await answer(a, sql)).toEqual(await answer(ref, sql));
      // i.id 1 (grp 1) and referral 2 (referrer 1) were read by the join: both locked.
      for (const locked of ['select id from item where id = 1 for update nowait', 'select id from referral where id = 2 for update nowait']) {
        expect(await answer(b, locked), locked).toMatchObject({ error: expect.stringMatching(/^1205 /) });
      }
      await a.query('commit');
      expect(await answer(b, 'select id from referral where id = 2 for update nowait')).toMatchObject({ rows: [['2']] });
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('GROUP_CONCAT follows the session group_concat_max_len, and refuses a result it would cut', async () => {
    const g = await gw.connect({ database: 'commerce' });
    const r = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
    try {
      for (const c of [g, r]) await c.query('set group_concat_max_len = 100');
      // Under 512 bytes the column is a VARCHAR, as on one MariaDB.
      const sql = 'select grp, group_concat(id order by id) from item group by grp';
      const want = await answer(r, sql);
      expect(await answer(g, sql)).toEqual(want);
      expect(await answer(g, 'select group_concat(gci order by id) from item')).toMatchObject({ error: expect.stringMatching(/^1235 .*group_concat_max_len/) });
    } finally {
      await Promise.all([g.end(), r.end()]);
    }
  });

  it('keeps the raw bytes of binary string literals as mysqldump and MariaDB Connector/J write them, and any literal after an introducer', async () => {
    // Every byte value, escaped as mysqldump (without --hex-blob) and Connector/J's text protocol
    // escape a byte[]: the statement is not UTF-8, which the gateway refused with 1300, and
    // `_binary 'x'` / `_binary X'FF'` were 1064 (the introducer met a bind var).
    const escaped = (bytes: number[]) => {
      const out: number[] = [];
      for (const b of bytes) {
        const e = ({ 0x00: '0', 0x0a: 'n', 0x0d: 'r', 0x5c: '\\', 0x27: "'", 0x22: '"', 0x1a: 'Z' } as Record<number, string>)[b];
        if (e === undefined) out.push(b);
        else out.push(0x5c, e.charCodeAt(0));
      }
      return Buffer.from(out);
    };
    const parts: Buffer[] = [Buffer.from('insert into item (id, raw) values ')];
    for (let k = 0; k < 13; k++) {
      const bytes = Array.from({ length: 20 }, (_, j) => (k * 20 + j) % 256);
      parts.push(Buffer.from(`${k > 0 ? ', ' : ''}(${1001 + k}, _binary${k % 2 === 0 ? '' : ' '}'`), escaped(bytes), Buffer.from("')"));
    }
    parts.push(Buffer.from(`;
insert into item (id, raw) values (1020, _binary X'00FF'), (1021, _binary 0x41), (1022, _binary 'ab');
select id, hex(raw) from item where id > 1000 order by id;
select hex(_binary X'0100FF'), hex(_binary 'ab'), _binary'\\Z' = 0x5a;
select id from item where raw = _binary'`), escaped([0xff, 0x00, 0x27]), Buffer.from(`' or raw = _binary X'00FF' order by id;
delete from item where id > 1000;
`));
    const script = Buffer.concat(parts);
    expect(Buffer.from(script.toString('utf8')).equals(script)).toBe(false);
    const cli = (port: number, user: string, password: string) =>
      new Promise<string>((resolve, reject) => {
        const child = execFile('mariadb', ['--binary-mode', '--batch', '--skip-column-names', '--skip-ssl', '-h', '127.0.0.1', '-P', String(port), `-u${user}`, `--password=${password}`, 'commerce'], { encoding: 'buffer' }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}: ${stderr.toString()}`));
          else resolve(stdout.toString('latin1'));
        });
        child.stdin!.end(script);
      });
    const o = reference.shard('reference').connectionOptions();
    const want = await cli(o.port, o.user, o.password);
    expect(want.split('\n').length).toBeGreaterThan(17);
    expect(await cli(gw.port, USER, PASSWORD)).toBe(want);
  });

  it('sets a session variable from an expression over its own value, as MariaDB Connector/J does at connect', async () => {
    const g = await gw.connect({ database: 'commerce' });
    const r = await mysql.createConnection({ ...reference.shard('reference').connectionOptions(), supportBigNumbers: true, bigNumberStrings: true });
    const seen = async (c: mysql.Connection) => {
      const out: unknown[] = [];
      // A known start: mysql2 asks MariaDB for IGNORE_SPACE at connect (a capability flag).
      await c.query("set sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO'");
      for (const step of ["set sql_mode = concat(@@sql_mode, ',NO_ZERO_DATE')", "set @@session.sql_mode = replace(@@sql_mode, 'STRICT_TRANS_TABLES', 'STRICT_ALL_TABLES')", 'set session div_precision_increment = 2 + 3']) {
        await c.query(step);
        out.push(await answer(c, 'select @@sql_mode, @@div_precision_increment'));
      }
      out.push(await answer(c, 'select 1 / 3'));
      return out;
    };
    try {
      expect(await seen(g)).toEqual(await seen(r));
    } finally {
      await Promise.all([g.end(), r.end()]);
    }
  });

  it('answers VERSION(), USER(), CURRENT_USER() and CONNECTION_ID() with the session\'s values wherever a statement calls them', async () => {
    // Beside a column or a table, these went to a shard, which answered with its own MariaDB
    // version and the gateway's shard account: Django read MariaDB 10.11 from
    // `SELECT VERSION(), @@sql_mode, …` and sent INSERT … RETURNING to a gateway announcing MySQL 8.
    const CALLS = 'version(), user(), current_user(), connection_id()';
    const g = await gw.connect({ database: 'commerce', supportBigNumbers: true, bigNumberStrings: true });
    try {
      const alone = await answer(g, `select ${CALLS}`);
      expect(alone).toMatchObject({ rows: [[(await answer(g, 'select @@version') as { rows: unknown[][] }).rows[0]![0], expect.stringMatching(/^app@/), 'app@%', expect.any(Number)]] });
      const named = async (conn: mysql.Connection, sql: string, params?: (string | number)[]) => {
        const [rows, fields] = params ? await conn.execute({ sql, rowsAsArray: true }, params as mysql.ExecuteValues) : await conn.query({ sql, rowsAsArray: true });
        return { names: (fields as mysql.FieldPacket[]).map((f) => f.name), rows: (rows as unknown[][]).map((r) => r.slice(0, 4).map(String)) };
      };
      const want = (alone as { rows: unknown[][] }).rows[0]!.map(String);
      for (const [sql, params] of [
        [`select ${CALLS}, 1`],
        [`select ${CALLS}, gci from item where id = 1`],
        [`select ${CALLS}, id from item order by id limit 2`],
        [`select ${CALLS}, id from item where id = ?`, [2]],
        [`select concat(version(), '/', user()) as v from item where id = 3`],
      ] as [string, (string | number)[]?][]) {
        const got = await named(g, sql, params);
        expect(got.names, sql).toEqual((await named(ref, sql, params)).names);
        if (sql.includes('concat')) expect(got.rows, sql).toEqual([[`${want[0]}/${want[1]}`]]);
        else for (const row of got.rows) expect(row, sql).toEqual(want);
      }
    } finally {
      await g.end();
    }
  });

  it('answers @@last_insert_id, @@identity and @@autocommit beside columns with the session\'s values, as MariaDB does', async () => {
    // Sent to a shard, these were the pooled shard connection's: a new session read another
    // client's last insert id (5 below), and @@autocommit read 1 after SET autocommit = 0.
    const STEPS = [
      'select @@last_insert_id, @@identity, last_insert_id(), id from item where id = 1',
      'select last_insert_id(9)',
      'select @@session.last_insert_id, @@identity + 1 as n, id from item order by id limit 2',
      'set autocommit = 0',
      'select @@autocommit, @@SESSION.autocommit + 0 as a, id from item where id = 2',
      'commit',
      'set autocommit = 1',
      'select id, @@autocommit from item where id in (1, 2, 3) order by id',
    ];
    const seen = async (other: mysql.Connection, fresh: () => Promise<mysql.Connection>) => {
      await other.query('select last_insert_id(5), id from item where id = 1');
      const c = await fresh();
      try {
        const out: unknown[] = [];
        for (const sql of STEPS) {
          const [rows, fields] = await c.query({ sql, rowsAsArray: true });
          // Names and types as MariaDB's: a client decodes a BIGINT otherwise than an INT.
          if (Array.isArray(fields)) out.push(sql, (fields as mysql.FieldPacket[]).map((f) => [f.name, f.columnType, (f.flags as number) & 32]), (rows as unknown[][]).map((r) => r.map(String)));
        }
        return out;
      } finally {
        await c.end();
      }
    };
    const g = await gw.connect({ database: 'commerce' });
    try {
      const want = await seen(ref, () => mysql.createConnection(reference.shard('reference').connectionOptions()));
      expect(await seen(g, () => gw.connect({ database: 'commerce' }))).toEqual(want);
      // The gateway's own version, as VERSION() and the handshake give it, and the previous
      // statement's counts refused where they would be a shard connection's.
      const [[v]] = (await g.query({ sql: 'select @@version = version(), @@global.version = version(), id from item where id = 1', rowsAsArray: true })) as unknown as [unknown[][]];
      expect(v.map(String)).toEqual(['1', '1', '1']);
      for (const v of ['@@warning_count', '@@session.error_count', '@@sql_select_limit', '@@tx_read_only', '@@transaction_read_only']) {
        expect(await answer(g, `select ${v}, id from item where id = 1`), v).toMatchObject({ error: expect.stringMatching(/^1235 /) });
      }
    } finally {
      await g.end();
    }
  });

  it('runs NOW() and UNIX_TIMESTAMP() at the timestamp the session SET, as MariaDB does (a binlog replay sets it per event)', async () => {
    // The SET was accepted and not passed on: every shard statement read the shards' clock.
    const STEPS = [
      'set timestamp = 1000000000',
      'select now(), unix_timestamp(), current_timestamp + 0, id from item where id = 1',
      'select @@timestamp',
      'select id, now() from item where id in (1, 2, 3, 4) order by id',
      'set timestamp = 1234567890.5',
      'select unix_timestamp(), now(6), id from item where id = 2',
      'set timestamp = default',
      'select now() > \'2020-01-01\', @@timestamp > 1600000000, id from item where id = 3',
    ];
    const seen = async (c: mysql.Connection) => {
      const out: unknown[] = [];
      for (const sql of STEPS) {
        const [rows, fields] = await c.query({ sql, rowsAsArray: true, timezone: 'Z', dateStrings: true } as mysql.QueryOptions);
        if (Array.isArray(fields)) out.push(sql, (rows as unknown[][]).map((r) => r.map(String)));
      }
      return out;
    };
    const g = await gw.connect({ database: 'commerce' });
    const r = await mysql.createConnection(reference.shard('reference').connectionOptions());
    try {
      await Promise.all([g, r].map((c) => c.query("set time_zone = '+00:00'")));
      expect(await seen(g)).toEqual(await seen(r));
    } finally {
      await Promise.all([g.end(), r.end()]);
    }
  });

  it("shows the client's own grants, not the gateway's shard account's", async () => {
    // SHOW GRANTS went to a shard, which listed the grants of the account the gateway connects as.
    for (const sql of ['show grants', 'show grants for current_user', 'show grants for current_user()', `show grants for '${USER}'@'%'`, `SHOW GRANTS FOR ${USER}`]) {
      const [rows, fields] = await sub.query({ sql, rowsAsArray: true });
      expect({ names: (fields as mysql.FieldPacket[]).map((f) => f.name), rows }, sql).toEqual({ names: [`Grants for ${USER}@%`], rows: [[`GRANT ALL PRIVILEGES ON *.* TO \`${USER}\`@\`%\``]] });
    }
    expect(await answer(sub, "show grants for 'root'@'localhost'")).toMatchObject({ error: expect.stringMatching(/^1235 /) });
  });

  it('lists tables and databases as MariaDB does, FULL and LIKE included, and refuses a WHERE it cannot apply', async () => {
    // SHOW FULL TABLES lost its Table_type column (SQLAlchemy's inspector failed on it), and a
    // WHERE on a SHOW the gateway answers itself was ignored: every table came back.
    const named = async (conn: mysql.Connection, sql: string) => {
      const [rows, fields] = await conn.query({ sql, rowsAsArray: true });
      return { names: (fields as mysql.FieldPacket[]).map((f) => f.name), rows };
    };
    for (const sql of ['show tables', 'show full tables', "show tables like 'i%'", "show full tables like '%e%'", 'show full tables from commerce', "show databases like 'commerce'"]) {
      expect(await named(sub, sql), sql).toEqual(await named(ref, sql));
    }
    for (const sql of ["show full tables where Table_type = 'VIEW'", "show tables where Tables_in_commerce = 'item'", "show databases where `Database` = 'commerce'"]) {
      expect(await answer(sub, sql), sql).toMatchObject({ error: expect.stringMatching(/^1235 /) });
    }
  });

  it('ends a lock wait and a long statement after the session timeouts the client set, as MariaDB does', async () => {
    // The gateway used to accept these SETs and run on with the shards' defaults: a client that
    // set innodb_lock_wait_timeout = 1 waited 50 s for a lock, and @@ read back 50.
    const SETS = ['set innodb_lock_wait_timeout = 1', 'set lock_wait_timeout = 7', 'set max_statement_time = 30'];
    const READ_BACK = 'select @@innodb_lock_wait_timeout, @@session.lock_wait_timeout, @@max_statement_time';
    const seen = async (holder: mysql.Connection, waiter: mysql.Connection) => {
      for (const step of SETS) await waiter.query(step);
      const out: unknown[] = [await answer(waiter, READ_BACK)];
      await holder.query('begin');
      await holder.query('select id from item where id = 1 for update');
      try {
        out.push(await answer(waiter, 'update item set grp = grp where id = 1'));
        out.push(await answer(waiter, 'select id from item where id = 1 for update'));
      } finally {
        await holder.query('rollback');
      }
      await waiter.query('set max_statement_time = 0.2');
      out.push(await answer(waiter, 'select sleep(2)'));
      out.push(await answer(waiter, READ_BACK));
      for (const step of SETS) await waiter.query(step.replace(/= .*/, '= default'));
      out.push(await answer(waiter, 'select id from item where id = 1 for update'));
      // Errors compare by number only: the gateway names the shard that raised them.
      return out.map((a) => (a !== null && typeof a === 'object' && 'error' in a ? (a as { error: string }).error.split(' ')[0] : a));
    };
    const [g1, g2] = [await gw.connect({ database: 'commerce' }), await gw.connect({ database: 'commerce' })];
    const referenceOptions = { ...reference.shard('reference').connectionOptions(), supportBigNumbers: true, bigNumberStrings: true };
    const [r1, r2] = [await mysql.createConnection(referenceOptions), await mysql.createConnection(referenceOptions)];
    try {
      const want = await seen(r1, r2);
      expect(want.slice(1, 4)).toEqual(['1205', '1205', '1969']);
      expect(await seen(g1, g2)).toEqual(want);
    } finally {
      await Promise.all([g1, g2, r1, r2].map((c) => c.end()));
    }
  });

  it('compares a pulled-out fractional value with an integer key exactly, as MariaDB does without the index (random differential, seed 8 #18886)', async () => {
    // MariaDB 10.11 itself answers `order_id IN (SELECT price FROM item WHERE price IN (37.01))`
    // by looking up the propagated literal rounded (order 37), and `USE INDEX ()` or a price that
    // comes from a row (not a constant) compares exactly: its answer depends on the plan. The
    // gateway sends the pulled-out value as CAST(37.01 AS DECIMAL(4,2)), which compares exactly:
    // the answer by the query's meaning, the one MariaDB gives without the index.
    const pairs: [string, string][] = [
      [
        'select l.order_id, l.line_no from line l where l.order_id in (select price from item where price in (37.01))',
        'select l.order_id, l.line_no from line l use index () where l.order_id in (select price from item where price in (37.01))',
      ],
      [
        'select count(*), sum(l.line_no) from line l where l.order_id in (select price from item where id in (1, 2))',
        'select count(*), sum(l.line_no) from line l where l.order_id in (select price from item where id in (1, 2))',
      ],
      [
        'select count(*) from line l where l.order_id not in (select price from item where price = 37.01)',
        'select count(*) from line l use index () where l.order_id not in (select price from item where price = 37.01)',
      ],
    ];
    for (const workload of ['oltp', 'olap']) {
      await sub.query(`set workload = '${workload}'`);
      for (const [sql, referenceSql] of pairs) {
        const sorted = (a: Awaited<ReturnType<typeof answer>>) => ('error' in a ? a : { ...a, rows: a.rows.map((r) => JSON.stringify(r)).sort() });
        const want = sorted(await answer(ref, referenceSql));
        expect('error' in want, referenceSql).toBe(false);
        expect(sorted(await answer(sub, sql)), `${workload}: ${sql}`).toEqual(want);
      }
    }
  });

  for (const workload of ['oltp', 'olap']) {
    it(`${workload}: ${CASES.length} queries answer as one MariaDB does`, async () => {
      await sub.query(`set workload = '${workload}'`);
      const wrong: string[] = [];
      for (const c of CASES) {
        const want = await answer(ref, c.sql);
        const got = await answer(sub, c.sql);
        const norm = (a: typeof want) => ('error' in a ? a : { types: a.types, rows: normalize(a.rows.map((r) => r.map((x) => (Buffer.isBuffer(x) ? `0x${x.toString('hex')}` : x))), c.mode, c.fold ?? ((s) => s)) });
        if (JSON.stringify(norm(want)) !== JSON.stringify(norm(got))) wrong.push(`${c.sql}\n  want ${JSON.stringify(want)}\n  got  ${JSON.stringify(got)}`);
      }
      expect(wrong).toEqual([]);
    });
  }
});
