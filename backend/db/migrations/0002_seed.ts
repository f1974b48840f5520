import type { Kysely } from 'kysely';
import type { Database } from '../types.js';
import { HARDWARE_VARIANTS, PIN_RULES, ROLES, SUPPORTED_COMPONENTS } from '../seed-data.js';

/** Seeds roles and the catalog once, on central's first start. */
export function up() {
  return async (untyped: Kysely<unknown>): Promise<void> => {
    const db = untyped as Kysely<Database>;
    await db
      .insertInto('roles')
      .values(ROLES.map((r) => ({ ...r })))
      .execute();
    await db
      .insertInto('hardware_variants')
      .values(HARDWARE_VARIANTS.map((v) => ({ ...v })))
      .execute();
    await db
      .insertInto('supported_components')
      .values(SUPPORTED_COMPONENTS.map((c) => ({ ...c, component_metadata: JSON.stringify(c.component_metadata) })))
      .execute();
    await db.insertInto('device_pin_configs').values(PIN_RULES).execute();
  };
}
