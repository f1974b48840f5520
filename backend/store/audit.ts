import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';

/** Security-relevant actions, for `GET /api/admin/audit`. Never carries secrets. */
export async function audit(
  db: Kysely<Database>,
  entry: {
    ts: number;
    actor: number | null;
    action: string;
    target?: string;
    details?: Record<string, unknown>;
    ip?: string;
  },
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      ts: entry.ts,
      actor_user_id: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      details: entry.details ? JSON.stringify(entry.details) : null,
      ip: entry.ip ?? null,
    })
    .execute();
}

/** Clone / swap / security alerts for admins; identical alerts within an hour are recorded once. */
export async function raiseAdminAlert(
  db: Kysely<Database>,
  alert: {
    ts: number;
    type: string;
    deviceId?: number;
    deviceUuid?: string;
    cpuSerial?: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  const recent = await db
    .selectFrom('admin_alerts')
    .select('id')
    .where('type', '=', alert.type)
    .where('device_uuid', alert.deviceUuid === undefined ? 'is' : '=', alert.deviceUuid ?? null)
    .where('cpu_serial', alert.cpuSerial === undefined ? 'is' : '=', alert.cpuSerial ?? null)
    .where('ts', '>', alert.ts - 3600_000)
    .executeTakeFirst();
  if (recent) return;
  await db
    .insertInto('admin_alerts')
    .values({
      ts: alert.ts,
      type: alert.type,
      device_id: alert.deviceId ?? null,
      device_uuid: alert.deviceUuid ?? null,
      cpu_serial: alert.cpuSerial ?? null,
      details: alert.details ? JSON.stringify(alert.details) : null,
    })
    .execute();
}
