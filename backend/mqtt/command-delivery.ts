import type { CentralContext } from '../context.js';

type Publish = (topic: string, payload: string) => Promise<void>;

/**
 * Publishes a device's queued, unexpired commands (all of them, or the given ones) to
 * `commands/{uuid}/{component}/{action}`. Each row is claimed (queued → delivered) before it is
 * published, so two central instances — or a relayed event racing a reconnect — never deliver one
 * command twice: a relay toggled twice is a relay left as it was. A publish that fails puts the row
 * back to queued for the next connection.
 */
export async function deliverCommands(
  ctx: CentralContext,
  publish: Publish,
  deviceUuid: string,
  ids?: string[],
): Promise<void> {
  const db = ctx.db.kysely;
  const now = ctx.clock.now();
  let q = db
    .selectFrom('device_commands')
    .innerJoin('devices', 'devices.id', 'device_commands.device_id')
    .select([
      'device_commands.id',
      'device_commands.component_id',
      'device_commands.action',
      'device_commands.payload',
      'device_commands.expires_at',
    ])
    .where('devices.device_uuid', '=', deviceUuid)
    .where('device_commands.status', '=', 'queued')
    .orderBy('device_commands.created_at');
  if (ids) q = q.where('device_commands.id', 'in', ids);
  for (const cmd of await q.execute()) {
    if (cmd.expires_at <= now) {
      await db
        .updateTable('device_commands')
        .set({ status: 'expired', updated_at: now })
        .where('id', '=', cmd.id)
        .where('status', '=', 'queued')
        .execute();
      continue;
    }
    // A Wi-Fi password is kept only until the hub has it.
    const scrub = cmd.action === 'change_wifi' ? { payload: '{}' } : {};
    const claimed = await db
      .updateTable('device_commands')
      .set({ status: 'delivered', updated_at: now, ...scrub })
      .where('id', '=', cmd.id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) continue; // delivered by someone else meanwhile
    try {
      await publish(`commands/${deviceUuid}/${cmd.component_id ?? 'system'}/${cmd.action}`, cmd.payload);
    } catch (err) {
      await db
        .updateTable('device_commands')
        .set({ status: 'queued', payload: cmd.payload })
        .where('id', '=', cmd.id)
        .where('status', '=', 'delivered')
        .execute();
      throw err;
    }
  }
}
