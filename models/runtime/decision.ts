/**
 * The per-node fall decision (CareDian's four modes, declared there and never implemented; here they
 * are). Every model output (one per hop) goes through: smoothing over the last `smoothing`
 * probabilities, a threshold, `sustain` consecutive smoothed values at or over it, and — for radar —
 * the sensor's own fall flag combined by the mode. A decision inside `cooldown_s` of the last alert
 * is a suppressed duplicate of it: counted and linked, never dropped silently.
 */
export const DECISION_MODES = ['sensor_or_model', 'sensor_and_model', 'model_only', 'sensor_only'] as const;
export type DecisionMode = (typeof DECISION_MODES)[number];

export interface DecisionSettings {
  mode: DecisionMode;
  threshold: number;
  smoothing: number;
  sustain: number;
  cooldown_s: number;
}

export type DecisionOutcome =
  | { kind: 'none'; smoothed: number | null }
  | { kind: 'alert'; smoothed: number | null; by: 'model' | 'sensor' | 'both' }
  /** Would have alerted, but within the cooldown of `firstAtS`'s alert. */
  | { kind: 'suppressed'; smoothed: number | null; firstAtS: number };

export class FallDecision {
  readonly #recent: number[] = [];
  #over = 0;
  #lastAlertS = Number.NEGATIVE_INFINITY;

  constructor(private readonly s: DecisionSettings) {}

  /**
   * One step at `tS` seconds: the model's probability (undefined when this step has none, e.g. a
   * radar frame between model windows) and the sensor's fall flag (undefined for streams without one).
   */
  step(tS: number, prob: number | undefined, sensorFall: boolean | undefined): DecisionOutcome {
    let smoothed: number | null = null;
    let modelFires = false;
    if (prob !== undefined) {
      this.#recent.push(prob);
      if (this.#recent.length > this.s.smoothing) this.#recent.shift();
      smoothed = this.#recent.reduce((a, b) => a + b, 0) / this.#recent.length;
      this.#over = smoothed >= this.s.threshold ? this.#over + 1 : 0;
      modelFires = this.#over >= this.s.sustain;
    }
    const sensorFires = sensorFall === true;
    let fires: boolean;
    switch (this.s.mode) {
      case 'model_only':
        fires = modelFires;
        break;
      case 'sensor_only':
        fires = sensorFires;
        break;
      case 'sensor_or_model':
        fires = modelFires || sensorFires;
        break;
      case 'sensor_and_model':
        fires = modelFires && sensorFires;
        break;
    }
    if (!fires) return { kind: 'none', smoothed };
    if (tS - this.#lastAlertS < this.s.cooldown_s) return { kind: 'suppressed', smoothed, firstAtS: this.#lastAlertS };
    this.#lastAlertS = tS;
    // A fresh run is needed for the next alert: one long fall is one alert, not one per hop.
    this.#over = 0;
    return { kind: 'alert', smoothed, by: modelFires && sensorFires ? 'both' : modelFires ? 'model' : 'sensor' };
  }
}
