import type { RadarFrame } from './radar-frame.js';

/**
 * What the radar-fall model sees of one window of C1001 frames: features computed here, for training
 * and at run time alike (one implementation, so the hub computes exactly what the model was trained
 * on). A window is `n` frames on the 1 Hz grid, oldest first, interleaved as RADAR_CHANNELS numbers
 * per frame: presence (0/1), movement (0 none, 1 still, 2 active), moving_range (0–100 on the C1001),
 * dwell_state (0/1). The sensor's own fall_state is deliberately not a feature: it is the decision's
 * separate "sensor" input.
 *
 * Why these: on this radar a fall is activity (walking, standing), then an abrupt burst of movement
 * (a sharp rise and drop of moving_range), then someone still there but hardly moving, soon in a
 * dwell. The look-alikes differ in what comes before (sitting down or lying down on a sofa start from
 * sitting or are gentler), in the stillness after (a seated person fidgets), or in presence (someone
 * leaving the room drops to "nobody there" within seconds). Someone sitting down slows at the seat
 * first; a fall comes out of walking, brief and strong.
 */
export const RADAR_FEATURES = [
  'presence_mean',
  'presence_tail',
  'presence_drops',
  'movement_head',
  'movement_tail',
  'active_head',
  'active_tail',
  'range_head',
  'range_tail',
  'range_tail_std',
  'range_max',
  'range_max_pos',
  'range_rise_max',
  'range_drop_max',
  'range_absdiff_mean',
  'movement_changes',
  'still_run_end',
  'pre_still_range_max',
  'pre_still_active',
  'dwell_mean',
  'dwell_tail',
  'dwell_rises',
  'peak_to_tail',
  'pre_peak_range',
  'peak_width',
  'spike_then_still',
] as const;

export const RADAR_FEATURE_COUNT = RADAR_FEATURES.length;
/** Numbers per frame in a window: presence, movement, moving_range, dwell_state. */
export const RADAR_CHANNELS = 4;
/** The radar-fall model's window: 30 one-second frames (CareDian: 20–30 s), a decision every frame. */
export const RADAR_WINDOW = 30;
export const RADAR_HOP = 1;
export const RADAR_RATE_HZ = 1;
/** The last seconds of a window, compared with what came before. */
export const RADAR_TAIL = 8;
/** moving_range under this, with movement ≤ 1, counts as still (breathing and small shifts). */
export const STILL_RANGE = 10;
/** How far before a final still run to look for what led into it. */
const PRE_PEAK = 4;
const PRE_ACTIVE = 10;
/** "After a spike": from 2 to 5 s later (the falling motion itself may take 2 s). */
const AFTER_FROM = 2;
const AFTER_TO = 5;

/** Writes the features of the window `win[start … start + n·RADAR_CHANNELS)` into `out[at …]`. */
export function radarFeatures(win: ArrayLike<number>, start: number, n: number, out: Float32Array, at = 0): void {
  const C = RADAR_CHANNELS;
  const p = (i: number) => win[start + i * C]!;
  const m = (i: number) => win[start + i * C + 1]!;
  const r = (i: number) => win[start + i * C + 2]!;
  const d = (i: number) => win[start + i * C + 3]!;
  const tail = Math.min(RADAR_TAIL, n);
  const head = n - tail;
  const mean = (f: (i: number) => number, from: number, to: number) => {
    if (to <= from) return 0;
    let s = 0;
    for (let i = from; i < to; i++) s += f(i);
    return s / (to - from);
  };
  const active = (i: number) => (m(i) === 2 ? 1 : 0);

  let drops = 0;
  let changes = 0;
  let rises = 0;
  let riseMax = 0;
  let dropMax = 0;
  let absDiff = 0;
  let max = -Infinity;
  let maxAt = 0;
  for (let i = 0; i < n; i++) {
    if (r(i) > max) {
      max = r(i);
      maxAt = i;
    }
    if (i === 0) continue;
    const dr = r(i) - r(i - 1);
    riseMax = Math.max(riseMax, dr);
    dropMax = Math.max(dropMax, -dr);
    absDiff += Math.abs(dr);
    if (p(i - 1) === 1 && p(i) === 0) drops++;
    if (m(i) !== m(i - 1)) changes++;
    if (d(i - 1) === 0 && d(i) === 1) rises++;
  }
  // The still run at the end: how long someone has been there without moving (movement 1 means
  // "someone, still"; 0 means nobody — a single dropped detection inside the run is tolerated), and
  // what came just before it.
  const isStill = (i: number) => m(i) === 1 && r(i) < STILL_RANGE;
  let still = 0;
  while (
    still < n &&
    (isStill(n - 1 - still) || (still > 0 && n - 2 - still >= 0 && p(n - 1 - still) === 0 && isStill(n - 2 - still)))
  )
    still++;
  const runStart = n - still;
  let preMax = 0;
  for (let i = Math.max(0, runStart - PRE_PEAK); i < runStart; i++) preMax = Math.max(preMax, r(i));
  const preActive = mean(active, Math.max(0, runStart - PRE_ACTIVE), runStart);

  // Around the largest movement: the pace just before it, and how long it lasted.
  const prePeak = mean(r, Math.max(0, maxAt - PRE_PEAK), maxAt);
  let width = 0;
  if (n > 0) {
    const half = max / 2;
    let a = maxAt;
    let b = maxAt;
    while (a > 0 && r(a - 1) >= half && m(a - 1) === 2) a--;
    while (b < n - 1 && r(b + 1) >= half && m(b + 1) === 2) b++;
    width = b - a + 1;
  }

  // The strongest movement followed by quiet: how far moving_range stands above the most it reaches
  // in the seconds after (a fall's impact, then lying there; walking or fidgeting keeps moving).
  let spike = 0;
  for (let i = 0; i + AFTER_FROM < n; i++) {
    let after = 0;
    for (let j = i + AFTER_FROM; j < Math.min(n, i + AFTER_TO + 1); j++) after = Math.max(after, r(j));
    spike = Math.max(spike, r(i) - after);
  }

  const tailMean = mean(r, head, n);
  let tailVar = 0;
  for (let i = head; i < n; i++) tailVar += (r(i) - tailMean) ** 2;

  const values = [
    mean(p, 0, n),
    mean(p, head, n),
    drops,
    mean(m, 0, head),
    mean(m, head, n),
    mean(active, 0, head),
    mean(active, head, n),
    mean(r, 0, head),
    tailMean,
    Math.sqrt(tailVar / Math.max(1, tail)),
    n > 0 ? max : 0,
    n > 1 ? maxAt / (n - 1) : 0,
    riseMax,
    dropMax,
    n > 1 ? absDiff / (n - 1) : 0,
    changes,
    still,
    preMax,
    preActive,
    mean(d, 0, n),
    mean(d, head, n),
    rises,
    (n > 0 ? max : 0) - tailMean,
    prePeak,
    width,
    spike,
  ];
  for (let k = 0; k < RADAR_FEATURE_COUNT; k++) out[at + k] = values[k]!;
}

/** The window channels of one frame, in RADAR_CHANNELS order. */
export function frameChannels(f: Pick<RadarFrame, 'presence' | 'movement' | 'moving_range' | 'dwell_state'>): number[] {
  return [f.presence, f.movement, f.moving_range, f.dwell_state];
}

/** Features of a window given as frames (oldest first): for tests and tools; streams use radarFeatures. */
export function radarFeaturesOf(
  frames: readonly Pick<RadarFrame, 'presence' | 'movement' | 'moving_range' | 'dwell_state'>[],
): Float32Array {
  const out = new Float32Array(RADAR_FEATURE_COUNT);
  radarFeatures(frames.flatMap(frameChannels), 0, frames.length, out);
  return out;
}
