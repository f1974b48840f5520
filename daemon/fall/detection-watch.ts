import { syncEvent } from '../../sync/contract.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { Pipeline } from '../components/pipeline.js';

/** A node fall detection listens to, and when it was last heard from (null: not since the watch began). */
export interface WatchedNode {
  nodeId: string;
  component: ComponentSpec;
  lastHeardAt: number | null;
}

/** How long a node may stay silent: its component's `config.silent_after_s`, default one minute. */
export const DEFAULT_SILENT_AFTER_S = 60;

export function silentAfterS(c: ComponentSpec): number | string {
  const v = c.config?.['silent_after_s'] ?? DEFAULT_SILENT_AFTER_S;
  return typeof v === 'number' && v >= 5 && v <= 86_400 ? v : 'config.silent_after_s: expected seconds, 5–86400';
}

interface Down {
  alertId: string;
  componentId: number;
  componentType: string;
  nodeId?: string;
  reason: string;
  since: number;
}

/**
 * Fall detection that stops working is itself an alert for the family: a node silent past its
 * limit, or a model that failed to load, becomes a `detection_down` record on the alert lane (sent
 * at once, like a fall), and a `detection_restored` naming it when the cause goes away. Central
 * turns these into alerts for the hub's members. One record per outage, not one per check.
 */
export class DetectionWatch {
  readonly #down = new Map<string, Down>();
  /** When each node was first expected: a node never heard from is silent from then. */
  readonly #expectedSince = new Map<string, number>();
  #chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { pipeline: Pipeline; clock: Clock; log: Logger }) {}

  /** Checks every node fall detection expects; resolves once any records are stored. */
  check(nodes: readonly WatchedNode[]): Promise<void> {
    return this.#inOrder(async () => {
      const now = this.deps.clock.now();
      const expected = new Set(nodes.map((n) => `node:${n.nodeId}`));
      for (const n of nodes) {
        const key = `node:${n.nodeId}`;
        if (!this.#expectedSince.has(key)) this.#expectedSince.set(key, now);
        const limit = silentAfterS(n.component);
        if (typeof limit === 'string') continue; // reported as the node's configuration problem
        const last = Math.max(n.lastHeardAt ?? 0, this.#expectedSince.get(key)!);
        const silent = now - last > limit * 1000;
        if (silent && !this.#down.has(key))
          await this.#goDown(key, n.component, `node ${n.nodeId} silent for more than ${limit} s`, n.nodeId);
        else if (!silent && this.#down.has(key)) await this.#restore(key, 'the node is heard from again');
      }
      // A component removed (or its node renamed) is no longer expected: not an outage any more.
      for (const key of [...this.#down.keys()])
        if (key.startsWith('node:') && !expected.has(key)) await this.#restore(key, 'no longer attached');
      for (const key of [...this.#expectedSince.keys()]) if (!expected.has(key)) this.#expectedSince.delete(key);
    });
  }

  /** The node spoke: a silence it had is over, now rather than at the next check. */
  heard(nodeId: string): Promise<void> {
    const key = `node:${nodeId}`;
    if (!this.#down.has(key)) return Promise.resolve();
    return this.#inOrder(() =>
      this.#down.has(key) ? this.#restore(key, 'the node is heard from again') : Promise.resolve(),
    );
  }

  /** A model could not be loaded for these components' nodes. */
  modelDown(name: string, component: ComponentSpec, reason: string): Promise<void> {
    const key = `model:${name}`;
    return this.#inOrder(() =>
      this.#down.has(key)
        ? Promise.resolve()
        : this.#goDown(key, component, `the ${name} model failed to load: ${reason}`),
    );
  }

  /** What is down now, for /healthz. */
  status(): { key: string; alert_id: string; reason: string; since: string }[] {
    return [...this.#down].map(([key, d]) => ({
      key,
      alert_id: d.alertId,
      reason: d.reason,
      since: new Date(d.since).toISOString(),
    }));
  }

  #inOrder(step: () => Promise<void>): Promise<void> {
    const next = this.#chain
      .then(step)
      .catch((err: unknown) => this.deps.log.error({ err }, 'detection-down record not stored'));
    this.#chain = next;
    return next;
  }

  async #goDown(key: string, component: ComponentSpec, reason: string, nodeId?: string): Promise<void> {
    const now = this.deps.clock.now();
    const alertId = `down:${now.toString(36)}:${key.slice(0, 48)}`;
    this.#down.set(key, {
      alertId,
      componentId: component.id,
      componentType: component.component_type,
      reason,
      since: now,
      ...(nodeId ? { nodeId } : {}),
    });
    this.deps.log.error({ alert_id: alertId, node_id: nodeId, reason }, 'FALL DETECTION DOWN');
    await this.deps.pipeline.emitStored({
      componentId: component.id,
      componentType: component.component_type,
      ...syncEvent('detection_down', { alert_id: alertId, reason, ...(nodeId ? { node_id: nodeId } : {}) }),
      ts: now,
    });
  }

  async #restore(key: string, why: string): Promise<void> {
    const d = this.#down.get(key)!;
    this.#down.delete(key);
    const now = this.deps.clock.now();
    this.deps.log.info({ alert_id: d.alertId, node_id: d.nodeId, why }, 'fall detection restored');
    await this.deps.pipeline.emitStored({
      componentId: d.componentId,
      componentType: d.componentType,
      ...syncEvent('detection_restored', {
        alert_id: d.alertId,
        why,
        down_s: Math.round((now - d.since) / 1000),
        ...(d.nodeId ? { node_id: d.nodeId } : {}),
      }),
      ts: now,
    });
  }
}
