import { randomUUID } from 'node:crypto';
import { unprocessable } from '../../core/errors.js';
import type { CentralContext } from '../context.js';

/** How long a command waits for an offline hub before it expires. */
export const COMMAND_TTL_MS = 10 * 60_000;

/**
 * Stores a command for a hub and announces it (`command.queued`): the MQTT side publishes it to
 * `commands/{uuid}/{component_id}/{action}` at once if the hub is connected, or when it next
 * connects, until it expires. `component_id` `system` is a system command. Resolves to its id.
 */
export async function queueCommand(
  ctx: CentralContext,
  deviceId: number,
  c: {
    component_id: string;
    component_type: string;
    action: string;
    payload: Record<string, unknown>;
    ttlMs?: number;
  },
): Promise<string> {
  const db = ctx.db.kysely;
  const device = await db
    .selectFrom('devices')
    .select(['device_uuid', 'status'])
    .where('id', '=', deviceId)
    .executeTakeFirstOrThrow();
  if (device.status !== 'provisioned')
    throw unprocessable('the hub has no credentials yet: it cannot receive commands');
  const now = ctx.clock.now();
  const commandId = randomUUID();
  const expiresAt = now + (c.ttlMs ?? COMMAND_TTL_MS);
  await db
    .insertInto('device_commands')
    .values({
      id: commandId,
      device_id: deviceId,
      component_id: c.component_id,
      component_type: c.component_type,
      action: c.action,
      payload: JSON.stringify({
        command_id: commandId,
        component_type: c.component_type,
        ...c.payload,
        expires_at: new Date(expiresAt).toISOString(),
      }),
      status: 'queued',
      result: null,
      created_at: now,
      expires_at: expiresAt,
      updated_at: now,
    })
    .execute();
  ctx.bus.emit('command.queued', { deviceId, deviceUuid: device.device_uuid, commandId });
  return commandId;
}
