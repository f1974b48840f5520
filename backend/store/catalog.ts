import { conflict } from '../../core/errors.js';
import type { CentralDb } from '../db/connect.js';
import { isUniqueViolation } from '../db/errors.js';
import type { SupportedComponentsTable } from '../db/types.js';

/** A kind of part a hub can have (`supported_components`), with its metadata parsed. */
export interface ComponentType {
  component_type: string;
  display_name: string;
  category: SupportedComponentsTable['category'];
  description: string | null;
  component_metadata: unknown;
  telemetry_category: string | null;
}

/** What an update may change: every field but the type's name. */
export type ComponentTypeChanges = Partial<Omit<ComponentType, 'component_type' | 'component_metadata'>> & {
  component_metadata?: Record<string, unknown>;
};

const COLUMNS = [
  'component_type',
  'display_name',
  'category',
  'description',
  'component_metadata',
  'telemetry_category',
] as const;

type Row = Omit<ComponentType, 'component_metadata'> & { component_metadata: string | null };

/** Metadata is stored as JSON text. */
const parsed = (r: Row): ComponentType => ({
  ...r,
  component_metadata: r.component_metadata ? (JSON.parse(r.component_metadata) as unknown) : null,
});

/** The whole catalog, by type name. */
export async function listComponentTypes(db: CentralDb): Promise<ComponentType[]> {
  const rows = await db.kysely.selectFrom('supported_components').select(COLUMNS).orderBy('component_type').execute();
  return rows.map(parsed);
}

export async function componentTypeExists(db: CentralDb, componentType: string): Promise<boolean> {
  const row = await db.kysely
    .selectFrom('supported_components')
    .select('id')
    .where('component_type', '=', componentType)
    .executeTakeFirst();
  return row !== undefined;
}

/** Adds a type; a name taken already is a conflict. Resolves to the type as stored. */
export async function addComponentType(
  db: CentralDb,
  t: Omit<ComponentType, 'component_metadata'> & { component_metadata: Record<string, unknown> | null },
): Promise<ComponentType> {
  const row: Row = {
    component_type: t.component_type,
    display_name: t.display_name,
    category: t.category,
    description: t.description,
    component_metadata: t.component_metadata ? JSON.stringify(t.component_metadata) : null,
    telemetry_category: t.telemetry_category,
  };
  try {
    await db.kysely.insertInto('supported_components').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`component_type ${t.component_type} already exists`);
    throw err;
  }
  return parsed(row);
}

/** Changes the fields given; resolves to the type as stored, or undefined when there is none of that name. */
export async function updateComponentType(
  db: CentralDb,
  componentType: string,
  c: ComponentTypeChanges,
): Promise<ComponentType | undefined> {
  const set = {
    ...(c.display_name !== undefined ? { display_name: c.display_name } : {}),
    ...(c.category !== undefined ? { category: c.category } : {}),
    ...(c.description !== undefined ? { description: c.description } : {}),
    ...(c.component_metadata !== undefined ? { component_metadata: JSON.stringify(c.component_metadata) } : {}),
    ...(c.telemetry_category !== undefined ? { telemetry_category: c.telemetry_category } : {}),
  };
  // An UPDATE with nothing to set is not SQL: with no changes, this is a read.
  if (Object.keys(set).length > 0) {
    const res = await db.kysely
      .updateTable('supported_components')
      .set(set)
      .where('component_type', '=', componentType)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return undefined;
  }
  const row = await db.kysely
    .selectFrom('supported_components')
    .select(COLUMNS)
    .where('component_type', '=', componentType)
    .executeTakeFirst();
  return row && parsed(row);
}

/**
 * Removes a type from the catalog; a conflict while any hub has a component of it (its driver
 * would no longer be described). Resolves false when there is no type of that name.
 */
export async function removeComponentType(db: CentralDb, componentType: string): Promise<boolean> {
  const inUse = await db.kysely
    .selectFrom('attached_components')
    .select('id')
    .where('component_type', '=', componentType)
    .executeTakeFirst();
  if (inUse) throw conflict(`component type ${componentType} is attached to devices; detach those first`);
  const res = await db.kysely
    .deleteFrom('supported_components')
    .where('component_type', '=', componentType)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
