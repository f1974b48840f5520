import { conflict } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import type { NotificationsTable } from '../db/types.js';

/** A webhook's stored `events` (a JSON array of names); anything else stored there means none. */
export function parseEvents(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
  } catch {
    return [];
  }
}

/** A user's webhooks: enough for a few receivers (a family app, a care service, a home automation). */
export const MAX_WEBHOOKS_PER_USER = 10;

/** A webhook as its owner sees it: never its secret, which is shown once, at creation. */
export interface Webhook {
  id: number;
  url: string;
  events: string[];
  created_at: number;
}

/** Events are stored as a JSON array. */
const parsed = (r: { id: number; url: string; events: string; created_at: number }): Webhook => ({
  id: Number(r.id),
  url: r.url,
  events: parseEvents(r.events),
  created_at: r.created_at,
});

/** The user's webhooks, oldest first. */
export async function listWebhooks(db: CentralDb, userId: number): Promise<Webhook[]> {
  const rows = await db.kysely
    .selectFrom('user_webhooks')
    .select(['id', 'url', 'events', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  return rows.map(parsed);
}

/** Adds a webhook for the user; a conflict when they have MAX_WEBHOOKS_PER_USER already. */
export async function createWebhook(
  db: CentralDb,
  userId: number,
  hook: { url: string; events: readonly string[]; secret: string },
  now: number,
): Promise<Webhook> {
  const count = await db.kysely
    .selectFrom('user_webhooks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_WEBHOOKS_PER_USER)
    throw conflict(`you have ${MAX_WEBHOOKS_PER_USER} webhooks already: delete one first`);
  const row = await db.kysely
    .insertInto('user_webhooks')
    .values({
      user_id: userId,
      url: hook.url,
      events: JSON.stringify(hook.events),
      secret: hook.secret,
      created_at: now,
    })
    .returning(['id', 'url', 'events', 'created_at'])
    .executeTakeFirstOrThrow();
  return parsed(row);
}

/** Deletes the user's webhook (its deliveries go with it); false when the user has none of that id. */
export async function deleteWebhook(db: CentralDb, userId: number, webhookId: number): Promise<boolean> {
  const res = await db.kysely
    .deleteFrom('user_webhooks')
    .where('id', '=', webhookId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export interface DeliveryAttempt {
  at: number;
  ok: boolean;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
}

export interface WebhookDelivery {
  id: number;
  event: string;
  alert_id: string | null;
  status: NotificationsTable['status'];
  attempts: DeliveryAttempt[];
  created_at: number;
  delivered_at: number | null;
  next_attempt_at: number;
}

/**
 * The `limit` newest deliveries of the user's webhook, each with its attempts in the order made;
 * undefined when the user has no webhook of that id (another user's is as good as none).
 */
export async function listWebhookDeliveries(
  db: CentralDb,
  userId: number,
  webhookId: number,
  limit: number,
): Promise<WebhookDelivery[] | undefined> {
  const hook = await db.kysely
    .selectFrom('user_webhooks')
    .select('id')
    .where('id', '=', webhookId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!hook) return undefined;
  const rows = await db.kysely
    .selectFrom('notifications')
    .select(['id', 'event', 'alert_id', 'status', 'created_at', 'delivered_at', 'next_attempt_at'])
    .where('webhook_id', '=', hook.id)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  const ids = rows.map((r) => r.id);
  const attempts = ids.length
    ? await db.kysely
        .selectFrom('notification_attempts')
        .select(['notification_id', 'at', 'ok', 'http_status', 'error', 'duration_ms'])
        .where('notification_id', 'in', ids)
        .orderBy('id')
        .execute()
    : [];
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    attempts: attempts
      .filter((a) => Number(a.notification_id) === Number(r.id))
      .map((a) => ({
        at: a.at,
        ok: a.ok === 1,
        http_status: a.http_status,
        error: a.error,
        duration_ms: a.duration_ms,
      })),
  }));
}
