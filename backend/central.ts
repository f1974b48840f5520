import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Bus } from '../core/bus.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { AresConfig } from '../core/config.js';
import { AresError } from '../core/errors.js';
import { Lifecycle } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { buildCentralApp } from './app.js';
import { MemoryCounterStore, type CounterStore } from './auth/rate-limit.js';
import { RedisCounterStore } from './auth/redis-counters.js';
import { startRealtimeChannel, type RealtimeChannel } from './mqtt/channel.js';
import { NotificationWorker } from './notify/worker.js';
import { RetentionJob } from './store/retention.js';
import { closeRedis, connectRedis } from './redis.js';
import { createTokenService, loadOrCreateJwtKey } from './auth/tokens.js';
import { AuthUserCache } from './auth/user-cache.js';
import { loadOrCreateCa } from './ca/ca.js';
import type { CentralContext } from './context.js';
import { openDatabase, type OpenOptions } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { prepareTelemetryLayout } from './store/telemetry-layout.js';
import { createCentralMetrics } from './http/metrics.js';
import { createMailer, type Mailer } from './mail/mailer.js';

export interface CentralDeps {
  clock?: Clock;
  mailer?: Mailer;
  db?: OpenOptions;
}

/**
 * The composition root: opens the database (migrating it), loads or creates the CA and JWT key in
 * data_dir, and wires the context. Nothing here listens yet.
 */
export async function createCentralContext(
  config: AresConfig,
  log: Logger,
  deps: CentralDeps = {},
): Promise<CentralContext> {
  const cfg = config.central;
  const dataDir = resolve(cfg.data_dir);
  const clock = deps.clock ?? systemClock;
  const db = await openDatabase(cfg.database, { ...deps.db, log });
  try {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    const telemetry = await prepareTelemetryLayout(db, log);
    const ca = await loadOrCreateCa(dataDir, new Date(clock.now()));
    const tokens = createTokenService(loadOrCreateJwtKey(cfg.jwt_key_file ?? join(dataDir, 'jwt.key')), cfg.jwt_ttl_s);
    const mailer =
      deps.mailer ??
      createMailer({ smtpUrl: cfg.smtp_url, from: cfg.mail_from, outboxDir: join(dataDir, 'outbox'), log });
    // Shared throttles when several instances run behind a load balancer; in memory for one.
    const redis = cfg.redis_url ? await connectRedis(cfg.redis_url, log) : undefined;
    const counters: CounterStore = redis
      ? new RedisCounterStore(redis, `${cfg.redis_prefix}counter:`)
      : new MemoryCounterStore(clock);
    return {
      log,
      config,
      clock,
      db,
      telemetry,
      ca,
      tokens,
      mailer,
      counters,
      redis,
      users: new AuthUserCache(clock, cfg.auth_cache_ms),
      metrics: createCentralMetrics(),
      bus: new Bus(log),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Credentials travel over this API: plain HTTP is for loopback only, unless a TLS proxy fronts it. */
export function checkTransportSecurity(config: AresConfig): void {
  const cfg = config.central;
  if ((cfg.tls_cert === undefined) !== (cfg.tls_key === undefined)) {
    throw new AresError('ARES_ERR_CONFIG', 'central.tls_cert and central.tls_key must be set together');
  }
  if (cfg.tls_cert !== undefined || cfg.allow_insecure_http) return;
  const loopback =
    cfg.host === 'localhost' || cfg.host === '::1' || (isIP(cfg.host) === 4 && cfg.host.startsWith('127.'));
  if (!loopback) {
    throw new AresError(
      'ARES_ERR_CONFIG',
      `central.host: ${cfg.host} is not a loopback address and central.tls_cert is unset; plain HTTP would expose passwords and device secrets. Set central.tls_cert/central.tls_key, or central.allow_insecure_http: true behind a TLS-terminating reverse proxy`,
    );
  }
}

export interface RunningCentral {
  app: FastifyInstance;
  ctx: CentralContext;
  url: string;
  /** The embedded MQTT broker's port (undefined with an external broker, central.mqtt_url). */
  mqttPort: number | undefined;
  /** Delivers notifications, escalates unanswered alerts, watches hubs with fall detection. */
  notifications: NotificationWorker;
  close(): Promise<void>;
}

/**
 * Central as parts of one Lifecycle (core/lifecycle.ts): the context (database, CA, keys, Redis), the
 * HTTP listener, the retention sweep, the realtime channel (MQTT) and the notification worker, started in
 * that order and stopped in reverse. `start()` rejects with a StartError naming the part that failed,
 * after stopping the others; `stop()` is safe at any time, during start-up too, and bounded per part.
 */
export class Central {
  readonly #lifecycle: Lifecycle;
  #running: Partial<Omit<RunningCentral, 'close'>> & { retention?: RetentionJob; channel?: RealtimeChannel } = {};

  constructor(config: AresConfig, log: Logger, deps: CentralDeps = {}) {
    const cfg = config.central;
    const r = this.#running;
    const need = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new Error(`${what} is not running`);
      return v;
    };
    let https: { cert: Buffer; key: Buffer } | undefined;
    this.#lifecycle = new Lifecycle({ log })
      .add({
        name: 'context',
        start: async () => {
          checkTransportSecurity(config);
          if (cfg.tls_cert && cfg.tls_key) {
            try {
              https = { cert: readFileSync(cfg.tls_cert), key: readFileSync(cfg.tls_key) };
            } catch (err) {
              throw new AresError('ARES_ERR_CONFIG', `central.tls_cert/tls_key: ${(err as Error).message}`, {
                cause: err,
              });
            }
          }
          r.ctx = await createCentralContext(config, log, deps);
        },
        stop: () => (r.ctx ? closeContext(r.ctx) : undefined),
      })
      .add({
        // In-flight requests finish as it stops (fastify answers new ones 503 meanwhile).
        name: 'http',
        start: async () => {
          // MQTT starts after HTTP: routes ask for its port when they answer (undefined until then).
          const app = (r.app = await buildCentralApp(need(r.ctx, 'context'), {
            ...(https ? { https } : {}),
            mqttPort: () => r.mqttPort,
          }));
          await app.listen({ host: cfg.host, port: cfg.port }).catch((err: unknown) => {
            throw new Error(`central.port: ${(err as Error).message}`, { cause: err });
          });
          const addr = app.server.address();
          const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
          const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
          r.url = `${https ? 'https' : 'http'}://${host}:${port}`;
          log.info({ url: r.url, database: r.ctx!.db.dialect }, 'central listening');
        },
        stop: () => r.app?.close(),
      })
      .add({
        name: 'retention',
        start: () => {
          r.retention = new RetentionJob(need(r.ctx, 'context'));
          r.retention.start();
        },
        stop: () => r.retention?.stop(),
      })
      .add({
        name: 'realtime',
        start: async () => {
          r.channel = await startRealtimeChannel(need(r.ctx, 'context'), cfg.host);
          r.mqttPort = r.channel.mqttPort;
        },
        stop: () => r.channel?.stop(),
      })
      .add({
        // Started after the realtime channel: what it announces (alerts.changed) reaches apps.
        name: 'notifications',
        start: () => {
          r.notifications = new NotificationWorker(need(r.ctx, 'context'));
          r.notifications.start();
        },
        stop: () => r.notifications?.stop(),
      });
  }

  start(): Promise<void> {
    return this.#lifecycle.start();
  }

  stop(): Promise<void> {
    return this.#lifecycle.stop();
  }

  /** Names of the parts running now. */
  running(): string[] {
    return this.#lifecycle.running();
  }

  /** What a started central offers; throws before start() has resolved. */
  get handle(): RunningCentral {
    const r = this.#running;
    if (!r.app || !r.ctx || !r.url || !r.notifications) throw new Error('central is not started');
    return {
      app: r.app,
      ctx: r.ctx,
      url: r.url,
      mqttPort: r.mqttPort,
      notifications: r.notifications,
      close: () => this.stop(),
    };
  }
}

/** Starts central; on failure what had started is stopped again and a StartError says which part failed. */
export async function startCentral(config: AresConfig, log: Logger, deps: CentralDeps = {}): Promise<RunningCentral> {
  const central = new Central(config, log, deps);
  await central.start();
  return central.handle;
}

/** Closes what createCentralContext opened. */
export async function closeContext(ctx: CentralContext): Promise<void> {
  await ctx.counters.close?.();
  if (ctx.redis) await closeRedis(ctx.redis);
  await ctx.db.close();
}
