import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';

/**
 * Fall (and other) alerts of a hub, as apps see them (§4.3): made from the alert-lane records sync
 * stores (the records themselves stay in telemetry_data), one row per alert id, with who took it.
 */
export function up(_dialect: DialectName) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createTable('device_alerts')
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('type', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('node_id', 'varchar(64)')
      .addColumn('component_id', 'varchar(64)')
      .addColumn('prob', 'double precision')
      .addColumn('acknowledged_by', 'varchar(320)')
      .addColumn('acknowledged_at', 'bigint')
      .addColumn('cancelled_by', 'varchar(320)')
      .addColumn('cancelled_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // Per hub: one hub cannot claim, or collide with, another's alert ids.
      .addPrimaryKeyConstraint('device_alerts_pk', ['device_id', 'id'])
      .execute();
    await db.schema.createIndex('device_alerts_device_ts').on('device_alerts').columns(['device_id', 'ts']).execute();
  };
}
