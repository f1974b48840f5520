import type { Logger } from '../../core/logger.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { LocalBroker } from '../broker/local-broker.js';
import type { ComponentOutput } from './pipeline.js';

/**
 * Publishes each component's latest state and readings, retained, on the LAN broker (§4.6):
 * `telemetry/{user_email}/{device_uuid}/{component_type}/status`, and with several components of one
 * type `…/{component_type}/{component_id}/status` as well, so a phone on the home Wi-Fi sees the home
 * even while the internet is down. Nothing is published before the hub has an owner (no email).
 */
export class StatePublisher {
  readonly #latest = new Map<number, { state?: string; readings: Record<string, number> }>();

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
    const cur = this.#latest.get(out.componentId) ?? { readings: {} };
    if (out.kind === 'state') cur.state = out.state;
    else if (out.value !== undefined) cur.readings[out.name] = out.value;
    this.#latest.set(out.componentId, cur);
    const email = this.deps.userEmail();
    if (!email) return;
    const components = this.deps.components();
    const spec = components.find((c) => c.id === out.componentId);
    const payload = JSON.stringify({
      component_id: out.componentId,
      name: spec?.name ?? null,
      ...(cur.state !== undefined ? { state: cur.state } : {}),
      readings: cur.readings,
      ts: new Date(out.ts).toISOString(),
    });
    const base = `telemetry/${email}/${this.deps.deviceUuid}/${out.componentType}`;
    const sameType = components.filter((c) => c.component_type === out.componentType).length;
    const topics = sameType > 1 ? [`${base}/status`, `${base}/${out.componentId}/status`] : [`${base}/status`];
    for (const topic of topics) {
      this.deps.broker
        .publish(topic, payload)
        .catch((err: unknown) => this.deps.log.warn({ err, topic }, 'LAN state publish failed'));
    }
  }
}
