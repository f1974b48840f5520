import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { authorizeDevice, currentUser } from '../http/guard.js';
import { errors, ident, params, text } from '../http/schemas.js';
import { attachComponent, detachComponent, listAttachedComponents } from '../store/attached-components.js';
import type { AttachRequest } from '../store/pin-rules.js';

const CONFIG_MAX_BYTES = 4096;
const componentOut = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    component_type: { type: 'string' },
    name: { type: ['string', 'null'] },
    pin_number: { type: ['integer', 'null'] },
    pin_mode: { type: ['string', 'null'] },
    default_state: { type: ['string', 'null'] },
    config: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

/** Components attached to a hub: the list the hub loads its drivers from (seed §5.6). */
export function attachedComponentRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.get<{ Params: { device_id: number } }>(
    '/api/components/devices/:device_id/components',
    {
      config: { auth: 'user_or_device' },
      schema: {
        tags: ['components'],
        description:
          'Read by the device itself (signed) or its owners and viewers. Answers with an ETag; a request with a matching If-None-Match gets 304 and no body, which is how hubs poll.',
        security: [{ bearer: [] }, { device: [] }],
        params: params('device_id'),
        response: { 200: { type: 'array', items: componentOut }, 304: { type: 'null' }, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner', 'viewer'], true);
      const list = await listAttachedComponents(ctx.db, device_id);
      const etag = `"${createHash('sha256').update(JSON.stringify(list)).digest('base64url').slice(0, 22)}"`;
      void reply.header('etag', etag).header('cache-control', 'private, no-cache');
      if (request.headers['if-none-match'] === etag) return reply.status(304).send();
      return list;
    },
  );

  app.post<{ Params: { device_id: number }; Body: AttachRequest & { name?: string } }>(
    '/api/components/devices/:device_id/components',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['components'],
        description: 'Must satisfy the pin rules for the device’s board and variant (422), without a pin clash (409).',
        security: [{ bearer: [] }],
        params: params('device_id'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['component_type'],
          properties: {
            component_type: ident(64),
            name: text(128),
            pin_number: { type: 'integer', minimum: 0, maximum: 1023 },
            pin_mode: { type: 'string', enum: ['IN', 'OUT', 'PWM'] },
            default_state: ident(16),
            config: { type: 'object', maxProperties: 32 },
          },
        },
        response: { 201: componentOut, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      const body = request.body;
      const config = body.config ? JSON.stringify(body.config) : null;
      if (config && Buffer.byteLength(config) > CONFIG_MAX_BYTES)
        throw badRequest(`config: larger than ${CONFIG_MAX_BYTES} bytes`);
      const attached = await attachComponent(ctx.db, device_id, body, config, ctx.clock.now(), {
        userId: currentUser(request).id,
        ip: request.ip,
      });
      return reply.status(201).send(attached);
    },
  );

  app.delete<{ Params: { device_id: number; component_id: number } }>(
    '/api/components/devices/:device_id/components/:component_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['components'],
        security: [{ bearer: [] }],
        params: params('device_id', 'component_id'),
        response: { 204: { type: 'null' }, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { device_id, component_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      const by = { userId: currentUser(request).id, ip: request.ip };
      if (!(await detachComponent(ctx.db, device_id, component_id, ctx.clock.now(), by))) throw notFound('component');
      return reply.status(204).send();
    },
  );
}
