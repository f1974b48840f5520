import type { FastifyInstance } from 'fastify';
import { conflict, forbidden, notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { isUniqueViolation } from '../db/errors.js';
import type { DeviceRole } from '../db/types.js';
import { authorizeDevice, currentUser } from '../http/guard.js';
import { email, errors, params, text } from '../http/schemas.js';
import { audit } from '../store/audit.js';
import { deviceListJson } from '../store/device-list.js';
import { deprovisionDevice } from '../store/devices.js';
import { normalizeEmail } from '../store/users.js';

const deviceItem = {
  type: 'object',
  properties: {
    device_id: { type: 'integer' },
    device_uuid: { type: 'string' },
    role: { type: 'string' },
    nickname: { type: ['string', 'null'] },
    status: { type: 'string' },
    hardware_version: { type: 'string' },
    hardware_variant: { type: 'string' },
    last_seen_at: { type: ['string', 'null'] },
  },
} as const;

export function deviceRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const bearer = [{ bearer: [] }];

  app.get(
    '/api/devices',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['devices'],
        security: bearer,
        response: { 200: { type: 'array', items: deviceItem }, ...errors(401) },
      },
    },
    // Not async: on SQLite the list is read synchronously, and answering in the same tick saves a
    // promise and a microtask turn on the most frequent authenticated request.
    (request, reply) => {
      // Already JSON, shaped as deviceItem (store/device-list.ts): fastify sends a JSON string as is.
      void reply.type('application/json; charset=utf-8');
      const body = deviceListJson(ctx.db, currentUser(request).id);
      if (typeof body !== 'string') return body;
      void reply.send(body);
      return undefined;
    },
  );

  app.put<{ Params: { device_id: number }; Body: { nickname: string } }>(
    '/api/devices/:device_id/nickname',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['devices'],
        security: bearer,
        params: params('device_id'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['nickname'],
          properties: { nickname: text(64) },
        },
        response: {
          200: { type: 'object', properties: { device_id: { type: 'integer' }, nickname: { type: 'string' } } },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      await ctx.db.kysely
        .updateTable('user_devices')
        .set({ nickname: request.body.nickname })
        .where('device_id', '=', device_id)
        .where('user_id', '=', currentUser(request).id)
        .execute();
      return { device_id, nickname: request.body.nickname };
    },
  );

  app.delete<{ Params: { device_id: number } }>(
    '/api/devices/:device_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['devices'],
        description:
          'Unlink: revokes the certificate and secret, removes every member, queues system/reset for the hub.',
        security: bearer,
        params: params('device_id'),
        response: { 204: { type: 'null' }, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      const now = ctx.clock.now();
      const revoked = await ctx.db.kysely.transaction().execute(async (trx) => {
        const gone = await deprovisionDevice(trx, device_id, now, 'unlinked by owner');
        await audit(trx, {
          ts: now,
          actor: currentUser(request).id,
          action: 'device.unlink',
          target: `device:${device_id}`,
          ip: request.ip,
        });
        return gone;
      });
      ctx.bus.emit('device.revoked', revoked);
      ctx.bus.emit('membership.changed', { userIds: revoked.memberIds, lost: true });
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { device_id: number }; Body: { email: string; role: DeviceRole } }>(
    '/api/devices/:device_id/members',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['devices'],
        description: 'Share a hub with a relative or caregiver (an existing account).',
        security: bearer,
        params: params('device_id'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email', 'role'],
          properties: { email, role: { type: 'string', enum: ['viewer', 'owner'] } },
        },
        response: {
          201: {
            type: 'object',
            properties: { user_id: { type: 'integer' }, email: { type: 'string' }, role: { type: 'string' } },
          },
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const { device_id } = request.params;
      await authorizeDevice(ctx, request, device_id, ['owner']);
      const addr = normalizeEmail(request.body.email);
      const member = await ctx.db.kysely.selectFrom('users').select('id').where('email', '=', addr).executeTakeFirst();
      if (!member) throw notFound('account with that email');
      try {
        await ctx.db.kysely
          .insertInto('user_devices')
          .values({
            user_id: member.id,
            device_id,
            role: request.body.role,
            nickname: null,
            created_at: ctx.clock.now(),
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('that account is already a member of this device');
        throw err;
      }
      await audit(ctx.db.kysely, {
        ts: ctx.clock.now(),
        actor: currentUser(request).id,
        action: 'device.member_add',
        target: `device:${device_id}`,
        details: { user_id: member.id, role: request.body.role },
        ip: request.ip,
      });
      ctx.bus.emit('membership.changed', { userIds: [member.id], lost: false });
      return reply.status(201).send({ user_id: member.id, email: addr, role: request.body.role });
    },
  );

  app.delete<{ Params: { device_id: number; user_id: number } }>(
    '/api/devices/:device_id/members/:user_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['devices'],
        description:
          'An owner removes a member; any member may remove themselves. The last owner cannot be removed (unlink instead).',
        security: bearer,
        params: params('device_id', 'user_id'),
        response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { device_id, user_id } = request.params;
      const me = currentUser(request);
      const { role } = await authorizeDevice(ctx, request, device_id, ['owner', 'viewer']);
      if (role !== 'owner' && user_id !== me.id) throw forbidden('only an owner may remove other members');
      await ctx.db.kysely.transaction().execute(async (trx) => {
        const members = await trx
          .selectFrom('user_devices')
          .select(['user_id', 'role'])
          .where('device_id', '=', device_id)
          .execute();
        const target = members.find((m) => m.user_id === user_id);
        if (!target) throw notFound('member');
        if (target.role === 'owner' && members.filter((m) => m.role === 'owner').length === 1) {
          throw conflict(
            'the last owner cannot be removed; unlink the device instead (DELETE /api/devices/{device_id})',
          );
        }
        await trx
          .deleteFrom('user_devices')
          .where('device_id', '=', device_id)
          .where('user_id', '=', user_id)
          .execute();
        await audit(trx, {
          ts: ctx.clock.now(),
          actor: me.id,
          action: 'device.member_remove',
          target: `device:${device_id}`,
          details: { user_id },
          ip: request.ip,
        });
      });
      ctx.bus.emit('membership.changed', { userIds: [user_id], lost: true });
      return reply.status(204).send();
    },
  );
}
