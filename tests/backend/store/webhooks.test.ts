import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import {
  MAX_WEBHOOKS_PER_USER,
  createWebhook,
  deleteWebhook,
  listWebhookDeliveries,
  listWebhooks,
} from '../../../backend/store/webhooks.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addUser, migratedDb } from '../../helpers/store-db.js';

const T0 = Date.UTC(2026, 0, 1);
const hook = (n: number) => ({ url: `https://hooks.example/${n}`, events: ['fall_alert'], secret: `whsec_${n}` });

/** A delivery of webhook `webhookId` with `attempts` attempts (true: ok), as the worker leaves it. */
async function delivery(
  db: CentralDb,
  w: { userId: number; webhookId: number; deviceId: number },
  n: number,
  attempts: boolean[],
) {
  const row = await db.kysely
    .insertInto('notifications')
    .values({
      user_id: w.userId,
      channel: 'webhook',
      webhook_id: w.webhookId,
      event: 'fall_alert',
      device_id: w.deviceId,
      alert_id: `alert-${n}`,
      dedupe_key: `test:${w.webhookId}:${n}`,
      payload: '{}',
      status: attempts.at(-1) ? 'delivered' : 'pending',
      next_attempt_at: T0 + n,
      lease_until: null,
      last_error: null,
      created_at: T0 + n,
      delivered_at: attempts.at(-1) ? T0 + n + 1 : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [i, ok] of attempts.entries())
    await db.kysely
      .insertInto('notification_attempts')
      .values({
        notification_id: row.id,
        at: T0 + n + i,
        duration_ms: 10 + i,
        ok: ok ? 1 : 0,
        http_status: ok ? 200 : 503,
        error: ok ? null : 'HTTP 503',
      })
      .execute();
  return Number(row.id);
}

for (const target of await dbTargets()) {
  t.test(`store/webhooks on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('create and list: the user’s own, oldest first, events parsed, no secret', async (t) => {
      const user = await addUser(db);
      const other = await addUser(db);
      const first = await createWebhook(db, user.id, hook(1), T0);
      t.strictSame(first, { id: first.id, url: 'https://hooks.example/1', events: ['fall_alert'], created_at: T0 });
      const second = await createWebhook(db, user.id, { ...hook(2), events: ['fall_alert', 'detection_down'] }, T0 + 1);
      await createWebhook(db, other.id, hook(3), T0);
      t.strictSame(await listWebhooks(db, user.id), [first, second]);
      t.strictSame(
        (await db.kysely.selectFrom('user_webhooks').select('secret').where('id', '=', first.id).executeTakeFirst())
          ?.secret,
        'whsec_1',
        'the secret is stored for signing',
      );
    });

    t.test(`create: at most ${MAX_WEBHOOKS_PER_USER} per user`, async (t) => {
      const user = await addUser(db);
      for (let i = 0; i < MAX_WEBHOOKS_PER_USER; i++) await createWebhook(db, user.id, hook(i), T0);
      await t.rejects(createWebhook(db, user.id, hook(99), T0), {
        code: 'ARES_ERR_CONFLICT',
        message: `you have ${MAX_WEBHOOKS_PER_USER} webhooks already: delete one first`,
      });
      t.equal((await listWebhooks(db, user.id)).length, MAX_WEBHOOKS_PER_USER);
      const other = await addUser(db);
      t.ok(await createWebhook(db, other.id, hook(1), T0), 'the limit is per user');
    });

    t.test('delete: the user’s own only, with its deliveries', async (t) => {
      const user = await addUser(db);
      const other = await addUser(db);
      const hub = await addDevice(db);
      const w = await createWebhook(db, user.id, hook(1), T0);
      const id = await delivery(db, { userId: user.id, webhookId: w.id, deviceId: hub.id }, 1, [true]);
      t.equal(await deleteWebhook(db, other.id, w.id), false, 'not someone else’s');
      t.equal(await deleteWebhook(db, user.id, w.id), true);
      t.strictSame(await listWebhooks(db, user.id), []);
      t.equal(await deleteWebhook(db, user.id, w.id), false, 'gone already');
      t.equal(
        await db.kysely.selectFrom('notifications').select('id').where('id', '=', id).executeTakeFirst(),
        undefined,
        'its deliveries went with it',
      );
    });

    t.test('deliveries: newest first, at most limit, attempts in order; none of another’s', async (t) => {
      const user = await addUser(db);
      const other = await addUser(db);
      const hub = await addDevice(db);
      const w = await createWebhook(db, user.id, hook(1), T0);
      const unrelated = await createWebhook(db, user.id, hook(2), T0);
      const ids = { userId: user.id, webhookId: w.id, deviceId: hub.id };
      const d1 = await delivery(db, ids, 1, [false, true]);
      const d2 = await delivery(db, ids, 2, [false]);
      const d3 = await delivery(db, ids, 3, []);
      await delivery(db, { ...ids, webhookId: unrelated.id }, 4, [true]);

      const all = await listWebhookDeliveries(db, user.id, w.id, 50);
      t.strictSame(
        all?.map((d) => d.id),
        [d3, d2, d1],
      );
      t.strictSame(all?.[2], {
        id: d1,
        event: 'fall_alert',
        alert_id: 'alert-1',
        status: 'delivered',
        created_at: T0 + 1,
        delivered_at: T0 + 2,
        next_attempt_at: T0 + 1,
        attempts: [
          { at: T0 + 1, ok: false, http_status: 503, error: 'HTTP 503', duration_ms: 10 },
          { at: T0 + 2, ok: true, http_status: 200, error: null, duration_ms: 11 },
        ],
      });
      t.strictSame(all?.[0]?.attempts, [], 'a delivery not tried yet');
      t.strictSame(
        (await listWebhookDeliveries(db, user.id, w.id, 2))?.map((d) => d.id),
        [d3, d2],
      );
      t.equal(await listWebhookDeliveries(db, other.id, w.id, 50), undefined, 'another user’s webhook is none');
      t.equal(await listWebhookDeliveries(db, user.id, 999_999, 50), undefined);
      t.strictSame(
        await listWebhookDeliveries(db, user.id, (await createWebhook(db, user.id, hook(5), T0)).id, 50),
        [],
      );
    });
  });
}
