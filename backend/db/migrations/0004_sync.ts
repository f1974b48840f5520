import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';

/**
 * Store-and-forward sync (§4.5): the hub's own timestamp is kept beside a repaired one when its clock
 * was not synchronised, and readings are indexed for series queries (device, component, metric, time).
 */
export function up(_dialect: DialectName) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema.alterTable('telemetry_data').addColumn('hub_ts', 'bigint').execute();
    await db.schema
      .alterTable('telemetry_data')
      .addColumn('clock_synced', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema
      .createIndex('telemetry_series')
      .on('telemetry_data')
      .columns(['device_id', 'component_id', 'metric', 'ts'])
      .execute();
  };
}
