import type { CentralDb } from '../db/connect.js';
import { preparedQuery } from '../db/prepared.js';
import type { DeviceRole } from '../db/types.js';

/** One of a user's hubs, as `GET /api/devices` lists it (`last_seen_at` in epoch milliseconds). */
export interface UserDevice {
  device_id: number;
  device_uuid: string;
  role: DeviceRole;
  nickname: string | null;
  status: string;
  hardware_version: string;
  hardware_variant: string;
  last_seen_at: number | null;
}

// Every app start and refresh asks for it, so it is prepared once (no query tree built per request)
// and, on SQLite, read synchronously from committed data. The body used to be built as JSON inside
// the database; bench/central-traffic puts the whole request at 0.5 % of a fleet's CPU, so the
// per-dialect SQL went and fastify's schema serializer writes it like every other answer.
const userDevices = preparedQuery((db, userId: number) =>
  db
    .selectFrom('user_devices as ud')
    .innerJoin('devices as d', 'd.id', 'ud.device_id')
    .select([
      'd.id as device_id',
      'd.device_uuid',
      'ud.role',
      'ud.nickname',
      'd.status',
      'd.hardware_version',
      'd.hardware_variant',
      'd.last_seen_at',
    ])
    .where('ud.user_id', '=', userId)
    .orderBy('ud.device_id'),
);

/** The hubs `userId` owns or may view, by device id. */
export function listUserDevices(db: CentralDb, userId: number): Promise<UserDevice[]> {
  return userDevices(db, userId);
}
