import { randomUUID } from 'node:crypto';
import t from 'tap';
import {
  consumeChallenge,
  credentialsRecord,
  deviceSigningKeys,
  deviceWithCpuSerial,
  devicesWithLiveCertificates,
  markDeviceSeen,
  provisionedDeviceId,
  recordProvisioning,
  recordRenewal,
  rememberChallenge,
} from '../../../backend/store/device-credentials.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, auditEntries, fakeCertificate, migratedDb } from '../../helpers/store-db.js';

for (const target of await dbTargets()) {
  t.test(`store/device-credentials on ${target.name}`, { skip: target.skip }, async (t) => {
    t.teardown(() => target.cleanup());
    const db = await migratedDb(t, target);
    const certificates = (deviceId: number) =>
      db.kysely
        .selectFrom('device_certificates')
        .select(['serial', 'revoked_at', 'revoke_reason'])
        .where('device_id', '=', deviceId)
        .execute();

    t.test('challenges: stored for registered hubs only, used once, before they expire', async (t) => {
      const hub = await addDevice(db, { status: 'claimed' });
      const other = await addDevice(db, { status: 'claimed' });
      const nonces = () => db.kysely.selectFrom('device_challenges').select('nonce').orderBy('nonce').execute();
      await rememberChallenge(db, { nonce: 'n-unknown', deviceUuid: randomUUID(), expiresAt: 500 }, 0);
      t.same(await nonces(), [], 'nothing stored for an unknown uuid');
      await rememberChallenge(db, { nonce: 'n-1', deviceUuid: hub.uuid, expiresAt: 500 }, 0);
      await rememberChallenge(db, { nonce: 'n-2', deviceUuid: hub.uuid, expiresAt: 900 }, 100);
      t.equal(await consumeChallenge(db, 'n-1', other.uuid, 200), false, 'another hub’s challenge');
      t.equal(await consumeChallenge(db, 'n-1', hub.uuid, 500), false, 'expired');
      t.equal(await consumeChallenge(db, 'n-2', hub.uuid, 200), true);
      t.equal(await consumeChallenge(db, 'n-2', hub.uuid, 200), false, 'already used');
      await rememberChallenge(db, { nonce: 'n-3', deviceUuid: hub.uuid, expiresAt: 2_000 }, 600);
      t.same(await nonces(), [{ nonce: 'n-3' }], 'storing one cleared the expired ones');
    });

    t.test('what device requests are verified with; last seen and clock skew', async (t) => {
      const hub = await addDevice(db, { status: 'provisioned' });
      t.same(await deviceSigningKeys(db, hub.uuid), {
        id: hub.id,
        device_uuid: hub.uuid,
        public_key: hub.publicKey,
        shared_secret: hub.sharedSecret,
      });
      t.equal(await deviceSigningKeys(db, randomUUID()), undefined);
      await markDeviceSeen(db, hub.id, 77_000, -3);
      t.same(
        await db.kysely
          .selectFrom('devices')
          .select(['last_seen_at', 'clock_skew_s'])
          .where('id', '=', hub.id)
          .executeTakeFirst(),
        { last_seen_at: 77_000, clock_skew_s: -3 },
      );
      t.same(await deviceWithCpuSerial(db, hub.cpuSerial), { id: hub.id, device_uuid: hub.uuid });
      t.equal(await deviceWithCpuSerial(db, 'ffff0000'), undefined);
    });

    t.test('provisioning supersedes earlier certificates; renewal keeps them', async (t) => {
      const hub = await addDevice(db, { status: 'claimed' });
      t.match(await credentialsRecord(db, hub.id), { id: hub.id, status: 'claimed', shared_secret: hub.sharedSecret });
      await t.rejects(credentialsRecord(db, hub.id + 1000), 'no such device');
      t.equal(await provisionedDeviceId(db, hub.uuid), undefined, 'not provisioned yet');

      const first = fakeCertificate(1e12);
      await recordProvisioning(db, hub.id, first, 1_000, '10.3.3.3');
      const second = fakeCertificate(1e12);
      await recordProvisioning(db, hub.id, second, 2_000, '10.3.3.3');
      t.equal((await credentialsRecord(db, hub.id)).status, 'provisioned');
      t.equal(await provisionedDeviceId(db, hub.uuid), hub.id);
      const bySerial = new Map((await certificates(hub.id)).map((c) => [c.serial, c]));
      t.match(bySerial.get(first.serial), { revoked_at: 2_000, revoke_reason: 'superseded' });
      t.match(bySerial.get(second.serial), { revoked_at: null });

      const renewed = fakeCertificate(1e12);
      await recordRenewal(db, hub.id, renewed, 3_000, '10.3.3.4');
      const after = await certificates(hub.id);
      t.same(
        after
          .filter((c) => c.revoked_at === null)
          .map((c) => c.serial)
          .sort(),
        [second.serial, renewed.serial].sort(),
      );
      t.match(await auditEntries(db, 'device.credentials'), [
        { target: `device:${hub.id}`, details: { serial: first.serial }, ip: '10.3.3.3' },
        { details: { serial: second.serial } },
      ]);
      t.match(await auditEntries(db, 'device.certificate_renew'), [
        { target: `device:${hub.id}`, details: { serial: renewed.serial }, ip: '10.3.3.4' },
      ]);
    });

    t.test('the broker’s device list: provisioned hubs with a live certificate, each once', async (t) => {
      const now = 50_000;
      const live = await addDevice(db, { status: 'claimed' });
      await recordProvisioning(db, live.id, fakeCertificate(now + 1), 1, '::1');
      await recordRenewal(db, live.id, fakeCertificate(now + 2), 2, '::1');
      const expired = await addDevice(db, { status: 'claimed' });
      await recordProvisioning(db, expired.id, fakeCertificate(now), 1, '::1');
      const revoked = await addDevice(db, { status: 'claimed' });
      await recordProvisioning(db, revoked.id, fakeCertificate(now + 1), 1, '::1');
      await db.kysely
        .updateTable('device_certificates')
        .set({ revoked_at: 5 })
        .where('device_id', '=', revoked.id)
        .execute();
      const unlinked = await addDevice(db, { status: 'claimed' });
      await recordProvisioning(db, unlinked.id, fakeCertificate(now + 1), 1, '::1');
      await db.kysely.updateTable('devices').set({ status: 'registered' }).where('id', '=', unlinked.id).execute();

      const uuids = await devicesWithLiveCertificates(db, now);
      t.equal(uuids.filter((u) => u === live.uuid).length, 1, 'the live hub, once for two certificates');
      for (const [name, hub] of Object.entries({ expired, revoked, unlinked }))
        t.notOk(uuids.includes(hub.uuid), `not the ${name} hub`);
    });
  });
}
