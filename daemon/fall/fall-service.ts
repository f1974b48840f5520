import { KeyedQueue } from '../../core/keyed-queue.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Backend, LoadedModel } from '../../models/runtime/engine.js';
import type { RadarFrame } from '../../models/runtime/radar-frame.js';
import { syncEvent, type SyncEventData } from '../../sync/contract.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { Pipeline } from '../components/pipeline.js';
import type { Command } from '../../drivers/types.js';
import { AlertDesk, alertSettings, type AlertSettings } from './alert-desk.js';
import { decisionSettings } from './decision-settings.js';
import { DetectionWatch, type WatchedNode } from './detection-watch.js';
import { ImuNode } from './imu-node.js';
import { parseImuBatch } from './imu-payload.js';
import { nodeCounters, type FallHealth, type Kind } from './fall-health.js';
import { loadShippedRadarModel } from './fall-models.js';
import { RadarNode } from './radar-node.js';

export { loadShippedFallModel, loadShippedRadarModel } from './fall-models.js';
export type { FallHealth } from './fall-health.js';

/** How often silent nodes are looked for. */
const SILENCE_CHECK_MS = 5000;

const MODEL_OF: Record<Kind, string> = { imu: 'imu-fall', radar: 'radar-fall' };

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
  /** Loads the radar-fall model; default the shipped one. */
  loadRadarModel?: () => Promise<LoadedModel>;
  backend?: Backend;
  /** Switches the alarm component (the hub's component runtime). */
  command?: (componentId: number, cmd: Command) => Promise<unknown>;
}

interface ModelSlot {
  state: 'starting' | 'running' | 'down';
  model?: LoadedModel;
  reason?: string;
  loading: Promise<void>;
}

interface Entry {
  kind: Kind;
  node: ImuNode | RadarNode;
  component: ComponentSpec;
  /** The component and settings it was built for: a change starts the node afresh. */
  key: string;
}

/**
 * Fall detection on the hub. IMU batches (`local/{node_id}/imu`) and radar frames (`local/{node_id}/
 * radar`, `POST /events`) from the node an `imu` or `radar` component names (`config.node_id`) go
 * through that node's stream and decision (for a radar, with the sensor's own fall flag) to an alert:
 * a `fall_detected` record in the outbox's alert lane (committed at once, sent at once) with what
 * came before it, a `fall_recording` of what followed, the alarm, and the retained
 * `alerts/{device_uuid}` on the LAN broker. Each model loads when the first component needing it
 * appears. A model that fails to load leaves the hub running, with detection reported down (a radar
 * then still decides on its own flag).
 */
export class FallService {
  readonly #models = new Map<Kind, ModelSlot>();
  readonly #nodes = new Map<string, Entry>();
  readonly #problems = new Map<string, { componentId: number; problem: string }>();
  readonly #queue = new KeyedQueue((err, nodeId) =>
    this.deps.log.error({ err, node_id: nodeId }, 'fall detection step failed'),
  );
  readonly desk: AlertDesk;
  readonly watch: DetectionWatch;
  #alerts = 0;
  /** When each node was last heard from (any data, even data no model can run on). */
  readonly #lastHeard = new Map<string, number>();
  #silenceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: FallServiceDeps) {
    this.desk = new AlertDesk(deps);
    this.watch = new DetectionWatch(deps);
  }

  /**
   * The component list changed: a model is loaded when the first component needing it appears (a hub
   * without one never loads TensorFlow.js and its memory).
   */
  apply(list: readonly ComponentSpec[]): void {
    for (const kind of ['imu', 'radar'] as const)
      if (!this.#models.has(kind) && list.some((c) => c.component_type === kind)) this.#load(kind);
    if (this.#models.size > 0 && !this.#silenceTimer) {
      this.desk.start();
      // Silent nodes are looked for from now on, every few seconds (a node's limit is ≥ 5 s).
      this.#silenceTimer = setInterval(() => void this.checkNodes(), SILENCE_CHECK_MS);
      this.#silenceTimer.unref();
    }
  }

  /** Resolves once every model asked for has loaded or failed. */
  async ready(): Promise<void> {
    await Promise.all([...this.#models.values()].map((m) => m.loading));
  }

  /** Reports nodes silent past their limit (and nodes heard again); the timer runs it, tests call it. */
  checkNodes(): Promise<void> {
    const nodes: WatchedNode[] = [];
    for (const c of this.deps.components()) {
      const nodeId = c.config?.['node_id'];
      if ((c.component_type === 'imu' || c.component_type === 'radar') && typeof nodeId === 'string')
        nodes.push({ nodeId, component: c, lastHeardAt: this.#lastHeard.get(nodeId) ?? null });
    }
    return this.watch.check(nodes);
  }

  async stop(): Promise<void> {
    if (this.#silenceTimer) clearInterval(this.#silenceTimer);
    await this.ready();
    await this.#queue.idle();
    await this.desk.stop();
    for (const m of this.#models.values()) m.model?.dispose();
    this.#models.clear();
  }

  /**
   * A LAN node's IMU batch. Processed in order per node, after the node's PUBACK: IMU samples are
   * not stored (50 Hz of them would wear the SD card); what is stored, at once, is an alert.
   */
  fromMqtt(nodeId: string, payload: Buffer): void {
    void this.#queue.run(nodeId, () => this.#acceptImu(nodeId, payload));
  }

  /** A radar frame, already validated and stored as readings (RadarIntake): its fall decision. */
  fromRadar(nodeId: string, frame: RadarFrame): void {
    void this.#queue.run(nodeId, () => this.#acceptRadar(nodeId, frame));
  }

  /** Resolves when everything received so far has been processed (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  health(): FallHealth {
    const slots = [...this.#models.entries()];
    const down = slots.filter(([, m]) => m.state === 'down');
    const loaded = slots.flatMap(([, m]) => (m.model ? [m.model] : []));
    const status: FallHealth['status'] =
      slots.length === 0
        ? 'off'
        : down.length > 0
          ? 'down'
          : slots.some(([, m]) => m.state === 'starting')
            ? 'starting'
            : 'running';
    return {
      status,
      ...(down.length > 0 ? { reason: down.map(([, m]) => m.reason).join('; ') } : {}),
      ...(loaded.length > 0
        ? {
            model: loaded.map((m) => `${m.meta.name}@${m.meta.version}`).join(', '),
            backend: loaded[0]!.backend,
          }
        : {}),
      nodes: [
        ...[...this.#nodes].map(([nodeId, e]) => ({
          node_id: nodeId,
          component_id: e.component.id,
          kind: e.kind,
          ...nodeCounters(e.node),
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
      detection_down: this.watch.status(),
    };
  }

  #load(kind: Kind): void {
    const name = MODEL_OF[kind];
    const load = kind === 'imu' ? this.deps.loadModel : (this.deps.loadRadarModel ?? loadShippedRadarModel);
    const slot: ModelSlot = { state: 'starting', loading: Promise.resolve() };
    this.#models.set(kind, slot);
    slot.loading = load().then(
      (model) => {
        slot.model = model;
        slot.state = 'running';
        this.deps.log.info(
          { model: `${model.meta.name}@${model.meta.version}`, backend: model.backend },
          'fall detection running',
        );
      },
      async (err: unknown) => {
        slot.state = 'down';
        slot.reason = (err as Error).message;
        const fallback = kind === 'radar' ? ' (radars decide on their own fall flag meanwhile)' : '';
        this.deps.log.error({ err, model: name }, `fall detection is DOWN: the model could not be loaded${fallback}`);
        const component = this.deps.components().find((c) => c.component_type === kind);
        if (component) await this.watch.modelDown(name, component, `${slot.reason}${fallback}`);
      },
    );
  }

  /** The component naming this node, its settings, and the node's state (made afresh when they change). */
  #entry(
    kind: Kind,
    nodeId: string,
    model: LoadedModel | undefined,
    defaults: LoadedModel['meta']['decision'],
  ): Entry | undefined {
    const component = this.deps.components().find((c) => c.component_type === kind && c.config?.['node_id'] === nodeId);
    if (!component) {
      if (!this.#problems.has(nodeId))
        this.deps.log.warn({ node_id: nodeId }, `${kind} data from a node no ${kind} component names`);
      this.#problems.set(nodeId, { componentId: 0, problem: `no ${kind} component names this node (config.node_id)` });
      return undefined;
    }
    const alerting = alertSettings(component);
    const decided = decisionSettings(component, defaults, kind === 'radar');
    const settings = typeof alerting === 'string' ? alerting : decided;
    if (typeof settings === 'string') {
      if (this.#problems.get(nodeId)?.problem !== settings)
        this.deps.log.error(
          { node_id: nodeId, component_id: component.id, problem: settings },
          `${kind} component config`,
        );
      this.#problems.set(nodeId, { componentId: component.id, problem: settings });
      this.#nodes.delete(nodeId);
      return undefined;
    }
    this.#problems.delete(nodeId);
    const key = `${component.id}:${model ? 'model' : 'sensor'}:${JSON.stringify(settings)}`;
    const had = this.#nodes.get(nodeId);
    if (had?.key === key) return had;
    const recording = (alertId: string, after: number[][]) => this.#recording(component, nodeId, alertId, after);
    const duplicates = (alertId: string, count: number) => this.desk.duplicates(alertId, count);
    const node =
      kind === 'imu'
        ? new ImuNode(model!, settings, recording, duplicates)
        : new RadarNode(model, settings, recording, duplicates);
    const entry: Entry = { kind, node, component, key };
    this.#nodes.set(nodeId, entry);
    return entry;
  }

  async #heard(kind: Kind, nodeId: string): Promise<ModelSlot | undefined> {
    await this.#models.get(kind)?.loading;
    this.#lastHeard.set(nodeId, this.deps.clock.now());
    await this.watch.heard(nodeId);
    return this.#models.get(kind);
  }

  async #acceptImu(nodeId: string, payload: Buffer): Promise<void> {
    const model = (await this.#heard('imu', nodeId))?.model;
    if (!model) return; // detection is down; health and a detection_down alert say so
    const batch = parseImuBatch(payload);
    if (typeof batch === 'string') {
      this.deps.log.warn({ node_id: nodeId, problem: batch }, 'IMU batch invalid: dropped');
      return;
    }
    const entry = this.#entry('imu', nodeId, model, model.meta.decision);
    if (!entry) return;
    const now = this.deps.clock.now();
    for (const alert of await (entry.node as ImuNode).accept(batch, now))
      await this.#raise(
        entry,
        nodeId,
        now,
        { ...alert, by: 'model' },
        { samples_before: alert.before, rate_hz: model.meta.rate_hz },
      );
  }

  async #acceptRadar(nodeId: string, frame: RadarFrame): Promise<void> {
    const slot = await this.#heard('radar', nodeId);
    if (!slot) return; // no radar component at all: nothing to decide for
    // Without its model a radar still has its own flag: decided on that alone (sensor_only).
    const defaults = slot.model?.meta.decision ?? {
      mode: 'sensor_only' as const,
      threshold: 0.5,
      smoothing: 1,
      sustain: 1,
      cooldown_s: 300,
    };
    const entry = this.#entry('radar', nodeId, slot.model, defaults);
    if (!entry) return;
    const now = this.deps.clock.now();
    for (const alert of await (entry.node as RadarNode).accept(frame, now))
      await this.#raise(entry, nodeId, now, alert, { frames_before: alert.before, node_ts: frame.ts });
  }

  async #raise(
    entry: Entry,
    nodeId: string,
    now: number,
    alert: { id: string; prob: number | null; by: 'model' | 'sensor' | 'both' },
    recorded: Pick<SyncEventData['fall_detected'], 'samples_before' | 'frames_before' | 'rate_hz' | 'node_ts'>,
  ): Promise<void> {
    this.#alerts++;
    const model = this.#models.get(entry.kind)?.model;
    const settings = alertSettings(entry.component) as AlertSettings;
    this.deps.log.warn({ node_id: nodeId, alert_id: alert.id, prob: alert.prob, by: alert.by }, 'FALL DETECTED');
    // Stored first (the alert lane commits and fsyncs at once), then told to the LAN.
    await this.deps.pipeline.emitStored({
      componentId: entry.component.id,
      componentType: entry.kind,
      ...syncEvent('fall_detected', {
        alert_id: alert.id,
        node_id: nodeId,
        prob: alert.prob,
        by: alert.by,
        model: model ? `${model.meta.name}@${model.meta.version}` : null,
        ...recorded,
      }),
      ts: now,
    });
    // The alarm and the LAN, once the record is safe.
    await this.desk.raise({
      id: alert.id,
      nodeId,
      prob: alert.prob,
      componentId: entry.component.id,
      componentType: entry.kind,
      settings,
    });
  }

  #recording(component: ComponentSpec, nodeId: string, alertId: string, after: number[][]): void {
    const kind = component.component_type;
    const rate = this.#models.get(kind === 'radar' ? 'radar' : 'imu')?.model?.meta.rate_hz ?? 0;
    this.deps.pipeline
      .emitStored({
        componentId: component.id,
        componentType: kind,
        ...syncEvent(
          'fall_recording',
          kind === 'radar'
            ? { alert_id: alertId, node_id: nodeId, frames_after: after }
            : { alert_id: alertId, node_id: nodeId, rate_hz: rate, samples_after: after },
        ),
        ts: this.deps.clock.now(),
      })
      .catch((err: unknown) => this.deps.log.error({ err, alert_id: alertId }, 'fall recording not stored'));
  }
}
