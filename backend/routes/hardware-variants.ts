import type { FastifyInstance } from 'fastify';
import { notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { errors, ident, text } from '../http/schemas.js';
import {
  addHardwareVariant,
  describeHardwareVariant,
  listHardwareVariants,
  removeHardwareVariant,
} from '../store/hardware-variants.js';

const bearer = [{ bearer: [] }];

/** Hardware variants (product SKUs such as Standard and Pro). Reads: any user; writes: admins. */
export function hardwareVariantRoutes(app: FastifyInstance, ctx: CentralContext): void {
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
    async () => listHardwareVariants(ctx.db),
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
      await addHardwareVariant(ctx.db, row);
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
      if (!(await describeHardwareVariant(ctx.db, request.params.name, request.body.description)))
        throw notFound('hardware variant');
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
      if (!(await removeHardwareVariant(ctx.db, request.params.name))) throw notFound('hardware variant');
      return reply.status(204).send();
    },
  );
}
