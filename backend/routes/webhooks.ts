import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { notFound, unprocessable } from '../../core/errors.js';
import type { CentralContext } from '../context.js';
import { currentUser } from '../http/guard.js';
import { errors, id, iso } from '../http/schemas.js';
import { NOTIFY_EVENTS } from '../notify/events.js';
import { checkWebhookUrl } from '../notify/webhook-url.js';
import { createWebhook, deleteWebhook, listWebhookDeliveries, listWebhooks, type Webhook } from '../store/webhooks.js';

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
  const bearer = [{ bearer: [] }];
  const view = (w: Webhook) => ({ ...w, created_at: iso(w.created_at) });

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
    async (request) => (await listWebhooks(ctx.db, currentUser(request).id)).map(view),
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
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const hook = { url: url.href, events: request.body.events, secret };
      const row = await createWebhook(ctx.db, user.id, hook, ctx.clock.now());
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
      if (!(await deleteWebhook(ctx.db, currentUser(request).id, request.params.webhook_id))) throw notFound('webhook');
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
      const deliveries = await listWebhookDeliveries(
        ctx.db,
        currentUser(request).id,
        request.params.webhook_id,
        request.query.limit,
      );
      if (!deliveries) throw notFound('webhook');
      return deliveries.map((d) => ({
        id: d.id,
        event: d.event,
        alert_id: d.alert_id,
        status: d.status,
        attempts: d.attempts.map((a) => ({ ...a, at: iso(a.at) })),
        created_at: iso(d.created_at),
        delivered_at: iso(d.delivered_at),
        next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
      }));
    },
  );
}
