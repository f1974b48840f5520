import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import { alertRecipients, webhookTarget } from '../../../backend/store/notification-recipients.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addMember, addUser, migratedDb } from '../../helpers/store-db.js';

async function addWebhook(db: CentralDb, userId: number, events: string[]): Promise<number> {
  const row = await db.kysely
    .insertInto('user_webhooks')
    .values({
      user_id: userId,
      url: `https://hooks.example.com/${userId}`,
      events: JSON.stringify(events),
      secret: `whsec_${userId}`,
      created_at: 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

for (const target of await dbTargets())
  t.test(`store/notification-recipients on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);

    t.test('alertRecipients: the active owners and viewers, and their webhooks only', async (t) => {
      const hub = await addDevice(db);
      const elsewhere = await addDevice(db);
      const owner = await addUser(db, 'owner');
      const viewer = await addUser(db, 'viewer');
      const gone = await addUser(db, 'deactivated');
      const stranger = await addUser(db, 'stranger');
      await addMember(db, owner.id, hub.id, 'owner');
      await addMember(db, viewer.id, hub.id, 'viewer');
      await addMember(db, gone.id, hub.id, 'owner');
      await addMember(db, stranger.id, elsewhere.id, 'owner');
      await db.kysely.updateTable('users').set({ is_active: 0 }).where('id', '=', gone.id).execute();
      await db.kysely
        .updateTable('user_devices')
        .set({ nickname: 'Grandma' })
        .where('user_id', '=', owner.id)
        .execute();
      const ownerHooks = [await addWebhook(db, owner.id, ['fall_alert']), await addWebhook(db, owner.id, [])];
      const viewerHook = await addWebhook(db, viewer.id, ['detection_down']);
      await addWebhook(db, gone.id, ['fall_alert']);
      await addWebhook(db, stranger.id, ['fall_alert']);

      const r = await alertRecipients(db.kysely, hub.id);
      t.equal(r?.deviceUuid, hub.uuid);
      t.same(
        [...r!.members].sort((a, b) => a.user_id - b.user_id),
        [
          { user_id: owner.id, email: owner.email, nickname: 'Grandma' },
          { user_id: viewer.id, email: viewer.email, nickname: null },
        ],
        'a deactivated account and another hub’s members are not told',
      );
      t.same(
        r!.webhooks.map((h) => [h.id, h.user_id]).sort((a, b) => a[0]! - b[0]!),
        [
          [ownerHooks[0], owner.id],
          [ownerHooks[1], owner.id],
          [viewerHook, viewer.id],
        ],
        'every webhook of the members told, whatever it asked for (the caller filters by event)',
      );
      t.equal(r!.webhooks.find((h) => h.id === viewerHook)?.events, '["detection_down"]');
    });

    t.test('alertRecipients: a hub without members; a hub that is gone', async (t) => {
      const lonely = await addDevice(db);
      t.same(await alertRecipients(db.kysely, lonely.id), { deviceUuid: lonely.uuid, members: [], webhooks: [] });
      t.equal(await alertRecipients(db.kysely, 987_654), undefined);
    });

    t.test('alertRecipients: inside a transaction, it sees what the transaction wrote', async (t) => {
      const hub = await addDevice(db);
      const late = await addUser(db, 'late');
      const seen = await db.kysely.transaction().execute(async (trx) => {
        await trx
          .insertInto('user_devices')
          .values({ user_id: late.id, device_id: hub.id, role: 'viewer', nickname: null, created_at: 0 })
          .execute();
        return alertRecipients(trx, hub.id);
      });
      t.same(
        seen?.members.map((m) => m.user_id),
        [late.id],
      );
    });

    t.test('webhookTarget: where a delivery goes and its secret; nothing once deleted', async (t) => {
      const user = await addUser(db, 'hooked');
      const id = await addWebhook(db, user.id, ['fall_alert']);
      t.same(await webhookTarget(db, id), { url: `https://hooks.example.com/${user.id}`, secret: `whsec_${user.id}` });
      await db.kysely.deleteFrom('user_webhooks').where('id', '=', id).execute();
      t.equal(await webhookTarget(db, id), undefined);
      t.equal(await webhookTarget(db, -1), undefined, 'a mail has no webhook (the worker asks for -1)');
    });
  });
