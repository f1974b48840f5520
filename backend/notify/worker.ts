import type { CentralContext } from '../context.js';
import type { Database } from '../db/types.js';
import { attemptDelivery, retryDelayMs } from './deliver.js';
import { escalateUnanswered } from './escalation.js';
import { watchHubsOffline } from './hub-offline.js';

/** Notifications one pass claims; the rest wait for the next pass (it follows at once when this one was full). */
const CLAIM = 50;
/** Deliveries in flight at once per instance. */
const PARALLEL = 8;
const POLL_MS = 1000;

type Claimed = Pick<
  Database['notifications'],
  'channel' | 'webhook_id' | 'payload' | 'event' | 'device_id' | 'alert_id'
> & { id: number; attempts: number };

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

  constructor(private readonly ctx: CentralContext) {}

  start(): void {
    this.#stopped = false;
    this.#abort = new AbortController();
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
    const pass: WorkerPass = { delivered: 0, retried: 0, failed: 0, skipped: 0 };
    for (;;) {
      const claimed = await this.#claim();
      for (let i = 0; i < claimed.length; i += PARALLEL)
        await Promise.all(claimed.slice(i, i + PARALLEL).map((n) => this.#deliver(n, pass)));
      if (claimed.length < CLAIM || this.#stopped) return pass;
    }
  }

  /** Due notifications this instance now holds (a lease, taken with a conditional update per row). */
  async #claim(): Promise<Claimed[]> {
    const db = this.ctx.db.kysely;
    const now = this.ctx.clock.now();
    const lease = now + this.ctx.config.central.webhook_timeout_ms + 30_000;
    const due = await db
      .selectFrom('notifications')
      .select(['id', 'channel', 'webhook_id', 'payload', 'event', 'device_id', 'alert_id', 'attempts'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(CLAIM)
      .execute();
    const mine: Claimed[] = [];
    for (const n of due) {
      const res = await db
        .updateTable('notifications')
        .set({ lease_until: lease })
        .where('id', '=', n.id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) mine.push({ ...n, id: Number(n.id), attempts: Number(n.attempts) });
    }
    return mine;
  }

  async #deliver(n: Claimed, pass: WorkerPass): Promise<void> {
    const started = this.ctx.clock.now();
    const t0 = performance.now();
    const signal = this.#abort.signal;
    const r = await attemptDelivery(this.ctx, n, signal);
    // Only a POST the signal itself cut short: an answer that came just before the stop is recorded as usual.
    if (r.aborted) {
      // Cut short by our own shutdown: not the receiver's failure, so no attempt is counted; the lease is
      // handed back and the next instance to run (or this one after its restart) delivers it at once.
      await this.ctx.db.kysely.updateTable('notifications').set({ lease_until: null }).where('id', '=', n.id).execute();
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
    const db = this.ctx.db.kysely;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('notification_attempts')
        .values({
          notification_id: n.id,
          at: started,
          duration_ms: Math.round(performance.now() - t0),
          ok: r.ok ? 1 : 0,
          http_status: r.status ?? null,
          error: r.error?.slice(0, 500) ?? null,
        })
        .execute();
      await trx
        .updateTable('notifications')
        .set({
          status,
          attempts,
          lease_until: null,
          last_error: r.ok ? null : (r.error?.slice(0, 500) ?? null),
          ...(r.ok ? { delivered_at: now } : {}),
          ...(status === 'pending' ? { next_attempt_at: now + retryDelayMs(attempts, cfg.webhook_retry_s) } : {}),
        })
        .where('id', '=', n.id)
        .execute();
    });
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
    const rows = await this.ctx.db.kysely
      .selectFrom('devices')
      .select('device_uuid')
      .where('id', 'in', [...deviceIds])
      .execute();
    for (const r of rows) this.ctx.bus.emit('alerts.changed', { deviceUuid: r.device_uuid });
  }
}
