import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { IssuedCertificate } from '../ca/ca.js';
import type { CentralDb } from '../db/connect.js';
import type { Database } from '../db/types.js';
import { audit } from './audit.js';

/** How long a queued `system/reset` waits for an unlinked hub to come back (it may be offline for weeks). */
const RESET_TTL_MS = 90 * 24 * 3600_000;

/** Who acted on a device, for the audit entry the store writes with the change. */
export interface DeviceActor {
  userId: number;
  ip: string;
}

/** The audit entry of `action` by `by` on device `deviceId` (inside the caller's transaction, if any). */
export function auditDevice(
  db: Kysely<Database>,
  by: DeviceActor,
  action: string,
  deviceId: number,
  ts: number,
  details?: Record<string, unknown>,
): Promise<void> {
  return audit(db, {
    ts,
    actor: by.userId,
    action,
    target: `device:${deviceId}`,
    ...(details ? { details } : {}),
    ip: by.ip,
  });
}

/** Audits an action on a device that the store did not audit with the change (a command sent). */
export function recordDeviceAction(
  db: CentralDb,
  by: DeviceActor,
  action: string,
  deviceId: number,
  ts: number,
  details?: Record<string, unknown>,
): Promise<void> {
  return auditDevice(db.kysely, by, action, deviceId, ts, details);
}

/** The device's own id (`device_uuid`) for central's id; throws if there is no such device. */
export async function deviceUuidOf(db: CentralDb, deviceId: number): Promise<string> {
  const row = await db.kysely
    .selectFrom('devices')
    .select('device_uuid')
    .where('id', '=', deviceId)
    .executeTakeFirstOrThrow();
  return row.device_uuid;
}

/**
 * An owner unlinks a hub: de-provisioning and its audit entry in one transaction. The caller emits
 * `device.revoked` and `membership.changed` with what this returns.
 */
export function unlinkDevice(
  db: CentralDb,
  deviceId: number,
  now: number,
  by: DeviceActor,
): Promise<{ deviceId: number; deviceUuid: string; memberIds: number[] }> {
  return db.kysely.transaction().execute(async (trx) => {
    const gone = await deprovisionDevice(trx, deviceId, now, 'unlinked by owner');
    await auditDevice(trx, by, 'device.unlink', deviceId, now);
    return gone;
  });
}

/**
 * De-provisioning (seed §11): revoke every certificate, delete the shared secret, drop memberships,
 * attached components and the previous owner's telemetry, return the device to `registered` (its
 * label claim code works again for the next owner) and queue `system/reset` for the hub. Callers emit
 * `device.revoked` and `membership.changed` once the transaction commits, so live connections are
 * dropped and the former members' broker access is cut.
 */
export async function deprovisionDevice(
  trx: Transaction<Database>,
  deviceId: number,
  now: number,
  reason: string,
): Promise<{ deviceId: number; deviceUuid: string; memberIds: number[] }> {
  const members = await trx.selectFrom('user_devices').select('user_id').where('device_id', '=', deviceId).execute();
  const { device_uuid } = await trx
    .selectFrom('devices')
    .select('device_uuid')
    .where('id', '=', deviceId)
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('device_certificates')
    .set({ revoked_at: now, revoke_reason: reason })
    .where('device_id', '=', deviceId)
    .where('revoked_at', 'is', null)
    .execute();
  await trx
    .updateTable('devices')
    .set({ shared_secret: null, status: 'registered', claimed_at: null })
    .where('id', '=', deviceId)
    .execute();
  await trx.deleteFrom('user_devices').where('device_id', '=', deviceId).execute();
  await trx.deleteFrom('attached_components').where('device_id', '=', deviceId).execute();
  await trx.deleteFrom('telemetry_data').where('device_id', '=', deviceId).execute();
  await trx
    .updateTable('device_commands')
    .set({ status: 'expired', updated_at: now })
    .where('device_id', '=', deviceId)
    .where('status', 'in', ['queued', 'delivered'])
    .execute();
  await trx
    .insertInto('device_commands')
    .values({
      id: randomUUID(),
      device_id: deviceId,
      component_id: 'system',
      component_type: 'system',
      action: 'reset',
      payload: JSON.stringify({ reason }),
      status: 'queued',
      result: null,
      created_at: now,
      expires_at: now + RESET_TTL_MS,
      updated_at: now,
    })
    .execute();
  return { deviceId, deviceUuid: device_uuid, memberIds: members.map((m) => m.user_id) };
}

/** Devices for which `userId` is the only owner: they are de-provisioned when the account goes. */
export async function devicesOwnedAlone(db: Kysely<Database>, userId: number): Promise<number[]> {
  const owned = await db
    .selectFrom('user_devices as mine')
    .select('mine.device_id')
    .where('mine.user_id', '=', userId)
    .where('mine.role', '=', 'owner')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('user_devices as other')
            .select('other.id')
            .whereRef('other.device_id', '=', 'mine.device_id')
            .where('other.role', '=', 'owner')
            .where('other.user_id', '!=', userId),
        ),
      ),
    )
    .execute();
  return owned.map((r) => r.device_id);
}

/** Every certificate central issues is kept (serial, validity) so it can be revoked and refused later. */
export async function recordCertificate(
  db: Kysely<Database>,
  deviceId: number,
  cert: IssuedCertificate,
  now: number,
): Promise<void> {
  await db
    .insertInto('device_certificates')
    .values({
      serial: cert.serial,
      device_id: deviceId,
      pem: cert.pem,
      not_before: cert.notBefore.getTime(),
      not_after: cert.notAfter.getTime(),
      issued_at: now,
      revoked_at: null,
      revoke_reason: null,
    })
    .execute();
}
