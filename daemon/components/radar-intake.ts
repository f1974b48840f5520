import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { ComponentSpec } from '../../sync/components.js';
import { RADAR_METRICS, checkRadarFrame, type RadarFrame } from '../http/radar-frame.js';
import type { ComponentOutput, Pipeline } from './pipeline.js';

/**
 * Radar frames from LAN nodes (POST /events from legacy CareDian firmware, or `local/{node}/radar`
 * over MQTT) become readings of the `radar` component whose `config.node_id` names the node, then go
 * to fall detection. A node with no such component is accepted and reported once: central decides
 * what is attached.
 */
export class RadarIntake {
  readonly #unattributed = new Set<string>();

  constructor(
    private readonly deps: {
      pipeline: Pipeline;
      clock: Clock;
      components: () => readonly ComponentSpec[];
      log: Logger;
      /** Fall detection (the radar's model and decision), told of each attributed frame once it is stored. */
      onFrame?: (nodeId: string, frame: RadarFrame) => void;
    },
  ) {}

  /** Resolves once the frame's readings are stored (the outbox committed them). */
  accept(nodeId: string, frame: RadarFrame): Promise<void> {
    const component = this.deps
      .components()
      .find((c) => c.component_type === 'radar' && c.config?.['node_id'] === nodeId);
    if (!component) {
      if (!this.#unattributed.has(nodeId))
        this.deps.log.warn(
          { node_id: nodeId },
          'radar frames from a node no radar component names (config.node_id): not attributed',
        );
      this.#unattributed.add(nodeId);
      return Promise.resolve();
    }
    const ts = this.deps.clock.now();
    const outputs: ComponentOutput[] = RADAR_METRICS.map((metric) => ({
      componentId: component.id,
      componentType: 'radar',
      kind: 'reading',
      name: metric,
      value: frame[metric],
      ts,
    }));
    // The sensor's own fall flag is a reading here; whether it is an alert is the fall decision's
    // call (its mode: sensor_or_model, sensor_only, …), made after the frame is stored.
    return Promise.all(outputs.map((o) => this.deps.pipeline.emitStored(o))).then(() =>
      this.deps.onFrame?.(nodeId, frame),
    );
  }

  /**
   * MQTT payloads are untrusted bytes: parsed and validated here, refused with a log line. Resolves
   * once a valid frame is stored (the broker holds the node's PUBACK until then).
   */
  fromMqtt(nodeId: string, stream: string, payload: Buffer): Promise<void> {
    if (stream !== 'radar') return Promise.resolve(); // IMU streams feed fall detection (its own issue).
    let frame: unknown;
    try {
      frame = JSON.parse(payload.toString('utf8'));
    } catch {
      this.deps.log.warn({ node_id: nodeId }, 'radar frame is not JSON: dropped');
      return Promise.resolve();
    }
    const checked = checkRadarFrame(frame);
    if (typeof checked === 'string') {
      this.deps.log.warn({ node_id: nodeId, problem: checked }, 'radar frame invalid: dropped');
      return Promise.resolve();
    }
    return this.accept(nodeId, checked);
  }
}
