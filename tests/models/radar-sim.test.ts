import t from 'tap';
import { checkRadarFrame } from '../../models/runtime/radar-frame.js';
import { parseRadarJsonl } from '../../models/runtime/radar-replay.js';
import {
  ADL_SCENARIOS,
  FALL_SCENARIOS,
  FIT_SEEDS,
  RADAR_SCENARIOS,
  TUNING_SEEDS,
  VALIDATION_SEEDS,
  scenarioForSeed,
  simulateSequence,
  toJsonl,
} from '../../models/train/radar-sim.js';

t.test('deterministic per seed; different seeds differ', async (t) => {
  for (const seed of [1, 42, 1_000_000]) t.same(simulateSequence(seed), simulateSequence(seed), `seed ${seed}`);
  t.same(simulateSequence(7, 'walking'), simulateSequence(7, 'walking'), 'with a scenario too');
  t.not(JSON.stringify(simulateSequence(1).frames), JSON.stringify(simulateSequence(2).frames));
});

t.test('training and validation seeds are disjoint ranges', async (t) => {
  t.ok(FIT_SEEDS[1] < TUNING_SEEDS[0], 'fitting before tuning');
  t.ok(TUNING_SEEDS[1] < VALIDATION_SEEDS[0], 'validation after all training seeds');
});

t.test('scenarios drawn from seeds: about 40 % falls, every scenario present', async (t) => {
  const counts = new Map<string, number>();
  for (let seed = 1; seed <= 2000; seed++)
    counts.set(scenarioForSeed(seed), (counts.get(scenarioForSeed(seed)) ?? 0) + 1);
  const falls = FALL_SCENARIOS.reduce((s, sc) => s + (counts.get(sc) ?? 0), 0);
  t.ok(falls > 700 && falls < 900, `${falls} of 2000 are falls`);
  for (const sc of RADAR_SCENARIOS) t.ok((counts.get(sc) ?? 0) > 50, `${sc}: ${counts.get(sc)}`);
});

t.test('labels and frames are sane', async (t) => {
  const problems: string[] = [];
  for (let seed = 1; seed <= 300; seed++) {
    const s = simulateSequence(seed);
    const bad = (what: string) => problems.push(`seed ${seed} (${s.scenario}): ${what}`);
    if (s.fall !== (FALL_SCENARIOS as readonly string[]).includes(s.scenario)) bad('fall flag');
    if (s.fall && !(s.fallAtS! > 20 && s.fallEndS! >= s.fallAtS! && s.fallEndS! < s.durationS - 30)) bad('onset');
    if (!s.fall && (s.fallAtS !== undefined || s.fallEndS !== undefined)) bad('onset of no fall');
    if (s.frames.some((f) => typeof checkRadarFrame(f) === 'string')) bad('invalid frame');
    // Time runs forward, except a retried frame (same ts) or a reboot (uptime restarts small).
    for (let i = 1; i < s.frames.length; i++)
      if (s.frames[i]!.ts < s.frames[i - 1]!.ts && s.frames[i]!.ts > 20) bad(`ts back at frame ${i}`);
    // Lost frames: a few percent, plus at most one outage (≤ 30 s) or reboot (≤ 15 s).
    if (s.frames.length > s.durationS + 5 || s.frames.length < s.durationS * 0.9 - 45)
      bad(`${s.frames.length} frames in ${s.durationS} s`);
  }
  t.same(problems, [], 'fall flags, onsets, valid frames, forward time, frame counts');
});

t.test('a fall: walking, a burst, then someone there lying still; the sensor flags it late, or not', async (t) => {
  let flagged = 0;
  const latencies: number[] = [];
  let still = 0;
  const n = 120;
  for (let seed = 1; seed <= n; seed++) {
    const s = simulateSequence(seed, 'fall_still');
    const base = s.frames[0]!.ts;
    const after = s.frames.filter((f) => f.ts - base >= s.fallEndS! + 15 && f.ts - base < s.fallEndS! + 45);
    const mean = (k: 'presence' | 'movement' | 'moving_range') => after.reduce((a, f) => a + f[k], 0) / after.length;
    if (mean('presence') > 0.9 && mean('movement') < 1.2 && mean('moving_range') < 10) still++;
    const first = s.frames.find((f) => f.fall_state === 1);
    if (first) {
      flagged++;
      latencies.push(first.ts - base - s.fallAtS!);
    }
  }
  t.ok(still > n * 0.9, `${still}/${n} lie still after the fall`);
  t.ok(flagged > n * 0.6 && flagged < n * 0.95, `the sensor flags ${flagged}/${n}`);
  t.ok(
    latencies.every((l) => l >= 5),
    'never at once',
  );
  latencies.sort((a, b) => a - b);
  t.ok(latencies[latencies.length >> 1]! >= 15, `median flag latency ${latencies[latencies.length >> 1]} s`);
});

t.test(
  'look-alikes: leaving the room ends with nobody there; lying on a sofa sometimes fools the sensor',
  async (t) => {
    let gone = 0;
    let sofaFlags = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const leave = simulateSequence(seed, 'leaving_room');
      const p = leave.frames.map((f) => f.presence).join('');
      if (p.includes('0'.repeat(20))) gone++;
      if (simulateSequence(seed, 'lying_on_sofa').frames.some((f) => f.fall_state === 1)) sofaFlags++;
    }
    t.equal(gone, 60, 'presence goes to 0 and stays there a while');
    t.ok(sofaFlags > 0 && sofaFlags < 20, `${sofaFlags}/60 deliberate lie-downs flagged by the sensor`);
    for (const sc of ADL_SCENARIOS) t.notOk(simulateSequence(3, sc).fall, `${sc} is not a fall`);
  },
);

t.test('JSON lines: what `ares fall replay` reads, round-tripped', async (t) => {
  const s = simulateSequence(1_000_001);
  t.same(parseRadarJsonl(toJsonl(s.frames)), s.frames);
});
