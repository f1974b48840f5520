import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';

/** Short-lived MQTT logins for apps (`POST /api/users/me/mqtt-credentials`); only a hash is kept. */
export function up(_dialect: DialectName) {
  return async (db: Kysely<unknown>): Promise<void> => {
    await db.schema
      .createTable('mqtt_credentials')
      .addColumn('username', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('secret_hash', 'varchar(80)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('mqtt_credentials_expiry').on('mqtt_credentials').column('expires_at').execute();
  };
}
