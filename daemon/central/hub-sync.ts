import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { AresConfig } from '../../core/config.js';
import type { HostRoot } from '../../core/host-root.js';
import type { Logger } from '../../core/logger.js';
import { syncEventSpec } from '../../sync/contract.js';
import { Outbox, type LaneStats } from '../../sync/outbox.js';
import { isBootId, type NewRecord } from '../../sync/records.js';
import type { ComponentOutput, Pipeline } from '../components/pipeline.js';
import type { HubCredentials } from '../state/credentials.js';
import { CentralClient } from './client.js';
import { Uploader } from './uploader.js';

export interface HubSyncDeps {
  config: AresConfig;
  log: Logger;
  clock: Clock;
  host: HostRoot;
  pipeline: Pipeline;
  credentials: () => HubCredentials | undefined;
  /** Central refused the hub's signature: de-provision (CentralLink.reset). */
  onRevoked: () => void;
  wait: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Monotonic ms since boot; CLOCK_MONOTONIC by default (pairs with the kernel's boot_id). */
  monoMs?: () => number;
  clockSynced: () => boolean;
}

export interface SyncHealth {
  lanes: LaneStats[];
  bytes: number;
  evicted: number;
  deadLettered: number;
  lastUploadAt: number | null;
}

/**
 * The hub's half of store-and-forward (§4.5): every pipeline output is written to the outbox in
 * `<state_dir>/buffer.db` and the uploader drains it to central whenever the hub holds credentials.
 */
export class HubSync {
  #outbox: Outbox | undefined;
  #uploader: Uploader | undefined;
  #abort = new AbortController();

  constructor(private readonly deps: HubSyncDeps) {}

  async start(): Promise<void> {
    const { config, log, clock, pipeline } = this.deps;
    const monoMs = this.deps.monoMs ?? (() => Number(process.hrtime.bigint() / 1_000_000n));
    // The kernel's id of this boot; without it (a fixture host) one of this process's own, which only
    // makes central's time repair more conservative.
    const kernelBoot = (await this.deps.host.readText('/proc/sys/kernel/random/boot_id'))?.trim();
    const bootId = isBootId(kernelBoot) ? kernelBoot : randomUUID();
    const outbox = (this.#outbox = new Outbox({
      path: join(config.hub.state_dir, 'buffer.db'),
      maxBytes: config.hub.buffer_max_mb * 1024 * 1024,
      commitMs: config.hub.buffer_commit_ms,
      clock,
      bootId,
      monoMs,
      clockSynced: this.deps.clockSynced,
      log: log.child({ part: 'outbox' }),
    }));
    outbox.start();
    const uploader = (this.#uploader = new Uploader({
      outbox,
      session: () => {
        const creds = this.deps.credentials();
        if (!creds) return undefined;
        const base = config.hub.central_url ?? creds.api_url;
        return {
          client: new CentralClient(base, creds.device_uuid, clock, this.#abort.signal),
          secret: creds.shared_secret,
          deviceUuid: creds.device_uuid,
        };
      },
      monoMs,
      now: () => clock.now(),
      log: log.child({ part: 'uploader' }),
      wait: this.deps.wait,
      onRevoked: this.deps.onRevoked,
    }));
    outbox.onCommit = (lanes) => uploader.wake(lanes);
    // The promise is the acknowledgement: producers that wait (emitStored) answer once it is durable.
    pipeline.on('outbox', (out) => {
      const rec = toRecord(out);
      return rec ? this.append(rec) : undefined;
    });
    uploader.start();
  }

  /** Stores a record; resolves once it is durable (what a producer may acknowledge). */
  append(rec: NewRecord): Promise<number> {
    if (!this.#outbox) return Promise.reject(new Error('sync not started'));
    return this.#outbox.append(rec);
  }

  /** Credentials arrived (or changed): waiting lanes try at once. */
  wake(): void {
    this.#uploader?.wake(['alert', 'event', 'telemetry']);
  }

  health(): SyncHealth | undefined {
    if (!this.#outbox) return undefined;
    const s = this.#outbox.stats();
    return {
      lanes: s.lanes,
      bytes: s.bytes,
      evicted: s.evicted,
      deadLettered: s.deadLettered,
      lastUploadAt: this.#uploader?.status().lastSuccessAt ?? null,
    };
  }

  async stop(): Promise<void> {
    this.deps.pipeline.off('outbox');
    this.#abort.abort();
    await this.#uploader?.stop();
    this.#outbox?.stop();
  }
}

/**
 * How a hub output becomes an outbox record: readings by the telemetry lane, states by the event lane,
 * named events by the lane and record type the sync contract gives them (sync/contract.ts), others as
 * ordinary events.
 */
export function toRecord(out: ComponentOutput): NewRecord | undefined {
  const component = { component_type: out.componentType, component_id: String(out.componentId) };
  if (out.kind === 'reading') {
    if (out.value === undefined || !Number.isFinite(out.value)) return undefined; // nothing measured
    return { lane: 'telemetry', type: 'reading', ...component, metric: out.name, value: out.value };
  }
  if (out.kind === 'state') return { lane: 'event', type: 'state', ...component, data: { state: out.state ?? null } };
  const spec = syncEventSpec(out.name) ?? { lane: 'event', type: 'event' };
  return {
    lane: spec.lane,
    type: spec.type,
    ...component,
    metric: out.name,
    ...(out.data ? { data: out.data } : {}),
  };
}
