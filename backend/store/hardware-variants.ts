import { conflict } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import { isUniqueViolation } from '../db/errors.js';

/** Hardware variants: product SKUs such as Standard and Pro, which pin rules and devices name. */
export interface HardwareVariant {
  name: string;
  description: string | null;
}

/** Every variant, by name. */
export function listHardwareVariants(db: CentralDb): Promise<HardwareVariant[]> {
  return db.kysely.selectFrom('hardware_variants').select(['name', 'description']).orderBy('name').execute();
}

export async function hardwareVariantExists(db: CentralDb, name: string): Promise<boolean> {
  const row = await db.kysely.selectFrom('hardware_variants').select('id').where('name', '=', name).executeTakeFirst();
  return row !== undefined;
}

/** Adds a variant; a name taken already is a conflict. */
export async function addHardwareVariant(db: CentralDb, variant: HardwareVariant): Promise<void> {
  try {
    await db.kysely.insertInto('hardware_variants').values(variant).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`hardware variant ${variant.name} already exists`);
    throw err;
  }
}

/** Resolves false when there is no variant of that name. */
export async function describeHardwareVariant(db: CentralDb, name: string, description: string): Promise<boolean> {
  const res = await db.kysely
    .updateTable('hardware_variants')
    .set({ description })
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/**
 * Removes a variant and its pin rules; a conflict while a registered device names it (its rules
 * would vanish under it). Resolves false when there is no variant of that name.
 */
export async function removeHardwareVariant(db: CentralDb, name: string): Promise<boolean> {
  const used = await db.kysely
    .selectFrom('devices')
    .select('id')
    .where('hardware_variant', '=', name)
    .executeTakeFirst();
  if (used) throw conflict(`hardware variant ${name} is used by registered devices`);
  await db.kysely.deleteFrom('device_pin_configs').where('hardware_variant', '=', name).execute();
  const res = await db.kysely.deleteFrom('hardware_variants').where('name', '=', name).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
