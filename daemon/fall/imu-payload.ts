import { IMU_CHANNELS } from '../../models/runtime/sisfall.js';

/**
 * What a LAN node publishes on `local/{node_id}/imu` (JSON):
 *
 *     {"seq": 41, "ts": 1795430000000, "rate_hz": 50,
 *      "samples": [[ax, ay, az, gx, gy, gz], …]}
 *
 * `seq` counts batches (0, 1, 2, …, per node, restarting at 0 after the node reboots); `ts` is the
 * node's epoch ms of the first sample (informational: nodes rarely have a good clock; the hub orders
 * by seq); `rate_hz` the sample rate; `samples` 1–500 samples of acceleration in g and angular rate in
 * °/s, axes as a waist-worn device with y along the body when standing (SisFall's convention).
 */
export interface ImuBatch {
  seq: number;
  ts: number | undefined;
  rateHz: number;
  /** Interleaved, IMU_CHANNELS per sample. */
  samples: Float32Array;
}

export const MAX_IMU_SAMPLES = 500;
/** Beyond any body movement: a sensor fault or a hostile node. */
const MAX_G = 64;
const MAX_DPS = 5000;

/** The batch, or why it is refused (for the log line). */
export function parseImuBatch(payload: Buffer): ImuBatch | string {
  if (payload.length > 64 * 1024) return 'payload over 64 KiB';
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'not a JSON object';
  const b = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(b['seq']) || (b['seq'] as number) < 0) return 'seq must be a non-negative integer';
  if (b['ts'] !== undefined && (!Number.isSafeInteger(b['ts']) || (b['ts'] as number) < 0))
    return 'ts must be epoch milliseconds';
  const rate = b['rate_hz'];
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 5 || rate > 1000)
    return 'rate_hz must be between 5 and 1000';
  const list = b['samples'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_IMU_SAMPLES)
    return `samples must hold 1–${MAX_IMU_SAMPLES} samples`;
  const samples = new Float32Array(list.length * IMU_CHANNELS);
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as unknown;
    if (!Array.isArray(s) || s.length !== IMU_CHANNELS) return `sample ${i}: expected [ax, ay, az, gx, gy, gz]`;
    for (let c = 0; c < IMU_CHANNELS; c++) {
      const v = s[c] as unknown;
      const limit = c < 3 ? MAX_G : MAX_DPS;
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > limit)
        return `sample ${i}: ${c < 3 ? 'acceleration' : 'angular rate'} must be a number within ±${limit}`;
      samples[i * IMU_CHANNELS + c] = v;
    }
  }
  return { seq: b['seq'] as number, ts: b['ts'] as number | undefined, rateHz: rate, samples };
}
