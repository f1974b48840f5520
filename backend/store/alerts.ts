import type { Insertable, Kysely } from 'kysely';
import { SyncEvent } from '../../sync/contract.js';
import type { SyncRecord } from '../../sync/records.js';
import type { CentralDb } from '../db/connect.js';
import type { Database, DeviceAlertsTable } from '../db/types.js';
import { ALERT_ROW_COLUMNS, type AlertRow } from '../notify/events.js';
import type { AlertChange } from '../notify/queue.js';
import type { Queryable } from './notifications.js';

const ALERT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Opens an alert unless one with its id exists for the device (a re-sent record, a second instance
 * raising the same silence): resolves whether this call opened it.
 */
export async function openAlert(
  db: Kysely<Database>,
  a: Pick<
    Insertable<DeviceAlertsTable>,
    'id' | 'device_id' | 'type' | 'ts' | 'seq' | 'node_id' | 'component_id' | 'prob' | 'created_at' | 'reason'
  >,
): Promise<boolean> {
  const res = await db
    .insertInto('device_alerts')
    .values({
      ...a,
      status: 'open',
      acknowledged_by: null,
      acknowledged_at: null,
      cancelled_by: null,
      cancelled_at: null,
      escalated_at: null,
      resolved_at: null,
    })
    .onConflict((oc) => oc.columns(['device_id', 'id']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

const text = (v: unknown, max: number): string | null => (typeof v === 'string' ? v.slice(0, max) : null);

/** An alert record's type on central: a fall (by the model, or by the radar's own flag alone), or detection down. */
function alertType(r: SyncRecord): string {
  if (r.metric === SyncEvent.detection_down) return 'detection_down';
  if (r.metric === SyncEvent.radar_fall_state || r.data?.['by'] === 'sensor') return 'fall_sensor';
  return 'fall';
}

/**
 * Stores what a sync batch's alert-lane records say (recordAlerts) and, in the same transaction, the
 * notices of each change (`notify`: notify/queue.ts): an alert and the notifications telling people of
 * it are stored together, or neither is (then the hub, not acked, sends it again). Resolves to the changes.
 */
export function storeAlertRecords(
  db: CentralDb,
  device: { id: number; uuid: string },
  records: { record: SyncRecord; ts: number }[],
  now: number,
  notify: (trx: Queryable, change: AlertChange) => Promise<unknown>,
): Promise<AlertChange[]> {
  return db.kysely.transaction().execute(async (trx) => {
    const changes = await recordAlerts(trx, device, records, now);
    for (const c of changes) await notify(trx, c);
    return changes;
  });
}

/**
 * The alerts a stored sync batch raises or ends: an alert-lane `alert` record opens one (its
 * `data.alert_id` when the hub gave one, else `{device_uuid}:{seq}`) — a fall, or fall detection
 * down on the hub (a silent node, a model that failed to load); a `fall_cancelled` record (the "I'm
 * OK" button on the hub) cancels the open alert it names; a `detection_restored` record resolves the
 * detection-down alert it names. Idempotent: a re-sent batch changes nothing. Returns what changed,
 * for the members to be told (in the same transaction).
 */
export async function recordAlerts(
  db: Kysely<Database>,
  device: { id: number; uuid: string },
  records: { record: SyncRecord; ts: number }[],
  now: number,
): Promise<AlertChange[]> {
  const changes: AlertChange[] = [];
  for (const { record: r, ts } of records) {
    if (r.lane !== 'alert') continue;
    const given = r.data?.['alert_id'];
    if (r.type === 'alert') {
      const id = typeof given === 'string' && ALERT_ID.test(given) ? given : `${device.uuid}:${r.seq}`;
      const prob = r.data?.['prob'];
      const type = alertType(r);
      const opened = await openAlert(db, {
        id,
        device_id: device.id,
        type,
        ts,
        seq: r.seq,
        node_id: text(r.data?.['node_id'], 64) ?? r.node_id ?? null,
        component_id: r.component_id ?? null,
        prob: typeof prob === 'number' && Number.isFinite(prob) ? prob : null,
        created_at: now,
        reason: text(r.data?.['reason'], 256),
      });
      if (opened)
        changes.push({
          deviceId: device.id,
          alertId: id,
          event: type === 'detection_down' ? 'detection_down' : 'fall_alert',
        });
    } else if (typeof given === 'string' && r.metric === SyncEvent.fall_duplicates) {
      // A running total: the largest wins, whatever order the records arrive in.
      const n = r.data?.['duplicates'];
      if (Number.isSafeInteger(n) && (n as number) > 0)
        await db
          .updateTable('device_alerts')
          .set({ duplicates: n as number })
          .where('id', '=', given)
          .where('device_id', '=', device.id)
          .where('duplicates', '<', n as number)
          .execute();
    } else if (
      typeof given === 'string' &&
      (r.metric === SyncEvent.fall_cancelled || r.metric === SyncEvent.detection_restored)
    ) {
      const cancel = r.metric === SyncEvent.fall_cancelled;
      const res = await db
        .updateTable('device_alerts')
        .set(
          cancel
            ? { status: 'cancelled', cancelled_by: 'hub button', cancelled_at: ts }
            : { status: 'resolved', resolved_at: ts },
        )
        .where('id', '=', given)
        .where('device_id', '=', device.id)
        .where('status', 'in', ['open', 'acknowledged'])
        .where('type', cancel ? 'not in' : 'in', ['detection_down', 'hub_offline'])
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) > 0)
        changes.push({
          deviceId: device.id,
          alertId: given,
          event: cancel ? 'alert_cancelled' : 'detection_restored',
          ...(cancel ? { by: 'the hub button' } : {}),
        });
    }
  }
  return changes;
}

/** A hub's alerts, newest first (by time, then by the hub's sequence), optionally of one status. */
export async function listAlerts(
  db: CentralDb,
  deviceId: number,
  filter: { status?: DeviceAlertsTable['status']; limit: number },
): Promise<AlertRow[]> {
  let q = db.kysely.selectFrom('device_alerts').select(ALERT_ROW_COLUMNS).where('device_id', '=', deviceId);
  if (filter.status) q = q.where('status', '=', filter.status);
  return q.orderBy('ts', 'desc').orderBy('seq', 'desc').limit(filter.limit).execute();
}

export function findAlert(db: CentralDb, deviceId: number, alertId: string): Promise<AlertRow | undefined> {
  return db.kysely
    .selectFrom('device_alerts')
    .select(ALERT_ROW_COLUMNS)
    .where('device_id', '=', deviceId)
    .where('id', '=', alertId)
    .executeTakeFirst();
}

/**
 * A member answers an alert: `ack` (a caregiver takes it) moves only an open alert, so the first
 * caregiver is kept; `cancel` ("I'm OK") ends one not yet ended. The change and the notices telling
 * the other members (`alsoInTransaction`: notify/queue.ts) are stored in one transaction. Resolves
 * whether the alert changed (false: it was not in a state this action moves, or there is no such alert).
 */
export function answerAlert(
  db: CentralDb,
  a: { deviceId: number; alertId: string; action: 'ack' | 'cancel'; by: string },
  now: number,
  alsoInTransaction: (trx: Queryable) => Promise<unknown>,
): Promise<boolean> {
  const ack = a.action === 'ack';
  return db.kysely.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('device_alerts')
      .set(
        ack
          ? { status: 'acknowledged', acknowledged_by: a.by, acknowledged_at: now }
          : { status: 'cancelled', cancelled_by: a.by, cancelled_at: now },
      )
      .where('device_id', '=', a.deviceId)
      .where('id', '=', a.alertId)
      .where('status', 'in', ack ? ['open'] : ['open', 'acknowledged'])
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await alsoInTransaction(trx);
    return true;
  });
}
