import type { DecisionSettings } from './decision.js';
import type { LoadedModel } from './engine.js';
import { fileMetrics } from './file-metrics.js';
import { checkRadarFrame, type RadarFrame } from './radar-frame.js';
import { RadarStream, type RadarAlert } from './radar-stream.js';

/** How many frames a live node's stream takes between flushes in replay (a few seconds of frames). */
export const REPLAY_FLUSH_EVERY = 5;

/**
 * One radar recording through a fresh node stream, as `ares fall replay` runs it: frame by frame,
 * flushed every few frames as the live pipeline would, so the same steps happen in the same order.
 */
export async function replayFrames(
  model: LoadedModel,
  settings: DecisionSettings,
  frames: readonly RadarFrame[],
  flushEvery = REPLAY_FLUSH_EVERY,
): Promise<RadarAlert[]> {
  const stream = new RadarStream(model, settings, Number.MAX_SAFE_INTEGER);
  const alerts: RadarAlert[] = [];
  for (let i = 0; i < frames.length; i++) {
    stream.push(frames[i]!);
    if ((i + 1) % flushEvery === 0) alerts.push(...(await stream.flush()));
  }
  alerts.push(...(await stream.flush()));
  return alerts;
}

/**
 * A radar JSON-lines recording: one /events JSON per line, checked as the hub checks a POST. Throws
 * naming the line and what is wrong with it; blank lines are skipped.
 */
export function parseRadarJsonl(text: string, name = 'input'): RadarFrame[] {
  const frames: RadarFrame[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new Error(`${name}:${i + 1}: not JSON (${(err as Error).message})`, { cause: err });
    }
    const checked = checkRadarFrame(raw);
    if (typeof checked === 'string') throw new Error(`${name}:${i + 1}: ${checked}`);
    frames.push(checked);
  }
  return frames;
}

/** One radar recording's outcome: alert times against the fall's onset (both from its first frame). */
export interface RadarFileResult {
  fall: boolean;
  seconds: number;
  fallAtS?: number;
  alertsAtS: number[];
}

/**
 * File-level measures for radar recordings: a fall recording counts as detected when it raises an
 * alert at or after the fall's onset (one before it is not a detection), an ADL recording must raise
 * none; false alarms per hour of ADL recording; and the median seconds from onset to the first alert.
 */
export function radarFileMetrics(results: readonly RadarFileResult[]): ReturnType<typeof fileMetrics> & {
  median_latency_s: number | null;
  pre_fall_alerts: number;
} {
  const latencies: number[] = [];
  let preFall = 0;
  const counted = results.map((r) => {
    if (!r.fall) return { fall: false, seconds: r.seconds, alerts: r.alertsAtS.length };
    const after = r.alertsAtS.filter((t) => t >= (r.fallAtS ?? 0));
    preFall += r.alertsAtS.length - after.length;
    if (after.length > 0) latencies.push(after[0]! - (r.fallAtS ?? 0));
    return { fall: true, seconds: r.seconds, alerts: after.length };
  });
  latencies.sort((a, b) => a - b);
  const mid = latencies.length >> 1;
  const median =
    latencies.length === 0
      ? null
      : latencies.length % 2
        ? latencies[mid]!
        : (latencies[mid - 1]! + latencies[mid]!) / 2;
  return { ...fileMetrics(counted), median_latency_s: median, pre_fall_alerts: preFall };
}

/** A labelled radar recording (the simulator's sequences have this shape). */
export interface LabelledRadarRecording {
  frames: readonly RadarFrame[];
  fall: boolean;
  fallAtS?: number;
  durationS: number;
}

/** Every recording through replayFrames with one decision setting; the file-level measures. */
export async function replayMetrics(
  model: LoadedModel,
  settings: DecisionSettings,
  recordings: readonly LabelledRadarRecording[],
): Promise<ReturnType<typeof radarFileMetrics>> {
  const results: RadarFileResult[] = [];
  for (const r of recordings) {
    const alerts = await replayFrames(model, settings, r.frames);
    results.push({
      fall: r.fall,
      seconds: r.durationS,
      ...(r.fallAtS === undefined ? {} : { fallAtS: r.fallAtS }),
      alertsAtS: alerts.map((a) => a.t_s),
    });
  }
  return radarFileMetrics(results);
}
