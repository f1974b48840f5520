import type { Insertable, Kysely } from 'kysely';
import type { CentralDb } from '../db/connect.js';
import type { Database, NotificationsTable } from '../db/types.js';

/**
 * A database handle or a transaction already open: functions that run inside a caller's transaction
 * (queueing an alert's notifications with the change that caused them) take this instead of CentralDb.
 */
export type Queryable = Kysely<Database>;

export type NewNotification = Insertable<NotificationsTable>;

/** A due notification this instance holds the lease of. */
export interface ClaimedNotification {
  id: number;
  channel: NotificationsTable['channel'];
  webhook_id: number | null;
  payload: string;
  event: string;
  device_id: number;
  alert_id: string | null;
  attempts: number;
}

/** One delivery attempt as `notification_attempts` records it. */
export interface DeliveryAttempt {
  at: number;
  durationMs: number;
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
}

/** Where a notification stands after an attempt. */
export interface DeliveryOutcome {
  status: NotificationsTable['status'];
  /** Attempts so far, this one included. */
  attempts: number;
  lastError: string | null;
  /** Set when it was delivered. */
  deliveredAt?: number;
  /** Set when it stays pending: when to try again. */
  nextAttemptAt?: number;
}

/**
 * Queues notifications; one whose `dedupe_key` is already queued is left as it was, so queueing the
 * same change twice (a re-sent sync batch, two instances) sends it once. Resolves to how many were new.
 */
export async function insertNotifications(db: Queryable, rows: NewNotification[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await db
    .insertInto('notifications')
    .values(rows)
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0);
}

/**
 * Takes the lease (until `leaseUntil`) of at most `limit` due notifications, the longest due first.
 * Each row is taken with a conditional update, so two instances claiming at once never hold the same
 * one: the second update matches nothing and that row is left out of its answer. A lease that ended
 * (its holder died mid-delivery) is free to take again.
 */
export async function claimDueNotifications(
  db: CentralDb,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<ClaimedNotification[]> {
  const due = await db.kysely
    .selectFrom('notifications')
    .select(['id', 'channel', 'webhook_id', 'payload', 'event', 'device_id', 'alert_id', 'attempts'])
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
  const mine: ClaimedNotification[] = [];
  for (const n of due) {
    const res = await db.kysely
      .updateTable('notifications')
      .set({ lease_until: leaseUntil })
      .where('id', '=', n.id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) mine.push({ ...n, id: Number(n.id), attempts: Number(n.attempts) });
  }
  return mine;
}

/** Hands a claimed notification back untried (central stopping): it is due again at once for anyone. */
export async function releaseNotificationLease(db: CentralDb, id: number): Promise<void> {
  await db.kysely.updateTable('notifications').set({ lease_until: null }).where('id', '=', id).execute();
}

/**
 * Records an attempt and the notification's new state together (one transaction), and ends the
 * lease: a crash between the two can neither lose the attempt nor count it without its result.
 */
export async function recordDeliveryAttempt(
  db: CentralDb,
  id: number,
  attempt: DeliveryAttempt,
  outcome: DeliveryOutcome,
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    await trx
      .insertInto('notification_attempts')
      .values({
        notification_id: id,
        at: attempt.at,
        duration_ms: attempt.durationMs,
        ok: attempt.ok ? 1 : 0,
        http_status: attempt.httpStatus,
        error: attempt.error,
      })
      .execute();
    await trx
      .updateTable('notifications')
      .set({
        status: outcome.status,
        attempts: outcome.attempts,
        lease_until: null,
        last_error: outcome.lastError,
        ...(outcome.deliveredAt !== undefined ? { delivered_at: outcome.deliveredAt } : {}),
        ...(outcome.nextAttemptAt !== undefined ? { next_attempt_at: outcome.nextAttemptAt } : {}),
      })
      .where('id', '=', id)
      .execute();
  });
}
