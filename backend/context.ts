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
import type { BrokerAccounts } from './mqtt/dynsec-accounts.js';
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
  /** What central actually listens on, filled in at start (ports may be 0 = any free port). */
  readonly listening: { mqttPort?: number };
  /** With an external broker, keeps its accounts in step (set when the realtime channel starts). */
  readonly brokerAccounts: { current?: BrokerAccounts };
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
}
