/**
 * The schema the random write differential writes to: a customer table sharded by a hash of its id
 * (ids from a sequence, its email kept in a consistent_lookup_unique vindex), orders sharded by
 * customer_id (primary key (customer_id, id), so a key is unique on one shard as on one server),
 * a reference table (product, a copy on every shard) and an unsharded table (main.warehouse).
 * item (sharded by a hash of its id) owns two plain (non-consistent) lookups, written in the
 * session's transaction: a non-unique lookup_hash on tag (table main.tag_lkp, unsharded) and a
 * lookup_unique on code whose table (code_lkp) is itself sharded, by a unicode_loose_xxhash of
 * code, so values equal under the collation (case, trailing spaces) land on one shard.
 * Rows start few, with strings that are equal under utf8mb4_general_ci but differ as bytes.
 */
import { seededRandom } from '../race/seeded-random.js';
import { sqlLiteral } from './commerce-data-generator.js';

/** A table the write differential compares whole after each statement that names it. */
export interface RandomWriteTable {
  /** As written in statements: `customer`, or `main.warehouse` for the unsharded keyspace. */
  name: string;
  /** ORDER BY of the full-table read (the primary key). */
  primaryKey: string[];
  /** Where its rows live: one shard by a vindex, every shard (reference), or the unsharded keyspace. */
  placement: 'sharded' | 'reference' | 'unsharded';
}

/** A lookup vindex the differential checks against its owner table. */
export interface RandomWriteLookup {
  owner: string;
  column: string;
  /** The lookup table as the gateway names it (`main.email_lkp`), and its `from` column. */
  table: string;
  from: string;
  /**
   * The lookup table's column holding the owner row's id (lookup_hash: `to` is the primary vindex
   * value), compared with the owner's `id`; absent when `to` is a keyspace id.
   */
  ownerId?: string;
  /**
   * Consistent lookups leave orphan rows behind on purpose (a lookup row written in the pre
   * transaction stays when the session's transaction rolls back): every owner value must have its
   * row, extra rows are allowed.
   */
  consistent: boolean;
}

export interface RandomWriteFixture {
  vschema: { keyspaces: Record<string, unknown> };
  /** CREATE TABLE statements for the gateway's keyspaces (apply to every shard of each). */
  ddl: { commerce: string; main: string };
  /** The same tables on one plain MariaDB: `commerce` (AUTO_INCREMENT from the sequence's start) and `main`. */
  referenceDdl: { commerce: string; main: string };
  /** Rows to load, valid through the gateway (default database `commerce`) and on the reference. */
  inserts: string[];
  tables: RandomWriteTable[];
  lookups: RandomWriteLookup[];
  /** The first id the sequence (and the reference's AUTO_INCREMENT) hands out; explicit ids stay below it. */
  sequenceStart: number;
}

const SEQUENCE_START = 1000;

const CUSTOMER = `CREATE TABLE customer (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(40) NOT NULL,
  email VARCHAR(64) NULL,
  city VARCHAR(32) NULL,
  balance DECIMAL(12,2) NULL,
  UNIQUE KEY customer_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const ORDERS = `CREATE TABLE orders (
  customer_id BIGINT NOT NULL,
  id INT NOT NULL,
  product_id INT NULL,
  status VARCHAR(16) NOT NULL,
  total DECIMAL(12,2) NULL,
  note VARCHAR(32) NULL,
  PRIMARY KEY (customer_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const PRODUCT = `CREATE TABLE product (
  id INT NOT NULL PRIMARY KEY,
  sku VARCHAR(16) NOT NULL,
  price DECIMAL(10,2) NULL,
  stock INT NOT NULL DEFAULT 0,
  UNIQUE KEY product_sku (sku)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const WAREHOUSE = `CREATE TABLE warehouse (
  id INT NOT NULL PRIMARY KEY,
  name VARCHAR(32) NOT NULL,
  stock INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const EMAIL_LKP = `CREATE TABLE email_lkp (
  email VARCHAR(64) NOT NULL PRIMARY KEY,
  keyspace_id VARBINARY(16) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const ITEM = `CREATE TABLE item (
  id BIGINT NOT NULL PRIMARY KEY,
  tag VARCHAR(16) NULL,
  code VARCHAR(16) NULL,
  qty INT NOT NULL DEFAULT 0,
  UNIQUE KEY item_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const TAG_LKP = `CREATE TABLE tag_lkp (
  tag VARCHAR(16) NOT NULL,
  item_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (tag, item_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const CODE_LKP = `CREATE TABLE code_lkp (
  code VARCHAR(16) NOT NULL PRIMARY KEY,
  keyspace_id VARBINARY(16) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const CUSTOMER_SEQ = `CREATE TABLE customer_seq (id INT NOT NULL PRIMARY KEY, next_id BIGINT NOT NULL, cache BIGINT NOT NULL) ENGINE=InnoDB;
INSERT INTO customer_seq VALUES (0, ${SEQUENCE_START}, 10)`;

const VSCHEMA = {
  keyspaces: {
    commerce: {
      sharded: true,
      vindexes: {
        hash: { type: 'hash' },
        email_lkp: { type: 'consistent_lookup_unique', params: { table: 'main.email_lkp', from: 'email', to: 'keyspace_id' }, owner: 'customer' },
        tag_lkp: { type: 'lookup_hash', params: { table: 'main.tag_lkp', from: 'tag', to: 'item_id', ignore_nulls: 'true' }, owner: 'item' },
        code_lkp: { type: 'lookup_unique', params: { table: 'commerce.code_lkp', from: 'code', to: 'keyspace_id', ignore_nulls: 'true' }, owner: 'item' },
        loose: { type: 'unicode_loose_xxhash' },
      },
      tables: {
        customer: {
          column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'email', name: 'email_lkp' }],
          auto_increment: { column: 'id', sequence: 'main.customer_seq' },
        },
        orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
        product: { type: 'reference' },
        item: { column_vindexes: [{ column: 'id', name: 'hash' }, { column: 'tag', name: 'tag_lkp' }, { column: 'code', name: 'code_lkp' }] },
        code_lkp: { column_vindexes: [{ column: 'code', name: 'loose' }] },
      },
    },
    main: { sharded: false, tables: { customer_seq: { type: 'sequence' }, email_lkp: {}, tag_lkp: {}, warehouse: {} } },
  },
};

export const WRITE_NAMES = ['alice', 'Alice', 'alice ', 'bob', 'BOB', 'émile', 'Emile', "O'Brien"];
export const WRITE_CITIES = ['Oslo', 'oslo', 'OSLO ', 'Zürich', 'zurich', '', null];
export const WRITE_STATUSES = ['new', 'NEW', 'paid', 'Paid ', 'shipped', 'cancelled'];
export const WRITE_NOTES = ['gift', 'Gift ', 'rush', 'naïve', 'naive', '', null];
/** item.tag: a non-unique lookup value, with collation-equal variants (case, trailing space). */
export const WRITE_TAGS = ['red', 'Red', 'red ', 'blue', 'BLUE', 'green', null];

export function randomWriteFixture(seed = 1): RandomWriteFixture {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const customerIds = new Set<number>();
  while (customerIds.size < 16) customerIds.add(1 + int(60));
  const ids = [...customerIds].sort((a, b) => a - b);
  const customers = ids.map((id) => `(${id}, ${sqlLiteral(pick(WRITE_NAMES))}, ${random() < 0.2 ? 'NULL' : sqlLiteral(`c${id}@example.com`)}, ${sqlLiteral(pick(WRITE_CITIES))}, ${random() < 0.2 ? 'NULL' : `${int(2000) - 500}.${String(int(100)).padStart(2, '0')}`})`);
  const orders: string[] = [];
  for (let o = 1; o <= 30; o++) {
    orders.push(`(${pick(ids)}, ${o}, ${random() < 0.2 ? 'NULL' : 1 + int(8)}, ${sqlLiteral(pick(WRITE_STATUSES))}, ${random() < 0.1 ? 'NULL' : `${int(500)}.${String(int(100)).padStart(2, '0')}`}, ${sqlLiteral(pick(WRITE_NOTES))})`);
  }
  const products = Array.from({ length: 6 }, (_, i) => `(${i + 1}, 'SKU-${i + 1}', ${random() < 0.2 ? 'NULL' : `${1 + int(90)}.${String(int(100)).padStart(2, '0')}`}, ${int(20)})`);
  const itemIds = new Set<number>();
  while (itemIds.size < 12) itemIds.add(1 + int(30));
  const items = [...itemIds].sort((a, b) => a - b).map((id) => `(${id}, ${sqlLiteral(pick(WRITE_TAGS))}, ${random() < 0.2 ? 'NULL' : sqlLiteral(`${random() < 0.3 ? 'K' : 'k'}${id}`)}, ${int(10)})`);
  const warehouses = [1, 2, 3].map((id) => `(${id}, ${sqlLiteral(pick(['North', 'north ', 'South']))}, ${int(50)})`);
  return {
    vschema: VSCHEMA,
    ddl: { commerce: [CUSTOMER, ORDERS, PRODUCT, ITEM, CODE_LKP].join(';\n') + ';', main: [CUSTOMER_SEQ, EMAIL_LKP, TAG_LKP, WAREHOUSE].join(';\n') + ';' },
    referenceDdl: { commerce: [`${CUSTOMER} AUTO_INCREMENT=${SEQUENCE_START}`, ORDERS, PRODUCT, ITEM].join(';\n') + ';', main: WAREHOUSE + ';' },
    inserts: [
      `INSERT INTO customer (id, name, email, city, balance) VALUES ${customers.join(', ')}`,
      `INSERT INTO orders (customer_id, id, product_id, status, total, note) VALUES ${orders.join(', ')}`,
      `INSERT INTO product (id, sku, price, stock) VALUES ${products.join(', ')}`,
      `INSERT INTO main.warehouse (id, name, stock) VALUES ${warehouses.join(', ')}`,
      `INSERT INTO item (id, tag, code, qty) VALUES ${items.join(', ')}`,
    ],
    tables: [
      { name: 'customer', primaryKey: ['id'], placement: 'sharded' },
      { name: 'orders', primaryKey: ['customer_id', 'id'], placement: 'sharded' },
      { name: 'product', primaryKey: ['id'], placement: 'reference' },
      { name: 'main.warehouse', primaryKey: ['id'], placement: 'unsharded' },
      { name: 'item', primaryKey: ['id'], placement: 'sharded' },
    ],
    lookups: [
      { owner: 'customer', column: 'email', table: 'main.email_lkp', from: 'email', consistent: true },
      { owner: 'item', column: 'tag', table: 'main.tag_lkp', from: 'tag', ownerId: 'item_id', consistent: false },
      { owner: 'item', column: 'code', table: 'code_lkp', from: 'code', consistent: false },
    ],
    sequenceStart: SEQUENCE_START,
  };
}
