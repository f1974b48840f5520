import t from 'tap';
import { addDeviceMember, removeDeviceMember, setDeviceNickname } from '../../../backend/store/device-shares.js';
import type { CentralDb } from '../../../backend/db/connect.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addMember, addUser, auditEntries, migratedDb } from '../../helpers/store-db.js';

const members = async (db: CentralDb, deviceId: number) =>
  db.kysely
    .selectFrom('user_devices')
    .select(['user_id', 'role', 'nickname'])
    .where('device_id', '=', deviceId)
    .orderBy('user_id')
    .execute();

for (const target of await dbTargets()) {
  t.test(`store/device-shares on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);
    const ip = '203.0.113.9';

    t.test('nickname: the caller’s own, for members only', async (t) => {
      const a = await addUser(db, 'a');
      const b = await addUser(db, 'b');
      const stranger = await addUser(db, 'stranger');
      const hub = await addDevice(db);
      await addMember(db, a.id, hub.id, 'owner');
      await addMember(db, b.id, hub.id, 'viewer');
      await setDeviceNickname(db, hub.id, a.id, 'Grandma');
      await setDeviceNickname(db, hub.id, stranger.id, 'Mine now');
      t.strictSame(await members(db, hub.id), [
        { user_id: a.id, role: 'owner', nickname: 'Grandma' },
        { user_id: b.id, role: 'viewer', nickname: null },
      ]);
    });

    t.test('add: by email, audited; unknown email is not found; twice is a conflict', async (t) => {
      const owner = await addUser(db, 'owner');
      const carer = await addUser(db, 'carer');
      const hub = await addDevice(db);
      await addMember(db, owner.id, hub.id, 'owner');
      const by = { userId: owner.id, ip };
      t.strictSame(await addDeviceMember(db, hub.id, carer.email, 'viewer', 5, by), { userId: carer.id });
      t.match(await members(db, hub.id), [{ user_id: owner.id }, { user_id: carer.id, role: 'viewer' }]);
      t.match((await auditEntries(db)).at(-1), {
        actor_user_id: owner.id,
        action: 'device.member_add',
        target: `device:${hub.id}`,
        details: { user_id: carer.id, role: 'viewer' },
        ip,
      });
      await t.rejects(addDeviceMember(db, hub.id, 'nobody@ares.test', 'viewer', 6, by), {
        code: 'ARES_ERR_NOT_FOUND',
        message: 'account with that email not found',
      });
      await t.rejects(addDeviceMember(db, hub.id, carer.email, 'owner', 7, by), {
        code: 'ARES_ERR_CONFLICT',
        message: 'that account is already a member of this device',
      });
      t.match(await members(db, hub.id), [{}, { user_id: carer.id, role: 'viewer' }], 'the role is unchanged');
    });

    t.test('remove: a member goes, audited; a non-member is not found', async (t) => {
      const owner = await addUser(db, 'owner');
      const viewer = await addUser(db, 'viewer');
      const hub = await addDevice(db);
      await addMember(db, owner.id, hub.id, 'owner');
      await addMember(db, viewer.id, hub.id, 'viewer');
      await removeDeviceMember(db, hub.id, viewer.id, 9, { userId: owner.id, ip });
      t.strictSame(await members(db, hub.id), [{ user_id: owner.id, role: 'owner', nickname: null }]);
      t.match((await auditEntries(db)).at(-1), { action: 'device.member_remove', details: { user_id: viewer.id } });
      await t.rejects(removeDeviceMember(db, hub.id, viewer.id, 10, { userId: owner.id, ip }), {
        code: 'ARES_ERR_NOT_FOUND',
      });
    });

    t.test('remove: never the last owner; one of two owners may go', async (t) => {
      const first = await addUser(db, 'first');
      const second = await addUser(db, 'second');
      const hub = await addDevice(db);
      await addMember(db, first.id, hub.id, 'owner');
      await addMember(db, second.id, hub.id, 'owner');
      await removeDeviceMember(db, hub.id, second.id, 1, { userId: second.id, ip });
      const audited = (await auditEntries(db)).length;
      await t.rejects(removeDeviceMember(db, hub.id, first.id, 2, { userId: first.id, ip }), {
        code: 'ARES_ERR_CONFLICT',
      });
      t.match(await members(db, hub.id), [{ user_id: first.id, role: 'owner' }], 'the last owner stays');
      t.equal((await auditEntries(db)).length, audited, 'a refused removal is not audited');
    });
  });
}
