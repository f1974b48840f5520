import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { authorizeDevice, currentUser } from '../http/guard.js';
import { errors, ident, params, text } from '../http/schemas.js';
import { audit } from '../store/audit.js';
import { checkAttachment, type AttachRequest } from '../store/pin-rules.js';

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

type Row = {
  id: number;
  component_type: string;
  name: string | null;
  pin_number: number | null;
  pin_mode: string | null;
  default_state: string | null;
  config: string | null;
};
const out = (r: Row) => ({ ...r, config: r.config ? (JSON.parse(r.config) as unknown) : null });

/** Components attached to a hub: the list the hub loads its drivers from (seed §5.6). */
export function attachedComponentRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const db = ctx.db.kysely;
  const cols = ['id', 'component_type', 'name', 'pin_number', 'pin_mode', 'default_state', 'config'] as const;

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
      const list = (
        await db
          .selectFrom('attached_components')
          .select(cols)
          .where('device_id', '=', device_id)
          .orderBy('id')
          .execute()
      ).map(out);
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
      const now = ctx.clock.now();
      const row = await db.transaction().execute(async (trx) => {
        const device = await trx
          .selectFrom('devices')
          .select(['id', 'hardware_version', 'hardware_variant'])
          .where('id', '=', device_id)
          .executeTakeFirstOrThrow();
        const { pin_mode, default_state } = await checkAttachment(trx, device, body);
        return trx
          .insertInto('attached_components')
          .values({
            device_id,
            component_type: body.component_type,
            name: body.name ?? null,
            pin_number: body.pin_number ?? null,
            pin_mode,
            default_state,
            config,
            created_at: now,
          })
          .returning(cols)
          .executeTakeFirstOrThrow();
      });
      await audit(db, {
        ts: now,
        actor: currentUser(request).id,
        action: 'component.attach',
        target: `device:${device_id}`,
        details: { component_id: row.id, component_type: row.component_type },
        ip: request.ip,
      });
      return reply.status(201).send(out(row));
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
      const res = await db
        .deleteFrom('attached_components')
        .where('id', '=', component_id)
        .where('device_id', '=', device_id)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('component');
      await audit(db, {
        ts: ctx.clock.now(),
        actor: currentUser(request).id,
        action: 'component.detach',
        target: `device:${device_id}`,
        details: { component_id },
        ip: request.ip,
      });
      return reply.status(204).send();
    },
  );
}
