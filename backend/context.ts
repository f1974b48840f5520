import type { TelemetryLayout } from './store/telemetry-layout.js';
import type { SyncedComponent } from './mqtt/state-store.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { AresConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { CounterStore } from './auth/rate-limit.js';
import type { AuthUserCache } from './auth/user-cache.js';
import type { TokenService } from './auth/tokens.js';
import type { CertificateAuthority } from './ca/ca.js';
import type { CentralDb } from './db/connect.js';
import type { CentralMetrics } from './http/metrics.js';
import type { Mailer } from './mail/mailer.js';
import type { RedisClient } from './redis.js';

/**
 * Everything central's routes need, built once by the composition root (backend/central.ts) and
 * passed in. No module-level singletons: tests build as many of these as they like.
 */
export interface CentralContext {
  readonly log: Logger;
  readonly config: AresConfig;
  readonly clock: Clock;
  readonly db: CentralDb;
  /** How telemetry_data is laid out: a plain table, or a TimescaleDB hypertable (store/telemetry-layout.ts). */
  telemetry: TelemetryLayout;
  readonly ca: CertificateAuthority;
  readonly tokens: TokenService;
  readonly mailer: Mailer;
  readonly counters: CounterStore;
  /** Central's Redis connection, when `central.redis_url` is set (shared state across instances). */
  readonly redis: RedisClient | undefined;
  readonly users: AuthUserCache;
  readonly metrics: CentralMetrics;
  readonly bus: Bus<CentralEvents>;
}

/**
 * The embedded MQTT broker's port once it listens; undefined before, and with an external broker.
 * Central starts MQTT after HTTP (central.ts), so the routes that tell devices and apps where to
 * connect are given this lookup and ask it when they answer.
 */
export type MqttPortLookup = () => number | undefined;

/**
 * Part of the payload of an event whose emitter waits for its listeners' work (`emitAndWait`); bus
 * listeners run synchronously, so a listener hands its work over with `waitFor` before it returns.
 */
export interface AwaitedEvent {
  waitFor(work: Promise<unknown>): void;
}

/** What happens in central that other parts act on (the MQTT side drops a revoked device, …). */
export interface CentralEvents extends Record<string, unknown> {
  /** `remote`: relayed from another central instance (backend/cluster/redis-relay.ts). */
  'device.revoked': { deviceId: number; deviceUuid: string; remote?: true };
  /** A command row was queued for a device: deliver it now if the device is connected. */
  'command.queued': { deviceId: number; deviceUuid: string; commandId: string; remote?: true };
  /**
   * Which devices these accounts may watch changed (shared, removed, unlinked, account deleted).
   * `lost`: someone lost access, so what they subscribed to before must be cut off.
   */
  'membership.changed': { userIds: number[]; lost: boolean; remote?: true };
  /** A sync batch was stored: what it says about the device's components (backend/mqtt/synced-state.ts). */
  'sync.stored': { deviceUuid: string; components: Record<string, SyncedComponent> };
  /** A device's alerts changed (opened, acknowledged, cancelled, escalated, resolved): apps get its state again. */
  'alerts.changed': { deviceUuid: string };
  /** Notifications were queued: the worker delivers them now rather than at its next poll. */
  'notify.queued': Record<string, never>;
  /**
   * A hub got or renewed its certificate, and may connect to the broker as its uuid. Awaited: with an
   * external broker its account exists before the hub is told where to connect.
   */
  'device.provisioned': { deviceUuid: string } & AwaitedEvent;
  /** An app login was issued. Awaited: with an external broker it exists before the app is told. */
  'app-login.issued': { userId: number; username: string; password: string; expiresAt: number } & AwaitedEvent;
}

/**
 * Emits `event` and resolves once the work its listeners handed to `waitFor` is done, or rejects
 * with the first failure: the emitter fails as if it had done the work itself. With no listener
 * (no external broker) it resolves at once.
 */
export async function emitAndWait<E extends keyof CentralEvents>(
  bus: Bus<CentralEvents>,
  event: E,
  payload: CentralEvents[E] extends AwaitedEvent ? Omit<CentralEvents[E], 'waitFor'> : never,
): Promise<void> {
  const work: Promise<unknown>[] = [];
  bus.emit(event, { ...payload, waitFor: (p: Promise<unknown>) => void work.push(p) } as CentralEvents[E]);
  await Promise.all(work);
}
