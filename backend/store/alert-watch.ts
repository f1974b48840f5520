import { FALL_DETECTION_TYPES } from '../../sync/contract.js';
import type { CentralDb } from '../db/connect.js';
import { ALERT_ROW_COLUMNS, FALL_TYPES, type AlertRow } from '../notify/events.js';
import { openAlert } from './alerts.js';
import type { Queryable } from './notifications.js';

/**
 * `device_alerts` as central watches them: the alerts still awaiting someone, fall alerts nobody has
 * answered (escalation), hubs gone silent (hub_offline). Every change here is a compare-and-set run
 * in one transaction with `alsoInTransaction` (queueing the notices), so two central instances make a
 * change once and a change is never stored without its notices.
 */

/** Still awaiting someone: open, or acknowledged but not resolved. */
const UNANSWERED = ['open', 'acknowledged'] as const;

/** Numbers as numbers (PostgreSQL returns bigint columns as strings). */
function alertRowOf(r: Record<(typeof ALERT_ROW_COLUMNS)[number], unknown>): AlertRow {
  const row = r as unknown as AlertRow;
  return {
    ...row,
    ts: Number(row.ts),
    escalations: Number(row.escalations),
    duplicates: Number(row.duplicates),
  };
}

/** One alert of a device; runs inside the transaction that changed it. */
export async function alertRow(db: Queryable, deviceId: number, alertId: string): Promise<AlertRow | undefined> {
  const r = await db
    .selectFrom('device_alerts')
    .select(ALERT_ROW_COLUMNS)
    .where('device_id', '=', deviceId)
    .where('id', '=', alertId)
    .executeTakeFirst();
  return r ? alertRowOf(r) : undefined;
}

/** An alert's status now, or undefined if it is gone. */
export async function alertStatus(db: CentralDb, deviceId: number, alertId: string): Promise<string | undefined> {
  const r = await db.kysely
    .selectFrom('device_alerts')
    .select('status')
    .where('device_id', '=', deviceId)
    .where('id', '=', alertId)
    .executeTakeFirst();
  return r?.status;
}

/** A device's alerts still awaiting someone, newest first, at most `limit`. */
export async function openAlertsOfDevice(db: CentralDb, deviceUuid: string, limit: number): Promise<AlertRow[]> {
  const rows = await db.kysely
    .selectFrom('device_alerts')
    .innerJoin('devices', 'devices.id', 'device_alerts.device_id')
    .select(ALERT_ROW_COLUMNS.map((c) => `device_alerts.${c}` as const))
    .where('devices.device_uuid', '=', deviceUuid)
    .where('device_alerts.status', 'in', UNANSWERED)
    .orderBy('device_alerts.ts', 'desc')
    .limit(limit)
    .execute();
  return rows.map(alertRowOf);
}

export interface AlertKey {
  device_id: number;
  id: string;
}

/**
 * Open fall alerts escalated fewer than `maxRounds` times whose last notice (the alert itself, or
 * its last escalation) is at or before `dueBefore`; at most `limit`.
 */
export async function unansweredFallAlerts(
  db: CentralDb,
  o: { dueBefore: number; maxRounds: number; limit: number },
): Promise<(AlertKey & { escalations: number })[]> {
  const rows = await db.kysely
    .selectFrom('device_alerts')
    .select(['device_id', 'id', 'escalations'])
    .where('status', '=', 'open')
    .where('type', 'in', [...FALL_TYPES])
    .where('escalations', '<', o.maxRounds)
    .where((eb) =>
      eb.or([
        eb.and([eb('escalated_at', 'is', null), eb('created_at', '<=', o.dueBefore)]),
        eb('escalated_at', '<=', o.dueBefore),
      ]),
    )
    .limit(o.limit)
    .execute();
  return rows.map((r) => ({ ...r, escalations: Number(r.escalations) }));
}

/**
 * Claims escalation `round` of a still-open alert (its count must be `round - 1`), then runs
 * `alsoInTransaction`. Resolves whether this call claimed it: false when someone answered the alert
 * or another instance escalated it first.
 */
export async function claimEscalationRound(
  db: CentralDb,
  alert: AlertKey,
  round: number,
  now: number,
  alsoInTransaction: (trx: Queryable) => Promise<unknown>,
): Promise<boolean> {
  return db.kysely.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('device_alerts')
      .set({ escalations: round, escalated_at: now })
      .where('device_id', '=', alert.device_id)
      .where('id', '=', alert.id)
      .where('status', '=', 'open')
      .where('escalations', '=', round - 1)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await alsoInTransaction(trx);
    return true;
  });
}

/**
 * Provisioned hubs running fall detection (a component of a fall-detection type) not heard from
 * since before `silentBefore` and without a hub_offline alert awaiting someone; at most `limit`.
 */
export async function silentFallDetectingHubs(
  db: CentralDb,
  silentBefore: number,
  limit: number,
): Promise<{ id: number; lastSeenAt: number }[]> {
  const rows = await db.kysely
    .selectFrom('devices')
    .select(['devices.id', 'devices.last_seen_at'])
    .where('devices.status', '=', 'provisioned')
    .where('devices.last_seen_at', '<', silentBefore)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('attached_components')
          .select('attached_components.id')
          .whereRef('attached_components.device_id', '=', 'devices.id')
          .where('attached_components.component_type', 'in', [...FALL_DETECTION_TYPES]),
      ),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('device_alerts')
            .select('device_alerts.id')
            .whereRef('device_alerts.device_id', '=', 'devices.id')
            .where('device_alerts.type', '=', 'hub_offline')
            .where('device_alerts.status', 'in', UNANSWERED),
        ),
      ),
    )
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, lastSeenAt: Number(r.last_seen_at) }));
}

/**
 * Opens the hub_offline alert `id` (unless it exists: ids are derived from the silence, so a second
 * instance finds it) and runs `alsoInTransaction`. Resolves whether this call opened it.
 */
export async function openHubOfflineAlert(
  db: CentralDb,
  a: { id: string; deviceId: number; lastSeenAt: number; now: number; reason: string },
  alsoInTransaction: (trx: Queryable) => Promise<unknown>,
): Promise<boolean> {
  return db.kysely.transaction().execute(async (trx) => {
    const opened = await openAlert(trx, {
      id: a.id,
      device_id: a.deviceId,
      type: 'hub_offline',
      ts: a.lastSeenAt,
      seq: 0,
      node_id: null,
      component_id: null,
      prob: null,
      created_at: a.now,
      reason: a.reason,
    });
    if (!opened) return false;
    await alsoInTransaction(trx);
    return true;
  });
}

/** hub_offline alerts awaiting someone whose hub has been heard from since the silence began; at most `limit`. */
export async function hubOfflineAlertsHeardFrom(db: CentralDb, limit: number): Promise<AlertKey[]> {
  return db.kysely
    .selectFrom('device_alerts')
    .innerJoin('devices', 'devices.id', 'device_alerts.device_id')
    .select(['device_alerts.device_id', 'device_alerts.id'])
    .where('device_alerts.type', '=', 'hub_offline')
    .where('device_alerts.status', 'in', UNANSWERED)
    .whereRef('devices.last_seen_at', '>', 'device_alerts.ts')
    .limit(limit)
    .execute();
}

/**
 * Resolves an alert still awaiting someone, then runs `alsoInTransaction`. Resolves whether this call
 * resolved it (false: already resolved or cancelled, by another instance or a person).
 */
export async function resolveUnansweredAlert(
  db: CentralDb,
  alert: AlertKey,
  now: number,
  alsoInTransaction: (trx: Queryable) => Promise<unknown>,
): Promise<boolean> {
  return db.kysely.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('device_alerts')
      .set({ status: 'resolved', resolved_at: now })
      .where('device_id', '=', alert.device_id)
      .where('id', '=', alert.id)
      .where('status', 'in', UNANSWERED)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await alsoInTransaction(trx);
    return true;
  });
}
