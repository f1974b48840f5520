import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';

/**
 * The initial schema. Written once for both dialects; the only differences are the auto-increment
 * primary key spelling (`serial` vs `integer … autoincrement`), which `pk` and `serial` hide.
 */
export function up(dialect: DialectName) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const serial = dialect === 'postgres' ? 'serial' : 'integer';
    const bigserial = dialect === 'postgres' ? 'bigserial' : 'integer';
    const ms = 'bigint';
    const pk = <T extends { primaryKey(): T; autoIncrement(): T }>(c: T): T =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

    await db.schema
      .createTable('users')
      .addColumn('id', serial, pk)
      .addColumn('username', 'varchar(64)', (c) => c.notNull())
      .addColumn('email', 'varchar(254)', (c) => c.notNull().unique())
      .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('last_login_at', ms)
      .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();

    await db.schema
      .createTable('roles')
      .addColumn('id', serial, pk)
      .addColumn('name', 'varchar(32)', (c) => c.notNull().unique())
      .addColumn('description', 'text')
      .execute();

    await db.schema
      .createTable('user_roles')
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('role_id', 'integer', (c) => c.notNull().references('roles.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_id'])
      .execute();

    await db.schema
      .createTable('hardware_variants')
      .addColumn('id', serial, pk)
      .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('description', 'text')
      .execute();

    await db.schema
      .createTable('devices')
      .addColumn('id', serial, pk)
      .addColumn('cpu_serial', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('device_uuid', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('hardware_version', 'varchar(32)', (c) => c.notNull())
      .addColumn('hardware_variant', 'varchar(64)', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('claim_code_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('shared_secret', 'varchar(128)')
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('claimed_at', ms)
      .addColumn('last_seen_at', ms)
      .addColumn('clock_skew_s', 'integer')
      .execute();

    await db.schema
      .createTable('device_pin_configs')
      .addColumn('id', serial, pk)
      .addColumn('hardware_version', 'varchar(32)', (c) => c.notNull())
      .addColumn('hardware_variant', 'varchar(64)', (c) => c.notNull())
      .addColumn('component_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('pin_number', 'integer', (c) => c.notNull())
      .addColumn('pin_mode', 'varchar(16)')
      .addColumn('default_state', 'varchar(16)')
      .addColumn('description', 'text')
      .addColumn('shareable', 'integer', (c) => c.notNull().defaultTo(0))
      .addUniqueConstraint('device_pin_configs_rule', [
        'hardware_version',
        'hardware_variant',
        'component_type',
        'pin_number',
      ])
      .execute();

    await db.schema
      .createTable('supported_components')
      .addColumn('id', serial, pk)
      .addColumn('component_type', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('display_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('category', 'varchar(32)', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('component_metadata', 'text')
      .addColumn('telemetry_category', 'varchar(64)')
      .execute();

    await db.schema
      .createTable('attached_components')
      .addColumn('id', serial, pk)
      .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('component_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(128)')
      .addColumn('pin_number', 'integer')
      .addColumn('pin_mode', 'varchar(16)')
      .addColumn('default_state', 'varchar(16)')
      .addColumn('config', 'text')
      .addColumn('created_at', ms, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('attached_components_device').on('attached_components').column('device_id').execute();

    await db.schema
      .createTable('user_devices')
      .addColumn('id', serial, pk)
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('role', 'varchar(16)', (c) => c.notNull())
      .addColumn('nickname', 'varchar(128)')
      .addColumn('created_at', ms, (c) => c.notNull())
      .addUniqueConstraint('user_devices_pair', ['user_id', 'device_id'])
      .execute();
    await db.schema.createIndex('user_devices_device').on('user_devices').column('device_id').execute();

    await db.schema
      .createTable('telemetry_data')
      .addColumn('id', bigserial, pk)
      .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('lane', 'varchar(16)', (c) => c.notNull())
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('ts', ms, (c) => c.notNull())
      .addColumn('received_at', ms, (c) => c.notNull())
      .addColumn('component_type', 'varchar(64)')
      .addColumn('component_id', 'varchar(64)')
      .addColumn('node_id', 'varchar(64)')
      .addColumn('metric', 'varchar(64)')
      .addColumn('value', 'double precision')
      .addColumn('data', 'text')
      .addUniqueConstraint('telemetry_device_seq', ['device_id', 'seq'])
      .execute();
    await db.schema.createIndex('telemetry_device_ts').on('telemetry_data').columns(['device_id', 'ts']).execute();

    await db.schema
      .createTable('firmware_updates')
      .addColumn('id', serial, pk)
      .addColumn('version', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('manifest', 'text', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .addColumn('notes', 'text')
      .addColumn('package_path', 'text')
      .addColumn('created_at', ms, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('device_certificates')
      .addColumn('serial', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('pem', 'text', (c) => c.notNull())
      .addColumn('not_before', ms, (c) => c.notNull())
      .addColumn('not_after', ms, (c) => c.notNull())
      .addColumn('issued_at', ms, (c) => c.notNull())
      .addColumn('revoked_at', ms)
      .addColumn('revoke_reason', 'varchar(64)')
      .execute();
    await db.schema.createIndex('device_certificates_device').on('device_certificates').column('device_id').execute();

    await db.schema
      .createTable('device_challenges')
      .addColumn('nonce', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('device_uuid', 'varchar(36)', (c) => c.notNull())
      .addColumn('expires_at', ms, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('device_commands')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('component_id', 'varchar(64)')
      .addColumn('component_type', 'varchar(64)')
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('result', 'text')
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('expires_at', ms, (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('device_commands_device_status')
      .on('device_commands')
      .columns(['device_id', 'status'])
      .execute();

    await db.schema
      .createTable('password_resets')
      .addColumn('user_id', 'integer', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('expires_at', ms, (c) => c.notNull())
      .addColumn('attempts_left', 'integer', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', bigserial, pk)
      .addColumn('ts', ms, (c) => c.notNull())
      .addColumn('actor_user_id', 'integer')
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('target', 'varchar(255)')
      .addColumn('details', 'text')
      .addColumn('ip', 'varchar(64)')
      .execute();
    await db.schema.createIndex('audit_log_ts').on('audit_log').column('ts').execute();

    await db.schema
      .createTable('admin_alerts')
      .addColumn('id', bigserial, pk)
      .addColumn('ts', ms, (c) => c.notNull())
      .addColumn('type', 'varchar(64)', (c) => c.notNull())
      .addColumn('device_id', 'integer')
      .addColumn('device_uuid', 'varchar(36)')
      .addColumn('cpu_serial', 'varchar(64)')
      .addColumn('details', 'text')
      .execute();
    await db.schema.createIndex('admin_alerts_ts').on('admin_alerts').column('ts').execute();
  };
}
