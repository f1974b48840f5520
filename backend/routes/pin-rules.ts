import type { FastifyInstance } from 'fastify';
import { conflict, notFound, unprocessable } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { isUniqueViolation } from '../db/errors.js';
import { errors, id, ident, text } from '../http/schemas.js';

const bearer = [{ bearer: [] }];
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

function pinRuleRow<T extends { shareable: number }>(r: T) {
  return { ...r, shareable: r.shareable === 1 };
}

/** Pin rules per board and variant (seed §5.5): which GPIO pins each component type may use. */
export function pinRuleRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const db = ctx.db.kysely;
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
      let q = db
        .selectFrom('device_pin_configs')
        .selectAll()
        .where('hardware_version', '=', request.params.hardware_version);
      if (request.query.hardware_variant) q = q.where('hardware_variant', '=', request.query.hardware_variant);
      return (await q.orderBy('id').execute()).map(pinRuleRow);
    },
  );

  const checkRuleRefs = async (b: Partial<PinRuleBody>) => {
    if (
      b.component_type &&
      !(await db
        .selectFrom('supported_components')
        .select('id')
        .where('component_type', '=', b.component_type)
        .executeTakeFirst())
    ) {
      throw unprocessable(`component_type: unknown type ${b.component_type}`);
    }
    if (
      b.hardware_variant &&
      !(await db.selectFrom('hardware_variants').select('id').where('name', '=', b.hardware_variant).executeTakeFirst())
    ) {
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
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['hardware_version', 'hardware_variant', 'component_type', 'pin_number'],
          properties: pinRuleFields,
        },
        response: { 201: pinRuleOut, ...errors(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await checkRuleRefs(b);
      try {
        const row = await db
          .insertInto('device_pin_configs')
          .values({
            hardware_version: b.hardware_version,
            hardware_variant: b.hardware_variant,
            component_type: b.component_type,
            pin_number: b.pin_number,
            pin_mode: b.pin_mode ?? null,
            default_state: b.default_state ?? null,
            description: b.description ?? null,
            shareable: b.shareable ? 1 : 0,
          })
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
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: { type: 'object', required: ['config_id'], properties: { config_id: id } },
        response: { 204: { type: 'null' }, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const res = await db
        .deleteFrom('device_pin_configs')
        .where('id', '=', request.params.config_id)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('pin rule');
      return reply.status(204).send();
    },
  );
}
