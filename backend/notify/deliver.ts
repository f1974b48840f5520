import type { CentralContext } from '../context.js';
import type { Database } from '../db/types.js';
import type { WebhookBody } from './queue.js';
import { postWebhook, webhookHeaders, type WebhookResult } from './webhook-post.js';
import { checkWebhookUrl } from './webhook-url.js';

type Notification = Pick<
  Database['notifications'],
  'channel' | 'webhook_id' | 'payload' | 'event' | 'device_id' | 'alert_id'
> & { id: number };

/** What one attempt came to; `skip`: no longer worth sending (the escalated alert was answered). */
export type AttemptResult = WebhookResult & { skip?: boolean };

/**
 * One delivery attempt of a queued notification: a signed webhook POST or a mail through central's
 * transport. Never throws; a failure is a result (recorded, then retried or given up on).
 */
export async function attemptDelivery(
  ctx: CentralContext,
  n: Notification,
  signal?: AbortSignal,
): Promise<AttemptResult> {
  const cfg = ctx.config.central;
  try {
    const db = ctx.db.kysely;
    // A reminder about a fall someone has since taken is noise: dropped, and recorded as such.
    const body = JSON.parse(n.payload) as Partial<WebhookBody>;
    if (n.event === 'fall_alert' && n.alert_id !== null && (body.alert?.escalation ?? 0) > 0) {
      const alert = await db
        .selectFrom('device_alerts')
        .select('status')
        .where('device_id', '=', n.device_id)
        .where('id', '=', n.alert_id)
        .executeTakeFirst();
      if (alert?.status !== 'open')
        return { ok: false, skip: true, permanent: true, error: `alert is ${alert?.status ?? 'gone'}` };
    }
    if (n.channel === 'email') {
      const mail = JSON.parse(n.payload) as { to: string; subject: string; text: string };
      await ctx.mailer.send(mail);
      return { ok: true, permanent: false };
    }
    const hook = await db
      .selectFrom('user_webhooks')
      .select(['url', 'secret'])
      .where('id', '=', n.webhook_id ?? -1)
      .executeTakeFirst();
    if (!hook) return { ok: false, permanent: true, error: 'the webhook was deleted' };
    const url = checkWebhookUrl(hook.url, cfg.webhook_allow_private);
    if (typeof url === 'string') return { ok: false, permanent: true, error: url };
    const headers = webhookHeaders(url, n.payload, hook.secret, ctx.clock.now(), {
      event: n.event,
      delivery: String(n.id),
    });
    return await postWebhook(url, n.payload, headers, {
      timeoutMs: cfg.webhook_timeout_ms,
      allowPrivate: cfg.webhook_allow_private,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    return { ok: false, permanent: false, error: (err as Error).message.slice(0, 500) };
  }
}

/** Delay before attempt `attempts + 1`: doubling from `firstS`, at most an hour, ±20 % jitter so retries spread. */
export function retryDelayMs(attempts: number, firstS: number, random = Math.random): number {
  const base = Math.min(3_600_000, firstS * 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
