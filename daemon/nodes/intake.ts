import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { ComponentOutput, Pipeline } from '../components/pipeline.js';
import { nodeKind } from './registry.js';

export interface NodeIntakeDeps {
  pipeline: Pipeline;
  clock: Clock;
  components: () => readonly ComponentSpec[];
  log: Logger;
  /** A node's message, once what its kind stores of it is stored (fall detection decides on it). */
  onMessage?: (type: string, nodeId: string, msg: unknown) => void;
  /** A node sent a payload its kind refused: it is alive all the same (fall detection's silence watch). */
  onRefused?: (type: string, nodeId: string) => void;
}

/**
 * Where LAN nodes' data enters the hub (`local/{node_id}/{type}` over MQTT, the legacy `POST /events`):
 * read by the node's kind (nodes/registry.ts), untrusted bytes refused with a log line, what the kind
 * stores of each message written as readings of the component naming the node (`config.node_id`) —
 * before anyone is told, so the broker acknowledges a node's publish only once it is safe — then handed
 * on to fall detection.
 */
export class NodeIntake {
  /** Nodes already warned about (no component names them), so a stream is not a log flood. */
  readonly #unattributed = new Set<string>();
  readonly #unknownStreams = new Set<string>();

  constructor(private readonly deps: NodeIntakeDeps) {}

  /** A node's publish; resolves once what is stored of it is committed. */
  fromMqtt(nodeId: string, stream: string, payload: Buffer): Promise<void> {
    const kind = nodeKind(stream);
    if (!kind) {
      if (!this.#unknownStreams.has(stream))
        this.deps.log.warn({ node_id: nodeId, stream }, 'a stream no LAN node kind reads: dropped');
      this.#unknownStreams.add(stream);
      return Promise.resolve();
    }
    const msg = kind.parse(payload);
    if (typeof msg === 'string') {
      this.deps.log.warn({ node_id: nodeId, problem: msg }, `${kind.type} payload invalid: dropped`);
      this.deps.onRefused?.(kind.type, nodeId);
      return Promise.resolve();
    }
    return this.accept(kind.type, nodeId, msg);
  }

  /** A message already read (the HTTP route validates its own body); resolves once it is stored. */
  accept(type: string, nodeId: string, msg: unknown): Promise<void> {
    const kind = nodeKind(type);
    if (!kind) return Promise.resolve();
    const readings = kind.readings(msg as never);
    // Nothing of it is stored (an IMU's 50 Hz samples): acknowledged at once, decided on after.
    if (readings.length === 0) {
      this.deps.onMessage?.(type, nodeId, msg);
      return Promise.resolve();
    }
    const component = this.deps.components().find((c) => c.component_type === type && c.config?.['node_id'] === nodeId);
    if (!component) {
      if (!this.#unattributed.has(nodeId))
        this.deps.log.warn(
          { node_id: nodeId, type },
          `${type} data from a node no ${type} component names (config.node_id): not attributed`,
        );
      this.#unattributed.add(nodeId);
      return Promise.resolve();
    }
    const ts = this.deps.clock.now();
    const outputs: ComponentOutput[] = readings.map((r) => ({
      componentId: component.id,
      componentType: type,
      kind: 'reading',
      name: r.name,
      value: r.value,
      ts,
    }));
    // A sensor's own fall flag is a reading here; whether it is an alert is the fall decision's call
    // (its mode: sensor_or_model, sensor_only, …), made after the message is stored.
    return Promise.all(outputs.map((o) => this.deps.pipeline.emitStored(o))).then(() =>
      this.deps.onMessage?.(type, nodeId, msg),
    );
  }
}
