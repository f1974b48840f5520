import { randomUUID } from 'node:crypto';
import type { DecisionSettings } from '../../models/runtime/decision.js';
import type { LoadedModel } from '../../models/runtime/engine.js';
import { ImuStream, Resampler, type ImuAlert } from '../../models/runtime/imu-stream.js';
import { IMU_CHANNELS } from '../../models/runtime/sisfall.js';
import type { ImuBatch } from './imu-payload.js';

/** Seconds of samples kept before an alert and recorded after it (the flight recorder). */
export const RECORD_BEFORE_S = 10;
export const RECORD_AFTER_S = 5;

export interface NodeAlert {
  id: string;
  prob: number | null;
  /** The samples before and including the deciding window, at the model's rate, rounded. */
  before: number[][];
}

export interface NodeCounters {
  batches: number;
  gaps: number;
  outOfOrder: number;
  droppedWindows: number;
  suppressed: number;
  lastBatchAt: number | null;
}

/**
 * One LAN node's IMU fall detection: batches in seq order (a gap or a rate change restarts the
 * windows — a window must not splice samples across missing ones; a late batch is dropped), the
 * node's stream (model + decision), and the flight recorder: the last RECORD_BEFORE_S seconds, and the
 * RECORD_AFTER_S seconds after each alert, handed to `onRecording`.
 */
export class ImuNode {
  readonly counters: NodeCounters = {
    batches: 0,
    gaps: 0,
    outOfOrder: 0,
    droppedWindows: 0,
    suppressed: 0,
    lastBatchAt: null,
  };
  #stream: ImuStream;
  #resampler: Resampler | undefined;
  #rateHz = 0;
  #lastSeq: number | undefined;
  #lastAlertId: string | undefined;
  readonly #ring: Float32Array;
  #ringLen = 0;
  readonly #after: { id: string; samples: number[][] }[] = [];

  constructor(
    private readonly model: LoadedModel,
    private readonly settings: DecisionSettings,
    private readonly onRecording: (alertId: string, after: number[][]) => void,
    /** Decisions suppressed in the cooldown of `alertId`: duplicates of it, linked, never dropped silently. */
    private readonly onDuplicates: (alertId: string, count: number) => void = () => undefined,
  ) {
    this.#stream = new ImuStream(model, settings);
    this.#ring = new Float32Array(Math.round(RECORD_BEFORE_S * model.meta.rate_hz) * IMU_CHANNELS);
  }

  /** One batch through the stream; resolves to the alerts it raised (already recorded). */
  async accept(batch: ImuBatch, nowMs: number): Promise<NodeAlert[]> {
    const c = this.counters;
    c.batches++;
    c.lastBatchAt = nowMs;
    const last = this.#lastSeq;
    if (last !== undefined && batch.seq <= last && batch.seq !== 0) {
      c.outOfOrder++;
      return [];
    }
    const restart =
      batch.rateHz !== this.#rateHz || (last !== undefined && batch.seq !== last + 1) || this.#resampler === undefined;
    if (restart) {
      if (last !== undefined && batch.seq !== last + 1) c.gaps++;
      c.droppedWindows += this.#stream.droppedWindows;
      c.suppressed += this.#stream.suppressed;
      // Fresh windows; the decision's cooldown goes with the stream (a cooldown never drops an alert).
      this.#stream = new ImuStream(this.model, this.settings);
      this.#resampler = new Resampler(batch.rateHz, this.model.meta.rate_hz);
      this.#rateHz = batch.rateHz;
    }
    this.#lastSeq = batch.seq;
    const samples = this.#resampler!.push(batch.samples);
    this.#record(samples);
    this.#stream.push(samples);
    const suppressedBefore = this.#stream.suppressed;
    const raised = (await this.#stream.flush()).map((a) => this.#alert(a));
    const duplicates = this.#stream.suppressed - suppressedBefore;
    if (duplicates > 0 && this.#lastAlertId) this.onDuplicates(this.#lastAlertId, duplicates);
    return raised;
  }

  get suppressed(): number {
    return this.counters.suppressed + this.#stream.suppressed;
  }

  get droppedWindows(): number {
    return this.counters.droppedWindows + this.#stream.droppedWindows;
  }

  #alert(a: ImuAlert): NodeAlert {
    const id = randomUUID();
    this.#lastAlertId = id;
    this.#after.push({ id, samples: [] });
    return { id, prob: a.prob, before: this.#ringSamples() };
  }

  #record(samples: Float32Array): void {
    const C = IMU_CHANNELS;
    const cap = this.#ring.length / C;
    const n = samples.length / C;
    for (let i = 0; i < n; i++) {
      const s = samples.subarray(i * C, i * C + C);
      if (this.#ringLen === cap) this.#ring.copyWithin(0, C);
      else this.#ringLen++;
      this.#ring.set(s, (this.#ringLen - 1) * C);
      for (const pending of this.#after) pending.samples.push(round(s));
    }
    const full = Math.round(RECORD_AFTER_S * this.model.meta.rate_hz);
    while (this.#after.length > 0 && this.#after[0]!.samples.length >= full) {
      const done = this.#after.shift()!;
      this.onRecording(done.id, done.samples.slice(0, full));
    }
  }

  #ringSamples(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.#ringLen; i++)
      out.push(round(this.#ring.subarray(i * IMU_CHANNELS, (i + 1) * IMU_CHANNELS)));
    return out;
  }
}

/** g to 3 decimals, °/s to 1: what the recording needs, a third of the bytes of full floats. */
function round(s: Float32Array): number[] {
  return [
    Math.round(s[0]! * 1000) / 1000,
    Math.round(s[1]! * 1000) / 1000,
    Math.round(s[2]! * 1000) / 1000,
    Math.round(s[3]! * 10) / 10,
    Math.round(s[4]! * 10) / 10,
    Math.round(s[5]! * 10) / 10,
  ];
}
