import { randomUUID } from 'node:crypto';
import { FallDecision, type DecisionSettings } from '../../models/runtime/decision.js';
import type { LoadedModel } from '../../models/runtime/engine.js';
import type { RadarFrame } from '../../models/runtime/radar-frame.js';
import { RadarStream } from '../../models/runtime/radar-stream.js';

/** Frames kept before an alert and recorded after it (the radar's flight recorder, at ~1 Hz). */
export const RADAR_FRAMES_BEFORE = 30;
export const RADAR_FRAMES_AFTER = 10;

export interface RadarNodeAlert {
  id: string;
  prob: number | null;
  by: 'model' | 'sensor' | 'both';
  /** [presence, movement, moving_range, fall_state, dwell_state, ts] per frame, oldest first. */
  before: number[][];
}

const compact = (f: RadarFrame): number[] => [
  f.presence,
  f.movement,
  f.moving_range,
  f.fall_state,
  f.dwell_state,
  f.ts,
];

/**
 * One radar node's fall detection on the hub: the node's RadarStream (1 Hz grid, window, model and
 * the decision with the sensor's own flag, the same code `ares fall replay` runs), and the flight
 * recorder. Without a model (it failed to load) the node still decides on the sensor's flag alone —
 * better than nothing, and the outage is reported as detection down.
 */
export class RadarNode {
  readonly #stream: RadarStream | undefined;
  readonly #fallback: FallDecision | undefined;
  #fallbackSuppressed = 0;
  #frames = 0;
  #lastAlertId: string | undefined;
  readonly #ring: number[][] = [];
  readonly #after: { id: string; frames: number[][] }[] = [];
  lastFrameAt: number | null = null;

  constructor(
    model: LoadedModel | undefined,
    settings: DecisionSettings,
    private readonly onRecording: (alertId: string, after: number[][]) => void,
    private readonly onDuplicates: (alertId: string, count: number) => void,
  ) {
    if (model) this.#stream = new RadarStream(model, settings);
    else this.#fallback = new FallDecision({ ...settings, mode: 'sensor_only' });
  }

  get counters() {
    const c = this.#stream?.counters;
    return {
      frames: this.#frames,
      gaps: c ? c.gaps + c.reboots : 0,
      late: c?.late ?? 0,
      dropped: c?.dropped ?? 0,
      suppressed: c?.suppressed ?? this.#fallbackSuppressed,
    };
  }

  /** One frame; resolves to the alerts it raised. */
  async accept(frame: RadarFrame, nowMs: number): Promise<RadarNodeAlert[]> {
    this.lastFrameAt = nowMs;
    this.#frames++;
    this.#record(compact(frame));
    const before = this.counters.suppressed;
    let raised: { prob: number | null; by: RadarNodeAlert['by'] }[];
    if (this.#stream) {
      this.#stream.push(frame);
      raised = await this.#stream.flush();
    } else {
      const d = this.#fallback!.step(nowMs / 1000, undefined, frame.fall_state === 1);
      if (d.kind === 'suppressed') this.#fallbackSuppressed++;
      raised = d.kind === 'alert' ? [{ prob: null, by: 'sensor' }] : [];
    }
    const alerts = raised.map((a) => {
      const id = randomUUID();
      this.#lastAlertId = id;
      this.#after.push({ id, frames: [] });
      return { id, prob: a.prob, by: a.by, before: this.#ring.slice() };
    });
    const duplicates = this.counters.suppressed - before;
    if (duplicates > 0 && this.#lastAlertId) this.onDuplicates(this.#lastAlertId, duplicates);
    return alerts;
  }

  #record(f: number[]): void {
    this.#ring.push(f);
    if (this.#ring.length > RADAR_FRAMES_BEFORE) this.#ring.shift();
    for (const pending of this.#after) pending.frames.push(f);
    while (this.#after.length > 0 && this.#after[0]!.frames.length >= RADAR_FRAMES_AFTER) {
      const done = this.#after.shift()!;
      this.onRecording(done.id, done.frames);
    }
  }
}
