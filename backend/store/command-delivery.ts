import type { CentralDb } from '../db/connect.js';

/**
 * `device_commands` on their way to a hub: held while it is away (`queued`), claimed as they are
 * published (`delivered`), answered by the hub (`done` / `failed`) or left to expire. Every
 * transition is a compare-and-set on the status, so two central instances (or a relayed event racing
 * a reconnect) never move one command twice.
 */

export interface HeldCommand {
  id: string;
  component_id: string | null;
  action: string;
  payload: string;
  expires_at: number;
}

/** A device's queued commands (all, or only `ids`), oldest first; expired ones included, for the caller to expire. */
export async function heldCommands(db: CentralDb, deviceUuid: string, ids?: readonly string[]): Promise<HeldCommand[]> {
  if (ids?.length === 0) return [];
  let q = db.kysely
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
  const rows = await q.execute();
  return rows.map((r) => ({ ...r, expires_at: Number(r.expires_at) }));
}

/** A queued command past its time: `expired`, never delivered. */
export async function expireCommand(db: CentralDb, id: string, now: number): Promise<void> {
  await db.kysely
    .updateTable('device_commands')
    .set({ status: 'expired', updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .execute();
}

/**
 * Claims a queued command for publishing (queued → delivered); `forgetPayload` replaces the stored
 * payload with `{}` (a secret kept only until the hub has it). Resolves whether this call claimed it.
 */
export async function claimCommand(
  db: CentralDb,
  id: string,
  now: number,
  opts: { forgetPayload: boolean },
): Promise<boolean> {
  const res = await db.kysely
    .updateTable('device_commands')
    .set({ status: 'delivered', updated_at: now, ...(opts.forgetPayload ? { payload: '{}' } : {}) })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** A claimed command whose publish failed goes back to `queued`, with its payload, for the next connection. */
export async function requeueCommand(db: CentralDb, id: string, payload: string): Promise<void> {
  await db.kysely
    .updateTable('device_commands')
    .set({ status: 'queued', payload })
    .where('id', '=', id)
    .where('status', '=', 'delivered')
    .execute();
}

/** The hub's answer to a command; only the device the command was for can answer it. */
export async function recordCommandResult(
  db: CentralDb,
  deviceId: number,
  id: string,
  r: { status: 'done' | 'failed'; result: string; now: number },
): Promise<void> {
  await db.kysely
    .updateTable('device_commands')
    .set({ status: r.status, result: r.result, updated_at: r.now })
    .where('id', '=', id)
    .where('device_id', '=', deviceId)
    .execute();
}
