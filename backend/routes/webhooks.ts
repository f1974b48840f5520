import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { conflict, notFound, unprocessable } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { currentUser } from '../http/guard.js';
import { errors, id, iso } from '../http/schemas.js';
import { NOTIFY_EVENTS } from '../notify/events.js';
import { parseEvents } from '../notify/queue.js';
import { checkWebhookUrl } from '../notify/webhook-url.js';

/** A user's webhooks: enough for a few receivers (a family app, a care service, a home automation). */
const MAX_WEBHOOKS_PER_USER = 10;

const webhookSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string' } },
    created_at: { type: 'string' },
  },
} as const;

const hookParams = {
  type: 'object',
  required: ['webhook_id'],
  properties: { webhook_id: id },
} as const;

/**
 * `GET/POST /api/users/me/webhooks`, `DELETE …/{id}` (§4.3), and `GET …/{id}/deliveries`: every
 * delivery of the webhook with its attempts. Each delivery is a JSON POST signed like device requests
 * (§4.5) with the webhook's secret, shown once at creation: `X-Ares-Timestamp`, `X-Ares-Signature:
 * v1=<hex HMAC-SHA256(secret, "POST\n" + path?query + "\n" + timestamp + "\n" + hex(sha256(body)))>`,
 * plus `X-Ares-Event` and `X-Ares-Delivery` (the same id on every retry: receivers deduplicate by it).
 */
export function webhookRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const db = ctx.db.kysely;
  const bearer = [{ bearer: [] }];
  const view = (r: { id: number; url: string; events: string; created_at: number }) => ({
    id: Number(r.id),
    url: r.url,
    events: parseEvents(r.events),
    created_at: iso(r.created_at),
  });

  app.get(
    '/api/users/me/webhooks',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        description: 'Your webhooks (their secrets are never shown again).',
        security: bearer,
        response: { 200: { type: 'array', items: webhookSchema }, ...errors(401) },
      },
    },
    async (request) => {
      const rows = await db
        .selectFrom('user_webhooks')
        .select(['id', 'url', 'events', 'created_at'])
        .where('user_id', '=', currentUser(request).id)
        .orderBy('id')
        .execute();
      return rows.map(view);
    },
  );

  app.post<{ Body: { url: string; events: string[] } }>(
    '/api/users/me/webhooks',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        description: `A webhook for alerts of your hubs. events: ${NOTIFY_EVENTS.join(', ')}. The secret that signs deliveries is shown once.`,
        security: bearer,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url', 'events'],
          properties: {
            url: { type: 'string', minLength: 8, maxLength: 2048 },
            events: {
              type: 'array',
              minItems: 1,
              maxItems: NOTIFY_EVENTS.length,
              uniqueItems: true,
              items: { type: 'string', enum: [...NOTIFY_EVENTS] },
            },
          },
        },
        response: {
          201: { type: 'object', properties: { ...webhookSchema.properties, secret: { type: 'string' } } },
          ...errors(400, 401, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const user = currentUser(request);
      const url = checkWebhookUrl(request.body.url, ctx.config.central.webhook_allow_private);
      if (typeof url === 'string') throw unprocessable(url);
      const count = await db
        .selectFrom('user_webhooks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', user.id)
        .executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_WEBHOOKS_PER_USER)
        throw conflict(`you have ${MAX_WEBHOOKS_PER_USER} webhooks already: delete one first`);
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const now = ctx.clock.now();
      const row = await db
        .insertInto('user_webhooks')
        .values({
          user_id: user.id,
          url: url.href,
          events: JSON.stringify(request.body.events),
          secret,
          created_at: now,
        })
        .returning(['id', 'url', 'events', 'created_at'])
        .executeTakeFirstOrThrow();
      request.log.info({ webhook_id: row.id, user_id: user.id, host: url.host }, 'webhook added');
      return reply.status(201).send({ ...view(row), secret });
    },
  );

  app.delete<{ Params: { webhook_id: number } }>(
    '/api/users/me/webhooks/:webhook_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        description: 'Deletes the webhook; its pending deliveries are dropped with it.',
        security: bearer,
        params: hookParams,
        response: { 204: { type: 'null' }, ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const res = await db
        .deleteFrom('user_webhooks')
        .where('id', '=', request.params.webhook_id)
        .where('user_id', '=', currentUser(request).id)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('webhook');
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { webhook_id: number }; Querystring: { limit: number } }>(
    '/api/users/me/webhooks/:webhook_id/deliveries',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        description: 'Deliveries of the webhook, newest first, each with its attempts.',
        security: bearer,
        params: hookParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'integer' },
                event: { type: 'string' },
                alert_id: { type: ['string', 'null'] },
                status: { type: 'string' },
                attempts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      at: { type: 'string' },
                      ok: { type: 'boolean' },
                      http_status: { type: ['integer', 'null'] },
                      error: { type: ['string', 'null'] },
                      duration_ms: { type: 'integer' },
                    },
                  },
                },
                created_at: { type: 'string' },
                delivered_at: { type: ['string', 'null'] },
                next_attempt_at: { type: ['string', 'null'] },
              },
            },
          },
          ...errors(400, 401, 404),
        },
      },
    },
    async (request) => {
      const hook = await db
        .selectFrom('user_webhooks')
        .select('id')
        .where('id', '=', request.params.webhook_id)
        .where('user_id', '=', currentUser(request).id)
        .executeTakeFirst();
      if (!hook) throw notFound('webhook');
      const rows = await db
        .selectFrom('notifications')
        .select(['id', 'event', 'alert_id', 'status', 'created_at', 'delivered_at', 'next_attempt_at'])
        .where('webhook_id', '=', hook.id)
        .orderBy('id', 'desc')
        .limit(request.query.limit)
        .execute();
      const ids = rows.map((r) => r.id);
      const attempts = ids.length
        ? await db
            .selectFrom('notification_attempts')
            .select(['notification_id', 'at', 'ok', 'http_status', 'error', 'duration_ms'])
            .where('notification_id', 'in', ids)
            .orderBy('id')
            .execute()
        : [];
      return rows.map((r) => ({
        id: Number(r.id),
        event: r.event,
        alert_id: r.alert_id,
        status: r.status,
        attempts: attempts
          .filter((a) => Number(a.notification_id) === Number(r.id))
          .map((a) => ({
            at: iso(a.at),
            ok: a.ok === 1,
            http_status: a.http_status,
            error: a.error,
            duration_ms: a.duration_ms,
          })),
        created_at: iso(r.created_at),
        delivered_at: iso(r.delivered_at),
        next_attempt_at: r.status === 'pending' ? iso(r.next_attempt_at) : null,
      }));
    },
  );
}
