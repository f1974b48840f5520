import type { CentralContext } from '../context.js';
import { alertStatus } from '../store/alert-watch.js';
import { webhookTarget } from '../store/notification-recipients.js';
import type { ClaimedNotification } from '../store/notifications.js';
import type { WebhookBody } from './queue.js';
import { webhookHeaders, type WebhookResult, type WebhookSender } from './webhook-post.js';
import { checkWebhookUrl } from './webhook-url.js';

type Notification = Omit<ClaimedNotification, 'attempts'>;

/** What one attempt came to; `skip`: no longer worth sending (the escalated alert was answered). */
export type AttemptResult = WebhookResult & { skip?: boolean };

/**
 * One delivery attempt of a queued notification: a signed webhook POST (through the worker's sender)
 * or a mail through central's transport. Never throws; a failure is a result (recorded, then retried
 * or given up on).
 */
export async function attemptDelivery(
  ctx: CentralContext,
  n: Notification,
  sender: WebhookSender,
  signal?: AbortSignal,
): Promise<AttemptResult> {
  const cfg = ctx.config.central;
  try {
    // A reminder about a fall someone has since taken is noise: dropped, and recorded as such.
    const body = JSON.parse(n.payload) as Partial<WebhookBody>;
    if (n.event === 'fall_alert' && n.alert_id !== null && (body.alert?.escalation ?? 0) > 0) {
      const status = await alertStatus(ctx.db, n.device_id, n.alert_id);
      if (status !== 'open') return { ok: false, skip: true, permanent: true, error: `alert is ${status ?? 'gone'}` };
    }
    if (n.channel === 'email') {
      const mail = JSON.parse(n.payload) as { to: string; subject: string; text: string };
      await ctx.mailer.send(mail);
      return { ok: true, permanent: false };
    }
    const hook = await webhookTarget(ctx.db, n.webhook_id ?? -1);
    if (!hook) return { ok: false, permanent: true, error: 'the webhook was deleted' };
    const url = checkWebhookUrl(hook.url, cfg.webhook_allow_private);
    if (typeof url === 'string') return { ok: false, permanent: true, error: url };
    const headers = webhookHeaders(url, n.payload, hook.secret, ctx.clock.now(), {
      event: n.event,
      delivery: String(n.id),
    });
    return await sender.post(url, n.payload, headers, signal);
  } catch (err) {
    return { ok: false, permanent: false, error: (err as Error).message.slice(0, 500) };
  }
}

/** Delay before attempt `attempts + 1`: doubling from `firstS`, at most an hour, ±20 % jitter so retries spread. */
export function retryDelayMs(attempts: number, firstS: number, random = Math.random): number {
  const base = Math.min(3_600_000, firstS * 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
