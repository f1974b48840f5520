import type { DetectionWatch } from './detection-watch.js';

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
    /** The node's kind (its component_type). */
    kind?: string;
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
