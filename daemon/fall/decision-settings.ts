import { DECISION_MODES, type DecisionSettings } from '../../models/runtime/decision.js';
import type { ModelMeta } from '../../models/runtime/meta.js';
import type { ComponentSpec } from '../../sync/components.js';

/**
 * A node's decision: the model's defaults, overridden by its component's config (`threshold`,
 * `smoothing`, `sustain`, `cooldown_s`, `mode`). A stream with no fall flag of its own (an IMU) can
 * only run `model_only`: a sensor mode for it is a configuration error, reported, never guessed
 * around. A radar has the C1001's own `fall_state`, so all four modes apply.
 */
export function decisionSettings(
  component: ComponentSpec,
  defaults: ModelMeta['decision'],
  hasSensorFlag: boolean,
): DecisionSettings | string {
  const cfg = component.config ?? {};
  const mode = cfg['mode'] ?? (hasSensorFlag ? (defaults.mode ?? 'sensor_or_model') : 'model_only');
  if (!(DECISION_MODES as readonly unknown[]).includes(mode))
    return `config.mode: expected one of ${DECISION_MODES.join(', ')}`;
  if (!hasSensorFlag && mode !== 'model_only')
    return `config.mode: ${String(mode)} needs a sensor fall flag, which an IMU does not have; use model_only`;
  const num = (k: string, def: number, ok: (v: number) => boolean, what: string): number | string => {
    const v = cfg[k] ?? def;
    return typeof v === 'number' && ok(v) ? v : `config.${k}: expected ${what}`;
  };
  const threshold = num('threshold', defaults.threshold, (v) => v > 0 && v < 1, 'a number between 0 and 1');
  const int = (v: number) => Number.isInteger(v) && v >= 1 && v <= 20;
  const smoothing = num('smoothing', defaults.smoothing, int, 'an integer 1–20');
  const sustain = num('sustain', defaults.sustain, int, 'an integer 1–20');
  const cooldown = num('cooldown_s', defaults.cooldown_s, (v) => v >= 0 && v <= 3600, 'seconds, 0–3600');
  for (const v of [threshold, smoothing, sustain, cooldown]) if (typeof v === 'string') return v;
  return {
    mode: mode as DecisionSettings['mode'],
    threshold: threshold as number,
    smoothing: smoothing as number,
    sustain: sustain as number,
    cooldown_s: cooldown as number,
  };
}
