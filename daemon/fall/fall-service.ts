import { KeyedQueue } from '../../core/keyed-queue.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Backend, LoadedModel } from '../../models/runtime/engine.js';
import { syncEvent, type SyncEventData } from '../../sync/contract.js';
import type { ComponentSpec } from '../../sync/components.js';
import type { Pipeline } from '../components/pipeline.js';
import type { Command } from '../../drivers/types.js';
import { AlertDesk, alertSettings, type AlertSettings } from './alert-desk.js';
import { decisionSettings } from './decision-settings.js';
import { DetectionWatch, type WatchedNode } from './detection-watch.js';
import type { FallHealth } from './fall-health.js';
import type { FallNode, KindAlert, NodeKind } from '../nodes/node-kind.js';
import { fallKinds, nodeKind } from '../nodes/registry.js';

export { loadShippedFallModel, loadShippedRadarModel } from './fall-models.js';
export type { FallHealth } from './fall-health.js';

/** How often silent nodes are looked for. */
const SILENCE_CHECK_MS = 5000;

export interface FallServiceDeps {
  pipeline: Pipeline;
  clock: Clock;
  log: Logger;
  components: () => readonly ComponentSpec[];
  /** Publishes on the hub's LAN broker (retained `alerts/{device_uuid}`). */
  publish: (topic: string, payload: string, retain: boolean) => Promise<void>;
  deviceUuid: string;
  /** Model loaders by node kind (tests hand in another or a corrupt one); default each kind's shipped model. */
  loaders?: Readonly<Record<string, () => Promise<LoadedModel>>>;
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
  kind: NodeKind;
  node: FallNode<unknown>;
  component: ComponentSpec;
  /** The component and settings it was built for: a change starts the node afresh. */
  key: string;
}

/**
 * Fall detection on the hub, for every LAN node kind that has it (nodes/registry.ts: IMU batches on
 * `local/{node_id}/imu`, radar frames on `local/{node_id}/radar` or `POST /events`). Messages from the
 * node a component of that kind names (`config.node_id`) go through that node's stream and decision
 * (with the sensor's own fall flag where it has one) to an alert:
 * a `fall_detected` record in the outbox's alert lane (committed at once, sent at once) with what
 * came before it, a `fall_recording` of what followed, the alarm, and the retained
 * `alerts/{device_uuid}` on the LAN broker. Each model loads when the first component needing it
 * appears. A model that fails to load leaves the hub running, with detection reported down (a radar
 * then still decides on its own flag).
 */
export class FallService {
  /** By node kind (its component_type). */
  readonly #models = new Map<string, ModelSlot>();
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
    for (const kind of fallKinds())
      if (!this.#models.has(kind.type) && list.some((c) => c.component_type === kind.type)) this.#load(kind);
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
      if (nodeKind(c.component_type)?.fall && typeof nodeId === 'string')
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
   * A node's message, already parsed and (for kinds that store it) stored by the node intake: its fall
   * decision, in order per node. Anything stored of it is what the alert lane stores: the alert.
   */
  accept(type: string, nodeId: string, msg: unknown): void {
    const kind = nodeKind(type);
    if (kind?.fall) void this.#queue.run(nodeId, () => this.#accept(kind, nodeId, msg));
  }

  /** Raw bytes from a node: parsed by its kind; a payload it refuses still tells that the node is alive. */
  fromPayload(type: string, nodeId: string, payload: Buffer): void {
    const msg = nodeKind(type)?.parse(payload);
    if (typeof msg !== 'string') return this.accept(type, nodeId, msg);
    this.deps.log.warn({ node_id: nodeId, problem: msg }, `${type} payload invalid: dropped`);
    this.heard(type, nodeId);
  }

  /** The node sent something (even something no model can run on): it is not silent. */
  heard(type: string, nodeId: string): void {
    void this.#queue.run(nodeId, async () => void (await this.#heard(type, nodeId)));
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
          kind: e.kind.type,
          ...e.node.health(),
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

  #load(kind: NodeKind): void {
    const fall = kind.fall!;
    const name = fall.model;
    const load = this.deps.loaders?.[kind.type] ?? fall.load;
    const slot: ModelSlot = { state: 'starting', loading: Promise.resolve() };
    this.#models.set(kind.type, slot);
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
        const fallback = fall.withoutModel ? ` (${fall.withoutModel.note})` : '';
        this.deps.log.error({ err, model: name }, `fall detection is DOWN: the model could not be loaded${fallback}`);
        const component = this.deps.components().find((c) => c.component_type === kind.type);
        if (component) await this.watch.modelDown(name, component, `${slot.reason}${fallback}`);
      },
    );
  }

  /** The component naming this node, its settings, and the node's state (made afresh when they change). */
  #entry(
    kind: NodeKind,
    nodeId: string,
    model: LoadedModel | undefined,
    defaults: LoadedModel['meta']['decision'],
  ): Entry | undefined {
    const type = kind.type;
    const component = this.deps.components().find((c) => c.component_type === type && c.config?.['node_id'] === nodeId);
    if (!component) {
      if (!this.#problems.has(nodeId))
        this.deps.log.warn({ node_id: nodeId }, `${type} data from a node no ${type} component names`);
      this.#problems.set(nodeId, { componentId: 0, problem: `no ${type} component names this node (config.node_id)` });
      return undefined;
    }
    const alerting = alertSettings(component);
    const decided = decisionSettings(component, defaults, kind.fall!.hasSensorFlag);
    const settings = typeof alerting === 'string' ? alerting : decided;
    if (typeof settings === 'string') {
      if (this.#problems.get(nodeId)?.problem !== settings)
        this.deps.log.error(
          { node_id: nodeId, component_id: component.id, problem: settings },
          `${type} component config`,
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
    const node = kind.fall!.createNode(model, settings, recording, duplicates);
    const entry: Entry = { kind, node, component, key };
    this.#nodes.set(nodeId, entry);
    return entry;
  }

  async #heard(type: string, nodeId: string): Promise<ModelSlot | undefined> {
    await this.#models.get(type)?.loading;
    this.#lastHeard.set(nodeId, this.deps.clock.now());
    await this.watch.heard(nodeId);
    return this.#models.get(type);
  }

  async #accept(kind: NodeKind, nodeId: string, msg: unknown): Promise<void> {
    const fall = kind.fall!;
    const slot = await this.#heard(kind.type, nodeId);
    if (!slot) return; // no component of this kind at all: nothing to decide for
    // Without its model a node decides on its own fall flag if it has one; else detection is down, and
    // health and a detection_down alert say so.
    const decision = slot.model?.meta.decision ?? fall.withoutModel?.decision;
    if (!decision) return;
    const entry = this.#entry(kind, nodeId, slot.model, decision);
    if (!entry) return;
    const now = this.deps.clock.now();
    for (const alert of await entry.node.accept(msg, now))
      await this.#raise(entry, nodeId, now, alert, fall.recorded(alert, slot.model, msg));
  }

  async #raise(
    entry: Entry,
    nodeId: string,
    now: number,
    alert: KindAlert,
    recorded: Pick<SyncEventData['fall_detected'], 'samples_before' | 'frames_before' | 'rate_hz' | 'node_ts'>,
  ): Promise<void> {
    this.#alerts++;
    const model = this.#models.get(entry.kind.type)?.model;
    const settings = alertSettings(entry.component) as AlertSettings;
    this.deps.log.warn({ node_id: nodeId, alert_id: alert.id, prob: alert.prob, by: alert.by }, 'FALL DETECTED');
    // Stored first (the alert lane commits and fsyncs at once), then told to the LAN.
    await this.deps.pipeline.emitStored({
      componentId: entry.component.id,
      componentType: entry.kind.type,
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
      componentType: entry.kind.type,
      settings,
    });
  }

  #recording(component: ComponentSpec, nodeId: string, alertId: string, after: number[][]): void {
    const type = component.component_type;
    const data = nodeKind(type)!.fall!.recording(nodeId, alertId, after, this.#models.get(type)?.model);
    this.deps.pipeline
      .emitStored({
        componentId: component.id,
        componentType: type,
        ...syncEvent('fall_recording', data),
        ts: this.deps.clock.now(),
      })
      .catch((err: unknown) => this.deps.log.error({ err, alert_id: alertId }, 'fall recording not stored'));
  }
}
