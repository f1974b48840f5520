import t from 'tap';
import {
  deprovisionDevice,
  deviceUuidOf,
  devicesOwnedAlone,
  recordCertificate,
  recordDeviceAction,
  unlinkDevice,
} from '../../../backend/store/devices.js';
import { dbTargets } from '../../helpers/databases.js';
import { addDevice, addMember, addUser, auditEntries, migratedDb } from '../../helpers/store-db.js';
import type { CentralDb } from '../../../backend/db/connect.js';

const T0 = Date.UTC(2026, 0, 1);

/** A provisioned hub with a certificate, a component, a reading and a queued command. */
async function busyHub(db: CentralDb) {
  const hub = await addDevice(db);
  await db.kysely
    .updateTable('devices')
    .set({ shared_secret: 'secret', claimed_at: T0 })
    .where('id', '=', hub.id)
    .execute();
  await recordCertificate(
    db.kysely,
    hub.id,
    { pem: 'PEM', serial: `ab${hub.id}`, notBefore: new Date(T0), notAfter: new Date(T0 + 1) },
    T0,
  );
  await db.kysely
    .insertInto('attached_components')
    .values({
      device_id: hub.id,
      component_type: 'led',
      name: null,
      pin_number: 17,
      pin_mode: 'OUT',
      default_state: 'OFF',
      config: null,
      created_at: T0,
    })
    .execute();
  await db.kysely
    .insertInto('telemetry_data')
    .values({
      device_id: hub.id,
      seq: 1,
      lane: 'telemetry',
      type: 'reading',
      ts: T0,
      received_at: T0,
      component_type: null,
      component_id: null,
      node_id: null,
      metric: 'm',
      value: 1,
      data: null,
      hub_ts: null,
    })
    .execute();
  await db.kysely
    .insertInto('device_commands')
    .values({
      id: `cmd-${hub.id}`,
      device_id: hub.id,
      component_id: '1',
      component_type: 'led',
      action: 'set',
      payload: '{}',
      status: 'queued',
      result: null,
      created_at: T0,
      expires_at: T0 + 60_000,
      updated_at: T0,
    })
    .execute();
  return hub;
}

for (const target of await dbTargets()) {
  t.test(`store/devices on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);

    t.test('deviceUuidOf: the uuid; an unknown id throws', async (t) => {
      const hub = await addDevice(db);
      t.equal(await deviceUuidOf(db, hub.id), hub.uuid);
      await t.rejects(deviceUuidOf(db, 999_999));
    });

    t.test('unlink: everything of the owner gone, reset queued, audited, in one transaction', async (t) => {
      const owner = await addUser(db, 'owner');
      const viewer = await addUser(db, 'viewer');
      const hub = await busyHub(db);
      await addMember(db, owner.id, hub.id, 'owner');
      await addMember(db, viewer.id, hub.id, 'viewer');

      const gone = await unlinkDevice(db, hub.id, T0 + 5, { userId: owner.id, ip: '192.0.2.1' });
      t.same(
        { ...gone, memberIds: [...gone.memberIds].sort((a, b) => a - b) },
        { deviceId: hub.id, deviceUuid: hub.uuid, memberIds: [owner.id, viewer.id] },
        'who lost it',
      );
      const device = await db.kysely
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', hub.id)
        .executeTakeFirstOrThrow();
      t.match(device, { status: 'registered', shared_secret: null, claimed_at: null });
      const cert = await db.kysely
        .selectFrom('device_certificates')
        .selectAll()
        .where('device_id', '=', hub.id)
        .executeTakeFirstOrThrow();
      t.match(cert, { revoked_at: T0 + 5, revoke_reason: 'unlinked by owner' });
      for (const table of ['user_devices', 'attached_components', 'telemetry_data'] as const)
        t.equal(
          (await db.kysely.selectFrom(table).select('device_id').where('device_id', '=', hub.id).execute()).length,
          0,
          `${table} emptied`,
        );
      const commands = await db.kysely
        .selectFrom('device_commands')
        .select(['action', 'status', 'expires_at'])
        .where('device_id', '=', hub.id)
        .orderBy('created_at')
        .orderBy('action')
        .execute();
      t.match(
        commands.sort((a, b) => a.action.localeCompare(b.action)),
        [
          { action: 'reset', status: 'queued' },
          { action: 'set', status: 'expired' },
        ],
        'the queued command expired; system/reset queued',
      );
      t.ok(commands.find((c) => c.action === 'reset')!.expires_at > T0 + 30 * 86_400_000, 'reset waits for weeks');
      t.match((await auditEntries(db)).at(-1), {
        actor_user_id: owner.id,
        action: 'device.unlink',
        target: `device:${hub.id}`,
        details: null,
        ip: '192.0.2.1',
      });
    });

    t.test('unlink of an unknown device changes nothing', async (t) => {
      const before = (await auditEntries(db)).length;
      await t.rejects(unlinkDevice(db, 999_999, T0, { userId: 1, ip: '::1' }));
      t.equal((await auditEntries(db)).length, before, 'rolled back: no audit entry');
    });

    t.test('deprovisionDevice rolls back with its caller’s transaction', async (t) => {
      const owner = await addUser(db, 'owner');
      const hub = await busyHub(db);
      await addMember(db, owner.id, hub.id, 'owner');
      await t.rejects(
        db.kysely.transaction().execute(async (trx) => {
          await deprovisionDevice(trx, hub.id, T0, 'test');
          throw new Error('after');
        }),
        { message: 'after' },
      );
      t.match(
        await db.kysely
          .selectFrom('devices')
          .select(['status', 'shared_secret'])
          .where('id', '=', hub.id)
          .executeTakeFirst(),
        {
          status: 'provisioned',
          shared_secret: 'secret',
        },
      );
      t.equal(
        (await db.kysely.selectFrom('user_devices').select('id').where('device_id', '=', hub.id).execute()).length,
        1,
      );
    });

    t.test('devicesOwnedAlone: not those shared with another owner, nor those only viewed', async (t) => {
      const me = await addUser(db, 'me');
      const other = await addUser(db, 'other');
      const [alone, shared, viewed, viewedByOther] = [
        await addDevice(db),
        await addDevice(db),
        await addDevice(db),
        await addDevice(db),
      ];
      await addMember(db, me.id, alone.id, 'owner');
      await addMember(db, me.id, shared.id, 'owner');
      await addMember(db, other.id, shared.id, 'owner');
      await addMember(db, me.id, viewed.id, 'viewer');
      await addMember(db, me.id, viewedByOther.id, 'owner');
      await addMember(db, other.id, viewedByOther.id, 'viewer');
      t.same(
        (await devicesOwnedAlone(db.kysely, me.id)).sort((a, b) => a - b),
        [alone.id, viewedByOther.id],
      );
      t.same(await devicesOwnedAlone(db.kysely, other.id), []);
    });

    t.test('recordDeviceAction: an audit entry on the device', async (t) => {
      const user = await addUser(db);
      const hub = await addDevice(db);
      await recordDeviceAction(db, { userId: user.id, ip: '198.51.100.2' }, 'device.command', hub.id, T0, {
        command_id: 'c1',
      });
      t.match((await auditEntries(db)).at(-1), {
        actor_user_id: user.id,
        action: 'device.command',
        target: `device:${hub.id}`,
        details: { command_id: 'c1' },
        ip: '198.51.100.2',
      });
    });
  });
}
