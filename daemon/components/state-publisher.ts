import type { Logger } from '../../core/logger.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { LocalBroker } from '../broker/local-broker.js';
import type { ComponentOutput, Pipeline } from './pipeline.js';
import type { ComponentStatus } from './runtime.js';

/**
 * Publishes each component's latest state and readings, retained, on the LAN broker (§4.6):
 * `telemetry/{user_email}/{device_uuid}/{component_type}/status`, and with several components of one
 * type `…/{component_type}/{component_id}/status` as well, so a phone on the home Wi-Fi sees the home
 * even while the internet is down. Nothing is published before the hub has an owner (no email).
 */
export class StatePublisher {
  /** Health as the runtime last reported it; state and readings come from the pipeline's cache. */
  readonly #health = new Map<number, ComponentStatus>();

  constructor(
    private readonly deps: {
      /** The LAN broker (started after the components, so it is looked up when publishing). */
      broker: Pick<LocalBroker, 'publish'>;
      deviceUuid: string;
      userEmail: () => string | null;
      components: () => readonly ComponentSpec[];
      /** The pipeline's latest state and readings of a component. */
      latest: Pipeline['latest'];
      log: Logger;
    },
  ) {}

  /** Subscribed to the pipeline after its cache is updated: every state or reading is republished. */
  publish(out: ComponentOutput): void {
    if (out.kind !== 'event') this.#send(out.componentId, out.componentType);
  }

  /** A component turned faulty (or recovered): republish so LAN clients do not trust stale values. */
  health(status: ComponentStatus): void {
    this.#health.set(status.id, status);
    if (status.health !== 'starting') this.#send(status.id, status.component_type);
  }

  #send(componentId: number, componentType: string): void {
    const cur = this.deps.latest(componentId);
    const health = this.#health.get(componentId);
    const email = this.deps.userEmail();
    if (!email) return;
    const components = this.deps.components();
    const spec = components.find((c) => c.id === componentId);
    const payload = JSON.stringify({
      component_id: componentId,
      name: spec?.name ?? null,
      health: health?.health ?? 'ok',
      ...(health?.reason ? { reason: health.reason } : {}),
      ...(cur?.state !== undefined ? { state: cur.state } : {}),
      readings: cur?.readings ?? {},
      ts: cur?.ts ? new Date(cur.ts).toISOString() : null,
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
