/**
 * The ORMs and query builders a Node user brings, pointed at a gateway whose keyspace `app` has
 * two shards and shards every table by `id` with a `hash` vindex. Each library creates its table
 * the way its users do (schema builder, `sync()`, `synchronize: true`), then runs CRUD, a
 * single-shard transaction (commit and rollback) and count(*).
 *
 * Every step is its own test, run in order; a step listed in KNOWN_GAPS is skipped (see
 * support/known-gaps.ts) and the steps after it fall back to plain SQL where they need its effect.
 */
import knex, { type Knex } from 'knex';
import { Kysely, MysqlDialect, sql, type Generated } from 'kysely';
import { createPool as createCallbackPool } from 'mysql2';
import type mysql from 'mysql2/promise';
import { DataTypes, Sequelize, type Model, type ModelStatic } from 'sequelize';
import { DataSource, EntitySchema, type Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gapIt, type KnownGap } from './support/known-gaps.js';
import { hashKeyspace, PASSWORD, startGateway, USER, type RunningGateway } from './support/gateway-harness.js';

const SHARDS = ['-80', '80-'];
const TABLES = { knex_people: 'id', kysely_people: 'id', sequelize_people: 'id', typeorm_people: 'id' };
const VSCHEMA = { keyspaces: { app: hashKeyspace(TABLES) } };

type Orm = 'knex' | 'kysely' | 'sequelize' | 'typeorm';
type Step = 'connect' | 'create table' | 'introspect' | 'insert' | 'select by id' | 'select where/order by/limit' | 'update' | 'delete' | 'transaction commit' | 'transaction rollback' | 'count';


/** Steps that fail today for a missing feature (see known-gaps.ts); none at the moment. */
const KNOWN_GAPS: Partial<Record<`${Orm}: ${Step}`, KnownGap>> = {};

/** The people every library inserts: ids spread over both shards. */
const PEOPLE = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, name: `person ${i + 1}`, balance: `${(i + 1) * 10}.50` }));
/** Expected rows for `balance > 50 order by id desc limit 3`. */
const TOP3 = [PEOPLE[11], PEOPLE[10], PEOPLE[9]];

let gw: RunningGateway;
const connectionOptions = () => ({
  host: '127.0.0.1',
  port: gw.port,
  user: USER,
  password: PASSWORD,
  database: 'app',
  supportBigNumbers: true,
  bigNumberStrings: true,
});

beforeAll(async () => {
  gw = await startGateway({ vschema: VSCHEMA, keyspaces: { app: { shards: SHARDS } } });
});

afterAll(async () => {
  await gw?.stop();
});

function step(orm: Orm, name: Step, fn: () => Promise<void>): void {
  const gap = KNOWN_GAPS[`${orm}: ${name}`];
  if (gap) gapIt(name, gap, fn);
  else it(name, fn);
}

/** The table exists on every shard of `app` (DDL fans out), checked directly on each MariaDB. */
async function expectTableOnEveryShard(table: string): Promise<void> {
  for (const shard of SHARDS) {
    const direct = await gw.connectShard('app', shard);
    try {
      const [rows] = await direct.query<mysql.RowDataPacket[]>('show tables like ?', [table]);
      expect(rows.length, `table ${table} on shard ${shard}`).toBe(1);
    } finally {
      await direct.end();
    }
  }
}

/** Plain SQL through the gateway, for fallbacks when an ORM step is a known gap. */
async function gatewaySql(statement: string): Promise<void> {
  const c = await gw.connect({ database: 'app' });
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

/** Plain SQL read through the gateway, so transaction steps are checked independently of ORM reads. */
async function rowsById(table: string, id: number): Promise<mysql.RowDataPacket[]> {
  const c = await gw.connect({ database: 'app' });
  try {
    const [rows] = await c.query<mysql.RowDataPacket[]>(`select id, name, balance from ${table} where id = ?`, [id]);
    return rows;
  } finally {
    await c.end();
  }
}

const PEOPLE_DDL = (table: string) =>
  `CREATE TABLE IF NOT EXISTS ${table} (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, balance DECIMAL(12,2) NOT NULL, createdAt DATETIME NULL, updatedAt DATETIME NULL) DEFAULT CHARSET=utf8mb4`;

describe('knex (mysql2 client)', () => {
  let db: Knex;
  const T = 'knex_people';
  afterAll(async () => db?.destroy());

  step('knex', 'connect', async () => {
    db = knex({ client: 'mysql2', connection: connectionOptions(), pool: { min: 0, max: 4 } });
    const [rows] = await db.raw('select 1 as one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  step('knex', 'create table', async () => {
    await db.schema.createTable(T, (t) => {
      t.bigInteger('id').primary();
      t.string('name', 64).notNullable();
      t.decimal('balance', 12, 2).notNullable();
    });
    await expectTableOnEveryShard(T);
  });

  step('knex', 'introspect', async () => {
    expect(await db.schema.hasTable(T)).toBe(true);
    expect(await db.schema.hasColumn(T, 'balance')).toBe(true);
  });

  step('knex', 'insert', async () => {
    await db(T).insert(PEOPLE);
  });

  step('knex', 'select by id', async () => {
    expect(await db(T).where({ id: 7 }).first()).toEqual({ ...PEOPLE[6], id: '7' });
  });

  step('knex', 'select where/order by/limit', async () => {
    const rows = await db(T).select('id', 'name', 'balance').where('balance', '>', 50).orderBy('id', 'desc').limit(3);
    expect(rows).toEqual(TOP3.map((p) => ({ ...p, id: String(p.id) })));
  });

  step('knex', 'update', async () => {
    expect(await db(T).where({ id: 3 }).update({ name: 'renamed' })).toBe(1);
    expect((await db(T).where({ id: 3 }).first())?.name).toBe('renamed');
  });

  step('knex', 'delete', async () => {
    expect(await db(T).where({ id: 4 }).del()).toBe(1);
    expect(await db(T).where({ id: 4 })).toEqual([]);
  });

  step('knex', 'transaction commit', async () => {
    await db.transaction(async (trx) => {
      await trx(T).insert({ id: 101, name: 'tx', balance: '1.00' });
      await trx(T).where({ id: 101 }).update({ balance: '2.00' });
    });
    expect(await rowsById(T, 101)).toEqual([{ id: '101', name: 'tx', balance: '2.00' }]);
  });

  step('knex', 'transaction rollback', async () => {
    await expect(
      db.transaction(async (trx) => {
        await trx(T).insert({ id: 102, name: 'rolled back', balance: '1.00' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await rowsById(T, 102)).toEqual([]);
  });

  step('knex', 'count', async () => {
    // count(*) is a BIGINT: a string with bigNumberStrings, as MariaDB itself sends it.
    expect(await db(T).count({ n: '*' })).toEqual([{ n: '12' }]);
  });
});

interface KyselyPeople {
  kysely_people: { id: Generated<string>; name: string; balance: string };
}

describe('kysely (MysqlDialect, mysql2 pool)', () => {
  let db: Kysely<KyselyPeople>;
  afterAll(async () => db?.destroy());

  step('kysely', 'connect', async () => {
    db = new Kysely<KyselyPeople>({ dialect: new MysqlDialect({ pool: createCallbackPool({ ...connectionOptions(), connectionLimit: 4 }) }) });
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
  });

  step('kysely', 'create table', async () => {
    await db.schema
      .createTable('kysely_people')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('balance', 'decimal(12, 2)', (c) => c.notNull())
      .execute();
    await expectTableOnEveryShard('kysely_people');
  });

  step('kysely', 'introspect', async () => {
    const tables = await db.introspection.getTables();
    expect(tables.find((t) => t.name === 'kysely_people')?.columns.map((c) => c.name)).toEqual(['id', 'name', 'balance']);
  });

  step('kysely', 'insert', async () => {
    const res = await db.insertInto('kysely_people').values(PEOPLE.map((p) => ({ ...p, id: String(p.id) }))).executeTakeFirst();
    expect(res.numInsertedOrUpdatedRows).toBe(12n);
  });

  step('kysely', 'select by id', async () => {
    expect(await db.selectFrom('kysely_people').selectAll().where('id', '=', '7').executeTakeFirst()).toEqual({ ...PEOPLE[6], id: '7' });
  });

  step('kysely', 'select where/order by/limit', async () => {
    const rows = await db.selectFrom('kysely_people').select(['id', 'name', 'balance']).where('balance', '>', '50').orderBy('id', 'desc').limit(3).execute();
    expect(rows).toEqual(TOP3.map((p) => ({ ...p, id: String(p.id) })));
  });

  step('kysely', 'update', async () => {
    const res = await db.updateTable('kysely_people').set({ name: 'renamed' }).where('id', '=', '3').executeTakeFirst();
    expect(res.numUpdatedRows).toBe(1n);
  });

  step('kysely', 'delete', async () => {
    const res = await db.deleteFrom('kysely_people').where('id', '=', '4').executeTakeFirst();
    expect(res.numDeletedRows).toBe(1n);
  });

  step('kysely', 'transaction commit', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('kysely_people').values({ id: '101', name: 'tx', balance: '1.00' }).execute();
      await trx.updateTable('kysely_people').set({ balance: '2.00' }).where('id', '=', '101').execute();
    });
    expect(await rowsById('kysely_people', 101)).toEqual([{ id: '101', name: 'tx', balance: '2.00' }]);
  });

  step('kysely', 'transaction rollback', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('kysely_people').values({ id: '102', name: 'rolled back', balance: '1.00' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await rowsById('kysely_people', 102)).toEqual([]);
  });

  step('kysely', 'count', async () => {
    const row = await db.selectFrom('kysely_people').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirst();
    expect(String(row?.n)).toBe('12');
  });
});

describe('sequelize (dialect mysql)', () => {
  let sequelize: Sequelize;
  let Person: ModelStatic<Model>;
  afterAll(async () => sequelize?.close());

  step('sequelize', 'connect', async () => {
    sequelize = new Sequelize('app', USER, PASSWORD, {
      dialect: 'mysql',
      host: '127.0.0.1',
      port: gw.port,
      logging: false,
      pool: { max: 4, min: 0 },
      dialectOptions: { supportBigNumbers: true, bigNumberStrings: true },
    });
    await sequelize.authenticate();
    Person = sequelize.define(
      'Person',
      { id: { type: DataTypes.BIGINT, primaryKey: true }, name: { type: DataTypes.STRING(64), allowNull: false }, balance: { type: DataTypes.DECIMAL(12, 2), allowNull: false } },
      { tableName: 'sequelize_people' },
    );
  });

  step('sequelize', 'create table', async () => {
    await Person.sync();
    await expectTableOnEveryShard('sequelize_people');
  });

  step('sequelize', 'introspect', async () => {
    const columns = await sequelize.getQueryInterface().describeTable('sequelize_people');
    expect(Object.keys(columns)).toEqual(['id', 'name', 'balance', 'createdAt', 'updatedAt']);
    expect(await sequelize.getQueryInterface().showAllTables()).toContain('sequelize_people');
  });

  step('sequelize', 'insert', async () => {
    if (KNOWN_GAPS['sequelize: create table']) await gatewaySql(PEOPLE_DDL('sequelize_people'));
    await Person.bulkCreate(PEOPLE.slice(0, 6));
    for (const p of PEOPLE.slice(6)) await Person.create(p); // create() uses a prepared INSERT
  });

  const plain = (m: Model | null) => (m ? { id: m.get('id'), name: m.get('name'), balance: m.get('balance') } : null);

  step('sequelize', 'select by id', async () => {
    expect(plain(await Person.findByPk(7))).toEqual({ ...PEOPLE[6], id: '7' });
  });

  step('sequelize', 'select where/order by/limit', async () => {
    const { Op } = await import('sequelize');
    const rows = await Person.findAll({ where: { balance: { [Op.gt]: 50 } }, order: [['id', 'DESC']], limit: 3 });
    expect(rows.map(plain)).toEqual(TOP3.map((p) => ({ ...p, id: String(p.id) })));
  });

  step('sequelize', 'update', async () => {
    const [n] = await Person.update({ name: 'renamed' }, { where: { id: 3 } });
    expect(n).toBe(1);
  });

  step('sequelize', 'delete', async () => {
    expect(await Person.destroy({ where: { id: 4 } })).toBe(1);
  });

  step('sequelize', 'transaction commit', async () => {
    await sequelize.transaction(async (t) => {
      await Person.create({ id: 101, name: 'tx', balance: '1.00' }, { transaction: t });
      await Person.update({ balance: '2.00' }, { where: { id: 101 }, transaction: t });
    });
    expect(await rowsById('sequelize_people', 101)).toEqual([{ id: '101', name: 'tx', balance: '2.00' }]);
  });

  step('sequelize', 'transaction rollback', async () => {
    await expect(
      sequelize.transaction(async (t) => {
        await Person.create({ id: 102, name: 'rolled back', balance: '1.00' }, { transaction: t });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await rowsById('sequelize_people', 102)).toEqual([]);
  });

  step('sequelize', 'count', async () => {
    expect(await Person.count()).toBe(12);
  });
});

interface TypeormPerson {
  id: string;
  name: string;
  balance: string;
}

const TypeormPersonSchema = new EntitySchema<TypeormPerson>({
  name: 'TypeormPerson',
  tableName: 'typeorm_people',
  columns: {
    id: { type: 'bigint', primary: true },
    name: { type: 'varchar', length: 64 },
    balance: { type: 'decimal', precision: 12, scale: 2 },
  },
});

describe('typeorm (mysql driver over mysql2)', () => {
  let ds: DataSource;
  let repo: Repository<TypeormPerson>;
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
  });

  const dataSource = (synchronize: boolean) =>
    new DataSource({ type: 'mysql', ...connectionOptions(), username: USER, entities: [TypeormPersonSchema], synchronize, poolSize: 4, logging: false });

  step('typeorm', 'connect', async () => {
    ds = dataSource(false);
    await ds.initialize();
    const rows: { one: unknown }[] = await ds.query('select 1 as one');
    expect(rows.map((r) => Number(r.one))).toEqual([1]);
    repo = ds.getRepository(TypeormPersonSchema);
  });

  step('typeorm', 'create table', async () => {
    // synchronize: true is how TypeORM users create tables; it reads information_schema first.
    const syncing = dataSource(true);
    await syncing.initialize();
    await syncing.destroy();
    await expectTableOnEveryShard('typeorm_people');
  });

  step('typeorm', 'introspect', async () => {
    const runner = ds.createQueryRunner();
    try {
      expect(await runner.hasTable('typeorm_people')).toBe(true);
      expect((await runner.getTable('typeorm_people'))?.columns.map((c) => c.name)).toEqual(['id', 'name', 'balance']);
    } finally {
      await runner.release();
    }
  });

  step('typeorm', 'insert', async () => {
    if (KNOWN_GAPS['typeorm: create table']) await gatewaySql(PEOPLE_DDL('typeorm_people').replace(', createdAt DATETIME NULL, updatedAt DATETIME NULL', ''));
    await repo.insert(PEOPLE.map((p) => ({ ...p, id: String(p.id) })));
  });

  step('typeorm', 'select by id', async () => {
    expect(await repo.findOneBy({ id: '7' })).toEqual({ ...PEOPLE[6], id: '7' });
  });

  step('typeorm', 'select where/order by/limit', async () => {
    const { MoreThan } = await import('typeorm');
    const rows = await repo.find({ where: { balance: MoreThan('50') }, order: { id: 'DESC' }, take: 3 });
    expect(rows).toEqual(TOP3.map((p) => ({ ...p, id: String(p.id) })));
  });

  step('typeorm', 'update', async () => {
    const res = await repo.update({ id: '3' }, { name: 'renamed' });
    expect(res.affected).toBe(1);
  });

  step('typeorm', 'delete', async () => {
    const res = await repo.delete({ id: '4' });
    expect(res.affected).toBe(1);
  });

  step('typeorm', 'transaction commit', async () => {
    await ds.transaction(async (em) => {
      await em.insert(TypeormPersonSchema, { id: '101', name: 'tx', balance: '1.00' });
      await em.update(TypeormPersonSchema, { id: '101' }, { balance: '2.00' });
    });
    expect(await rowsById('typeorm_people', 101)).toEqual([{ id: '101', name: 'tx', balance: '2.00' }]);
  });

  step('typeorm', 'transaction rollback', async () => {
    await expect(
      ds.transaction(async (em) => {
        await em.insert(TypeormPersonSchema, { id: '102', name: 'rolled back', balance: '1.00' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await rowsById('typeorm_people', 102)).toEqual([]);
  });

  step('typeorm', 'count', async () => {
    expect(await repo.count()).toBe(12);
  });
});
