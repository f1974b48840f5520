import { FallDecision, type DecisionSettings } from './decision.js';
import type { LoadedModel } from './engine.js';
import { IMU_FEATURE_COUNT, imuFeatures } from './imu-features.js';
import { IMU_CHANNELS } from './sisfall.js';

/**
 * Linear resampling of interleaved IMU samples from a node's rate to the model's, across batches
 * (the last input sample is kept to interpolate into the next batch). Same rate: a copy.
 */
export class Resampler {
  #prev: Float32Array | undefined;
  /** Position of the next output sample, in input samples since #prev (0 = at #prev). */
  #pos = 0;

  constructor(
    private readonly fromHz: number,
    private readonly toHz: number,
  ) {}

  push(samples: Float32Array): Float32Array {
    const C = IMU_CHANNELS;
    if (this.fromHz === this.toHz) return samples;
    const n = samples.length / C;
    if (n === 0) return new Float32Array(0);
    // The input as [prev, ...samples]; output every step input samples.
    const step = this.fromHz / this.toHz;
    const offset = this.#prev ? 1 : 0;
    const at = (i: number, c: number) => (i < offset ? this.#prev![c]! : samples[(i - offset) * C + c]!);
    const total = n + offset;
    const out: number[] = [];
    let pos = this.#prev ? this.#pos : 0;
    while (pos <= total - 1) {
      const i = Math.floor(pos);
      const f = pos - i;
      for (let c = 0; c < C; c++) {
        const a = at(i, c);
        out.push(f === 0 || i + 1 >= total ? a : a + (at(i + 1, c) - a) * f);
      }
      pos += step;
    }
    this.#prev = samples.slice((n - 1) * C, n * C);
    this.#pos = pos - (total - 1);
    return Float32Array.from(out);
  }
}

export interface ImuAlert {
  /** Seconds from the stream's first sample to the end of the deciding window. */
  t_s: number;
  prob: number | null;
  /** The sample index (model rate) where the deciding window ends. */
  endSample: number;
}

/**
 * One node's IMU fall detection: samples in (at the model's rate), a window every hop, features,
 * the model, the decision. Windows wait until flush() runs them through the model as one batch —
 * the live pipeline flushes after each MQTT batch, replay after a whole file: the same steps either
 * way. Memory is bounded by the window (samples older than it are dropped) and by `maxQueued`
 * windows awaiting the model (older ones are dropped first and counted, under a flood).
 */
export class ImuStream {
  readonly #win: number;
  readonly #hop: number;
  readonly #buf: Float32Array;
  #len = 0;
  #total = 0;
  #sinceWindow = 0;
  readonly #queue: { features: Float32Array; endSample: number }[] = [];
  readonly #decision: FallDecision;
  droppedWindows = 0;
  suppressed = 0;

  constructor(
    private readonly model: LoadedModel,
    settings: DecisionSettings,
    private readonly maxQueued = 64,
  ) {
    this.#win = model.meta.window;
    this.#hop = model.meta.hop;
    this.#buf = new Float32Array((this.#win + this.#hop) * IMU_CHANNELS);
    this.#decision = new FallDecision(settings);
  }

  get rateHz(): number {
    return this.model.meta.rate_hz;
  }

  /** Appends samples at the model's rate; queues a window whenever a hop completes. */
  push(samples: Float32Array): void {
    const C = IMU_CHANNELS;
    const cap = this.#buf.length / C;
    for (let i = 0; i < samples.length / C; i++) {
      if (this.#len === cap) {
        this.#buf.copyWithin(0, this.#hop * C);
        this.#len -= this.#hop;
      }
      this.#buf.set(samples.subarray(i * C, i * C + C), this.#len * C);
      this.#len++;
      this.#total++;
      this.#sinceWindow++;
      if (this.#total >= this.#win && (this.#total === this.#win || this.#sinceWindow >= this.#hop)) {
        this.#sinceWindow = 0;
        const features = new Float32Array(IMU_FEATURE_COUNT);
        imuFeatures(this.#buf, (this.#len - this.#win) * C, this.#win, features);
        this.#queue.push({ features, endSample: this.#total });
        if (this.#queue.length > this.maxQueued) {
          this.#queue.shift();
          this.droppedWindows++;
        }
      }
    }
  }

  /** Runs the queued windows through the model and the decision; resolves to the alerts raised. */
  async flush(): Promise<ImuAlert[]> {
    if (this.#queue.length === 0) return [];
    const batch = this.#queue.splice(0);
    const x = new Float32Array(batch.length * IMU_FEATURE_COUNT);
    batch.forEach((w, i) => x.set(w.features, i * IMU_FEATURE_COUNT));
    const probs = await this.model.predict(x, batch.length);
    const alerts: ImuAlert[] = [];
    batch.forEach((w, i) => {
      const tS = w.endSample / this.rateHz;
      const d = this.#decision.step(tS, probs[i]!, undefined);
      if (d.kind === 'alert') alerts.push({ t_s: tS, prob: d.smoothed, endSample: w.endSample });
      else if (d.kind === 'suppressed') this.suppressed++;
    });
    return alerts;
  }
}

export type { DecisionSettings };
