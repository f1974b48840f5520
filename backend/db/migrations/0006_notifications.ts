import type { Kysely } from 'kysely';
import type { DialectName } from '../connect.js';

/**
 * Telling people about alerts (issue 6): users' webhooks, a durable notification queue (one row per
 * recipient and channel, retried with backoff until delivered, so a restart loses none), a row per
 * delivery attempt, and the escalation and resolution state of alerts.
 */
export function up(dialect: DialectName) {
  return async (db: Kysely<unknown>): Promise<void> => {
    const serial = dialect === 'postgres' ? 'serial' : 'integer';
    const bigserial = dialect === 'postgres' ? 'bigserial' : 'integer';
    const pk = <T extends { primaryKey(): T; autoIncrement(): T }>(c: T): T =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement();

    await db.schema
      .createTable('user_webhooks')
      .addColumn('id', serial, pk)
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('url', 'varchar(2048)', (c) => c.notNull())
      // A JSON array of event names.
      .addColumn('events', 'varchar(1024)', (c) => c.notNull())
      // Kept to sign every delivery (the user saw it once, at creation).
      .addColumn('secret', 'varchar(128)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('user_webhooks_user').on('user_webhooks').column('user_id').execute();

    await db.schema
      .createTable('notifications')
      .addColumn('id', bigserial, pk)
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('channel', 'varchar(16)', (c) => c.notNull())
      .addColumn('webhook_id', 'integer', (c) => c.references('user_webhooks.id').onDelete('cascade'))
      .addColumn('event', 'varchar(32)', (c) => c.notNull())
      .addColumn('device_id', 'integer', (c) => c.notNull().references('devices.id').onDelete('cascade'))
      .addColumn('alert_id', 'varchar(64)')
      // One notification per recipient, channel, alert, event and escalation round: re-running the
      // step that queued it (a re-sent sync batch, two instances escalating) adds nothing.
      .addColumn('dedupe_key', 'varchar(255)', (c) => c.notNull().unique())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      // An instance delivering it holds it until then; a crash mid-delivery frees it.
      .addColumn('lease_until', 'bigint')
      .addColumn('last_error', 'varchar(512)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('notifications_due')
      .on('notifications')
      .columns(['status', 'next_attempt_at'])
      .execute();
    await db.schema.createIndex('notifications_webhook').on('notifications').column('webhook_id').execute();

    await db.schema
      .createTable('notification_attempts')
      .addColumn('id', bigserial, pk)
      .addColumn('notification_id', 'bigint', (c) => c.notNull().references('notifications.id').onDelete('cascade'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .addColumn('http_status', 'integer')
      .addColumn('error', 'varchar(512)')
      .execute();
    await db.schema
      .createIndex('notification_attempts_notification')
      .on('notification_attempts')
      .column('notification_id')
      .execute();

    await db.schema
      .alterTable('device_alerts')
      .addColumn('escalations', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('device_alerts').addColumn('escalated_at', 'bigint').execute();
    await db.schema.alterTable('device_alerts').addColumn('resolved_at', 'bigint').execute();
    await db.schema.alterTable('device_alerts').addColumn('reason', 'varchar(256)').execute();
    // Decisions the hub's cooldown suppressed as duplicates of this alert (counted and linked to it).
    await db.schema
      .alterTable('device_alerts')
      .addColumn('duplicates', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('device_alerts_status').on('device_alerts').columns(['status', 'ts']).execute();
  };
}
