import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import type { DeviceRole } from '../db/types.js';
import { authorizeDevice, currentUser } from '../http/guard.js';
import { email, errors, iso, params, text } from '../http/schemas.js';
import { listUserDevices } from '../store/device-list.js';
import { addDeviceMember, removeDeviceMember, setDeviceNickname } from '../store/device-shares.js';
import { unlinkDevice, type DeviceActor } from '../store/devices.js';
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
    async (request) =>
      (await listUserDevices(ctx.db, currentUser(request).id)).map((d) => ({
        ...d,
        last_seen_at: iso(d.last_seen_at),
      })),
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
      await setDeviceNickname(ctx.db, device_id, currentUser(request).id, request.body.nickname);
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
      const revoked = await unlinkDevice(ctx.db, device_id, ctx.clock.now(), actor(request));
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
      const { role } = request.body;
      const member = await addDeviceMember(ctx.db, device_id, addr, role, ctx.clock.now(), actor(request));
      ctx.bus.emit('membership.changed', { userIds: [member.userId], lost: false });
      return reply.status(201).send({ user_id: member.userId, email: addr, role });
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
      await removeDeviceMember(ctx.db, device_id, user_id, ctx.clock.now(), actor(request));
      ctx.bus.emit('membership.changed', { userIds: [user_id], lost: true });
      return reply.status(204).send();
    },
  );
}

/** The caller, as the audit log records them. */
function actor(request: FastifyRequest): DeviceActor {
  return { userId: currentUser(request).id, ip: request.ip };
}
