import type { Transaction } from 'kysely';
import { conflict, unprocessable } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Database, DevicePinConfigsTable } from '../db/types.js';
import { componentTypeExists } from './catalog.js';
import { hardwareVariantExists } from './hardware-variants.js';

/*
 * Pin rules per board and variant (seed §5.5): which GPIO pins each component type may use, in
 * which mode, and whether several components may share the pin. checkAttachment applies them.
 */

/** A rule as the API shows it: `shareable` is stored as 0/1. */
export type PinRule = Omit<DevicePinConfigsTable, 'id' | 'shareable'> & { id: number; shareable: boolean };
/** A new rule; what it leaves out is null (not shareable). */
export type NewPinRule = Pick<PinRule, 'hardware_version' | 'hardware_variant' | 'component_type' | 'pin_number'> &
  Partial<Pick<PinRule, 'pin_mode' | 'default_state' | 'description' | 'shareable'>>;

const asRule = <T extends { shareable: number }>(r: T) => ({ ...r, shareable: r.shareable === 1 });

/** The rules for a board, or for one variant of it, in the order they were made. */
export async function listPinRules(
  db: CentralDb,
  hardwareVersion: string,
  hardwareVariant?: string,
): Promise<PinRule[]> {
  let q = db.kysely.selectFrom('device_pin_configs').selectAll().where('hardware_version', '=', hardwareVersion);
  if (hardwareVariant) q = q.where('hardware_variant', '=', hardwareVariant);
  return (await q.orderBy('id').execute()).map(asRule);
}

/** A rule may only name a component type and a variant that exist (422 otherwise). */
async function checkRuleRefs(db: CentralDb, r: Partial<NewPinRule>): Promise<void> {
  if (r.component_type && !(await componentTypeExists(db, r.component_type)))
    throw unprocessable(`component_type: unknown type ${r.component_type}`);
  if (r.hardware_variant && !(await hardwareVariantExists(db, r.hardware_variant)))
    throw unprocessable(`hardware_variant: unknown variant ${r.hardware_variant}`);
}

/** Adds a rule; the same board, variant, type and pin twice is a conflict. */
export async function addPinRule(db: CentralDb, r: NewPinRule): Promise<PinRule> {
  await checkRuleRefs(db, r);
  try {
    const row = await db.kysely
      .insertInto('device_pin_configs')
      .values({
        hardware_version: r.hardware_version,
        hardware_variant: r.hardware_variant,
        component_type: r.component_type,
        pin_number: r.pin_number,
        pin_mode: r.pin_mode ?? null,
        default_state: r.default_state ?? null,
        description: r.description ?? null,
        shareable: r.shareable ? 1 : 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return asRule(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('an identical pin rule exists');
    throw err;
  }
}

/**
 * Changes the fields given (at least one); a change that makes the rule equal another is a conflict.
 * Resolves to the rule as stored, or undefined when there is no rule `id`.
 */
export async function updatePinRule(
  db: CentralDb,
  id: number,
  changes: Partial<NewPinRule>,
): Promise<PinRule | undefined> {
  await checkRuleRefs(db, changes);
  const { shareable, ...rest } = changes;
  try {
    const row = await db.kysely
      .updateTable('device_pin_configs')
      .set({ ...rest, ...(shareable !== undefined ? { shareable: shareable ? 1 : 0 } : {}) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && asRule(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('an identical pin rule exists');
    throw err;
  }
}

/** Resolves false when there is no rule `id`. */
export async function removePinRule(db: CentralDb, id: number): Promise<boolean> {
  const res = await db.kysely.deleteFrom('device_pin_configs').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export interface AttachRequest {
  component_type: string;
  pin_number?: number;
  pin_mode?: string;
  default_state?: string;
  config?: Record<string, unknown>;
}

/**
 * Decides whether a component may be attached to a device (seed §4.1 step 5, §5.6): its type is in
 * the catalog; LAN-node types name their node; internal modules take no pin; GPIO components use a
 * pin the rules allow for the device's board and variant, in the rule's mode; and no two components
 * share a pin unless both rules say the pin is shareable. Returns the pin mode and default state to
 * store (the rule's, when the request gives none).
 */
export async function checkAttachment(
  trx: Transaction<Database>,
  device: { id: number; hardware_version: string; hardware_variant: string },
  req: AttachRequest,
): Promise<{ pin_mode: string | null; default_state: string | null }> {
  const type = await trx
    .selectFrom('supported_components')
    .select(['category', 'component_metadata'])
    .where('component_type', '=', req.component_type)
    .executeTakeFirst();
  if (!type) throw unprocessable(`component_type: unknown type ${JSON.stringify(req.component_type)}`);
  const meta = type.component_metadata ? (JSON.parse(type.component_metadata) as { node?: boolean }) : {};

  if (meta.node === true || type.category === 'internal_module') {
    if (req.pin_number !== undefined)
      throw unprocessable(`pin_number: a ${req.component_type} component has no GPIO pin`);
    if (meta.node === true && typeof req.config?.['node_id'] !== 'string') {
      throw unprocessable(`config.node_id: a ${req.component_type} component must name its LAN node`);
    }
    return { pin_mode: null, default_state: req.default_state ?? null };
  }

  if (req.pin_number === undefined)
    throw unprocessable(`pin_number: a ${req.component_type} component needs a GPIO pin`);
  const rule = await trx
    .selectFrom('device_pin_configs')
    .select(['pin_mode', 'default_state', 'shareable'])
    .where('hardware_version', '=', device.hardware_version)
    .where('hardware_variant', '=', device.hardware_variant)
    .where('component_type', '=', req.component_type)
    .where('pin_number', '=', req.pin_number)
    .executeTakeFirst();
  if (!rule) {
    throw unprocessable(
      `pin_number: pin ${req.pin_number} is not allowed for ${req.component_type} on ${device.hardware_version}/${device.hardware_variant}`,
    );
  }
  if (req.pin_mode !== undefined && rule.pin_mode !== null && req.pin_mode !== rule.pin_mode) {
    throw unprocessable(
      `pin_mode: pin ${req.pin_number} is ${rule.pin_mode} for ${req.component_type}, not ${req.pin_mode}`,
    );
  }

  const occupants = await trx
    .selectFrom('attached_components')
    .select(['component_type'])
    .where('device_id', '=', device.id)
    .where('pin_number', '=', req.pin_number)
    .execute();
  if (occupants.length > 0) {
    const shareableTypes = await trx
      .selectFrom('device_pin_configs')
      .select('component_type')
      .where('hardware_version', '=', device.hardware_version)
      .where('hardware_variant', '=', device.hardware_variant)
      .where('pin_number', '=', req.pin_number)
      .where('shareable', '=', 1)
      .execute();
    const shareable = new Set(shareableTypes.map((r) => r.component_type));
    const allShare = rule.shareable === 1 && occupants.every((o) => shareable.has(o.component_type));
    if (!allShare)
      throw conflict(`pin ${req.pin_number} is already used by a ${occupants[0]!.component_type} component`);
  }
  return { pin_mode: req.pin_mode ?? rule.pin_mode, default_state: req.default_state ?? rule.default_state };
}
