import type { DecisionSettings } from './decision.js';
import type { LoadedModel } from './engine.js';
import { ImuStream, Resampler, type ImuAlert } from './imu-stream.js';

/** One recording through a fresh node stream, as `ares fall replay` runs it (fed in 1 s batches, as a node sends). */
export async function replaySamples(
  model: LoadedModel,
  settings: DecisionSettings,
  samples: Float32Array,
  rateHz = model.meta.rate_hz,
): Promise<ImuAlert[]> {
  const stream = new ImuStream(model, settings, Number.MAX_SAFE_INTEGER);
  const resampler = new Resampler(rateHz, model.meta.rate_hz);
  const batch = Math.max(1, Math.round(rateHz)) * 6;
  const alerts: ImuAlert[] = [];
  for (let i = 0; i < samples.length; i += batch) {
    stream.push(resampler.push(samples.subarray(i, i + batch)));
    alerts.push(...(await stream.flush()));
  }
  return alerts;
}

export interface FileResult {
  fall: boolean;
  seconds: number;
  alerts: number;
}

/**
 * File-level measures: a fall file must raise at least one alert, an ADL file none. False alarms per
 * hour: alerts in ADL files over the hours of ADL recording.
 */
export function fileMetrics(results: FileResult[]): {
  files: number;
  fall_files: number;
  adl_files: number;
  sensitivity: number;
  specificity: number;
  false_alarms_per_hour: number;
  adl_hours: number;
} {
  const falls = results.filter((r) => r.fall);
  const adls = results.filter((r) => !r.fall);
  const hours = adls.reduce((s, r) => s + r.seconds, 0) / 3600;
  const falseAlarms = adls.reduce((s, r) => s + r.alerts, 0);
  const round = (v: number) => Math.round(v * 10_000) / 10_000;
  return {
    files: results.length,
    fall_files: falls.length,
    adl_files: adls.length,
    sensitivity: round(falls.filter((r) => r.alerts > 0).length / Math.max(1, falls.length)),
    specificity: round(adls.filter((r) => r.alerts === 0).length / Math.max(1, adls.length)),
    false_alarms_per_hour: round(falseAlarms / Math.max(hours, 1e-9)),
    adl_hours: round(hours),
  };
}
