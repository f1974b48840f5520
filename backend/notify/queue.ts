import { alertRow } from '../store/alert-watch.js';
import { alertRecipients } from '../store/notification-recipients.js';
import { parseEvents } from '../store/webhooks.js';
import { insertNotifications, type NewNotification, type Queryable } from '../store/notifications.js';
import { alertView, mailFor, type NotifyEvent } from './events.js';

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

/**
 * Queues the notifications of one alert change: a mail to every owner and viewer of the hub, and a
 * delivery to each of their webhooks that asked for the event. Runs inside the transaction that
 * made the change, so a change is never stored without its notifications. Idempotent (a unique
 * key per recipient, channel, alert, event and round). Resolves to how many were queued.
 */
export async function queueAlertNotifications(db: Queryable, change: AlertChange, now: number): Promise<number> {
  const alert = await alertRow(db, change.deviceId, change.alertId);
  if (!alert) return 0;
  const recipients = await alertRecipients(db, change.deviceId);
  if (!recipients || recipients.members.length === 0) return 0;
  const { deviceUuid, members, webhooks } = recipients;
  const round = change.round ?? 0;
  const view = alertView(alert, round);
  const key = `${change.deviceId}:${change.alertId}:${change.event}:${round}`;
  const rows: NewNotification[] = [];
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
    const hub = m.nickname ?? `hub ${deviceUuid.slice(0, 8)}`;
    rows.push({
      ...base,
      user_id: m.user_id,
      channel: 'email',
      webhook_id: null,
      dedupe_key: `mail:${m.user_id}:${key}`,
      payload: JSON.stringify({ to: m.email, ...mailFor(change.event, view, hub, change.by) }),
    });
    for (const h of webhooks.filter((x) => x.user_id === m.user_id && parseEvents(x.events).includes(change.event))) {
      const body: WebhookBody = {
        event: change.event,
        device: { id: change.deviceId, device_uuid: deviceUuid, nickname: m.nickname },
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
  return insertNotifications(db, rows);
}
