import { seededRandom } from '../race/seeded-random.js';

export interface CommerceDataOptions {
  seed: number;
  customers: number;
  ordersPerCustomer: number;
  /** Rows per INSERT statement (default 200). */
  batchSize?: number;
}

export interface CommerceData {
  /** CREATE TABLE statements for customers, orders and order_lines (apply on every shard and the reference). */
  schema: string;
  /** Multi-row INSERTs, customers first, then orders, then order_lines. */
  inserts: string[];
  rowCounts: { customers: number; orders: number; order_lines: number };
  /** Customer ids in generation order (decimal strings: some exceed Number.MAX_SAFE_INTEGER). */
  customerIds: string[];
}

const BIGINT_MAX = 9223372036854775807n;

// Names that collations treat differently: equal under utf8mb4_general_ci ('alice' = 'Alice' = 'Ålice'),
// different in binary order, and multi-byte in UTF-8.
const FIRST_NAMES = ['alice', 'Alice', 'Ålice', 'ALICE', 'Zoë', 'zoe', 'Bob', 'bob', 'Émile', 'Ørjan', 'Łukasz', '李雷', "O'Brien", 'Back\\slash', 'Ünal', 'José'];
const CITIES = ['Oslo', 'São Paulo', 'Zürich', 'kraków', 'Kraków', 'Reykjavík', null, 'NULL', ''];
const STATUSES = ['new', 'paid', 'shipped', 'cancelled', 'Returned'];
const SKUS = ['SKU-001', 'sku-001', 'SKU-ÄÖÜ', 'SKU-😀', 'SKU-9999', 'x'];

const SCHEMA = `
CREATE TABLE customers (
  id BIGINT NOT NULL PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  email VARCHAR(128) NULL,
  city VARCHAR(64) NULL,
  balance DECIMAL(20,4) NULL,
  credit_limit DECIMAL(65,30) NULL,
  created_at DATETIME(6) NOT NULL,
  birthday DATE NULL,
  tier ENUM('bronze','silver','gold') NULL,
  avatar VARBINARY(16) NULL,
  KEY customers_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE orders (
  id BIGINT NOT NULL PRIMARY KEY,
  customer_id BIGINT NOT NULL,
  status VARCHAR(16) NOT NULL,
  total DECIMAL(14,2) NULL,
  ordered_at DATETIME NOT NULL,
  shipped_at TIMESTAMP NULL DEFAULT NULL,
  note TEXT NULL,
  KEY orders_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE order_lines (
  order_id BIGINT NOT NULL,
  line_no INT NOT NULL,
  customer_id BIGINT NOT NULL,
  sku VARCHAR(32) NOT NULL,
  quantity INT NOT NULL,
  unit_price DECIMAL(10,2) NOT NULL,
  discount DOUBLE NULL,
  PRIMARY KEY (order_id, line_no),
  KEY order_lines_customer (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
`.trim();

/** MySQL string literal (backslashes and quotes escaped), or NULL. */
export function sqlLiteral(value: string | null): string {
  if (value === null) return 'NULL';
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;
}

/**
 * Deterministic customers/orders/order_lines data for differential tests: same seed, same SQL.
 * Includes NULLs (and the string 'NULL'), mixed-case and accented names, exact decimals, dates,
 * binary bytes, and ids up to 9223372036854775807.
 */
export function generateCommerceData(opts: CommerceDataOptions): CommerceData {
  const random = seededRandom(opts.seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => random() < p;
  const batchSize = Math.max(1, opts.batchSize ?? 200);

  const customerIds = uniqueBigIds(opts.customers, random);
  const customers: string[] = [];
  const orders: string[] = [];
  const lines: string[] = [];
  let nextOrderId = 1n;
  const baseDay = Date.UTC(2020, 0, 1);

  customerIds.forEach((id, i) => {
    const name = `${pick(FIRST_NAMES)}${chance(0.5) ? '' : ` ${i}`}`;
    const created = new Date(baseDay + int(4 * 365) * 86_400_000 + int(86_400) * 1000);
    const micros = String(int(1_000_000)).padStart(6, '0');
    customers.push(
      `(${id}, ${sqlLiteral(name)}, ${chance(0.2) ? 'NULL' : sqlLiteral(`user${i}@example.com`)}, ` +
        `${sqlLiteral(pick(CITIES))}, ${chance(0.15) ? 'NULL' : decimal(int(2_000_000_000) - 1_000_000_000, 4)}, ` +
        `${chance(0.3) ? 'NULL' : `${int(1000)}.${String(int(1e9)).padStart(9, '0')}${'0'.repeat(20)}1`}, ` +
        `'${sqlDateTime(created)}.${micros}', ${chance(0.25) ? 'NULL' : `'${sqlDate(new Date(Date.UTC(1940 + int(65), int(12), 1 + int(28))))}'`}, ` +
        `${chance(0.2) ? 'NULL' : sqlLiteral(pick(['bronze', 'silver', 'gold']))}, ` +
        `${chance(0.3) ? 'NULL' : `X'${randomHex(1 + int(16), random)}'`})`,
    );
    for (let o = 0; o < opts.ordersPerCustomer; o++) {
      const orderId = chance(0.02) ? BIGINT_MAX - nextOrderId : nextOrderId;
      nextOrderId++;
      const ordered = new Date(created.getTime() + int(365) * 86_400_000 + int(86_400) * 1000);
      const shipped = chance(0.4) ? 'NULL' : `'${sqlDateTime(new Date(ordered.getTime() + (1 + int(10)) * 86_400_000))}'`;
      const lineCount = int(4);
      let total = 0;
      for (let l = 1; l <= lineCount; l++) {
        const qty = 1 + int(5);
        const cents = 1 + int(100_000);
        total += qty * cents;
        lines.push(
          `(${orderId}, ${l}, ${id}, ${sqlLiteral(pick(SKUS))}, ${qty}, ${decimal(cents, 2)}, ${chance(0.5) ? 'NULL' : (int(1000) / 1000).toString()})`,
        );
      }
      orders.push(
        `(${orderId}, ${id}, ${sqlLiteral(pick(STATUSES))}, ${lineCount === 0 && chance(0.5) ? 'NULL' : decimal(total, 2)}, ` +
          `'${sqlDateTime(ordered)}', ${shipped}, ${sqlLiteral(chance(0.5) ? null : pick(['gift', 'Gift', 'GIFT ', 'NULL', 'rush\nnote', 'naïve']))})`,
      );
    }
  });

  return {
    schema: SCHEMA,
    inserts: [
      ...batches('customers', customers, batchSize),
      ...batches('orders', orders, batchSize),
      ...batches('order_lines', lines, batchSize),
    ],
    rowCounts: { customers: customers.length, orders: orders.length, order_lines: lines.length },
    customerIds: customerIds.map(String),
  };
}

function batches(table: string, tuples: readonly string[], size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < tuples.length; i += size) {
    out.push(`INSERT INTO ${table} VALUES\n${tuples.slice(i, i + size).join(',\n')}`);
  }
  return out;
}

/** Unique positive BIGINT ids: small ones, ones past 2^53, and 9223372036854775807 itself. */
function uniqueBigIds(count: number, random: () => number): bigint[] {
  const ids = new Set<bigint>();
  const out: bigint[] = [];
  const add = (id: bigint) => {
    if (out.length < count && id > 0n && id <= BIGINT_MAX && !ids.has(id)) {
      ids.add(id);
      out.push(id);
    }
  };
  add(BIGINT_MAX);
  add(2n ** 53n + 1n);
  while (out.length < count) {
    const r = random();
    if (r < 0.6) add(BigInt(1 + Math.floor(random() * count * 10)));
    else {
      // 63 random bits, assembled from 21-bit pieces so no float precision is lost.
      const hi = BigInt(Math.floor(random() * 2 ** 21));
      const mid = BigInt(Math.floor(random() * 2 ** 21));
      const lo = BigInt(Math.floor(random() * 2 ** 21));
      add((hi << 42n) | (mid << 21n) | lo);
    }
  }
  return out;
}

function decimal(units: number, scale: number): string {
  const negative = units < 0;
  const digits = String(Math.abs(units)).padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function randomHex(bytes: number, random: () => number): string {
  let hex = '';
  for (let i = 0; i < bytes; i++) hex += Math.floor(random() * 256).toString(16).padStart(2, '0');
  return hex;
}

function sqlDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function sqlDateTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
