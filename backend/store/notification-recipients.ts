import type { CentralDb } from '../db/connect.js';
import type { Queryable } from './notifications.js';

/** A member told of a hub's alerts. */
export interface AlertMember {
  user_id: number;
  email: string;
  /** The member's own name for the hub. */
  nickname: string | null;
}

/** A member's webhook; `events` is its JSON array of event names, as stored. */
export interface MemberWebhook {
  id: number;
  user_id: number;
  events: string;
}

export interface AlertRecipients {
  deviceUuid: string;
  members: AlertMember[];
  /** Every webhook of those members, whatever events it asked for. */
  webhooks: MemberWebhook[];
}

/**
 * Who hears of a hub's alerts: its active owners and viewers (other roles are not told) and their
 * webhooks. Undefined when the device is gone. Runs inside the transaction that changed the alert.
 */
export async function alertRecipients(db: Queryable, deviceId: number): Promise<AlertRecipients | undefined> {
  const device = await db.selectFrom('devices').select('device_uuid').where('id', '=', deviceId).executeTakeFirst();
  if (!device) return undefined;
  const members = await db
    .selectFrom('user_devices')
    .innerJoin('users', 'users.id', 'user_devices.user_id')
    .select(['users.id as user_id', 'users.email', 'user_devices.nickname'])
    .where('user_devices.device_id', '=', deviceId)
    .where('user_devices.role', 'in', ['owner', 'viewer'])
    .where('users.is_active', '=', 1)
    .execute();
  if (members.length === 0) return { deviceUuid: device.device_uuid, members, webhooks: [] };
  const webhooks = await db
    .selectFrom('user_webhooks')
    .select(['id', 'user_id', 'events'])
    .where(
      'user_id',
      'in',
      members.map((m) => m.user_id),
    )
    .execute();
  return { deviceUuid: device.device_uuid, members, webhooks };
}

/** Where a webhook delivery goes and the secret it is signed with; undefined once the webhook is deleted. */
export async function webhookTarget(
  db: CentralDb,
  webhookId: number,
): Promise<{ url: string; secret: string } | undefined> {
  return db.kysely.selectFrom('user_webhooks').select(['url', 'secret']).where('id', '=', webhookId).executeTakeFirst();
}
