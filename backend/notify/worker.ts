import type { CentralContext } from '../context.js';
import {
  claimDueNotifications,
  recordDeliveryAttempt,
  releaseNotificationLease,
  type ClaimedNotification,
} from '../store/notifications.js';
import { deviceUuidsOf } from '../store/realtime-access.js';
import { attemptDelivery, retryDelayMs } from './deliver.js';
import { escalateUnanswered } from './escalation.js';
import { watchHubsOffline } from './hub-offline.js';
import { webhookSender, type WebhookSender } from './webhook-post.js';

/** Notifications one pass claims; the rest wait for the next pass (it follows at once when this one was full). */
const CLAIM = 50;
/** Deliveries in flight at once per instance. */
const PARALLEL = 8;
const POLL_MS = 1000;

export interface WorkerPass {
  delivered: number;
  retried: number;
  failed: number;
  skipped: number;
}

/**
 * Central's notification worker: every second (and at once when something is queued) it escalates
 * unanswered fall alerts, raises detection-down alerts for hubs gone quiet, and delivers the due
 * notifications. The queue is the `notifications` table: a delivery is claimed with a lease (an
 * instance that dies mid-delivery frees it when the lease ends), every attempt is recorded in
 * `notification_attempts`, a failure is retried with backoff up to `central.webhook_max_attempts`.
 * A restart loses nothing: what was pending is still pending.
 */
/** How long stop() lets deliveries under way finish before cutting them short. */
const STOP_GRACE_MS = 1000;

export class NotificationWorker {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<WorkerPass> | undefined;
  #again = false;
  #stopped = true;
  /** Aborted by stop(): webhook POSTs under way end at once instead of running to their timeout. */
  #abort = new AbortController();
  /** From start() to stop(): its kept-alive connections serve pass after pass. */
  #sender: WebhookSender | undefined;

  constructor(private readonly ctx: CentralContext) {}

  start(): void {
    this.#stopped = false;
    this.#abort = new AbortController();
    this.#sender = this.#newSender();
    this.#timer = setInterval(() => this.kick(), POLL_MS);
    this.#timer.unref();
    this.ctx.bus.on('notify', 'notify.queued', () => this.kick());
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.ctx.bus.removeAll('notify');
    // Deliveries under way get a moment to finish (an answer arriving now is recorded as usual); past it
    // they are cut short and handed back, so a receiver that never answers cannot hold central's stop.
    const running = this.#running;
    if (running) {
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((r) => (timer = setTimeout(r, STOP_GRACE_MS)));
      await Promise.race([running, graceOver]);
      clearTimeout(timer);
      this.#abort.abort();
    }
    await this.#running;
    // Nothing is under way any more: this closes the kept-alive connections.
    await this.#sender?.close();
    this.#sender = undefined;
  }

  /** Runs a pass now, or right after the one running (what was queued meanwhile is not left for a second). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else void this.runOnce();
  }

  /** One pass (tests call it directly); resolves to what it did. */
  runOnce(): Promise<WorkerPass> {
    this.#running ??= this.#pass()
      .catch((err: unknown) => {
        this.ctx.log.error({ err }, 'notification pass failed; retried in a second');
        return { delivered: 0, retried: 0, failed: 0, skipped: 0 };
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
    return this.#running;
  }

  async #pass(): Promise<WorkerPass> {
    const changed = new Set([...(await escalateUnanswered(this.ctx)), ...(await watchHubsOffline(this.ctx))]);
    if (changed.size > 0) await this.#announce(changed);
    // A pass run outside start()/stop() (tests, a one-off run) brings its own sender and closes it.
    const shared = this.#sender;
    const sender = shared ?? this.#newSender();
    const pass: WorkerPass = { delivered: 0, retried: 0, failed: 0, skipped: 0 };
    try {
      for (;;) {
        const claimed = await this.#claim();
        for (let i = 0; i < claimed.length; i += PARALLEL)
          await Promise.all(claimed.slice(i, i + PARALLEL).map((n) => this.#deliver(n, sender, pass)));
        if (claimed.length < CLAIM || this.#stopped) return pass;
      }
    } finally {
      if (!shared) await sender.close();
    }
  }

  #newSender(): WebhookSender {
    const cfg = this.ctx.config.central;
    return webhookSender({ timeoutMs: cfg.webhook_timeout_ms, allowPrivate: cfg.webhook_allow_private });
  }

  /** Due notifications this instance now holds (a lease, taken with a conditional update per row). */
  #claim(): Promise<ClaimedNotification[]> {
    const now = this.ctx.clock.now();
    // The lease outlasts the longest delivery (the sender's deadline is webhook_timeout_ms).
    const lease = now + this.ctx.config.central.webhook_timeout_ms + 30_000;
    return claimDueNotifications(this.ctx.db, now, lease, CLAIM);
  }

  async #deliver(n: ClaimedNotification, sender: WebhookSender, pass: WorkerPass): Promise<void> {
    const started = this.ctx.clock.now();
    const t0 = performance.now();
    const signal = this.#abort.signal;
    const r = await attemptDelivery(this.ctx, n, sender, signal);
    // Only a POST the signal itself cut short: an answer that came just before the stop is recorded as usual.
    if (r.aborted) {
      // Cut short by our own shutdown: not the receiver's failure, so no attempt is counted; the lease is
      // handed back and the next instance to run (or this one after its restart) delivers it at once.
      await releaseNotificationLease(this.ctx.db, n.id);
      return;
    }
    const cfg = this.ctx.config.central;
    const attempts = Number(n.attempts) + 1;
    const now = this.ctx.clock.now();
    const status = r.ok
      ? 'delivered'
      : r.skip
        ? 'skipped'
        : r.permanent || attempts >= cfg.webhook_max_attempts
          ? 'failed'
          : 'pending';
    await recordDeliveryAttempt(
      this.ctx.db,
      n.id,
      {
        at: started,
        durationMs: Math.round(performance.now() - t0),
        ok: r.ok,
        httpStatus: r.status ?? null,
        error: r.error?.slice(0, 500) ?? null,
      },
      {
        status,
        attempts,
        lastError: r.ok ? null : (r.error?.slice(0, 500) ?? null),
        ...(r.ok ? { deliveredAt: now } : {}),
        ...(status === 'pending' ? { nextAttemptAt: now + retryDelayMs(attempts, cfg.webhook_retry_s) } : {}),
      },
    );
    this.ctx.metrics.notifications.inc({ channel: n.channel, result: status === 'pending' ? 'retry' : status });
    if (status === 'delivered') pass.delivered++;
    else if (status === 'skipped') pass.skipped++;
    else if (status === 'pending') pass.retried++;
    else {
      pass.failed++;
      this.ctx.log.error(
        { notification_id: n.id, channel: n.channel, event: n.event, attempts, error: r.error },
        'notification could not be delivered: given up',
      );
    }
  }

  async #announce(deviceIds: Set<number>): Promise<void> {
    for (const deviceUuid of await deviceUuidsOf(this.ctx.db, [...deviceIds]))
      this.ctx.bus.emit('alerts.changed', { deviceUuid });
  }
}
