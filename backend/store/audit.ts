import type { Kysely } from 'kysely';
import type { CentralDb } from '../db/connect.js';
import type { Database } from '../db/types.js';

export interface AuditEntry {
  ts: number;
  actor: number | null;
  action: string;
  target?: string;
  details?: Record<string, unknown>;
  ip?: string;
}

/**
 * Security-relevant actions, for `GET /api/admin/audit`. Never carries secrets. Takes a Kysely
 * handle so store functions can write the entry inside their own transaction.
 */
export async function audit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
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

/** An audit entry on its own, for an action the store did not audit with the change. */
export function recordAudit(db: CentralDb, entry: AuditEntry): Promise<void> {
  return audit(db.kysely, entry);
}

/** Clone / swap / security alerts for admins; identical alerts within an hour are recorded once. */
export async function raiseAdminAlert(
  db: CentralDb,
  alert: {
    ts: number;
    type: string;
    deviceId?: number;
    deviceUuid?: string;
    cpuSerial?: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  const recent = await db.kysely
    .selectFrom('admin_alerts')
    .select('id')
    .where('type', '=', alert.type)
    .where('device_uuid', alert.deviceUuid === undefined ? 'is' : '=', alert.deviceUuid ?? null)
    .where('cpu_serial', alert.cpuSerial === undefined ? 'is' : '=', alert.cpuSerial ?? null)
    .where('ts', '>', alert.ts - 3600_000)
    .executeTakeFirst();
  if (recent) return;
  await db.kysely
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

/** One page of an admin view: newest first, `limit` rows with ids below `beforeId`, of one `type`. */
export interface AdminPage {
  limit: number;
  beforeId?: number;
  type?: string;
}

/** Admin alerts by page; `type` filters on the alert type. */
export function adminAlertPage(db: CentralDb, page: AdminPage) {
  let q = db.kysely.selectFrom('admin_alerts').selectAll().orderBy('id', 'desc').limit(page.limit);
  if (page.beforeId) q = q.where('id', '<', page.beforeId);
  if (page.type) q = q.where('type', '=', page.type);
  return q.execute();
}

/** The audit log by page; `type` filters on the action. */
export function auditLogPage(db: CentralDb, page: AdminPage) {
  let q = db.kysely.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(page.limit);
  if (page.beforeId) q = q.where('id', '<', page.beforeId);
  if (page.type) q = q.where('action', '=', page.type);
  return q.execute();
}
