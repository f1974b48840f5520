import { readFileSync } from 'node:fs';
import { AresError } from '../core/errors.js';
import type { Backend, InferenceEngine } from './runtime/engine.js';
import { createEngine } from './runtime/engine.js';
import type { DecisionSettings } from './runtime/decision.js';
import { replaySamples } from './runtime/file-metrics.js';
import { IMU_FEATURES } from './runtime/imu-features.js';
import { modelDir } from './runtime/model-dir.js';
import { RADAR_FEATURES } from './runtime/radar-features.js';
import { parseRadarJsonl, replayFrames } from './runtime/radar-replay.js';
import { SISFALL_RATE_HZ, parseSisFall } from './runtime/sisfall.js';

export const MODELS = ['imu-fall', 'radar-fall'] as const;
export type ModelName = (typeof MODELS)[number];

export interface ReplayOptions {
  model?: ModelName;
  rateHz?: number;
  backend?: Backend;
  /** Where models live (tests point at corrupt copies); default the shipped ones. */
  modelDirOf?: (name: ModelName) => string;
}

export type ReplayLine =
  { file: string; alerts: { t_s: number; prob: number | null }[] } | { file: string; error: string };

/** The feature names each model's meta.json must list (checked at load). */
const FEATURES: Record<ModelName, readonly string[]> = { 'imu-fall': IMU_FEATURES, 'radar-fall': RADAR_FEATURES };

/** Which model a file gets when --model is not given: SisFall text → imu-fall, JSON lines → radar-fall. */
function modelFor(file: string): ModelName {
  return /\.jsonl?$/i.test(file) ? 'radar-fall' : 'imu-fall';
}

/**
 * `ares fall replay` (§4.9): each file through the same per-node stream, model and decision as the
 * live pipeline, one JSON line per file. An unreadable file gets an error line; the others still run.
 */
export async function replayFiles(
  files: string[],
  opts: ReplayOptions,
  write: (line: ReplayLine) => void,
): Promise<number> {
  let engine: InferenceEngine | undefined;
  const loaded = new Map<ModelName, Awaited<ReturnType<InferenceEngine['load']>>>();
  let failed = 0;
  for (const file of files) {
    const name = opts.model ?? modelFor(file);
    try {
      engine ??= await createEngine(opts.backend);
      let model = loaded.get(name);
      if (!model) {
        model = await engine.load((opts.modelDirOf ?? modelDir)(name), FEATURES[name]);
        loaded.set(name, model);
      }
      const text = readFileSync(file, 'utf8');
      let alerts: { t_s: number; prob: number | null }[];
      if (name === 'radar-fall') {
        // The model's own default mode (its card says why); the sensor's flag is the frames' fall_state.
        const settings: DecisionSettings = { mode: 'sensor_or_model', ...model.meta.decision };
        alerts = await replayFrames(model, settings, parseRadarJsonl(text, file));
      } else {
        const samples = parseSisFall(text, file);
        const settings = { ...model.meta.decision, mode: 'model_only' as const };
        alerts = await replaySamples(model, settings, samples, opts.rateHz ?? SISFALL_RATE_HZ);
      }
      write({
        file,
        alerts: alerts.map((a) => ({
          t_s: Math.round(a.t_s * 100) / 100,
          prob: a.prob === null ? null : Math.round(a.prob * 10_000) / 10_000,
        })),
      });
    } catch (err) {
      failed++;
      write({ file, error: err instanceof AresError ? err.message : (err as Error).message });
    }
  }
  for (const m of loaded.values()) m.dispose();
  return failed === 0 ? 0 : 1;
}
