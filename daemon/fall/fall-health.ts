import type { DetectionWatch } from './detection-watch.js';
import { ImuNode } from './imu-node.js';
import type { RadarNode } from './radar-node.js';

export type Kind = 'imu' | 'radar';

export interface FallHealth {
  /**
   * `down` when detection cannot run as configured (a model missing or corrupt): the family must not
   * believe it does. `off`: no imu or radar component is attached, so nothing is loaded.
   */
  status: 'off' | 'starting' | 'running' | 'down';
  reason?: string;
  model?: string;
  backend?: string;
  nodes: {
    node_id: string;
    component_id: number;
    kind?: Kind;
    problem?: string;
    batches: number;
    gaps: number;
    out_of_order: number;
    dropped_windows: number;
    suppressed: number;
    last_batch_at: string | null;
  }[];
  alerts: number;
  /** Outages reported to central as detection_down alerts (silent nodes, a model that failed to load). */
  detection_down: ReturnType<DetectionWatch['status']>;
}

/** A node's counters in the one shape /healthz and /metrics report for both kinds. */
export function nodeCounters(node: ImuNode | RadarNode) {
  if (node instanceof ImuNode)
    return {
      batches: node.counters.batches,
      gaps: node.counters.gaps,
      out_of_order: node.counters.outOfOrder,
      dropped_windows: node.droppedWindows,
      suppressed: node.suppressed,
      last_batch_at: node.counters.lastBatchAt === null ? null : new Date(node.counters.lastBatchAt).toISOString(),
    };
  const c = node.counters;
  return {
    batches: c.frames,
    gaps: c.gaps,
    out_of_order: c.late,
    dropped_windows: c.dropped,
    suppressed: c.suppressed,
    last_batch_at: node.lastFrameAt === null ? null : new Date(node.lastFrameAt).toISOString(),
  };
}
