import { randomUUID } from 'node:crypto';
import { unprocessable } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import type { DeviceCommandsTable } from '../db/types.js';

/** How long a command waits for an offline hub before it expires. */
export const COMMAND_TTL_MS = 10 * 60_000;

/** A stored command, as the `command.queued` event names it. */
export interface QueuedCommand {
  deviceId: number;
  deviceUuid: string;
  commandId: string;
}

/**
 * Stores a command for a hub, to be published to `commands/{uuid}/{component_id}/{action}` at once
 * if the hub is connected, or when it next connects, until it expires. `component_id` `system` is a
 * system command. Only a provisioned hub (one with credentials) can receive commands (422). The
 * caller announces it with `command.queued` and what this resolves to.
 */
export async function queueCommand(
  db: CentralDb,
  deviceId: number,
  c: {
    component_id: string;
    component_type: string;
    action: string;
    payload: Record<string, unknown>;
    ttlMs?: number;
  },
  now: number,
): Promise<QueuedCommand> {
  const device = await db.kysely
    .selectFrom('devices')
    .select(['device_uuid', 'status'])
    .where('id', '=', deviceId)
    .executeTakeFirstOrThrow();
  if (device.status !== 'provisioned')
    throw unprocessable('the hub has no credentials yet: it cannot receive commands');
  const commandId = randomUUID();
  const expiresAt = now + (c.ttlMs ?? COMMAND_TTL_MS);
  await db.kysely
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
  return { deviceId, deviceUuid: device.device_uuid, commandId };
}

/** A command of the hub as stored, with its result parsed; undefined for none of that id on this hub. */
export async function findCommand(
  db: CentralDb,
  deviceId: number,
  commandId: string,
): Promise<
  | (Pick<DeviceCommandsTable, 'id' | 'status' | 'expires_at' | 'created_at' | 'updated_at'> & { result?: unknown })
  | undefined
> {
  const row = await db.kysely
    .selectFrom('device_commands')
    .select(['id', 'status', 'result', 'expires_at', 'created_at', 'updated_at'])
    .where('id', '=', commandId)
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { result, ...rest } = row;
  return { ...rest, ...(result ? { result: JSON.parse(result) as unknown } : {}) };
}
