import type { CentralDb } from '../db/connect.js';
import { auditDevice, type DeviceActor } from './devices.js';
import { checkAttachment, type AttachRequest } from './pin-rules.js';

/** A component attached to a hub: what the hub loads its drivers from (seed §5.6). `config` is parsed. */
export interface AttachedComponent {
  id: number;
  component_type: string;
  name: string | null;
  pin_number: number | null;
  pin_mode: string | null;
  default_state: string | null;
  config: unknown;
}

const COLUMNS = ['id', 'component_type', 'name', 'pin_number', 'pin_mode', 'default_state', 'config'] as const;

/** `config` is stored as JSON text. */
const parsed = (r: Omit<AttachedComponent, 'config'> & { config: string | null }): AttachedComponent => ({
  ...r,
  config: r.config ? (JSON.parse(r.config) as unknown) : null,
});

/** The hub's components, in the order they were attached. */
export async function listAttachedComponents(db: CentralDb, deviceId: number): Promise<AttachedComponent[]> {
  const rows = await db.kysely
    .selectFrom('attached_components')
    .select(COLUMNS)
    .where('device_id', '=', deviceId)
    .orderBy('id')
    .execute();
  return rows.map(parsed);
}

/**
 * Attaches a component if the pin rules allow it (checkAttachment: 422 for a rule broken, 409 for a
 * pin clash), checked and stored in one transaction so two requests cannot both take one pin; then
 * audits it. `config` is the request's config as JSON text (the caller bounds its size).
 */
export async function attachComponent(
  db: CentralDb,
  deviceId: number,
  req: AttachRequest & { name?: string },
  config: string | null,
  now: number,
  by: DeviceActor,
): Promise<AttachedComponent> {
  const row = await db.kysely.transaction().execute(async (trx) => {
    const device = await trx
      .selectFrom('devices')
      .select(['id', 'hardware_version', 'hardware_variant'])
      .where('id', '=', deviceId)
      .executeTakeFirstOrThrow();
    const { pin_mode, default_state } = await checkAttachment(trx, device, req);
    return trx
      .insertInto('attached_components')
      .values({
        device_id: deviceId,
        component_type: req.component_type,
        name: req.name ?? null,
        pin_number: req.pin_number ?? null,
        pin_mode,
        default_state,
        config,
        created_at: now,
      })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
  });
  await auditDevice(db.kysely, by, 'component.attach', deviceId, now, {
    component_id: row.id,
    component_type: row.component_type,
  });
  return parsed(row);
}

/** Detaches and audits; resolves false when the hub has no component `componentId`. */
export async function detachComponent(
  db: CentralDb,
  deviceId: number,
  componentId: number,
  now: number,
  by: DeviceActor,
): Promise<boolean> {
  const res = await db.kysely
    .deleteFrom('attached_components')
    .where('id', '=', componentId)
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) return false;
  await auditDevice(db.kysely, by, 'component.detach', deviceId, now, { component_id: componentId });
  return true;
}

/** The hub's components with this id and/or of this type (a command's target: exactly one is wanted). */
export function findAttachedComponents(
  db: CentralDb,
  deviceId: number,
  by: { id?: number; componentType?: string },
): Promise<{ id: number; component_type: string }[]> {
  let q = db.kysely
    .selectFrom('attached_components')
    .select(['id', 'component_type'])
    .where('device_id', '=', deviceId);
  if (by.id !== undefined) q = q.where('id', '=', by.id);
  if (by.componentType !== undefined) q = q.where('component_type', '=', by.componentType);
  return q.execute();
}
