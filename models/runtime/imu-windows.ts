import { IMU_FEATURE_COUNT, imuFeatures } from './imu-features.js';
import { IMU_CHANNELS } from './sisfall.js';

/** The imu-fall model's window: 3 s at 50 Hz, one decision every half second. */
export const IMU_WINDOW = 150;
export const IMU_HOP = 25;

/**
 * Features of every window of a recording (interleaved samples), one row of IMU_FEATURE_COUNT per
 * window starting at 0, hop, 2·hop, …; `starts` holds each window's first sample.
 */
export function recordingFeatures(
  samples: Float32Array,
  window = IMU_WINDOW,
  hop = IMU_HOP,
): { features: Float32Array; starts: number[] } {
  const n = Math.floor(samples.length / IMU_CHANNELS);
  const starts: number[] = [];
  for (let s = 0; s + window <= n; s += hop) starts.push(s);
  const features = new Float32Array(starts.length * IMU_FEATURE_COUNT);
  starts.forEach((s, i) => imuFeatures(samples, s * IMU_CHANNELS, window, features, i * IMU_FEATURE_COUNT));
  return { features, starts };
}
