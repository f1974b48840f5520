import type { DecisionSettings } from '../../models/runtime/decision.js';
import type { LoadedModel } from '../../models/runtime/engine.js';
import type { SyncEventData } from '../../sync/contract.js';

/**
 * A kind of LAN sensor node (CONVENTIONS §1, like a driver): the `component_type` of the components
 * that name such a node (`config.node_id`), which is also its stream on the hub's broker
 * (`local/{node_id}/{type}`), how its untrusted payloads are read, what of each message is stored, and —
 * for nodes that watch a person — how fall detection runs on its stream. Adding a kind is one file
 * exporting a descriptor and one line in nodes/registry.ts.
 */
export interface NodeKind<Msg = unknown> {
  readonly type: string;
  /** A payload from the LAN (untrusted bytes): the message, or why it is refused. */
  parse(payload: Buffer): Msg | string;
  /**
   * Readings stored for each message before anything else sees it (the broker holds the node's PUBACK
   * until they are committed); none for a stream too fast to store (an IMU at 50 Hz).
   */
  readings(msg: Msg): { name: string; value: number }[];
  fall?: FallKind<Msg>;
}

/** An alert one node's decision raised, with what its flight recorder held before it. */
export interface KindAlert {
  id: string;
  prob: number | null;
  by: 'model' | 'sensor' | 'both';
  before: unknown[];
}

/** /healthz's counters for one node, the same shape for every kind. */
export interface NodeHealthCounters {
  batches: number;
  gaps: number;
  out_of_order: number;
  dropped_windows: number;
  suppressed: number;
  last_batch_at: string | null;
}

/** One node's fall detection: its stream, decision and flight recorder. */
export interface FallNode<Msg> {
  accept(msg: Msg, nowMs: number): Promise<KindAlert[]>;
  health(): NodeHealthCounters;
}

export interface FallKind<Msg> {
  /** The shipped model's name (`imu-fall`): health and logs say it. */
  readonly model: string;
  /** Loads the shipped model (TensorFlow.js is imported only then). */
  load(): Promise<LoadedModel>;
  /**
   * The decision when the model could not be loaded: undefined means nothing decides without it; a
   * sensor with a fall flag of its own still decides on that (and the outage is reported all the same).
   */
  readonly withoutModel?: { decision: LoadedModel['meta']['decision']; note: string };
  /** Whether the stream carries a fall flag of its own (then every decision mode applies). */
  readonly hasSensorFlag: boolean;
  createNode(
    model: LoadedModel | undefined,
    settings: DecisionSettings,
    onRecording: (alertId: string, after: number[][]) => void,
    onDuplicates: (alertId: string, count: number) => void,
  ): FallNode<Msg>;
  /** What a `fall_detected` record carries besides the alert itself. */
  recorded(
    alert: KindAlert,
    model: LoadedModel | undefined,
    msg: Msg,
  ): Pick<SyncEventData['fall_detected'], 'samples_before' | 'frames_before' | 'rate_hz' | 'node_ts'>;
  /** The `fall_recording` of what followed an alert. */
  recording(
    nodeId: string,
    alertId: string,
    after: number[][],
    model: LoadedModel | undefined,
  ): SyncEventData['fall_recording'];
}
