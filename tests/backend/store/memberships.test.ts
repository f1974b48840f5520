import t from 'tap';
import { devicesVisibleTo, firstOwnerEmail, roleOnDevice } from '../../../backend/store/memberships.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addMember, addUser, migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/memberships on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);

    t.test('roleOnDevice: the role; null for a stranger; undefined for no such device', async (t) => {
      const hub = await addDevice(db);
      const owner = await addUser(db);
      const viewer = await addUser(db);
      const stranger = await addUser(db);
      await addMember(db, owner.id, hub.id, 'owner');
      await addMember(db, viewer.id, hub.id, 'viewer');
      t.same(await roleOnDevice(db, owner.id, hub.id), { role: 'owner' });
      t.same(await roleOnDevice(db, viewer.id, hub.id), { role: 'viewer' });
      t.same(await roleOnDevice(db, stranger.id, hub.id), { role: null });
      t.equal(await roleOnDevice(db, owner.id, hub.id + 1000), undefined);
    });

    t.test('firstOwnerEmail: the earliest owner, never a viewer', async (t) => {
      const hub = await addDevice(db);
      const viewer = await addUser(db);
      await addMember(db, viewer.id, hub.id, 'viewer', 1);
      t.equal(await firstOwnerEmail(db, hub.id), null, 'no owner');
      const later = await addUser(db);
      const first = await addUser(db);
      await addMember(db, later.id, hub.id, 'owner', 30);
      await addMember(db, first.id, hub.id, 'owner', 20);
      t.equal(await firstOwnerEmail(db, hub.id), first.email);
    });

    t.test('devicesVisibleTo: the account’s email and every hub it owns or views', async (t) => {
      const user = await addUser(db);
      t.same(await devicesVisibleTo(db, user.id), { email: user.email, deviceUuids: [] });
      const owned = await addDevice(db);
      const viewed = await addDevice(db);
      await addDevice(db);
      await addMember(db, user.id, owned.id, 'owner');
      await addMember(db, user.id, viewed.id, 'viewer');
      const visible = await devicesVisibleTo(db, user.id);
      t.same(visible?.deviceUuids.sort(), [owned.uuid, viewed.uuid].sort());
      t.equal(await devicesVisibleTo(db, user.id + 1000), undefined, 'no such account');
    });
  });
}
