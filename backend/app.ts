import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { packageVersion } from '../core/version.js';
import type { CentralContext, MqttPortLookup } from './context.js';
import { registerJsonParser } from './http/body.js';
import { errorBody, errorHandler } from './http/errors.js';
import { registerAuthHooks } from './http/guard.js';
import { registerValidators } from './http/validation.js';
import './http/request-types.js';
import { adminRoutes } from './routes/admin.js';
import { attachedComponentRoutes } from './routes/attached-components.js';
import { authRoutes } from './routes/auth.js';
import { commandRoutes } from './routes/commands.js';
import { componentCatalogRoutes } from './routes/component-catalog.js';
import { deviceCredentialRoutes } from './routes/device-credentials.js';
import { deviceRegistryRoutes } from './routes/device-registry.js';
import { deviceRoutes } from './routes/devices.js';
import { hardwareVariantRoutes } from './routes/hardware-variants.js';
import { healthRoutes } from './routes/health.js';
import { pinRuleRoutes } from './routes/pin-rules.js';
import { alertRoutes } from './routes/alerts.js';
import { webhookRoutes } from './routes/webhooks.js';
import { syncRoutes } from './routes/sync.js';
import { telemetryRoutes } from './routes/telemetry.js';
import { mqttCredentialRoutes, userRoutes } from './routes/users.js';

export interface BuildOptions {
  /** HTTPS options, when central.tls_cert/tls_key are set. */
  https?: { cert: Buffer; key: Buffer };
  /**
   * The embedded MQTT broker's port, for the routes that tell devices and apps where to connect.
   * Without it (an app built on its own, as most tests do) apps are told no broker URL and hubs the
   * configured central.mqtt_port.
   */
  mqttPort?: MqttPortLookup;
}

/**
 * Central's HTTP API as a fastify instance (not listening). Tests use `inject()` on it; the
 * composition root (central.ts) listens.
 */
export async function buildCentralApp(ctx: CentralContext, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const cfg = ctx.config.central;
  const mqttPort = opts.mqttPort ?? (() => undefined);
  // The https option changes fastify's server type parameter; routes only need the common surface.
  const app = Fastify({
    loggerInstance: ctx.log,
    ...(opts.https ? { https: opts.https } : {}),
    bodyLimit: cfg.body_limit_kb * 1024,
    trustProxy: cfg.trust_proxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
  }) as unknown as FastifyInstance;
  // Callback-style hooks: these run on every request, and an async hook costs a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    ctx.metrics.http.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  registerValidators(app);
  app.setErrorHandler<Parameters<typeof errorHandler>[0]>((err, request, reply) =>
    errorHandler(err, request, reply, ctx.db.closed),
  );
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`));
  });
  registerJsonParser(app, ctx);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  registerAuthHooks(app, ctx);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Ares central API', version: packageVersion() },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          device: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Ares-Signature',
            description: 'HMAC-SHA256 (v1=) or ES256 (es256=) over the canonical request; see §4.5',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());

  healthRoutes(app, ctx);
  authRoutes(app, ctx);
  userRoutes(app, ctx);
  mqttCredentialRoutes(app, ctx, mqttPort);
  deviceRoutes(app, ctx);
  commandRoutes(app, ctx);
  deviceRegistryRoutes(app, ctx);
  deviceCredentialRoutes(app, ctx, mqttPort);
  componentCatalogRoutes(app, ctx);
  hardwareVariantRoutes(app, ctx);
  pinRuleRoutes(app, ctx);
  attachedComponentRoutes(app, ctx);
  adminRoutes(app, ctx);
  syncRoutes(app, ctx);
  alertRoutes(app, ctx);
  webhookRoutes(app, ctx);
  telemetryRoutes(app, ctx);
  return app;
}
