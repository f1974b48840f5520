import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { CentralDb } from '../../../backend/db/connect.js';
import {
  deviceUuidsOf,
  isDeviceMember,
  liveDeviceCertificates,
  memberEmails,
  unrevokedSerials,
} from '../../../backend/store/realtime-access.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addMember, addUser, migratedDb } from '../../helpers/store-db.js';

/** A certificate row for the device; resolves to its serial. */
async function addCertificate(db: CentralDb, deviceId: number, revoked = false): Promise<string> {
  const serial = randomBytes(8).toString('hex');
  await db.kysely
    .insertInto('device_certificates')
    .values({
      serial,
      device_id: deviceId,
      pem: 'not-a-pem',
      not_before: 0,
      not_after: 1,
      issued_at: 0,
      revoked_at: revoked ? 5 : null,
      revoke_reason: revoked ? 'test' : null,
    })
    .execute();
  return serial;
}

for (const target of await dbTargets())
  t.test(`store/realtime-access on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);

    t.test('liveDeviceCertificates: unrevoked ones, of a provisioned device only', async (t) => {
      const hub = await addDevice(db);
      const live = await addCertificate(db, hub.id);
      await addCertificate(db, hub.id, true);
      t.same(await liveDeviceCertificates(db, hub.uuid), [{ deviceId: hub.id, serial: live }]);

      const unlinked = await addDevice(db, { status: 'registered' });
      await addCertificate(db, unlinked.id);
      t.same(await liveDeviceCertificates(db, unlinked.uuid), [], 'a de-provisioned hub’s certificate opens nothing');
      t.same(await liveDeviceCertificates(db, 'f0000000-0000-4000-8000-000000000000'), []);
    });

    t.test('unrevokedSerials: those known and not revoked', async (t) => {
      const hub = await addDevice(db);
      const live = await addCertificate(db, hub.id);
      const revoked = await addCertificate(db, hub.id, true);
      t.same([...(await unrevokedSerials(db, [live, revoked, 'feedbeef']))], [live]);
      t.same([...(await unrevokedSerials(db, []))], [], 'no connections, no query');
    });

    t.test('isDeviceMember and memberEmails', async (t) => {
      const hub = await addDevice(db);
      const other = await addDevice(db);
      const owner = await addUser(db, 'owner');
      const viewer = await addUser(db, 'viewer');
      const stranger = await addUser(db, 'stranger');
      await addMember(db, owner.id, hub.id, 'owner');
      await addMember(db, viewer.id, hub.id, 'viewer');
      await addMember(db, stranger.id, other.id, 'owner');

      t.equal(await isDeviceMember(db, owner.id, hub.uuid), true);
      t.equal(await isDeviceMember(db, viewer.id, hub.uuid), true, 'any role');
      t.equal(await isDeviceMember(db, stranger.id, hub.uuid), false, 'a member of another hub');
      t.equal(await isDeviceMember(db, owner.id, other.uuid), false);

      t.same((await memberEmails(db, hub.uuid)).sort(), [owner.email, viewer.email].sort());
      t.same(await memberEmails(db, (await addDevice(db)).uuid), [], 'a hub nobody has');
    });

    t.test('deviceUuidsOf: central ids to the uuids on the wire', async (t) => {
      const a = await addDevice(db);
      const b = await addDevice(db);
      t.same((await deviceUuidsOf(db, [a.id, b.id, 987_654])).sort(), [a.uuid, b.uuid].sort(), 'unknown ids left out');
      t.same(await deviceUuidsOf(db, []), []);
    });
  });
