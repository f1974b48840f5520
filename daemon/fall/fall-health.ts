import type { NodeHealthCounters } from '../nodes/node-kind.js';
import type { DetectionWatch } from './detection-watch.js';

export interface FallHealth {
  /**
   * `down` when detection cannot run as configured (a model missing or corrupt): the family must not
   * believe it does. `off`: no component of a fall-detecting node kind is attached, so nothing is loaded.
   */
  status: 'off' | 'starting' | 'running' | 'down';
  reason?: string;
  model?: string;
  backend?: string;
  nodes: (NodeHealthCounters & {
    node_id: string;
    component_id: number;
    /** The node's kind (its component_type). */
    kind?: string;
    problem?: string;
  })[];
  alerts: number;
  /** Outages reported to central as detection_down alerts (silent nodes, a model that failed to load). */
  detection_down: ReturnType<DetectionWatch['status']>;
}
