import t from 'tap';
import {
  claimDevice,
  findDeviceByCpuSerial,
  findRegistrationClash,
  registerDevice,
  type Registration,
} from '../../../backend/store/device-registry.js';
import { dbTargets } from '../../helpers/databases.js';
import { addUser, auditEntries, migratedDb } from '../../helpers/store-db.js';

const T0 = Date.UTC(2026, 0, 1);
let n = 0;
const registration = (): Registration => {
  n++;
  return {
    cpu_serial: `10000000${String(n).padStart(8, '0')}`,
    device_uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    hardware_version: '4B',
    hardware_variant: 'Standard',
    public_key: 'PEM\n',
    claim_code_hash: 'hash',
  };
};

for (const target of await dbTargets()) {
  t.test(`store/device-registry on ${target.name}`, { skip: target.skip }, async (t) => {
    const db = await migratedDb(t, target);
    const admin = await addUser(db, 'admin');
    const ip = '192.0.2.50';

    t.test('register: stored as registered, audited; found by cpu_serial', async (t) => {
      const reg = registration();
      const row = await registerDevice(db, reg, T0, { userId: admin.id, ip });
      t.equal(row.device_uuid, reg.device_uuid);
      t.strictSame(await findDeviceByCpuSerial(db, reg.cpu_serial), {
        id: row.id,
        device_uuid: reg.device_uuid,
        status: 'registered',
        claim_code_hash: 'hash',
      });
      t.equal(await findDeviceByCpuSerial(db, 'ffffffffffffffff'), undefined);
      t.match((await auditEntries(db)).at(-1), {
        actor_user_id: admin.id,
        action: 'device.preregister',
        target: `device:${row.id}`,
        details: { cpu_serial: reg.cpu_serial, device_uuid: reg.device_uuid },
        ip,
      });
    });

    t.test('clashes: named by field before; a conflict when the insert meets one', async (t) => {
      const reg = registration();
      t.equal(await findRegistrationClash(db, reg.cpu_serial, reg.device_uuid), undefined);
      await registerDevice(db, reg, T0, { userId: admin.id, ip });
      const fresh = registration();
      t.equal(await findRegistrationClash(db, reg.cpu_serial, fresh.device_uuid), 'cpu_serial');
      t.equal(await findRegistrationClash(db, fresh.cpu_serial, reg.device_uuid), 'device_uuid');
      const audited = (await auditEntries(db)).length;
      for (const clash of [
        { ...fresh, cpu_serial: reg.cpu_serial },
        { ...fresh, device_uuid: reg.device_uuid },
      ])
        await t.rejects(registerDevice(db, clash, T0, { userId: admin.id, ip }), {
          code: 'ARES_ERR_CONFLICT',
          message: 'cpu_serial or device_uuid already registered',
        });
      t.equal((await auditEntries(db)).length, audited, 'nothing audited for a refused registration');
    });

    t.test('claim: claimed with a new secret, the claimant its owner, audited', async (t) => {
      const owner = await addUser(db, 'owner');
      const { id } = await registerDevice(db, registration(), T0, { userId: admin.id, ip });
      await claimDevice(db, id, T0 + 1, { userId: owner.id, ip });
      const device = await db.kysely
        .selectFrom('devices')
        .select(['status', 'claimed_at', 'shared_secret'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      t.match(device, { status: 'claimed', claimed_at: T0 + 1, shared_secret: /^[0-9a-f]{64}$/ });
      t.match(await db.kysely.selectFrom('user_devices').selectAll().where('device_id', '=', id).execute(), [
        { user_id: owner.id, role: 'owner' },
      ]);
      t.match((await auditEntries(db)).at(-1), {
        actor_user_id: owner.id,
        action: 'device.claim',
        target: `device:${id}`,
      });
    });

    t.test('claim: a hub claimed already is a conflict, and nothing changes', async (t) => {
      const first = await addUser(db, 'first');
      const second = await addUser(db, 'second');
      const { id } = await registerDevice(db, registration(), T0, { userId: admin.id, ip });
      await claimDevice(db, id, T0 + 1, { userId: first.id, ip });
      const secret = await db.kysely
        .selectFrom('devices')
        .select('shared_secret')
        .where('id', '=', id)
        .executeTakeFirst();
      await t.rejects(claimDevice(db, id, T0 + 2, { userId: second.id, ip }), {
        code: 'ARES_ERR_CONFLICT',
        message: 'device is already claimed; ask its owner to share it',
      });
      t.strictSame(
        await db.kysely.selectFrom('devices').select('shared_secret').where('id', '=', id).executeTakeFirst(),
        secret,
        'the first claim’s secret stays',
      );
      t.match(await db.kysely.selectFrom('user_devices').select('user_id').where('device_id', '=', id).execute(), [
        { user_id: first.id },
      ]);
    });
  });
}
