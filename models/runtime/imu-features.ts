import { IMU_CHANNELS } from './sisfall.js';

/**
 * What the imu-fall model sees of one window: features computed here, for training and at run time
 * alike (one implementation, so the hub computes exactly what the model was trained on). A window is
 * `n` samples of [ax, ay, az] in g and [gx, gy, gz] in °/s at the model's rate, interleaved. Axes as
 * SisFall's waist device: y along the body when standing (see the IMU payload in the README).
 *
 * Why these: a fall is an impact (peak |a|), often after a short free fall (|a| well below 1 g), then
 * a changed posture (gravity now along another axis) and stillness; the ADLs that also have impacts —
 * jogging, jumping, stumbling, dropping into a chair — either repeat (many peaks), or end upright, or
 * are not followed by stillness.
 */
export const IMU_FEATURES = [
  'acc_max',
  'acc_min',
  'acc_mean',
  'acc_std',
  'acc_range',
  'gyro_max',
  'gyro_mean',
  'posture_change_rad',
  'tail_acc_std',
  'tail_acc_mean',
  'peak_position',
  'pre_peak_acc_min',
  'jerk_max',
  'impact_fraction',
  'peak_count',
  'tail_gyro_max',
  'head_vertical',
  'tail_vertical',
] as const;

export const IMU_FEATURE_COUNT = IMU_FEATURES.length;

const mag = (x: number, y: number, z: number) => Math.sqrt(x * x + y * y + z * z);

/** Writes the features of the window at `win[start … start + n·6)` into `out[at …]`. */
export function imuFeatures(win: Float32Array, start: number, n: number, out: Float32Array, at = 0): void {
  const C = IMU_CHANNELS;
  const acc = new Float32Array(n);
  let max = -Infinity;
  let min = Infinity;
  let sum = 0;
  let sumSq = 0;
  let peak = 0;
  let gyroMax = 0;
  let gyroSum = 0;
  let jerk = 0;
  let impacts = 0;
  for (let i = 0; i < n; i++) {
    const o = start + i * C;
    const m = mag(win[o]!, win[o + 1]!, win[o + 2]!);
    acc[i] = m;
    if (m > max) {
      max = m;
      peak = i;
    }
    if (m < min) min = m;
    sum += m;
    sumSq += m * m;
    const g = mag(win[o + 3]!, win[o + 4]!, win[o + 5]!);
    if (g > gyroMax) gyroMax = g;
    gyroSum += g;
    if (i > 0) jerk = Math.max(jerk, Math.abs(m - acc[i - 1]!));
    if (m > 1.8) impacts++;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));

  // Posture: mean acceleration (≈ gravity) over the first and last half second.
  const edge = Math.max(1, Math.floor(n / 6));
  const head = meanVector(win, start, 0, edge);
  const tail = meanVector(win, start, n - edge, n);
  const hm = mag(head[0], head[1], head[2]) || 1;
  const tm = mag(tail[0], tail[1], tail[2]) || 1;
  const cos = (head[0] * tail[0] + head[1] * tail[1] + head[2] * tail[2]) / (hm * tm);
  const posture = Math.acos(Math.min(1, Math.max(-1, cos)));

  // The last third: still afterwards?
  const tailFrom = n - Math.max(1, Math.floor(n / 3));
  let tSum = 0;
  let tSq = 0;
  let tGyro = 0;
  for (let i = tailFrom; i < n; i++) {
    tSum += acc[i]!;
    tSq += acc[i]! * acc[i]!;
    const o = start + i * C;
    tGyro = Math.max(tGyro, mag(win[o + 3]!, win[o + 4]!, win[o + 5]!));
  }
  const tN = n - tailFrom;
  const tMean = tSum / tN;
  const tStd = Math.sqrt(Math.max(0, tSq / tN - tMean * tMean));

  // Free fall before the impact: the lowest |a| in the half second before the peak.
  let pre = acc[peak]!;
  for (let i = Math.max(0, peak - edge); i < peak; i++) pre = Math.min(pre, acc[i]!);

  // Impacts standing out, at least a fifth of a second apart: one for a fall, many for jogging.
  let peaks = 0;
  let last = -Infinity;
  const gap = Math.max(1, Math.floor(n / 15));
  for (let i = 1; i < n - 1; i++) {
    const m = acc[i]!;
    if (m > 1.5 && m >= acc[i - 1]! && m >= acc[i + 1]! && i - last >= gap) {
      peaks++;
      last = i;
    }
  }

  const f = [
    max,
    min,
    mean,
    std,
    max - min,
    gyroMax / 100,
    gyroSum / n / 100,
    posture,
    tStd,
    tMean,
    peak / n,
    pre,
    jerk,
    impacts / n,
    peaks,
    tGyro / 100,
    Math.abs(head[1]) / hm,
    Math.abs(tail[1]) / tm,
  ];
  for (let k = 0; k < f.length; k++) out[at + k] = f[k]!;
}

function meanVector(win: Float32Array, start: number, from: number, to: number): [number, number, number] {
  const v: [number, number, number] = [0, 0, 0];
  for (let i = from; i < to; i++) {
    const o = start + i * IMU_CHANNELS;
    v[0] += win[o]!;
    v[1] += win[o + 1]!;
    v[2] += win[o + 2]!;
  }
  const k = Math.max(1, to - from);
  return [v[0] / k, v[1] / k, v[2] / k];
}
