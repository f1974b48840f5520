import type { CentralContext } from '../context.js';
import { claimCommand, expireCommand, heldCommands, requeueCommand } from '../store/command-delivery.js';

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
  const db = ctx.db;
  const now = ctx.clock.now();
  for (const cmd of await heldCommands(db, deviceUuid, ids)) {
    if (cmd.expires_at <= now) {
      await expireCommand(db, cmd.id, now);
      continue;
    }
    // A Wi-Fi password is kept only until the hub has it.
    const claimed = await claimCommand(db, cmd.id, now, { forgetPayload: cmd.action === 'change_wifi' });
    if (!claimed) continue; // delivered by someone else meanwhile
    try {
      await publish(`commands/${deviceUuid}/${cmd.component_id ?? 'system'}/${cmd.action}`, cmd.payload);
    } catch (err) {
      await requeueCommand(db, cmd.id, cmd.payload);
      throw err;
    }
  }
}
