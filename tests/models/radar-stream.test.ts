import t from 'tap';
import type { DecisionMode, DecisionSettings } from '../../models/runtime/decision.js';
import type { LoadedModel } from '../../models/runtime/engine.js';
import { RADAR_FEATURES, RADAR_FEATURE_COUNT } from '../../models/runtime/radar-features.js';
import { checkRadarFrame, type RadarFrame } from '../../models/runtime/radar-frame.js';
import { replayFrames } from '../../models/runtime/radar-replay.js';
import { RadarStream, type RadarAlert } from '../../models/runtime/radar-stream.js';

/**
 * A stand-in for a loaded model (our own interface): the k-th window it is asked about, counted over
 * the stream's life, gets probability `probOf(k)`. The real model is exercised by the other files.
 */
function fakeModel(probOf: (k: number) => number, over: { rate_hz?: number } = {}) {
  let k = 0;
  const batches: number[] = [];
  const model: LoadedModel = {
    backend: 'cpu',
    meta: {
      name: 'radar-fake',
      version: '0',
      features: [...RADAR_FEATURES],
      window: 30,
      hop: 1,
      rate_hz: over.rate_hz ?? 1,
      scaler: { mean: RADAR_FEATURES.map(() => 0), std: RADAR_FEATURES.map(() => 1) },
      decision: { threshold: 0.5, smoothing: 1, sustain: 1, cooldown_s: 300 },
      weights_sha256: '0'.repeat(64),
    },
    async predict(features, rows) {
      if (features.length !== rows * RADAR_FEATURE_COUNT) throw new Error('bad batch');
      batches.push(rows);
      // Let other callers run in between, as a real backend's await does.
      await new Promise((r) => setImmediate(r));
      return Float32Array.from({ length: rows }, () => probOf(k++));
    },
    dispose() {},
  };
  return { model, batches, windows: () => k };
}

const base: DecisionSettings = { mode: 'model_only', threshold: 0.5, smoothing: 1, sustain: 1, cooldown_s: 300 };
const frame = (ts: number, fall = 0): RadarFrame => ({
  device_id: 'r1',
  presence: 1,
  movement: 1,
  moving_range: 5,
  fall_state: fall,
  dwell_state: 0,
  ts,
});
/** Frames at ts = from, from+1, … (n of them), the sensor flag up at the given ts. */
const run = (from: number, n: number, flags: number[] = []) =>
  Array.from({ length: n }, (_, i) => frame(from + i, flags.includes(from + i) ? 1 : 0));

async function feed(stream: RadarStream, frames: RadarFrame[], flushEvery = 1): Promise<RadarAlert[]> {
  const out: RadarAlert[] = [];
  for (let i = 0; i < frames.length; i++) {
    stream.push(frames[i]!);
    if ((i + 1) % flushEvery === 0) out.push(...(await stream.flush()));
  }
  out.push(...(await stream.flush()));
  return out;
}

t.test('the first window is full at the 30th second; each frame after is one more window', async (t) => {
  const f = fakeModel(() => 0);
  const s = new RadarStream(f.model, base);
  await feed(s, run(1000, 40));
  t.equal(f.windows(), 11, 'frames 30…40');
  t.match(s.counters, { frames: 40, filled: 0, gaps: 0, reboots: 0, late: 0, dropped: 0 });
});

t.test('short gaps are forward-filled and counted; the grid keeps real time', async (t) => {
  const f = fakeModel(() => 1);
  const s = new RadarStream(f.model, base);
  // ts 1010–1012 are missing (3 s: filled), the window is full at ts 1029 with 27 real frames.
  const frames = run(1000, 30).filter((fr) => fr.ts < 1010 || fr.ts > 1012);
  const alerts = await feed(s, frames);
  t.equal(s.counters.filled, 3);
  t.same(alerts, [{ t_s: 29, prob: 1, by: 'model', frameTs: 1029 }], 'the first full window decides');
});

t.test('a long gap restarts the window (counted); t_s keeps real time across it', async (t) => {
  const f = fakeModel((k) => (k === 1 ? 1 : 0));
  const s = new RadarStream(f.model, base);
  const alerts = await feed(s, [...run(1000, 30), ...run(1034, 31)]);
  t.equal(s.counters.gaps, 1);
  t.equal(s.counters.filled, 0);
  t.equal(f.windows(), 3, 'one window before the gap, then windows only once 30 new frames are in');
  t.same(alerts, [{ t_s: 63, prob: 1, by: 'model', frameTs: 1063 }]);
});

t.test('ts going back is a reboot: window restarted, counted; late frames and duplicates dropped', async (t) => {
  const f = fakeModel(() => 0);
  const s = new RadarStream(f.model, { ...base, mode: 'sensor_only' });
  const alerts = await feed(s, [...run(5000, 10), frame(5008), frame(5009), frame(7, 1)]);
  t.match(s.counters, { reboots: 1, late: 2, frames: 13 });
  t.same(alerts, [{ t_s: 9 + 7, prob: null, by: 'sensor', frameTs: 7 }], 'the uptime bounds the time it took');
  const g = new RadarStream(fakeModel(() => 0).model, base);
  for (const ts of [100, 101, 103, 102, 104]) g.push(frame(ts));
  t.match(g.counters, { filled: 1, late: 1 }, 'a frame arriving after its successor is dropped; its second was filled');
});

t.test('a flooding node: one window of frames and a bounded queue, the oldest steps dropped and counted', async (t) => {
  const f = fakeModel(() => 0);
  const s = new RadarStream(f.model, base, 8);
  for (let i = 0; i < 5000; i++) s.push(frame(i));
  t.match(s.counters, { frames: 5000, dropped: 4992, queued: 8 });
  await s.flush();
  t.equal(f.windows(), 8, 'only the newest 8 steps reach the model');
  t.equal(s.counters.queued, 0);
});

t.test(
  'every decision mode through the stream; the flag and the probability of a frame meet in one step',
  async (t) => {
    // The model fires on the windows ending at ts 135–137 (windows 6–8); the sensor flags ts 110 and 136.
    const frames = run(100, 60, [110, 136]);
    const probOf = (k: number) => (k >= 6 && k <= 8 ? 0.9 : 0.1);
    const expect: Record<DecisionMode, Pick<RadarAlert, 'by' | 'frameTs' | 'prob'>[]> = {
      sensor_only: [{ by: 'sensor', frameTs: 110, prob: null }],
      model_only: [{ by: 'model', frameTs: 135, prob: 0.9 }],
      sensor_or_model: [{ by: 'sensor', frameTs: 110, prob: null }],
      sensor_and_model: [{ by: 'both', frameTs: 136, prob: 0.9 }],
    };
    for (const mode of Object.keys(expect) as DecisionMode[])
      for (const flushEvery of [1, 7, 1000]) {
        const s = new RadarStream(fakeModel(probOf).model, { ...base, mode });
        const alerts = await feed(s, frames, flushEvery);
        t.match(
          alerts.map((a) => ({
            by: a.by,
            frameTs: a.frameTs,
            prob: a.prob === null ? null : Math.round(a.prob * 10) / 10,
          })),
          expect[mode],
          `${mode}, flushed every ${flushEvery} frames`,
        );
        t.equal(alerts.length, expect[mode].length);
      }
  },
);

t.test('suppressed duplicates inside the cooldown are counted; a sensor-only alert has no probability', async (t) => {
  const s = new RadarStream(fakeModel(() => 0.95).model, { ...base, mode: 'sensor_or_model', cooldown_s: 20 });
  const alerts = await feed(s, run(0, 70, [3]));
  t.same(
    alerts.map((a) => [a.t_s, a.by, a.prob === null ? null : Math.round(a.prob * 100) / 100]),
    [
      [3, 'sensor', null],
      [29, 'model', 0.95],
      [49, 'model', 0.95],
      [69, 'model', 0.95],
    ],
  );
  // The flag once, then the model on every frame from the 30th: 42 would-be alerts, 4 alerts.
  t.equal(s.suppressed, 1 + 41 - 4, 'the rest within 20 s of an alert are duplicates');
});

t.test('concurrent flushes step the decision in frame order', async (t) => {
  const f = fakeModel((k) => (k === 0 ? 0.9 : 0.1));
  const s = new RadarStream(f.model, { ...base, mode: 'sensor_or_model', cooldown_s: 0 });
  for (const fr of run(0, 30)) s.push(fr);
  const first = s.flush();
  s.push(frame(30, 1));
  const second = s.flush();
  const [a, b] = await Promise.all([first, second]);
  t.same(
    [...a, ...b].map((x) => x.frameTs),
    [29, 30],
  );
});

t.test('replayFrames: a recording through a fresh stream, flushed every few frames', async (t) => {
  const alerts = await replayFrames(fakeModel(() => 0).model, { ...base, mode: 'sensor_only' }, run(50, 20, [60]));
  t.same(alerts, [{ t_s: 10, prob: null, by: 'sensor', frameTs: 60 }]);
});

t.test('a radar model must run at 1 Hz', async (t) => {
  t.throws(() => new RadarStream(fakeModel(() => 0, { rate_hz: 50 }).model, base), { code: 'ARES_ERR_MODEL' });
});

t.test('radar frames are checked as the hub checks a POST: the frame, or what is wrong with it', async (t) => {
  const ok = frame(12);
  t.equal(checkRadarFrame(ok), ok);
  t.same(checkRadarFrame({ ...ok, extra: true }), { ...ok, extra: true }, 'unknown fields are ignored');
  const bad: [unknown, RegExp][] = [
    [{ ...ok, presence: 2 }, /^presence/],
    [{ ...ok, movement: 3 }, /^movement/],
    [{ ...ok, moving_range: 1000.5 }, /^moving_range/],
    [{ ...ok, moving_range: '5' }, /^moving_range/],
    [{ ...ok, fall_state: true }, /^fall_state/],
    [{ ...ok, dwell_state: -1 }, /^dwell_state/],
    [{ ...ok, ts: -1 }, /^ts/],
    [{ ...ok, ts: 2e10 }, /^ts/],
    [{ ...ok, device_id: 'a b' }, /^device_id/],
    [[], /not a JSON object/],
    [null, /not a JSON object/],
  ];
  for (const [v, why] of bad) t.match(checkRadarFrame(v), why, JSON.stringify(v));
});
