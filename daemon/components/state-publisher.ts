import type { Logger } from '../../core/logger.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { LocalBroker } from '../broker/local-broker.js';
import type { ComponentOutput } from './pipeline.js';
import type { ComponentStatus } from './runtime.js';

/**
 * Publishes each component's latest state and readings, retained, on the LAN broker (§4.6):
 * `telemetry/{user_email}/{device_uuid}/{component_type}/status`, and with several components of one
 * type `…/{component_type}/{component_id}/status` as well, so a phone on the home Wi-Fi sees the home
 * even while the internet is down. Nothing is published before the hub has an owner (no email).
 */
export class StatePublisher {
  readonly #latest = new Map<
    number,
    { state?: string; readings: Record<string, number>; health?: ComponentStatus; ts: number }
  >();

  constructor(
    private readonly deps: {
      broker: LocalBroker;
      deviceUuid: string;
      userEmail: () => string | null;
      components: () => readonly ComponentSpec[];
      log: Logger;
    },
  ) {}

  publish(out: ComponentOutput): void {
    if (out.kind === 'event') return;
    const cur = this.#latest.get(out.componentId) ?? { readings: {}, ts: out.ts };
    if (out.kind === 'state') cur.state = out.state;
    else if (out.value !== undefined) cur.readings[out.name] = out.value;
    cur.ts = out.ts;
    this.#latest.set(out.componentId, cur);
    this.#send(out.componentId, out.componentType);
  }

  /** A component turned faulty (or recovered): republish so LAN clients do not trust stale values. */
  health(status: ComponentStatus): void {
    const cur = this.#latest.get(status.id) ?? { readings: {}, ts: 0 };
    cur.health = status;
    this.#latest.set(status.id, cur);
    if (status.health !== 'starting') this.#send(status.id, status.component_type);
  }

  #send(componentId: number, componentType: string): void {
    const cur = this.#latest.get(componentId)!;
    const email = this.deps.userEmail();
    if (!email) return;
    const components = this.deps.components();
    const spec = components.find((c) => c.id === componentId);
    const payload = JSON.stringify({
      component_id: componentId,
      name: spec?.name ?? null,
      health: cur.health?.health ?? 'ok',
      ...(cur.health?.reason ? { reason: cur.health.reason } : {}),
      ...(cur.state !== undefined ? { state: cur.state } : {}),
      readings: cur.readings,
      ts: cur.ts ? new Date(cur.ts).toISOString() : null,
    });
    const base = `telemetry/${email}/${this.deps.deviceUuid}/${componentType}`;
    const sameType = components.filter((c) => c.component_type === componentType).length;
    const topics = sameType > 1 ? [`${base}/status`, `${base}/${componentId}/status`] : [`${base}/status`];
    for (const topic of topics) {
      this.deps.broker
        .publish(topic, payload)
        .catch((err: unknown) => this.deps.log.warn({ err, topic }, 'LAN state publish failed'));
    }
  }
}
