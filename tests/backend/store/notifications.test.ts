import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import {
  claimDueNotifications,
  insertNotifications,
  recordDeliveryAttempt,
  releaseNotificationLease,
  type NewNotification,
} from '../../../backend/store/notifications.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addUser, migratedDb } from '../../helpers/store-db.js';

const NOW = 1_800_000_000_000;
const LEASE = NOW + 40_000;

/** A user and a device to hang notifications on, and a maker of pending mail notifications for them. */
async function fixture(db: CentralDb) {
  const user = await addUser(db);
  const device = await addDevice(db);
  const mail = (key: string, over: Partial<NewNotification> = {}): NewNotification => ({
    user_id: user.id,
    channel: 'email',
    webhook_id: null,
    event: 'fall_alert',
    device_id: device.id,
    alert_id: 'a1',
    dedupe_key: key,
    payload: `{"key":"${key}"}`,
    status: 'pending',
    next_attempt_at: NOW,
    lease_until: null,
    last_error: null,
    created_at: NOW,
    delivered_at: null,
    ...over,
  });
  const row = async (key: string) => {
    const r = await db.kysely
      .selectFrom('notifications')
      .selectAll()
      .where('dedupe_key', '=', key)
      .executeTakeFirstOrThrow();
    return {
      ...r,
      id: Number(r.id),
      attempts: Number(r.attempts),
      next_attempt_at: Number(r.next_attempt_at),
      lease_until: r.lease_until === null ? null : Number(r.lease_until),
      delivered_at: r.delivered_at === null ? null : Number(r.delivered_at),
    };
  };
  return { mail, row };
}

for (const target of await dbTargets())
  t.test(`store/notifications on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());

    t.test('insertNotifications: a dedupe key already queued is left as it was', async (t) => {
      const db = await migratedDb(t, target);
      const f = await fixture(db);
      t.equal(await insertNotifications(db.kysely, []), 0, 'nothing to queue');
      t.equal(await insertNotifications(db.kysely, [f.mail('k1'), f.mail('k2')]), 2);
      t.equal(
        await insertNotifications(db.kysely, [f.mail('k1', { payload: '{"changed":true}' }), f.mail('k3')]),
        1,
        'only the new one counts',
      );
      t.equal((await f.row('k1')).payload, '{"key":"k1"}', 'the first one queued stands');
      t.ok(await f.row('k3'));
    });

    t.test('claimDueNotifications: due, pending, unleased, longest due first, at most the limit', async (t) => {
      const db = await migratedDb(t, target);
      const f = await fixture(db);
      await insertNotifications(db.kysely, [
        f.mail('later-due', { next_attempt_at: NOW - 1_000 }),
        f.mail('first-due', { next_attempt_at: NOW - 5_000 }),
        f.mail('exactly-now', { next_attempt_at: NOW }),
        f.mail('not-yet', { next_attempt_at: NOW + 1 }),
        f.mail('delivered', { status: 'delivered', next_attempt_at: NOW - 9_000 }),
        f.mail('held', { lease_until: NOW + 1, next_attempt_at: NOW - 9_000 }),
        f.mail('lease-over', { lease_until: NOW - 1, next_attempt_at: NOW - 2_000 }),
      ]);
      const ids = async (...keys: string[]) => Promise.all(keys.map(async (k) => (await f.row(k)).id));

      const two = await claimDueNotifications(db, NOW, LEASE, 2);
      t.same(
        two.map((n) => n.id),
        await ids('first-due', 'lease-over'),
        'the longest due first; an ended lease is free again',
      );
      t.match(two[0], { channel: 'email', payload: '{"key":"first-due"}', attempts: 0, device_id: Number });
      t.equal((await f.row('first-due')).lease_until, LEASE, 'the lease is stored');

      const rest = await claimDueNotifications(db, NOW, LEASE, 10);
      t.same(
        rest.map((n) => n.id),
        await ids('later-due', 'exactly-now'),
        'what the first claim left; never a delivered, not yet due or held one',
      );
      t.same(await claimDueNotifications(db, NOW, LEASE, 10), [], 'everything due is held now');
      t.same(
        (await claimDueNotifications(db, LEASE + 1, LEASE + 50_000, 10)).length,
        6,
        'once the leases end, theirs are due again, with the one that fell due meanwhile',
      );
    });

    t.test('claimDueNotifications: two instances claiming at once never hold the same row', async (t) => {
      const db = await migratedDb(t, target);
      const f = await fixture(db);
      const keys = Array.from({ length: 12 }, (_, i) => `n${i}`);
      await insertNotifications(
        db.kysely,
        keys.map((k) => f.mail(k)),
      );
      const [a, b] = await Promise.all([
        claimDueNotifications(db, NOW, LEASE, 50),
        claimDueNotifications(db, NOW, LEASE, 50),
      ]);
      const all = [...a, ...b].map((n) => n.id).sort((x, y) => x - y);
      t.equal(new Set(all).size, all.length, 'no row in both answers');
      t.equal(all.length, keys.length, 'and every due row in one of them');
    });

    t.test('releaseNotificationLease: handed back, due again at once for anyone', async (t) => {
      const db = await migratedDb(t, target);
      const f = await fixture(db);
      await insertNotifications(db.kysely, [f.mail('k')]);
      const [mine] = await claimDueNotifications(db, NOW, LEASE, 10);
      t.same(await claimDueNotifications(db, NOW, LEASE, 10), [], 'held');
      await releaseNotificationLease(db, mine!.id);
      t.match(await f.row('k'), { lease_until: null, status: 'pending', attempts: 0 });
      t.same(
        (await claimDueNotifications(db, NOW, LEASE, 10)).map((n) => n.id),
        [mine!.id],
      );
    });

    t.test('recordDeliveryAttempt: the attempt and the new state, lease ended', async (t) => {
      const db = await migratedDb(t, target);
      const f = await fixture(db);
      await insertNotifications(db.kysely, [f.mail('retry'), f.mail('done')]);
      const claimed = await claimDueNotifications(db, NOW, LEASE, 10);
      t.equal(claimed.length, 2);
      const retry = (await f.row('retry')).id;
      const done = (await f.row('done')).id;

      await recordDeliveryAttempt(
        db,
        retry,
        { at: NOW, durationMs: 12, ok: false, httpStatus: 503, error: 'HTTP 503' },
        { status: 'pending', attempts: 1, lastError: 'HTTP 503', nextAttemptAt: NOW + 5_000 },
      );
      t.match(await f.row('retry'), {
        status: 'pending',
        attempts: 1,
        lease_until: null,
        last_error: 'HTTP 503',
        next_attempt_at: NOW + 5_000,
        delivered_at: null,
      });

      await recordDeliveryAttempt(
        db,
        done,
        { at: NOW + 1, durationMs: 3, ok: true, httpStatus: 200, error: null },
        { status: 'delivered', attempts: 1, lastError: null, deliveredAt: NOW + 2 },
      );
      t.match(await f.row('done'), {
        status: 'delivered',
        attempts: 1,
        lease_until: null,
        last_error: null,
        next_attempt_at: NOW,
        delivered_at: NOW + 2,
      });

      const attempts = await db.kysely
        .selectFrom('notification_attempts')
        .select(['notification_id', 'at', 'duration_ms', 'ok', 'http_status', 'error'])
        .orderBy('id')
        .execute();
      t.same(
        attempts.map((a) => ({ ...a, notification_id: Number(a.notification_id), at: Number(a.at) })),
        [
          { notification_id: retry, at: NOW, duration_ms: 12, ok: 0, http_status: 503, error: 'HTTP 503' },
          { notification_id: done, at: NOW + 1, duration_ms: 3, ok: 1, http_status: 200, error: null },
        ],
      );
      t.same(await claimDueNotifications(db, NOW + 5_000, LEASE, 10), [
        { ...claimed.find((n) => n.id === retry)!, attempts: 1 },
      ]);
    });
  });
