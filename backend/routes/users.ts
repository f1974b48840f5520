import type { FastifyInstance } from 'fastify';
import { conflict, notFound } from '../../core/errors.js';
import { emitAndWait, type CentralContext, type MqttPortLookup } from '../context.js';
import { GLOBAL_ROLES, type GlobalRole } from '../db/seed-data.js';
import { currentUser } from '../http/guard.js';
import { errors, params } from '../http/schemas.js';
import { changeGlobalRoles, countPrimeAdmins } from '../store/global-roles.js';
import { issueMqttCredentials } from '../store/mqtt-credentials.js';
import { deleteAccount, userExists } from '../store/users.js';

export function userRoutes(app: FastifyInstance, ctx: CentralContext): void {
  app.delete(
    '/api/users/me',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        description:
          'Deletes the account; hubs it owns alone are de-provisioned (certificate revoked, secret deleted, reset queued).',
        security: [{ bearer: [] }],
        response: { 204: { type: 'null' }, ...errors(401, 409) },
      },
    },
    async (request, reply) => {
      const user = currentUser(request);
      if (user.roles.has('prime_admin') && (await countPrimeAdmins(ctx.db)) <= 1) {
        throw conflict('the last prime_admin cannot delete itself; grant prime_admin to someone else first');
      }
      const revoked = await deleteAccount(ctx.db, user.id, ctx.clock.now(), request.ip);
      ctx.users.invalidate(user.id);
      for (const r of revoked) ctx.bus.emit('device.revoked', r);
      const affected = new Set([user.id, ...revoked.flatMap((r) => r.memberIds)]);
      ctx.bus.emit('membership.changed', { userIds: [...affected], lost: true });
      return reply.status(204).send();
    },
  );

  app.put<{ Params: { user_id: number }; Body: { roles: GlobalRole[] } }>(
    '/api/users/:user_id/roles',
    {
      config: { auth: 'prime_admin' },
      schema: {
        tags: ['users'],
        security: [{ bearer: [] }],
        params: params('user_id'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['roles'],
          properties: {
            roles: {
              type: 'array',
              maxItems: 3,
              uniqueItems: true,
              items: { type: 'string', enum: [...GLOBAL_ROLES] },
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'integer' }, roles: { type: 'array', items: { type: 'string' } } },
          },
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const actor = currentUser(request);
      const { user_id } = request.params;
      if (!(await userExists(ctx.db, user_id))) throw notFound('user');
      if (
        user_id === actor.id &&
        !request.body.roles.includes('prime_admin') &&
        (await countPrimeAdmins(ctx.db)) <= 1
      ) {
        throw conflict('this would leave no prime_admin');
      }
      await changeGlobalRoles(ctx.db, user_id, request.body.roles, {
        userId: actor.id,
        ip: request.ip,
        now: ctx.clock.now(),
      });
      ctx.users.invalidate(user_id);
      return { id: user_id, roles: request.body.roles };
    },
  );
}

/** How long app MQTT logins last; apps ask for new ones as they need. */
const MQTT_CREDENTIALS_TTL_S = 3600;

export function mqttCredentialRoutes(app: FastifyInstance, ctx: CentralContext, mqttPort: MqttPortLookup): void {
  app.post(
    '/api/users/me/mqtt-credentials',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        description:
          'A short-lived MQTT login for central’s broker (client/state topics of your devices). The password is shown once.',
        security: [{ bearer: [] }],
        response: {
          201: {
            type: 'object',
            properties: {
              username: { type: 'string' },
              password: { type: 'string' },
              expires_at: { type: 'string' },
              mqtt_url: { type: ['string', 'null'] },
            },
          },
          ...errors(401),
        },
      },
    },
    async (request, reply) => {
      const user = currentUser(request);
      const creds = await issueMqttCredentials(ctx.db, user.id, ctx.clock.now(), MQTT_CREDENTIALS_TTL_S);
      // On an external broker the login exists before the app is told about it.
      await emitAndWait(ctx.bus, 'app-login.issued', { userId: user.id, ...creds });
      const cfg = ctx.config.central;
      const port = mqttPort();
      const mqttUrl =
        cfg.mqtt_url !== undefined
          ? withoutLogin(cfg.mqtt_url)
          : port !== undefined
            ? `mqtts://${request.hostname}:${port}`
            : null;
      return reply.status(201).send({
        username: creds.username,
        password: creds.password,
        expires_at: new Date(creds.expiresAt).toISOString(),
        mqtt_url: mqttUrl,
      });
    },
  );
}

/** The external broker's address as apps use it: central's own login stays out of it. */
function withoutLogin(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}
