import type { CentralDb } from '../db/connect.js';

/**
 * What central's MQTT side asks of the registry to let a connection in and address its messages:
 * a device's live certificates, who may see a device, and the ids devices are keyed by on the wire.
 */

/**
 * The unrevoked certificates of a provisioned device, with the device's central id. A device that is
 * not provisioned (registered, de-provisioned) has none, whatever certificates it once had.
 */
export async function liveDeviceCertificates(
  db: CentralDb,
  deviceUuid: string,
): Promise<{ deviceId: number; serial: string }[]> {
  const rows = await db.kysely
    .selectFrom('devices')
    .innerJoin('device_certificates', 'device_certificates.device_id', 'devices.id')
    .select(['devices.id', 'device_certificates.serial'])
    .where('devices.device_uuid', '=', deviceUuid)
    .where('devices.status', '=', 'provisioned')
    .where('device_certificates.revoked_at', 'is', null)
    .execute();
  return rows.map((r) => ({ deviceId: r.id, serial: r.serial }));
}

/** Those of `serials` that are known and not revoked (one query for the whole list). */
export async function unrevokedSerials(db: CentralDb, serials: readonly string[]): Promise<Set<string>> {
  if (serials.length === 0) return new Set();
  const rows = await db.kysely
    .selectFrom('device_certificates')
    .select('serial')
    .where('serial', 'in', serials)
    .where('revoked_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.serial));
}

/** Whether the account has any role on the device. */
export async function isDeviceMember(db: CentralDb, userId: number, deviceUuid: string): Promise<boolean> {
  const row = await db.kysely
    .selectFrom('user_devices')
    .innerJoin('devices', 'devices.id', 'user_devices.device_id')
    .select('user_devices.id')
    .where('user_devices.user_id', '=', userId)
    .where('devices.device_uuid', '=', deviceUuid)
    .executeTakeFirst();
  return row !== undefined;
}

/** The emails of every member of the device (whatever their role): the `client/state/{email}/…` topics. */
export async function memberEmails(db: CentralDb, deviceUuid: string): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('user_devices')
    .innerJoin('devices', 'devices.id', 'user_devices.device_id')
    .innerJoin('users', 'users.id', 'user_devices.user_id')
    .select('users.email')
    .where('devices.device_uuid', '=', deviceUuid)
    .execute();
  return rows.map((r) => r.email);
}

/** The uuids of the devices with these central ids (unknown ids are left out). */
export async function deviceUuidsOf(db: CentralDb, deviceIds: readonly number[]): Promise<string[]> {
  if (deviceIds.length === 0) return [];
  const rows = await db.kysely.selectFrom('devices').select('device_uuid').where('id', 'in', deviceIds).execute();
  return rows.map((r) => r.device_uuid);
}
