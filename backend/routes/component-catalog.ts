import type { FastifyInstance } from 'fastify';
import { conflict, notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { isUniqueViolation } from '../db/errors.js';
import { errors, ident, text } from '../http/schemas.js';

const bearer = [{ bearer: [] }];
const category = { type: 'string', enum: ['sensor', 'actuator', 'internal_module'] } as const;
const metadata = { type: 'object', maxProperties: 64 } as const;
const componentFields = {
  display_name: text(128),
  category,
  description: { ...text(2000, 0) },
  component_metadata: metadata,
  telemetry_category: { ...ident(64) },
} as const;
const componentOut = {
  type: 'object',
  properties: {
    component_type: { type: 'string' },
    display_name: { type: 'string' },
    category: { type: 'string' },
    description: { type: ['string', 'null'] },
    component_metadata: { type: ['object', 'null'], additionalProperties: true },
    telemetry_category: { type: ['string', 'null'] },
  },
} as const;

interface ComponentBody {
  component_type: string;
  display_name: string;
  category: 'sensor' | 'actuator' | 'internal_module';
  description?: string;
  component_metadata?: Record<string, unknown>;
  telemetry_category?: string;
}

function componentRow(r: {
  component_type: string;
  display_name: string;
  category: string;
  description: string | null;
  component_metadata: string | null;
  telemetry_category: string | null;
}) {
  return { ...r, component_metadata: r.component_metadata ? (JSON.parse(r.component_metadata) as unknown) : null };
}

/** The component catalog (seed §5.5): what kinds of parts a hub can have. Reads: any user; writes: admins. */
export function componentCatalogRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const db = ctx.db.kysely;
  const componentCols = [
    'component_type',
    'display_name',
    'category',
    'description',
    'component_metadata',
    'telemetry_category',
  ] as const;

  app.get(
    '/api/components',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        response: { 200: { type: 'array', items: componentOut }, ...errors(401) },
      },
    },
    async () =>
      (await db.selectFrom('supported_components').select(componentCols).orderBy('component_type').execute()).map(
        componentRow,
      ),
  );

  app.post<{ Body: ComponentBody }>(
    '/api/components',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['component_type', 'display_name', 'category'],
          properties: { component_type: ident(64), ...componentFields },
        },
        response: { 201: componentOut, ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const row = {
        component_type: b.component_type,
        display_name: b.display_name,
        category: b.category,
        description: b.description ?? null,
        component_metadata: b.component_metadata ? JSON.stringify(b.component_metadata) : null,
        telemetry_category: b.telemetry_category ?? null,
      };
      try {
        await db.insertInto('supported_components').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`component_type ${b.component_type} already exists`);
        throw err;
      }
      return reply.status(201).send(componentRow(row));
    },
  );

  app.put<{ Params: { component_type: string }; Body: Partial<ComponentBody> }>(
    '/api/components/:component_type',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['component_type'], properties: { component_type: ident(64) } },
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: componentFields },
        response: { 200: componentOut, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const b = request.body;
      const res = await db
        .updateTable('supported_components')
        .set({
          ...(b.display_name !== undefined ? { display_name: b.display_name } : {}),
          ...(b.category !== undefined ? { category: b.category } : {}),
          ...(b.description !== undefined ? { description: b.description } : {}),
          ...(b.component_metadata !== undefined ? { component_metadata: JSON.stringify(b.component_metadata) } : {}),
          ...(b.telemetry_category !== undefined ? { telemetry_category: b.telemetry_category } : {}),
        })
        .where('component_type', '=', request.params.component_type)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw notFound('component type');
      return componentRow(
        await db
          .selectFrom('supported_components')
          .select(componentCols)
          .where('component_type', '=', request.params.component_type)
          .executeTakeFirstOrThrow(),
      );
    },
  );

  app.delete<{ Params: { component_type: string } }>(
    '/api/components/:component_type',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['component_type'], properties: { component_type: ident(64) } },
        response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const type = request.params.component_type;
      const inUse = await db
        .selectFrom('attached_components')
        .select('id')
        .where('component_type', '=', type)
        .executeTakeFirst();
      if (inUse) throw conflict(`component type ${type} is attached to devices; detach those first`);
      const res = await db.deleteFrom('supported_components').where('component_type', '=', type).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('component type');
      return reply.status(204).send();
    },
  );
}
