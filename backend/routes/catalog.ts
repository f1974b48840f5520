import type { FastifyInstance } from 'fastify';
import { conflict, notFound, unprocessable } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { isUniqueViolation } from '../db/errors.js';
import { errors, id, ident, text } from '../http/schemas.js';

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
const pinRuleFields = {
  hardware_version: ident(32),
  hardware_variant: ident(64),
  component_type: ident(64),
  pin_number: { type: 'integer', minimum: 0, maximum: 1023 },
  pin_mode: { type: 'string', enum: ['IN', 'OUT', 'PWM'] },
  default_state: { ...ident(16) },
  description: { ...text(2000, 0) },
  shareable: { type: 'boolean' },
} as const;
const pinRuleOut = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ...Object.fromEntries(Object.keys(pinRuleFields).map((k) => [k, {}])),
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
interface PinRuleBody {
  hardware_version: string;
  hardware_variant: string;
  component_type: string;
  pin_number: number;
  pin_mode?: string;
  default_state?: string;
  description?: string;
  shareable?: boolean;
}

function componentRow(r: { component_type: string; display_name: string; category: string; description: string | null; component_metadata: string | null; telemetry_category: string | null }) {
  return { ...r, component_metadata: r.component_metadata ? (JSON.parse(r.component_metadata) as unknown) : null };
}
function pinRuleRow<T extends { shareable: number }>(r: T) {
  return { ...r, shareable: r.shareable === 1 };
}

/** The component catalog, hardware variants and pin rules (seed §5.5). Reads: any user; writes: admins. */
export function catalogRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const db = ctx.db.kysely;
  const componentCols = ['component_type', 'display_name', 'category', 'description', 'component_metadata', 'telemetry_category'] as const;

  app.get('/api/components', { config: { auth: 'user' }, schema: { tags: ['catalog'], security: bearer, response: { 200: { type: 'array', items: componentOut }, ...errors(401) } } }, async () =>
    (await db.selectFrom('supported_components').select(componentCols).orderBy('component_type').execute()).map(componentRow),
  );

  app.post<{ Body: ComponentBody }>(
    '/api/components',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        body: { type: 'object', additionalProperties: false, required: ['component_type', 'display_name', 'category'], properties: { component_type: ident(64), ...componentFields } },
        response: { 201: componentOut, ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const row = { component_type: b.component_type, display_name: b.display_name, category: b.category, description: b.description ?? null, component_metadata: b.component_metadata ? JSON.stringify(b.component_metadata) : null, telemetry_category: b.telemetry_category ?? null };
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
      return componentRow(await db.selectFrom('supported_components').select(componentCols).where('component_type', '=', request.params.component_type).executeTakeFirstOrThrow());
    },
  );

  app.delete<{ Params: { component_type: string } }>(
    '/api/components/:component_type',
    {
      config: { auth: 'admin' },
      schema: { tags: ['catalog'], security: bearer, params: { type: 'object', required: ['component_type'], properties: { component_type: ident(64) } }, response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) } },
    },
    async (request, reply) => {
      const type = request.params.component_type;
      const inUse = await db.selectFrom('attached_components').select('id').where('component_type', '=', type).executeTakeFirst();
      if (inUse) throw conflict(`component type ${type} is attached to devices; detach those first`);
      const res = await db.deleteFrom('supported_components').where('component_type', '=', type).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('component type');
      return reply.status(204).send();
    },
  );

  const variantOut = { type: 'object', properties: { name: { type: 'string' }, description: { type: ['string', 'null'] } } } as const;
  const variantParams = { type: 'object', required: ['name'], properties: { name: ident(64) } } as const;

  app.get('/api/hardware-variants', { config: { auth: 'user' }, schema: { tags: ['catalog'], security: bearer, response: { 200: { type: 'array', items: variantOut }, ...errors(401) } } }, async () =>
    db.selectFrom('hardware_variants').select(['name', 'description']).orderBy('name').execute(),
  );

  app.post<{ Body: { name: string; description?: string } }>(
    '/api/hardware-variants',
    {
      config: { auth: 'admin' },
      schema: { tags: ['catalog'], security: bearer, body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: ident(64), description: text(2000, 0) } }, response: { 201: variantOut, ...errors(400, 401, 403, 409) } },
    },
    async (request, reply) => {
      const row = { name: request.body.name, description: request.body.description ?? null };
      try {
        await db.insertInto('hardware_variants').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`hardware variant ${row.name} already exists`);
        throw err;
      }
      return reply.status(201).send(row);
    },
  );

  app.put<{ Params: { name: string }; Body: { description: string } }>(
    '/api/hardware-variants/:name',
    {
      config: { auth: 'admin' },
      schema: { tags: ['catalog'], security: bearer, params: variantParams, body: { type: 'object', additionalProperties: false, required: ['description'], properties: { description: text(2000, 0) } }, response: { 200: variantOut, ...errors(400, 401, 403, 404) } },
    },
    async (request) => {
      const res = await db.updateTable('hardware_variants').set({ description: request.body.description }).where('name', '=', request.params.name).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw notFound('hardware variant');
      return { name: request.params.name, description: request.body.description };
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/hardware-variants/:name',
    { config: { auth: 'admin' }, schema: { tags: ['catalog'], security: bearer, params: variantParams, response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) } } },
    async (request, reply) => {
      const name = request.params.name;
      const used = await db.selectFrom('devices').select('id').where('hardware_variant', '=', name).executeTakeFirst();
      if (used) throw conflict(`hardware variant ${name} is used by registered devices`);
      await db.deleteFrom('device_pin_configs').where('hardware_variant', '=', name).execute();
      const res = await db.deleteFrom('hardware_variants').where('name', '=', name).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('hardware variant');
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { hardware_version: string }; Querystring: { hardware_variant?: string } }>(
    '/api/device-configs/:hardware_version',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        description: 'Pin rules for a board (e.g. 4B), optionally for one hardware_variant.',
        security: bearer,
        params: { type: 'object', required: ['hardware_version'], properties: { hardware_version: ident(32) } },
        querystring: { type: 'object', properties: { hardware_variant: ident(64) } },
        response: { 200: { type: 'array', items: pinRuleOut }, ...errors(400, 401) },
      },
    },
    async (request) => {
      let q = db.selectFrom('device_pin_configs').selectAll().where('hardware_version', '=', request.params.hardware_version);
      if (request.query.hardware_variant) q = q.where('hardware_variant', '=', request.query.hardware_variant);
      return (await q.orderBy('id').execute()).map(pinRuleRow);
    },
  );

  const checkRuleRefs = async (b: Partial<PinRuleBody>) => {
    if (b.component_type && !(await db.selectFrom('supported_components').select('id').where('component_type', '=', b.component_type).executeTakeFirst())) {
      throw unprocessable(`component_type: unknown type ${b.component_type}`);
    }
    if (b.hardware_variant && !(await db.selectFrom('hardware_variants').select('id').where('name', '=', b.hardware_variant).executeTakeFirst())) {
      throw unprocessable(`hardware_variant: unknown variant ${b.hardware_variant}`);
    }
  };

  app.post<{ Body: PinRuleBody }>(
    '/api/device-configs',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        body: { type: 'object', additionalProperties: false, required: ['hardware_version', 'hardware_variant', 'component_type', 'pin_number'], properties: pinRuleFields },
        response: { 201: pinRuleOut, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await checkRuleRefs(b);
      try {
        const row = await db
          .insertInto('device_pin_configs')
          .values({ hardware_version: b.hardware_version, hardware_variant: b.hardware_variant, component_type: b.component_type, pin_number: b.pin_number, pin_mode: b.pin_mode ?? null, default_state: b.default_state ?? null, description: b.description ?? null, shareable: b.shareable ? 1 : 0 })
          .returningAll()
          .executeTakeFirstOrThrow();
        return reply.status(201).send(pinRuleRow(row));
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('an identical pin rule exists');
        throw err;
      }
    },
  );

  app.put<{ Params: { config_id: number }; Body: Partial<PinRuleBody> }>(
    '/api/device-configs/:config_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['config_id'], properties: { config_id: id } },
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: pinRuleFields },
        response: { 200: pinRuleOut, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const b = request.body;
      await checkRuleRefs(b);
      const { shareable, ...rest } = b;
      try {
        const row = await db
          .updateTable('device_pin_configs')
          .set({ ...rest, ...(shareable !== undefined ? { shareable: shareable ? 1 : 0 } : {}) })
          .where('id', '=', request.params.config_id)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw notFound('pin rule');
        return pinRuleRow(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('an identical pin rule exists');
        throw err;
      }
    },
  );

  app.delete<{ Params: { config_id: number } }>(
    '/api/device-configs/:config_id',
    { config: { auth: 'admin' }, schema: { tags: ['catalog'], security: bearer, params: { type: 'object', required: ['config_id'], properties: { config_id: id } }, response: { 204: { type: 'null' }, ...errors(401, 403, 404) } } },
    async (request, reply) => {
      const res = await db.deleteFrom('device_pin_configs').where('id', '=', request.params.config_id).executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('pin rule');
      return reply.status(204).send();
    },
  );
}
