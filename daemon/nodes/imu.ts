import { loadShippedFallModel } from '../fall/fall-models.js';
import { ImuNode } from '../fall/imu-node.js';
import { parseImuBatch, type ImuBatch } from '../fall/imu-payload.js';
import type { NodeKind } from './node-kind.js';

/**
 * A worn IMU (pendant, wristband) streaming 50 Hz samples in batches. The samples are not stored (50 Hz
 * would wear the SD card): the node's PUBACK goes at once and what is stored, at once, is an alert.
 * There is no fall flag on the device: the model decides, so without the model nothing does.
 */
export const imu: NodeKind<ImuBatch> = {
  type: 'imu',
  parse: parseImuBatch,
  readings: () => [],
  fall: {
    model: 'imu-fall',
    load: loadShippedFallModel,
    hasSensorFlag: false,
    createNode: (model, settings, onRecording, onDuplicates) => {
      const node = new ImuNode(model!, settings, onRecording, onDuplicates);
      return {
        accept: async (batch, now) => (await node.accept(batch, now)).map((a) => ({ ...a, by: 'model' as const })),
        health: () => ({
          batches: node.counters.batches,
          gaps: node.counters.gaps,
          out_of_order: node.counters.outOfOrder,
          dropped_windows: node.droppedWindows,
          suppressed: node.suppressed,
          last_batch_at: node.counters.lastBatchAt === null ? null : new Date(node.counters.lastBatchAt).toISOString(),
        }),
      };
    },
    recorded: (alert, model) => ({ samples_before: alert.before as number[][], rate_hz: model?.meta.rate_hz ?? 0 }),
    recording: (nodeId, alertId, after, model) => ({
      alert_id: alertId,
      node_id: nodeId,
      rate_hz: model?.meta.rate_hz ?? 0,
      samples_after: after,
    }),
  },
};
