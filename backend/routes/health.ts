import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { unauthorized } from '../../core/errors.js';
import { packageVersion } from '../../core/version.js';
import type { CentralContext } from '../context.js';

export function healthRoutes(app: FastifyInstance, ctx: CentralContext): void {
  const version = packageVersion();

  app.get(
    '/healthz',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['health'],
        summary: 'liveness and database reachability',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } } },
          503: { type: 'object', properties: { status: { type: 'string' }, database: { type: 'string' } } },
        },
      },
    },
    async (request, reply) => {
      try {
        await ctx.db.ping();
        return { status: 'ok', database: 'ok' };
      } catch (err) {
        request.log.error({ err }, 'health check: database unreachable');
        return reply.status(503).send({ status: 'error', database: 'error' });
      }
    },
  );

  app.get(
    '/',
    {
      config: { auth: 'none' },
      schema: {
        tags: ['health'],
        response: { 200: { type: 'object', properties: { service: { type: 'string' }, version: { type: 'string' } } } },
      },
    },
    async () => ({ service: 'ares-central', version }),
  );

  app.get(
    '/metrics',
    { config: { auth: 'none' }, schema: { tags: ['health'], summary: 'Prometheus metrics' } },
    async (request, reply) => {
      const token = ctx.config.central.metrics_token;
      if (token !== undefined) {
        const given = Buffer.from(/^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '');
        const want = Buffer.from(token);
        if (given.length !== want.length || !timingSafeEqual(given, want))
          throw unauthorized('metrics need the bearer metrics_token');
      }
      return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
    },
  );
}
