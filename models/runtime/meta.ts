import { AresError } from '../../core/errors.js';
import type { DecisionSettings } from './decision.js';

/**
 * `meta.json` beside a model's TF.js files: everything needed to feed it and read it, as plain
 * numbers (no pickles). Checked against the model at load (engine.ts).
 */
export interface ModelMeta {
  name: string;
  version: string;
  /** Feature names in input order. */
  features: string[];
  /** Samples (IMU) or frames (radar) per window, and the hop between decisions, at `rate_hz`. */
  window: number;
  hop: number;
  rate_hz: number;
  scaler: { mean: number[]; std: number[] };
  /** Defaults for the node's decision, overridable by its component config. */
  decision: Omit<DecisionSettings, 'mode'> & { mode?: DecisionSettings['mode'] };
  /** What training measured (the model card has the full account). */
  validation?: Record<string, unknown>;
  /** sha256 of weights.bin: a swapped or truncated file is refused. */
  weights_sha256: string;
}

const bad = (dir: string, why: string) => new AresError('ARES_ERR_MODEL', `model ${dir}: meta.json: ${why}`);
const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Validates a parsed meta.json; throws ARES_ERR_MODEL naming the first problem. */
export function checkMeta(raw: unknown, dir: string, expectFeatures?: readonly string[]): ModelMeta {
  if (!raw || typeof raw !== 'object') throw bad(dir, 'not a JSON object');
  const m = raw as Partial<ModelMeta>;
  if (typeof m.name !== 'string' || typeof m.version !== 'string') throw bad(dir, 'name and version are required');
  if (!Array.isArray(m.features) || m.features.length === 0 || !m.features.every((f) => typeof f === 'string'))
    throw bad(dir, 'features must be a non-empty list of names');
  if (expectFeatures && m.features.join(',') !== expectFeatures.join(','))
    throw bad(dir, `features do not match this runtime's (${expectFeatures.length} expected)`);
  for (const k of ['window', 'hop', 'rate_hz'] as const)
    if (!finite(m[k]) || (m[k] as number) <= 0) throw bad(dir, `${k} must be a positive number`);
  const n = m.features.length;
  const s = m.scaler;
  if (!s || !Array.isArray(s.mean) || !Array.isArray(s.std) || s.mean.length !== n || s.std.length !== n)
    throw bad(dir, `scaler.mean and scaler.std must have ${n} numbers each`);
  if (!s.mean.every(finite) || !s.std.every((v) => finite(v) && v > 0))
    throw bad(dir, 'scaler values must be finite (std > 0)');
  const d = m.decision;
  if (
    !d ||
    !finite(d.threshold) ||
    d.threshold <= 0 ||
    d.threshold >= 1 ||
    !Number.isInteger(d.smoothing) ||
    d.smoothing < 1 ||
    !Number.isInteger(d.sustain) ||
    d.sustain < 1 ||
    !finite(d.cooldown_s) ||
    d.cooldown_s < 0
  )
    throw bad(dir, 'decision needs threshold (0–1), smoothing ≥ 1, sustain ≥ 1, cooldown_s ≥ 0');
  if (typeof m.weights_sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.weights_sha256))
    throw bad(dir, 'weights_sha256 must be a sha256 hex digest');
  return m as ModelMeta;
}
