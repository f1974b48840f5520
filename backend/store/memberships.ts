import type { CentralDb } from '../db/connect.js';
import type { DeviceRole } from '../db/types.js';

// Who may see a hub (`user_devices`), as access checks and the broker's per-account rights ask it.
// Sharing and unsharing are device-shares.ts; claiming makes the first owner (device-registry.ts).

/**
 * The account's role on the device: undefined when there is no such device, `role: null` when the
 * device exists but the account is not a member (403 rather than 404).
 */
export async function roleOnDevice(
  db: CentralDb,
  userId: number,
  deviceId: number,
): Promise<{ role: DeviceRole | null } | undefined> {
  const row = await db.kysely
    .selectFrom('devices')
    .leftJoin('user_devices', (j) =>
      j.onRef('user_devices.device_id', '=', 'devices.id').on('user_devices.user_id', '=', userId),
    )
    .select(['devices.id', 'user_devices.role'])
    .where('devices.id', '=', deviceId)
    .executeTakeFirst();
  return row && { role: row.role };
}

/** The email of the device's first owner (who claimed it), or null when it has no owner. */
export async function firstOwnerEmail(db: CentralDb, deviceId: number): Promise<string | null> {
  const owner = await db.kysely
    .selectFrom('user_devices')
    .innerJoin('users', 'users.id', 'user_devices.user_id')
    .select('users.email')
    .where('user_devices.device_id', '=', deviceId)
    .where('user_devices.role', '=', 'owner')
    .orderBy('user_devices.created_at')
    .executeTakeFirst();
  return owner?.email ?? null;
}

/**
 * The account's email and the uuids of every device it owns or views (its broker rights);
 * undefined when there is no such account.
 */
export async function devicesVisibleTo(
  db: CentralDb,
  userId: number,
): Promise<{ email: string; deviceUuids: string[] } | undefined> {
  const rows = await db.kysely
    .selectFrom('users')
    .leftJoin('user_devices', 'user_devices.user_id', 'users.id')
    .leftJoin('devices', 'devices.id', 'user_devices.device_id')
    .select(['users.email', 'devices.device_uuid'])
    .where('users.id', '=', userId)
    .execute();
  const first = rows[0];
  if (!first) return undefined;
  return { email: first.email, deviceUuids: rows.flatMap((r) => (r.device_uuid ? [r.device_uuid] : [])) };
}
