import { loadShippedRadarModel } from '../fall/fall-models.js';
import { RadarNode } from '../fall/radar-node.js';
import { RADAR_METRICS, checkRadarFrame, type RadarFrame } from '../http/radar-frame.js';
import type { NodeKind } from './node-kind.js';

/**
 * A mmWave radar node (CareDian C1001 firmware: one JSON frame a second, over MQTT or the legacy
 * `POST /events`). Every frame is stored as readings before the fall decision; the sensor has a fall
 * flag of its own, so without the model the radar still decides on it (sensor_only).
 */
export const radar: NodeKind<RadarFrame> = {
  type: 'radar',
  parse: (payload) => {
    let frame: unknown;
    try {
      frame = JSON.parse(payload.toString('utf8'));
    } catch {
      return 'not JSON';
    }
    return checkRadarFrame(frame);
  },
  readings: (frame) => RADAR_METRICS.map((name) => ({ name, value: frame[name] })),
  fall: {
    model: 'radar-fall',
    load: loadShippedRadarModel,
    hasSensorFlag: true,
    withoutModel: {
      decision: { mode: 'sensor_only', threshold: 0.5, smoothing: 1, sustain: 1, cooldown_s: 300 },
      note: 'radars decide on their own fall flag meanwhile',
    },
    createNode: (model, settings, onRecording, onDuplicates) => {
      const node = new RadarNode(model, settings, onRecording, onDuplicates);
      return {
        accept: (frame, now) => node.accept(frame, now),
        health: () => {
          const c = node.counters;
          return {
            batches: c.frames,
            gaps: c.gaps,
            out_of_order: c.late,
            dropped_windows: c.dropped,
            suppressed: c.suppressed,
            last_batch_at: node.lastFrameAt === null ? null : new Date(node.lastFrameAt).toISOString(),
          };
        },
      };
    },
    recorded: (alert, _model, frame) => ({ frames_before: alert.before, node_ts: frame.ts }),
    recording: (nodeId, alertId, after) => ({ alert_id: alertId, node_id: nodeId, frames_after: after }),
  },
};
