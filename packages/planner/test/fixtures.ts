import { loadVSchema, type VSchema } from '@shardgate/vschema';

/** A small vschema like the demo: a sharded `commerce` (hash on id) and an unsharded `main`. */
export function demoVSchema(): VSchema {
  return loadVSchema(demoVSchemaJson());
}

/** The source JSON of demoVSchema (what the plan workers load). */
export function demoVSchemaJson(): unknown {
  return ({
    keyspaces: {
      commerce: {
        sharded: true,
        vindexes: {
          hash: { type: 'hash' },
          email_lookup: { type: 'consistent_lookup_unique', params: { table: 'main.customer_email_lookup', from: 'email', to: 'keyspace_id' }, owner: 'customer' },
        },
        tables: {
          customer: {
            column_vindexes: [
              { column: 'id', name: 'hash' },
              { column: 'email', name: 'email_lookup' },
            ],
            auto_increment: { column: 'id', sequence: 'main.customer_seq' },
            columns: [{ name: 'id', type: 'INT64' }, { name: 'email', type: 'VARCHAR' }, { name: 'name', type: 'VARCHAR' }],
          },
          orders: { column_vindexes: [{ column: 'customer_id', name: 'hash' }] },
          countries: { type: 'reference' },
        },
      },
      main: {
        sharded: false,
        tables: { settings: {}, customer_seq: { type: 'sequence' }, customer_email_lookup: {} },
      },
    },
  });
}
