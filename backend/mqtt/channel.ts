import { RedisRelay } from '../cluster/redis-relay.js';
import type { CentralContext } from '../context.js';
import { CentralBroker } from './central-broker.js';
import { ExternalBroker } from './external-broker.js';
import { Realtime, type RealtimeBroker } from './realtime.js';
import { RedisStateStore } from './redis-state-store.js';
import { MemoryStateStore, type DeviceStateStore } from './state-store.js';

/** Central's realtime channel, running: the broker side, the realtime layer, and how to stop both. */
export interface RealtimeChannel {
  realtime: Realtime;
  /** The embedded broker (undefined in external-broker mode). */
  broker: CentralBroker | undefined;
  /** The embedded broker's port. */
  mqttPort: number | undefined;
  /** Runs the periodic upkeep now (revocation recheck; expired app logins): tests need not wait. */
  housekeeping(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the realtime channel on the embedded broker, or — with `central.mqtt_url` — through an
 * external Mosquitto; device state in Redis with `central.redis_url` (and instances relaying to
 * each other), in memory without. Whatever started is stopped again if a later step fails.
 */
export async function startRealtimeChannel(ctx: CentralContext, host: string): Promise<RealtimeChannel> {
  if (ctx.config.central.mqtt_url !== undefined) {
    // Every instance is a client of the one broker, which reaches every app: no relay of publishes;
    // bus events still go through Redis so each instance forgets a revoked device's cached identity.
    const broker = new ExternalBroker(ctx);
    return compose(ctx, broker, async (relay) => {
      await relay?.start();
      await broker.start();
      return { broker: undefined, mqttPort: undefined, housekeeping: () => broker.housekeeping() };
    });
  }
  const broker = new CentralBroker(ctx);
  return compose(ctx, broker, async (relay) => {
    await relay?.start((topic, payload, retain) => broker.publish(topic, payload, retain));
    const cfg = ctx.config.central;
    let mqttPort: number;
    try {
      mqttPort = await broker.start(cfg.mqtt_port, host);
    } catch (err) {
      // A port taken is a runtime failure (exit 1), not a configuration error.
      throw new Error(`central.mqtt_port: cannot listen on ${host}:${cfg.mqtt_port}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { broker, mqttPort, housekeeping: () => broker.recheckNow() };
  });
}

/** The parts both modes share — state store, relay, realtime layer — started around the broker's own start. */
async function compose(
  ctx: CentralContext,
  broker: RealtimeBroker & { stop(): Promise<void> },
  startBroker: (relay: RedisRelay | undefined) => Promise<Omit<RealtimeChannel, 'realtime' | 'stop'>>,
): Promise<RealtimeChannel> {
  const store = stateStore(ctx);
  const relay = ctx.redis ? new RedisRelay(ctx, ctx.redis) : undefined;
  const realtime = new Realtime(ctx, broker, store, relay);
  const stop = async () => {
    await realtime.stop();
    await relay?.stop();
    // The store still closes after a broker that failed to stop; the failure is logged, not thrown.
    await broker.stop().catch((err: unknown) => ctx.log.warn({ err }, 'MQTT broker did not stop cleanly'));
    await store.close();
  };
  try {
    realtime.start();
    return { realtime, stop, ...(await startBroker(relay)) };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Device state shared through Redis when configured, else kept in this process. */
function stateStore(ctx: CentralContext): DeviceStateStore {
  const cfg = ctx.config.central;
  const limitMs = cfg.presence_timeout_s * 1000;
  // The sweeper runs every limit/4: a lease of two periods survives one slow sweep and passes on
  // within half a limit if its holder dies.
  return ctx.redis
    ? new RedisStateStore(ctx.redis, cfg.redis_prefix, limitMs, Math.max(2000, limitMs / 2))
    : new MemoryStateStore(limitMs);
}
