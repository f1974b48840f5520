import { randomBytes } from 'node:crypto';
import { conflict } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import { isUniqueViolation } from '../db/errors.js';
import type { DeviceStatus } from '../db/types.js';
import { auditDevice, type DeviceActor } from './devices.js';

/*
 * The device registry (seed §9, §10.4): an admin preregisters a hub from its enrollment record
 * (`registered`), and its owner claims it with the label's code (`claimed`), which creates the hub's
 * shared secret and makes the claimant its first owner.
 */

/** Which of a new hub's unique identifiers is registered already, if either is. */
export async function findRegistrationClash(
  db: CentralDb,
  cpuSerial: string,
  deviceUuid: string,
): Promise<'cpu_serial' | 'device_uuid' | undefined> {
  const clash = await db.kysely
    .selectFrom('devices')
    .select(['cpu_serial', 'device_uuid'])
    .where((eb) => eb.or([eb('cpu_serial', '=', cpuSerial), eb('device_uuid', '=', deviceUuid)]))
    .executeTakeFirst();
  if (!clash) return undefined;
  return clash.cpu_serial === cpuSerial ? 'cpu_serial' : 'device_uuid';
}

export interface Registration {
  cpu_serial: string;
  /** Lower-cased. */
  device_uuid: string;
  hardware_version: string;
  hardware_variant: string;
  /** PEM, as stored (trimmed, one final newline). */
  public_key: string;
  claim_code_hash: string;
}

/**
 * Stores a preregistered hub, with its audit entry. A clash with a hub registered meanwhile (the
 * unique cpu_serial and device_uuid) is a conflict, as findRegistrationClash would have said.
 */
export async function registerDevice(
  db: CentralDb,
  reg: Registration,
  now: number,
  by: DeviceActor,
): Promise<{ id: number; device_uuid: string }> {
  try {
    const row = await db.kysely
      .insertInto('devices')
      .values({
        cpu_serial: reg.cpu_serial,
        device_uuid: reg.device_uuid,
        hardware_version: reg.hardware_version,
        hardware_variant: reg.hardware_variant,
        public_key: reg.public_key,
        claim_code_hash: reg.claim_code_hash,
        status: 'registered',
        shared_secret: null,
        created_at: now,
        claimed_at: null,
        last_seen_at: null,
        clock_skew_s: null,
      })
      .returning(['id', 'device_uuid'])
      .executeTakeFirstOrThrow();
    await auditDevice(db.kysely, by, 'device.preregister', row.id, now, {
      cpu_serial: reg.cpu_serial,
      device_uuid: reg.device_uuid,
    });
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('cpu_serial or device_uuid already registered');
    throw err;
  }
}

/** What a claim is checked against: the hub with that cpu_serial, if one is registered. */
export async function findDeviceByCpuSerial(
  db: CentralDb,
  cpuSerial: string,
): Promise<{ id: number; device_uuid: string; status: DeviceStatus; claim_code_hash: string } | undefined> {
  return db.kysely
    .selectFrom('devices')
    .select(['id', 'device_uuid', 'status', 'claim_code_hash'])
    .where('cpu_serial', '=', cpuSerial)
    .executeTakeFirst();
}

/**
 * `by` claims a registered hub (the code was checked): it becomes `claimed` with a new shared
 * secret, `by` its owner, and the audit entry is written, all in one transaction. Only a hub still
 * `registered` can be claimed; of two concurrent claims one wins and the other is a conflict.
 */
export async function claimDevice(db: CentralDb, deviceId: number, now: number, by: DeviceActor): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable('devices')
      .set({ status: 'claimed', claimed_at: now, shared_secret: randomBytes(32).toString('hex') })
      .where('id', '=', deviceId)
      .where('status', '=', 'registered')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw conflict('device is already claimed; ask its owner to share it');
    await trx
      .insertInto('user_devices')
      .values({ user_id: by.userId, device_id: deviceId, role: 'owner', nickname: null, created_at: now })
      .execute();
    await auditDevice(trx, by, 'device.claim', deviceId, now);
  });
}
