/**
 * A small commerce schema for the random differential: three tables sharded by a hash vindex
 * (customer by id; orders and order_line by customer_id), a reference table (product, a copy on
 * every shard) and a table in an unsharded keyspace (main.warehouse). Its rows hold strings that
 * differ only by case, accents or trailing spaces (in utf8mb4_general_ci, utf8mb4_unicode_ci,
 * utf8mb4_bin, binary and latin1_swedish_ci columns), an ENUM, decimals, datetimes and NULLs.
 */
import { seededRandom } from '../race/seeded-random.js';
import { sqlLiteral } from './commerce-data-generator.js';
import type { RandomColumn, RandomSchema } from './random-query-schema.js';

export interface RandomCommerceFixture {
  /** Vitess-format vschema: keyspaces `commerce` (sharded) and `main` (unsharded). */
  vschema: { keyspaces: Record<string, unknown> };
  /** CREATE TABLE statements per keyspace (apply to every shard of it). */
  ddl: { commerce: string; main: string };
  /**
   * Statements that load the rows, valid through the gateway (default database `commerce`) and on
   * one plain MariaDB whose default database is `commerce` and which also has a database `main`.
   */
  inserts: string[];
  /** The tables, columns, join paths and literals the generator draws from. */
  schema: RandomSchema;
}

const COMMERCE_DDL = `
CREATE TABLE customer (
  id BIGINT NOT NULL PRIMARY KEY,
  name VARCHAR(40) NOT NULL,
  email VARCHAR(64) NULL,
  city VARCHAR(32) NULL,
  balance DECIMAL(12,2) NULL,
  created_at DATETIME NULL,
  nick VARCHAR(24) COLLATE utf8mb4_unicode_ci NULL,
  code VARCHAR(16) COLLATE utf8mb4_bin NULL,
  tag VARBINARY(16) NULL,
  label VARCHAR(16) CHARACTER SET latin1 COLLATE latin1_swedish_ci NULL,
  tier ENUM('gold', 'silver', 'bronze') NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE orders (
  id BIGINT NOT NULL PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  product_id INT NULL,
  warehouse_id INT NULL,
  status VARCHAR(16) NOT NULL,
  total DECIMAL(12,2) NULL,
  ordered_at DATETIME NOT NULL,
  note VARCHAR(32) NULL,
  KEY orders_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE order_line (
  order_id BIGINT NOT NULL,
  line_no INT NOT NULL,
  customer_id BIGINT NOT NULL,
  product_id INT NOT NULL,
  quantity INT NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no),
  KEY order_line_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE product (
  id INT NOT NULL PRIMARY KEY,
  sku VARCHAR(16) NOT NULL,
  title VARCHAR(40) NOT NULL,
  price DECIMAL(10,2) NULL,
  category VARCHAR(16) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
`.trim();

const MAIN_DDL = `
CREATE TABLE warehouse (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(32) NOT NULL,
  region VARCHAR(32) NULL,
  opened_at DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
`.trim();

const VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: { hash: { type: 'hash' } },
      tables: {
        customer: { column_vindexes: [{ column: 'id', name: 'hash' }] },
        orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
        order_line: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
        product: { type: 'reference' },
      },
    },
    main: { sharded: false, tables: { warehouse: {} } },
  },
};

// Equal under utf8mb4_general_ci (case, accents, PAD SPACE), different as bytes.
const NAMES = ['alice', 'Alice', 'alice ', 'ÅLICE', 'bob', 'BOB ', 'Bob', 'émile', 'Emile', 'zoë', 'Zoe', "O'Brien", 'o’brien'];
const CITIES = ['Oslo', 'oslo', 'OSLO ', 'São Paulo', 'Sao Paulo', 'Zürich', 'zurich', '', null];
const REGIONS = ['oslo', 'Sao Paulo ', 'ZÜRICH', null];
const STATUSES = ['new', 'NEW', 'paid', 'Paid ', 'shipped', 'cancelled'];
const NOTES = ['gift', 'Gift ', 'GIFT', 'rush', 'naïve', 'naive', '', null];
const TITLES = ['Widget', 'widget ', 'WIDGÉT', 'Gadget', 'gadget', 'Doohickey', 'Sprocket ', 'sprocket'];
const CATEGORIES = ['tools', 'Tools ', 'toys', null];
// Other collations: utf8mb4_unicode_ci ('ß' = 'ss' there, not under general_ci), utf8mb4_bin
// (case and accents differ, trailing spaces do not), binary (every byte counts), latin1_swedish_ci
// ('ü' = 'y', 'å' and 'ä' are letters of their own), and an ENUM (ordered by member index).
const NICKS = ['strasse', 'Straße', 'STRASSE ', 'ëve', 'Eve', 'eve ', 'zed', null];
const CODES = ['ab', 'AB', 'ab ', 'áb', 'b', 'B ', null];
const TAGS = ['x', 'X', 'x ', 'xy', '', null];
const LABELS = ['über', 'uber', 'yber', 'Yber ', 'åsa', 'asa', 'ärm', 'arm', null];
const TIERS = ['gold', 'silver', 'bronze', null];

export function randomCommerceFixture(seed = 1): RandomCommerceFixture {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => random() < p;
  const decimal = (maxUnits: number, negative: boolean) => {
    const units = int(maxUnits) - (negative ? Math.floor(maxUnits / 2) : 0);
    const abs = Math.abs(units);
    return `${units < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  };
  // A handful of distinct instants, so datetimes tie as often as they differ.
  const instants = Array.from({ length: 12 }, () => `'2024-${String(1 + int(12)).padStart(2, '0')}-${String(1 + int(28)).padStart(2, '0')} ${String(int(24)).padStart(2, '0')}:${pick(['00', '30'])}:00'`);
  const datetime = () => pick(instants);

  const warehouses = [1, 2, 3, 4].map((id) => [String(id), sqlLiteral(pick(['North', 'north ', 'South', 'Éast'])), sqlLiteral(pick(REGIONS)), chance(0.25) ? 'NULL' : datetime()]);
  const products = Array.from({ length: 12 }, (_, i) => [String(i + 1), sqlLiteral(`SKU-${i % 4}${i % 3 === 0 ? 'a' : 'A'}`), sqlLiteral(pick(TITLES)), chance(0.15) ? 'NULL' : decimal(5000, false), sqlLiteral(pick(CATEGORIES))]);
  const customerIds = new Set<number>();
  while (customerIds.size < 40) customerIds.add(1 + int(200));
  const customers = [...customerIds].map((id) => [
    String(id),
    sqlLiteral(pick(NAMES)),
    chance(0.25) ? 'NULL' : sqlLiteral(`u${id % 7}@example.com`),
    sqlLiteral(pick(CITIES)),
    chance(0.2) ? 'NULL' : chance(0.1) ? '0.00' : decimal(100000, true),
    chance(0.15) ? 'NULL' : datetime(),
    sqlLiteral(pick(NICKS)),
    sqlLiteral(pick(CODES)),
    sqlLiteral(pick(TAGS)),
    sqlLiteral(pick(LABELS)),
    sqlLiteral(pick(TIERS)),
  ]);
  const orders: string[][] = [];
  const lines: string[][] = [];
  const ids = [...customerIds];
  for (let o = 1; o <= 100; o++) {
    const customer = pick(ids);
    orders.push([
      String(o),
      String(customer),
      chance(0.15) ? 'NULL' : String(1 + int(13)),
      chance(0.2) ? 'NULL' : String(1 + int(5)),
      sqlLiteral(pick(STATUSES)),
      chance(0.1) ? 'NULL' : decimal(50000, false),
      datetime(),
      sqlLiteral(pick(NOTES)),
    ]);
    const n = int(4);
    for (let l = 1; l <= n; l++) {
      lines.push([String(o), String(l), String(customer), String(1 + int(12)), String(1 + int(5)), decimal(10000, false)]);
    }
  }

  // The vindex column's value is written, in half the rows, as an expression equal to it: the
  // gateway computes it to route the row, and a row it put on the wrong shard would be missed by
  // the queries that follow. Drawn from a generator of its own, so that the rows are the same as
  // before this was added for every seed.
  const shapes = seededRandom(seed + 0x9e3779b9);
  const vindexValue = (row: string[], index: number): string[] => {
    if (shapes() < 0.5) return row;
    const out = row.slice();
    out[index] = vindexExpression(BigInt(row[index]!), shapes);
    return out;
  };
  const insert = (table: string, columns: string, rows: string[][], vindexIndex = -1) =>
    `INSERT INTO ${table} (${columns}) VALUES ${rows.map((r) => `(${(vindexIndex < 0 ? r : vindexValue(r, vindexIndex)).join(', ')})`).join(', ')}`;
  const inserts = [
    insert('main.warehouse', 'id, name, region, opened_at', warehouses),
    insert('product', 'id, sku, title, price, category', products),
    insert('customer', 'id, name, email, city, balance, created_at, nick, code, tag, label, tier', customers, 0),
    insert('orders', 'id, customer_id, product_id, warehouse_id, status, total, ordered_at, note', orders, 1),
    insert('order_line', 'order_id, line_no, customer_id, product_id, quantity, price', lines, 2),
  ];

  const column = (name: string, kind: RandomColumn['kind'], nullable: boolean, rows: string[][], index: number, collation?: string): RandomColumn => ({
    name,
    kind,
    nullable,
    ...(collation === undefined ? {} : { collation }),
    values: [...new Set(rows.map((r) => r[index]).filter((v) => v !== 'NULL'))].slice(0, 16),
  });
  const schema: RandomSchema = {
    tables: [
      {
        name: 'customer',
        uniqueKey: ['id'],
        columns: [
          column('id', 'int', false, customers, 0),
          column('name', 'string', false, customers, 1),
          column('email', 'string', true, customers, 2),
          column('city', 'string', true, customers, 3),
          column('balance', 'decimal', true, customers, 4),
          column('created_at', 'datetime', true, customers, 5),
          column('nick', 'string', true, customers, 6, 'utf8mb4_unicode_ci'),
          column('code', 'string', true, customers, 7, 'utf8mb4_bin'),
          column('tag', 'string', true, customers, 8, 'binary'),
          column('label', 'string', true, customers, 9, 'latin1_swedish_ci'),
          column('tier', 'string', true, customers, 10, 'enum'),
        ],
      },
      {
        name: 'orders',
        uniqueKey: ['id'],
        columns: [
          column('id', 'int', false, orders, 0),
          column('customer_id', 'int', false, orders, 1),
          column('product_id', 'int', true, orders, 2),
          column('warehouse_id', 'int', true, orders, 3),
          column('status', 'string', false, orders, 4),
          column('total', 'decimal', true, orders, 5),
          column('ordered_at', 'datetime', false, orders, 6),
          column('note', 'string', true, orders, 7),
        ],
      },
      {
        name: 'order_line',
        uniqueKey: ['order_id', 'line_no'],
        columns: [
          column('order_id', 'int', false, lines, 0),
          column('line_no', 'int', false, lines, 1),
          column('customer_id', 'int', false, lines, 2),
          column('product_id', 'int', false, lines, 3),
          column('quantity', 'int', false, lines, 4),
          column('price', 'decimal', false, lines, 5),
        ],
      },
      {
        name: 'product',
        uniqueKey: ['id'],
        columns: [
          column('id', 'int', false, products, 0),
          column('sku', 'string', false, products, 1),
          column('title', 'string', false, products, 2),
          column('price', 'decimal', true, products, 3),
          column('category', 'string', true, products, 4),
        ],
      },
      {
        name: 'main.warehouse',
        uniqueKey: ['id'],
        columns: [
          column('id', 'int', false, warehouses, 0),
          column('name', 'string', false, warehouses, 1),
          column('region', 'string', true, warehouses, 2),
          column('opened_at', 'datetime', true, warehouses, 3),
        ],
      },
    ],
    joins: [
      { left: 'orders', leftColumn: 'customer_id', right: 'customer', rightColumn: 'id' },
      { left: 'order_line', leftColumn: 'customer_id', right: 'customer', rightColumn: 'id' },
      { left: 'order_line', leftColumn: 'order_id', right: 'orders', rightColumn: 'id' },
      { left: 'orders', leftColumn: 'product_id', right: 'product', rightColumn: 'id' },
      { left: 'order_line', leftColumn: 'product_id', right: 'product', rightColumn: 'id' },
      { left: 'orders', leftColumn: 'warehouse_id', right: 'main.warehouse', rightColumn: 'id' },
      { left: 'customer', leftColumn: 'city', right: 'main.warehouse', rightColumn: 'region' },
      { left: 'customer', leftColumn: 'name', right: 'product', rightColumn: 'title' },
      { left: 'orders', leftColumn: 'status', right: 'orders', rightColumn: 'note' },
      { left: 'orders', leftColumn: 'id', right: 'customer', rightColumn: 'id' },
    ],
  };
  return { vschema: VSCHEMA, ddl: { commerce: COMMERCE_DDL, main: MAIN_DDL }, inserts, schema };
}

/** An expression MariaDB computes as `n` (an integer, a DOUBLE, a DECIMAL quotient or a string). */
function vindexExpression(n: bigint, random: () => number): string {
  const k = BigInt(1 + Math.floor(random() * 9));
  const forms = [
    `${n - k} + ${k}`,
    `'${n}' + 0`,
    `${2n * n} / 2`,
    `concat('${n}')`,
    `-(${-n})`,
    `coalesce(NULL, ${n} * 1)`,
    `'${2n * n}' / '2'`,
    `if(${k} > 0, ${n}, 0)`,
  ];
  return forms[Math.floor(random() * forms.length)]!;
}
