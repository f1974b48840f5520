import { KeyedQueue } from '../../core/keyed-queue.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { DecisionSettings } from '../../models/runtime/decision.js';
import { DECISION_MODES } from '../../models/runtime/decision.js';
import type { Backend, LoadedModel } from '../../models/runtime/engine.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { Pipeline } from '../components/pipeline.js';
import type { Command } from '../../drivers/types.js';
import { AlertDesk, alertSettings, type AlertSettings } from './alert-desk.js';
import { ImuNode, type NodeAlert } from './imu-node.js';
import { parseImuBatch } from './imu-payload.js';

export interface FallServiceDeps {
  pipeline: Pipeline;
  clock: Clock;
  log: Logger;
  components: () => readonly ComponentSpec[];
  /** Publishes on the hub's LAN broker (retained `alerts/{device_uuid}`). */
  publish: (topic: string, payload: string, retain: boolean) => Promise<void>;
  deviceUuid: string;
  /** Loads the imu-fall model (injectable: tests hand in a corrupt one). */
  loadModel: () => Promise<LoadedModel>;
  backend?: Backend;
  /** Switches the alarm component (the hub's component runtime). */
  command?: (componentId: number, cmd: Command) => Promise<unknown>;
}

export interface FallHealth {
  /**
   * `down` when detection cannot run (model missing or corrupt): the family must not believe it does.
   * `off`: no imu component is attached, so nothing is loaded.
   */
  status: 'off' | 'starting' | 'running' | 'down';
  reason?: string;
  model?: string;
  backend?: string;
  nodes: {
    node_id: string;
    component_id: number;
    problem?: string;
    batches: number;
    gaps: number;
    out_of_order: number;
    dropped_windows: number;
    suppressed: number;
    last_batch_at: string | null;
  }[];
  alerts: number;
}

/** The shipped imu-fall model on the best backend here (tfjs-node if installed, else wasm). */
export async function loadShippedFallModel(): Promise<LoadedModel> {
  // Imported when needed: TensorFlow.js is loaded only by hubs with an IMU.
  const { createEngine } = await import('../../models/runtime/engine.js');
  const { IMU_FEATURES } = await import('../../models/runtime/imu-features.js');
  const { modelDir } = await import('../../models/runtime/model-dir.js');
  return (await createEngine()).load(modelDir('imu-fall'), IMU_FEATURES);
}

/**
 * Fall detection on the hub for IMU nodes: `local/{node_id}/imu` batches from the node that an `imu`
 * component names (`config.node_id`), through that node's stream and decision, to an alert: a
 * `fall_detected` record in the outbox's alert lane (committed at once, sent at once) with the
 * seconds of samples before it, a `fall_recording` of the seconds after, and the retained
 * `alerts/{device_uuid}` on the LAN broker so a phone on the home Wi-Fi hears of it without the
 * internet. A model that fails to load leaves the hub running, with detection reported down.
 */
export class FallService {
  #model: LoadedModel | undefined;
  #status: FallHealth['status'] | 'off' = 'off';
  #reason: string | undefined;
  readonly #nodes = new Map<string, { node: ImuNode; componentId: number; key: string }>();
  readonly #problems = new Map<string, { componentId: number; problem: string }>();
  readonly #queue = new KeyedQueue((err, nodeId) =>
    this.deps.log.error({ err, node_id: nodeId }, 'fall detection step failed'),
  );
  readonly desk: AlertDesk;
  #alerts = 0;

  constructor(private readonly deps: FallServiceDeps) {
    this.desk = new AlertDesk(deps);
  }

  /**
   * The component list changed: the model is loaded when the first imu component appears (a hub
   * without one never loads TensorFlow.js and its memory).
   */
  apply(list: readonly ComponentSpec[]): void {
    if (this.#started || !list.some((c) => c.component_type === 'imu')) return;
    this.#started = this.start();
  }

  #started: Promise<void> | undefined;

  async start(): Promise<void> {
    this.#status = 'starting';
    this.desk.start();
    try {
      this.#model = await this.deps.loadModel();
      this.#status = 'running';
      this.deps.log.info(
        { model: `${this.#model.meta.name}@${this.#model.meta.version}`, backend: this.#model.backend },
        'fall detection running',
      );
    } catch (err) {
      this.#status = 'down';
      this.#reason = (err as Error).message;
      this.deps.log.error({ err }, 'fall detection is DOWN: the model could not be loaded');
    }
  }

  async stop(): Promise<void> {
    this.desk.stop();
    await this.#started;
    await this.#queue.idle();
    this.#model?.dispose();
    this.#model = undefined;
  }

  /**
   * A LAN node's IMU batch. Processed in order per node, after the node's PUBACK: IMU samples are
   * not stored (50 Hz of them would wear the SD card); what is stored, at once, is an alert.
   */
  fromMqtt(nodeId: string, payload: Buffer): void {
    void this.#queue.run(nodeId, () => this.#accept(nodeId, payload));
  }

  /** Resolves when every batch received so far has been processed (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  health(): FallHealth {
    return {
      status: this.#status,
      ...(this.#reason ? { reason: this.#reason } : {}),
      ...(this.#model
        ? { model: `${this.#model.meta.name}@${this.#model.meta.version}`, backend: this.#model.backend }
        : {}),
      nodes: [
        ...[...this.#nodes].map(([nodeId, { node, componentId }]) => ({
          node_id: nodeId,
          component_id: componentId,
          batches: node.counters.batches,
          gaps: node.counters.gaps,
          out_of_order: node.counters.outOfOrder,
          dropped_windows: node.droppedWindows,
          suppressed: node.suppressed,
          last_batch_at: node.counters.lastBatchAt === null ? null : new Date(node.counters.lastBatchAt).toISOString(),
        })),
        ...[...this.#problems].map(([nodeId, p]) => ({
          node_id: nodeId,
          component_id: p.componentId,
          problem: p.problem,
          batches: 0,
          gaps: 0,
          out_of_order: 0,
          dropped_windows: 0,
          suppressed: 0,
          last_batch_at: null,
        })),
      ],
      alerts: this.#alerts,
    };
  }

  async #accept(nodeId: string, payload: Buffer): Promise<void> {
    await this.#started;
    const model = this.#model;
    if (!model) return; // detection is down; health says so
    const component = this.deps
      .components()
      .find((c) => c.component_type === 'imu' && c.config?.['node_id'] === nodeId);
    if (!component) {
      if (!this.#problems.has(nodeId))
        this.deps.log.warn({ node_id: nodeId }, 'IMU data from a node no imu component names');
      this.#problems.set(nodeId, { componentId: 0, problem: 'no imu component names this node (config.node_id)' });
      return;
    }
    const batch = parseImuBatch(payload);
    if (typeof batch === 'string') {
      this.deps.log.warn({ node_id: nodeId, problem: batch }, 'IMU batch invalid: dropped');
      return;
    }
    const alerting = alertSettings(component);
    const decided = decisionSettings(component, model);
    const settings = typeof alerting === 'string' ? alerting : decided;
    if (typeof settings === 'string') {
      if (this.#problems.get(nodeId)?.problem !== settings)
        this.deps.log.error({ node_id: nodeId, component_id: component.id, problem: settings }, 'imu component config');
      this.#problems.set(nodeId, { componentId: component.id, problem: settings });
      this.#nodes.delete(nodeId);
      return;
    }
    this.#problems.delete(nodeId);
    // A changed component or config starts the node afresh.
    const key = `${component.id}:${JSON.stringify(settings)}`;
    let entry = this.#nodes.get(nodeId);
    if (!entry || entry.key !== key) {
      const node = new ImuNode(model, settings, (alertId, after) => this.#recording(component, nodeId, alertId, after));
      entry = { node, componentId: component.id, key };
      this.#nodes.set(nodeId, entry);
    }
    const now = this.deps.clock.now();
    for (const alert of await entry.node.accept(batch, now))
      await this.#raise(component, nodeId, alert, now, alerting as AlertSettings);
  }

  async #raise(
    component: ComponentSpec,
    nodeId: string,
    alert: NodeAlert,
    now: number,
    settings: AlertSettings,
  ): Promise<void> {
    this.#alerts++;
    const model = this.#model!;
    this.deps.log.warn({ node_id: nodeId, alert_id: alert.id, prob: alert.prob }, 'FALL DETECTED');
    // Stored first (the alert lane commits and fsyncs at once), then told to the LAN.
    await this.deps.pipeline.emitStored({
      componentId: component.id,
      componentType: 'imu',
      kind: 'event',
      name: 'fall_detected',
      data: {
        alert_id: alert.id,
        node_id: nodeId,
        prob: alert.prob,
        model: `${model.meta.name}@${model.meta.version}`,
        rate_hz: model.meta.rate_hz,
        samples_before: alert.before,
      },
      ts: now,
    });
    // The alarm and the LAN, once the record is safe.
    await this.desk.raise({ id: alert.id, nodeId, prob: alert.prob, componentId: component.id, settings });
  }

  #recording(component: ComponentSpec, nodeId: string, alertId: string, after: number[][]): void {
    this.deps.pipeline
      .emitStored({
        componentId: component.id,
        componentType: 'imu',
        kind: 'event',
        name: 'fall_recording',
        data: { alert_id: alertId, node_id: nodeId, rate_hz: this.#model?.meta.rate_hz ?? 0, samples_after: after },
        ts: this.deps.clock.now(),
      })
      .catch((err: unknown) => this.deps.log.error({ err, alert_id: alertId }, 'fall recording not stored'));
  }
}

/**
 * The node's decision: the model's defaults, overridden by the component's config (`threshold`,
 * `smoothing`, `sustain`, `cooldown_s`, `mode`). An IMU has no fall flag of its own, so only
 * `model_only` makes sense; a sensor mode is a configuration error, reported, never guessed around.
 */
export function decisionSettings(component: ComponentSpec, model: LoadedModel): DecisionSettings | string {
  const cfg = component.config ?? {};
  const d = model.meta.decision;
  const mode = cfg['mode'] ?? 'model_only';
  if (!(DECISION_MODES as readonly unknown[]).includes(mode))
    return `config.mode: expected one of ${DECISION_MODES.join(', ')}`;
  if (mode !== 'model_only')
    return `config.mode: ${String(mode)} needs a sensor fall flag, which an IMU does not have; use model_only`;
  const num = (k: string, def: number, ok: (v: number) => boolean, what: string): number | string => {
    const v = cfg[k] ?? def;
    return typeof v === 'number' && ok(v) ? v : `config.${k}: expected ${what}`;
  };
  const threshold = num('threshold', d.threshold, (v) => v > 0 && v < 1, 'a number between 0 and 1');
  const smoothing = num('smoothing', d.smoothing, (v) => Number.isInteger(v) && v >= 1 && v <= 20, 'an integer 1–20');
  const sustain = num('sustain', d.sustain, (v) => Number.isInteger(v) && v >= 1 && v <= 20, 'an integer 1–20');
  const cooldown = num('cooldown_s', d.cooldown_s, (v) => v >= 0 && v <= 3600, 'seconds, 0–3600');
  for (const v of [threshold, smoothing, sustain, cooldown]) if (typeof v === 'string') return v;
  return {
    mode: 'model_only',
    threshold: threshold as number,
    smoothing: smoothing as number,
    sustain: sustain as number,
    cooldown_s: cooldown as number,
  };
}
