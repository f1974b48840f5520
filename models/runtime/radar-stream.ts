import { AresError } from '../../core/errors.js';
import { FallDecision, type DecisionSettings } from './decision.js';
import type { LoadedModel } from './engine.js';
import { RADAR_CHANNELS, RADAR_FEATURE_COUNT, RADAR_RATE_HZ, frameChannels, radarFeatures } from './radar-features.js';
import type { RadarFrame } from './radar-frame.js';

/**
 * Missing seconds up to this many are forward-filled (the ESP32's one-second loop drifts and skips a
 * `ts` now and then; a lost POST is one missing second); a longer gap restarts the window, since a
 * window must not splice frames across a real outage.
 */
export const MAX_FILL_S = 3;

/** One frame as a decision step: when, the node's own `ts`, the sensor's flag, the model's input. */
export interface RadarStep {
  /** Seconds since the stream's first frame (the stream's own clock, continuous across reboots). */
  tS: number;
  frameTs: number;
  sensor: boolean;
  /** Features of the window ending at this frame; undefined until the window is full. */
  features: Float32Array | undefined;
}

export interface RadarGridCounters {
  frames: number;
  /** Missing seconds forward-filled. */
  filled: number;
  /** Gaps longer than MAX_FILL_S: the window restarted. */
  gaps: number;
  /** `ts` went back further than MAX_FILL_S: the node rebooted; the window restarted. */
  reboots: number;
  /** Frames for a second already on the grid (a retried POST, a late delivery): dropped. */
  late: number;
}

/**
 * Places one node's frames on the 1 Hz grid by their own `ts` (seconds since the node booted) and
 * keeps the last `window` of them. Shared by RadarStream and training, so the model is trained on
 * exactly the windows the hub builds. Memory: one window of frames.
 */
export class RadarGrid {
  readonly counters: RadarGridCounters = { frames: 0, filled: 0, gaps: 0, reboots: 0, late: 0 };
  readonly #buf: Float32Array;
  #len = 0;
  #lastSlot: number | undefined;
  #last: number[] = [];
  #t = 0;

  constructor(
    readonly window: number,
    readonly maxFill = MAX_FILL_S,
  ) {
    this.#buf = new Float32Array(window * RADAR_CHANNELS);
  }

  /** The frame's step, or undefined when the frame is dropped (late or a duplicate). */
  place(frame: RadarFrame): RadarStep | undefined {
    this.counters.frames++;
    const slot = Math.round(frame.ts);
    if (this.#lastSlot !== undefined) {
      const dt = slot - this.#lastSlot;
      if (dt === 0 || (dt < 0 && -dt <= this.maxFill)) {
        this.counters.late++;
        return undefined;
      }
      if (dt < 0) {
        // Uptime restarted: the reboot took at least the new uptime, the best bound we have.
        this.counters.reboots++;
        this.#len = 0;
        this.#t += Math.max(1, slot);
      } else if (dt - 1 > this.maxFill) {
        this.counters.gaps++;
        this.#len = 0;
        this.#t += dt;
      } else {
        for (let k = 1; k < dt; k++) this.#append(this.#last);
        this.counters.filled += dt - 1;
        this.#t += dt;
      }
    }
    this.#lastSlot = slot;
    this.#last = frameChannels(frame);
    this.#append(this.#last);
    let features: Float32Array | undefined;
    if (this.#len === this.window) {
      features = new Float32Array(RADAR_FEATURE_COUNT);
      radarFeatures(this.#buf, 0, this.window, features);
    }
    return { tS: this.#t, frameTs: frame.ts, sensor: frame.fall_state === 1, features };
  }

  #append(channels: readonly number[]): void {
    const C = RADAR_CHANNELS;
    if (this.#len === this.window) this.#buf.copyWithin(0, C);
    else this.#len++;
    this.#buf.set(channels, (this.#len - 1) * C);
  }
}

export interface RadarAlert {
  /** Seconds since the stream's first frame, at the deciding frame. */
  t_s: number;
  /** The smoothed model probability then; null when only the sensor decided. */
  prob: number | null;
  by: 'model' | 'sensor' | 'both';
  /** The deciding frame's own `ts` (seconds since the node booted). */
  frameTs: number;
}

/**
 * One radar node's fall detection, the radar twin of ImuStream: frames in (any order the network
 * delivers), the 1 Hz grid, a window ending at every frame, the model, and the decision with the
 * sensor's own fall flag. Every frame is one decision step, and the frame's flag and the model's
 * probability for the window ending at it reach the decision in the same step, in frame order: steps
 * wait in one queue until flush() runs their windows through the model as one batch. Memory is
 * bounded by the window and by `maxQueued` steps (older ones dropped first and counted, under a flood).
 */
export class RadarStream {
  readonly #grid: RadarGrid;
  readonly #queue: RadarStep[] = [];
  readonly #decision: FallDecision;
  #chain: Promise<unknown> = Promise.resolve();
  /** Steps dropped unprocessed because the queue was full. */
  dropped = 0;
  /** Decisions inside the cooldown of an earlier alert (duplicates of it). */
  suppressed = 0;

  constructor(
    private readonly model: LoadedModel,
    settings: DecisionSettings,
    private readonly maxQueued = 64,
  ) {
    const { rate_hz, hop, name } = model.meta;
    if (rate_hz !== RADAR_RATE_HZ || hop !== 1)
      throw new AresError('ARES_ERR_MODEL', `model ${name}: a radar model runs at 1 Hz with hop 1`);
    this.#grid = new RadarGrid(model.meta.window);
    this.#decision = new FallDecision(settings);
  }

  get counters(): RadarGridCounters & { dropped: number; suppressed: number; queued: number } {
    return { ...this.#grid.counters, dropped: this.dropped, suppressed: this.suppressed, queued: this.#queue.length };
  }

  push(frame: RadarFrame): void {
    const step = this.#grid.place(frame);
    if (!step) return;
    this.#queue.push(step);
    if (this.#queue.length > this.maxQueued) {
      this.#queue.shift();
      this.dropped++;
    }
  }

  /** Runs the queued steps through the model and the decision, in order; resolves to the alerts raised. */
  flush(): Promise<RadarAlert[]> {
    // Serialised: a second flush while the model runs must not step the decision ahead of the first.
    const run = this.#chain.then(() => this.#run());
    // The chain only orders runs: a failed run's error reaches this flush's caller through `run`.
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #run(): Promise<RadarAlert[]> {
    if (this.#queue.length === 0) return [];
    const batch = this.#queue.splice(0);
    const withWindow = batch.filter((s) => s.features !== undefined);
    const probs = new Map<RadarStep, number>();
    if (withWindow.length > 0) {
      const x = new Float32Array(withWindow.length * RADAR_FEATURE_COUNT);
      withWindow.forEach((s, i) => x.set(s.features!, i * RADAR_FEATURE_COUNT));
      const out = await this.model.predict(x, withWindow.length);
      withWindow.forEach((s, i) => probs.set(s, out[i]!));
    }
    const alerts: RadarAlert[] = [];
    for (const s of batch) {
      const d = this.#decision.step(s.tS, probs.get(s), s.sensor);
      if (d.kind === 'alert')
        alerts.push({ t_s: s.tS, prob: d.by === 'sensor' ? null : d.smoothed, by: d.by, frameTs: s.frameTs });
      else if (d.kind === 'suppressed') this.suppressed++;
    }
    return alerts;
  }
}

export type { DecisionSettings };
