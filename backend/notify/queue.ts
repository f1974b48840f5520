import type { Insertable, Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import { ALERT_ROW_COLUMNS, alertView, mailFor, type AlertRow, type NotifyEvent } from './events.js';

/** What happened to one alert, to be told to the hub's members. */
export interface AlertChange {
  deviceId: number;
  alertId: string;
  event: NotifyEvent;
  /** 0 for the first notice; n for the n-th escalation of an unanswered fall alert. */
  round?: number;
  /** Who acknowledged or cancelled it. */
  by?: string;
}

/** The body of a webhook delivery (also what the deliveries list shows). */
export interface WebhookBody {
  event: NotifyEvent;
  device: { id: number; device_uuid: string; nickname: string | null };
  alert: ReturnType<typeof alertView>;
  by?: string;
}

export function parseEvents(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Queues the notifications of one alert change: a mail to every owner and viewer of the hub, and a
 * delivery to each of their webhooks that asked for the event. Runs inside the transaction that
 * made the change, so a change is never stored without its notifications. Idempotent (a unique
 * key per recipient, channel, alert, event and round). Resolves to how many were queued.
 */
export async function queueAlertNotifications(db: Kysely<Database>, change: AlertChange, now: number): Promise<number> {
  const alert = (await db
    .selectFrom('device_alerts')
    .select(ALERT_ROW_COLUMNS)
    .where('device_id', '=', change.deviceId)
    .where('id', '=', change.alertId)
    .executeTakeFirst()) as AlertRow | undefined;
  if (!alert) return 0;
  const device = await db
    .selectFrom('devices')
    .select('device_uuid')
    .where('id', '=', change.deviceId)
    .executeTakeFirst();
  if (!device) return 0;
  const members = await db
    .selectFrom('user_devices')
    .innerJoin('users', 'users.id', 'user_devices.user_id')
    .select(['users.id as user_id', 'users.email', 'user_devices.nickname'])
    .where('user_devices.device_id', '=', change.deviceId)
    .where('user_devices.role', 'in', ['owner', 'viewer'])
    .where('users.is_active', '=', 1)
    .execute();
  if (members.length === 0) return 0;
  const hooks = await db
    .selectFrom('user_webhooks')
    .select(['id', 'user_id', 'events'])
    .where(
      'user_id',
      'in',
      members.map((m) => m.user_id),
    )
    .execute();
  const round = change.round ?? 0;
  const view = alertView(alert, round);
  const key = `${change.deviceId}:${change.alertId}:${change.event}:${round}`;
  const rows: Insertable<Database['notifications']>[] = [];
  const base = {
    event: change.event,
    device_id: change.deviceId,
    alert_id: change.alertId,
    status: 'pending' as const,
    next_attempt_at: now,
    lease_until: null,
    last_error: null,
    created_at: now,
    delivered_at: null,
  };
  for (const m of members) {
    const hub = m.nickname ?? `hub ${device.device_uuid.slice(0, 8)}`;
    rows.push({
      ...base,
      user_id: m.user_id,
      channel: 'email',
      webhook_id: null,
      dedupe_key: `mail:${m.user_id}:${key}`,
      payload: JSON.stringify({ to: m.email, ...mailFor(change.event, view, hub, change.by) }),
    });
    for (const h of hooks.filter((x) => x.user_id === m.user_id && parseEvents(x.events).includes(change.event))) {
      const body: WebhookBody = {
        event: change.event,
        device: { id: change.deviceId, device_uuid: device.device_uuid, nickname: m.nickname },
        alert: view,
        ...(change.by ? { by: change.by } : {}),
      };
      rows.push({
        ...base,
        user_id: m.user_id,
        channel: 'webhook',
        webhook_id: h.id,
        dedupe_key: `hook:${h.id}:${key}`,
        payload: JSON.stringify(body),
      });
    }
  }
  const res = await db
    .insertInto('notifications')
    .values(rows)
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0);
}
