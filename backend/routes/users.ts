import type { FastifyInstance } from 'fastify';
import { conflict, notFound } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { GLOBAL_ROLES, type GlobalRole } from '../db/seed-data.js';
import { currentUser } from '../http/guard.js';
import { errors, params } from '../http/schemas.js';
import { audit } from '../store/audit.js';
import { deprovisionDevice, devicesOwnedAlone } from '../store/devices.js';
import { issueMqttCredentials } from '../store/mqtt-credentials.js';
import { setGlobalRoles } from '../store/users.js';

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
      if (user.roles.has('prime_admin') && (await countPrimeAdmins(ctx)) <= 1) {
        throw conflict('the last prime_admin cannot delete itself; grant prime_admin to someone else first');
      }
      const now = ctx.clock.now();
      const devices = await devicesOwnedAlone(ctx.db.kysely, user.id);
      const revoked: Awaited<ReturnType<typeof deprovisionDevice>>[] = [];
      await ctx.db.kysely.transaction().execute(async (trx) => {
        for (const deviceId of devices)
          revoked.push(await deprovisionDevice(trx, deviceId, now, 'owner account deleted'));
        await trx.deleteFrom('users').where('id', '=', user.id).execute();
        await audit(trx, {
          ts: now,
          actor: null,
          action: 'user.delete',
          target: `user:${user.id}`,
          details: { deprovisioned: devices },
          ip: request.ip,
        });
      });
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
      const target = await ctx.db.kysely.selectFrom('users').select('id').where('id', '=', user_id).executeTakeFirst();
      if (!target) throw notFound('user');
      if (user_id === actor.id && !request.body.roles.includes('prime_admin') && (await countPrimeAdmins(ctx)) <= 1) {
        throw conflict('this would leave no prime_admin');
      }
      await setGlobalRoles(ctx.db, user_id, request.body.roles);
      ctx.users.invalidate(user_id);
      await audit(ctx.db.kysely, {
        ts: ctx.clock.now(),
        actor: actor.id,
        action: 'user.roles',
        target: `user:${user_id}`,
        details: { roles: request.body.roles },
        ip: request.ip,
      });
      return { id: user_id, roles: request.body.roles };
    },
  );
}

/** How long app MQTT logins last; apps ask for new ones as they need. */
const MQTT_CREDENTIALS_TTL_S = 3600;

export function mqttCredentialRoutes(app: FastifyInstance, ctx: CentralContext): void {
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
      const creds = await issueMqttCredentials(ctx.db.kysely, user.id, ctx.clock.now(), MQTT_CREDENTIALS_TTL_S);
      // On an external broker the login exists before the app is told about it.
      await ctx.brokerAccounts.current?.appLoginIssued(user.id, creds.username, creds.password, creds.expiresAt);
      const cfg = ctx.config.central;
      const mqttUrl =
        cfg.mqtt_url !== undefined
          ? withoutLogin(cfg.mqtt_url)
          : ctx.listening.mqttPort !== undefined
            ? `mqtts://${request.hostname}:${ctx.listening.mqttPort}`
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

async function countPrimeAdmins(ctx: CentralContext): Promise<number> {
  const row = await ctx.db.kysely
    .selectFrom('user_roles')
    .innerJoin('roles', 'roles.id', 'user_roles.role_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('roles.name', '=', 'prime_admin')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The external broker's address as apps use it: central's own login stays out of it. */
function withoutLogin(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}
