import type { FastifyInstance } from 'fastify';
import { conflict, notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { isUniqueViolation } from '../db/errors.js';
import { errors, ident, text } from '../http/schemas.js';

const bearer = [{ bearer: [] }];

/** Hardware variants (product SKUs such as Standard and Pro). Reads: any user; writes: admins. */
export function hardwareVariantRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const db = ctx.db.kysely;
  const variantOut = {
    type: 'object',
    properties: { name: { type: 'string' }, description: { type: ['string', 'null'] } },
  } as const;
  const variantParams = { type: 'object', required: ['name'], properties: { name: ident(64) } } as const;

  app.get(
    '/api/hardware-variants',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        response: { 200: { type: 'array', items: variantOut }, ...errors(401) },
      },
    },
    async () => db.selectFrom('hardware_variants').select(['name', 'description']).orderBy('name').execute(),
  );

  app.post<{ Body: { name: string; description?: string } }>(
    '/api/hardware-variants',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { name: ident(64), description: text(2000, 0) },
        },
        response: { 201: variantOut, ...errors(400, 401, 403, 409) },
      },
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
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: variantParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['description'],
          properties: { description: text(2000, 0) },
        },
        response: { 200: variantOut, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const res = await db
        .updateTable('hardware_variants')
        .set({ description: request.body.description })
        .where('name', '=', request.params.name)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw notFound('hardware variant');
      return { name: request.params.name, description: request.body.description };
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/hardware-variants/:name',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        security: bearer,
        params: variantParams,
        response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) },
      },
    },
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
}
