import { conflict, notFound } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import { isUniqueViolation } from '../db/errors.js';
import type { DeviceRole } from '../db/types.js';
import { auditDevice, type DeviceActor } from './devices.js';

/*
 * Who shares a hub (`user_devices`): its owners and viewers, each with a nickname of their own for it.
 * Claiming makes the first owner (device-registry.ts); unlinking removes everyone (devices.ts).
 */

/** The nickname `userId` gives the device; a no-op for a non-member. */
export async function setDeviceNickname(
  db: CentralDb,
  deviceId: number,
  userId: number,
  nickname: string,
): Promise<void> {
  await db.kysely
    .updateTable('user_devices')
    .set({ nickname })
    .where('device_id', '=', deviceId)
    .where('user_id', '=', userId)
    .execute();
}

/**
 * Shares the device with the account of `email` (already normalized) in `role`, and audits it.
 * Not found when no account has that email; conflict when it is a member already.
 */
export async function addDeviceMember(
  db: CentralDb,
  deviceId: number,
  email: string,
  role: DeviceRole,
  now: number,
  by: DeviceActor,
): Promise<{ userId: number }> {
  const member = await db.kysely.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (!member) throw notFound('account with that email');
  try {
    await db.kysely
      .insertInto('user_devices')
      .values({ user_id: member.id, device_id: deviceId, role, nickname: null, created_at: now })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('that account is already a member of this device');
    throw err;
  }
  await auditDevice(db.kysely, by, 'device.member_add', deviceId, now, { user_id: member.id, role });
  return { userId: member.id };
}

/**
 * Removes `userId` from the device's members, with its audit entry, in one transaction that also
 * keeps the last owner: removing them would leave a claimed hub nobody controls (unlink instead).
 */
export async function removeDeviceMember(
  db: CentralDb,
  deviceId: number,
  userId: number,
  now: number,
  by: DeviceActor,
): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    const members = await trx
      .selectFrom('user_devices')
      .select(['user_id', 'role'])
      .where('device_id', '=', deviceId)
      .execute();
    const target = members.find((m) => m.user_id === userId);
    if (!target) throw notFound('member');
    if (target.role === 'owner' && members.filter((m) => m.role === 'owner').length === 1) {
      throw conflict('the last owner cannot be removed; unlink the device instead (DELETE /api/devices/{device_id})');
    }
    await trx.deleteFrom('user_devices').where('device_id', '=', deviceId).where('user_id', '=', userId).execute();
    await auditDevice(trx, by, 'device.member_remove', deviceId, now, { user_id: userId });
  });
}
