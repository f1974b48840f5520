import t from 'tap';
import { RADAR_FEATURES, RADAR_FEATURE_COUNT, radarFeaturesOf } from '../../models/runtime/radar-features.js';

type Frame = { presence: number; movement: number; moving_range: number; dwell_state: number };
const f = (presence: number, movement: number, moving_range: number, dwell_state = 0): Frame => ({
  presence,
  movement,
  moving_range,
  dwell_state,
});
const rep = (n: number, frame: Frame) => Array.from({ length: n }, () => ({ ...frame }));

/** Features are float32: equal to the expected value at float32 precision. */
function near(tt: { ok(v: boolean, message: string): unknown }, actual: number, expected: number, message = '') {
  tt.ok(
    Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)),
    `${message} ${actual} ≈ ${expected}`.trim(),
  );
}

/** The features of a window, by name. */
function named(frames: Frame[]): Record<(typeof RADAR_FEATURES)[number], number> {
  const v = radarFeaturesOf(frames);
  t.equal(v.length, RADAR_FEATURE_COUNT);
  return Object.fromEntries(RADAR_FEATURES.map((k, i) => [k, v[i]!])) as Record<
    (typeof RADAR_FEATURES)[number],
    number
  >;
}

t.test('an empty room: nothing there, nothing moving, no still run (nobody to be still)', async (t) => {
  const x = named(rep(30, f(0, 0, 0)));
  t.match(x, {
    presence_mean: 0,
    presence_tail: 0,
    range_max: 0,
    range_absdiff_mean: 0,
    still_run_end: 0,
    spike_then_still: 0,
    dwell_mean: 0,
    movement_changes: 0,
  });
});

t.test('a fall: 20 s walking, an impact, 9 s lying still', async (t) => {
  const w = [...rep(20, f(1, 2, 40)), f(1, 2, 90), ...rep(9, f(1, 1, 3))];
  const x = named(w);
  near(t, x.presence_mean, 1);
  near(t, x.range_max, 90);
  near(t, x.range_max_pos, 20 / 29, 'the peak near the end');
  near(t, x.range_rise_max, 50);
  near(t, x.range_drop_max, 87);
  near(t, x.range_absdiff_mean, (50 + 87) / 29);
  near(t, x.still_run_end, 9);
  near(t, x.pre_still_range_max, 90, 'the impact just before the still run');
  near(t, x.pre_still_active, 1, 'walking before it');
  near(t, x.spike_then_still, 87, '90 above the 3 it never exceeds 2–5 s later');
  near(t, x.active_head, 21 / 22, 'head = the 22 frames before the 8-frame tail');
  near(t, x.active_tail, 0);
  near(t, x.range_head, (20 * 40 + 90 + 3) / 22);
  near(t, x.range_tail, 3);
  near(t, x.range_tail_std, 0);
  near(t, x.peak_to_tail, 87);
  near(t, x.pre_peak_range, 40);
  near(t, x.peak_width, 1, 'one second of impact (the walking before is under half the peak)');
  near(t, x.movement_changes, 1);
  near(t, x.movement_head, (21 * 2 + 1) / 22);
  near(t, x.movement_tail, 1);
});

t.test('leaving: presence drops; the still run ends where nobody is there', async (t) => {
  const x = named([...rep(20, f(1, 2, 40)), ...rep(4, f(1, 1, 0)), ...rep(6, f(0, 0, 0))]);
  near(t, x.presence_drops, 1);
  near(t, x.presence_tail, 2 / 8);
  near(t, x.still_run_end, 0, 'nobody there is not someone still');
});

t.test('a single lost detection inside a still run does not break it; dwell rises counted', async (t) => {
  const still = f(1, 1, 2);
  const w = [...rep(10, f(1, 2, 50)), ...rep(10, still), f(0, 0, 0), ...rep(5, still), ...rep(4, f(1, 1, 2, 1))];
  const x = named(w);
  near(t, x.still_run_end, 20);
  near(t, x.dwell_rises, 1);
  near(t, x.dwell_tail, 4 / 8);
  near(t, x.dwell_mean, 4 / 30);
  near(t, x.presence_drops, 1);
  const lostAtEnd = named([...rep(10, f(1, 2, 50)), ...rep(19, still), f(0, 0, 0)]);
  near(t, lostAtEnd.still_run_end, 0, 'a lost detection in the last frame is not (yet) part of the run');
});

t.test('sitting down: a slowdown before a moderate burst; fidgeting breaks the still run', async (t) => {
  const w = [...rep(15, f(1, 2, 40)), ...rep(3, f(1, 1, 15)), f(1, 2, 30), f(1, 2, 55), f(1, 2, 30)];
  w.push(...rep(4, f(1, 1, 5)), f(1, 2, 25), ...rep(4, f(1, 1, 5)));
  const x = named(w);
  near(t, x.range_max, 55);
  near(t, x.pre_peak_range, (15 + 15 + 15 + 30) / 4, 'slow before the peak');
  near(t, x.peak_width, 3, 'the 30s on either side are over half of 55: 3 s');
  near(t, x.still_run_end, 4, 'the fidget ended it');
  near(t, x.spike_then_still, 50, '55 above the 5 that follows (the fidget is 6 s later)');
});

t.test('short windows do not break it (the grid fills only full windows, but the function is total)', async (t) => {
  t.equal(radarFeaturesOf([f(1, 1, 3)]).length, RADAR_FEATURE_COUNT);
  t.ok(radarFeaturesOf([]).every((v) => Number.isFinite(v)));
});
