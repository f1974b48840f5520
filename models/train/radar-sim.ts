// A seeded simulator of DFRobot C1001 radar frame sequences as the CareDian ESP32 sends them (1 Hz,
// `ts` = seconds since the ESP32 booted), for elderly-home scenarios with and without a fall. No public
// recordings of this sensor exist, so radar-fall is trained and evaluated on these; every number below
// is an assumption about the sensor and the people, not a measurement (models/radar-fall/README.md).
// models/train/radar-jsonl.ts writes one sequence as JSON lines (what `ares fall replay` reads).
import type { RadarFrame } from '../runtime/radar-frame.js';
import { prng } from './fit.js';

export { prng } from './fit.js';

export const ADL_SCENARIOS = [
  'empty_room',
  'sitting_tv',
  'sleeping',
  'walking',
  'leaving_room',
  'sit_down_quickly',
  'bending',
  'lying_on_sofa',
] as const;
export const FALL_SCENARIOS = ['fall_still', 'fall_slight_movement', 'fall_get_up', 'fall_slide'] as const;
export const RADAR_SCENARIOS = [...ADL_SCENARIOS, ...FALL_SCENARIOS] as const;
export type RadarScenario = (typeof RADAR_SCENARIOS)[number];
/**
 * Seed ranges, fixed before training: the model is fitted on FIT_SEEDS, its decision defaults are
 * chosen on TUNING_SEEDS (together "training seeds 1–2500"), and it is validated on VALIDATION_SEEDS,
 * a disjoint range never used in training. Inclusive.
 */
export const FIT_SEEDS = [1, 1500] as const;
export const TUNING_SEEDS = [1501, 2500] as const;
export const VALIDATION_SEEDS = [1_000_000, 1_000_799] as const;

/** The sequences of an inclusive seed range. */
export function simulateRange([first, last]: readonly [number, number]): SimSequence[] {
  const out: SimSequence[] = [];
  for (let seed = first; seed <= last; seed++) out.push(simulateSequence(seed));
  return out;
}

/** Share of fall sequences when the scenario is drawn from the seed. */
export const FALL_SHARE = 0.4;

export interface SimSequence {
  seed: number;
  scenario: RadarScenario;
  frames: RadarFrame[];
  fall: boolean;
  /** Seconds from the first frame to the fall's onset (the start of the falling motion). */
  fallAtS?: number;
  /** Seconds from the first frame to the end of the falling motion (on the floor). */
  fallEndS?: number;
  /**
   * A slide to the floor with no impact at its end: in presence, movement, moving_range and dwell it
   * looks like sitting down, so training does not ask the model to call it (the sensor's flag may).
   */
  soft?: boolean;
  /** Seconds from the first frame to just after the last. */
  durationS: number;
}

/** The scenario a seed stands for when none is asked: FALL_SHARE falls, the rest ADLs, evenly. */
export function scenarioForSeed(seed: number): RadarScenario {
  const u = prng(seed ^ 0x5bd1e995)();
  if (u < FALL_SHARE) return FALL_SCENARIOS[Math.floor((u / FALL_SHARE) * FALL_SCENARIOS.length)]!;
  return ADL_SCENARIOS[Math.floor(((u - FALL_SHARE) / (1 - FALL_SHARE)) * ADL_SCENARIOS.length)]!;
}

/** One second of what really happens: someone there or not, and how much they move (0–100). */
interface Second {
  here: boolean;
  x: number;
}

/** A stretch where the sensor's own fall flag may fire: with probability p, delay s after `at`. */
interface FlagChance {
  at: number;
  /** The flag cannot outlast this (the person got up, or the sequence ended). */
  until: number;
  p: number;
  delay: [number, number];
  hold: [number, number];
}

class Script {
  readonly s: Second[] = [];
  readonly flags: FlagChance[] = [];
  fallAt: number | undefined;
  fallEnd: number | undefined;
  soft = false;

  constructor(readonly rnd: () => number) {}

  uni(a: number, b: number): number {
    return a + (b - a) * this.rnd();
  }
  int(a: number, b: number): number {
    return Math.floor(this.uni(a, b + 1));
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.rnd())) * Math.cos(2 * Math.PI * this.rnd());
  }
  get now(): number {
    return this.s.length;
  }
  add(x: number, here = true): void {
    this.s.push({ here, x: Math.max(0, Math.min(100, x)) });
  }
  /** A burst of movement over n seconds: up from `from` to `peak` (always reached), then down towards `to`. */
  burst(n: number, from: number, peak: number, to = from): void {
    const top = Math.floor((n - 1) / 2);
    for (let i = 0; i < n; i++) {
      const x = i < top ? from + ((peak - from) * (i + 1)) / (top + 1) : peak + ((to - peak) * (i - top)) / (n - top);
      this.add(x + this.gauss() * 4);
    }
  }
  empty(n: number): void {
    for (let i = 0; i < n; i++) this.add(0, false);
  }
  /** Walking about (AR(1) around a pace), with short pauses standing. */
  walk(n: number): void {
    // Elderly walking: slower and steadier than the impact of a fall.
    const pace = this.uni(30, 55);
    let x = pace;
    for (let i = 0; i < n; i++) {
      if (this.chance(0.04) && n - i > 4) {
        const pause = this.int(2, 7);
        for (let k = 0; k < pause && i < n; k++, i++) this.add(this.uni(6, 18));
      }
      x = pace + 0.6 * (x - pace) + this.gauss() * 6;
      this.add(x);
    }
  }
  /** Sitting (TV, reading): a low level with fidgets every so often. */
  sit(n: number, level = this.uni(2, 10), fidgetEvery = this.uni(15, 40)): void {
    for (let i = 0; i < n; i++) {
      if (this.chance(1 / fidgetEvery)) {
        const k = this.int(1, 3);
        for (let j = 0; j < k && i < n; j++, i++) this.add(this.uni(15, 40));
      }
      this.add(level + Math.abs(this.gauss()) * 2);
    }
  }
  /** Lying: breathing-level movement, with a shift (`moveLo`–`moveHi`) about every `every` seconds. */
  lie(n: number, level: number, every: number, moveLo: number, moveHi: number, moveLen = 2): void {
    for (let i = 0; i < n; i++) {
      if (this.chance(1 / every)) {
        const k = this.int(1, moveLen);
        for (let j = 0; j < k && i < n; j++, i++) this.add(this.uni(moveLo, moveHi));
      }
      this.add(level + Math.abs(this.gauss()) * 1.2);
    }
  }
  /** Sitting down: slowing and turning at the seat first, then lowering (quickly: a strong burst). */
  sitDown(quick: boolean): void {
    for (let n = this.int(2, 4); n > 0; n--) this.add(this.uni(8, 20));
    if (quick) this.burst(this.int(2, 3), 25, this.uni(40, 70), 12);
    else this.burst(this.int(3, 4), 25, this.uni(25, 45), 10);
  }
  /**
   * Walking, then the falling motion: a short, strong burst (the C1001's largest body movement) with
   * no slowing down first; now and then from a moment of standing (turning, reaching up).
   */
  impact(): void {
    this.walk(this.int(30, 90));
    if (this.chance(0.15)) for (let n = this.int(2, 5); n > 0; n--) this.add(this.uni(8, 18));
    this.fallAt = this.now;
    this.burst(this.int(2, 3), this.uni(45, 70), this.uni(75, 100), this.uni(5, 20));
    this.fallEnd = this.now;
  }
  fallFlag(until: number, p: number): void {
    this.flags.push({ at: this.fallAt!, until, p, delay: [8, 50], hold: [20, 90] });
  }
}

/** The scripts: what really happens, second by second, and when the sensor's flag may fire. */
function play(sc: RadarScenario, k: Script): void {
  const after = () => k.int(60, 150);
  switch (sc) {
    case 'empty_room':
      k.empty(k.int(120, 300));
      break;
    case 'sitting_tv':
      k.walk(k.int(10, 30));
      k.sitDown(false);
      k.sit(k.int(90, 200));
      if (k.chance(0.5)) k.walk(k.int(10, 25));
      break;
    case 'sleeping':
      if (k.chance(0.4)) {
        k.walk(k.int(8, 20));
        k.burst(k.int(3, 6), 25, k.uni(20, 40), 5);
      }
      k.lie(k.int(150, 300), k.uni(0, 3), k.uni(60, 200), 20, 50, 4);
      break;
    case 'walking':
      k.walk(k.int(120, 240));
      break;
    case 'leaving_room':
      k.walk(k.int(20, 60));
      k.burst(3, 40, 30, 8);
      k.empty(k.int(60, 150));
      if (k.chance(0.3)) k.walk(k.int(15, 30));
      break;
    case 'sit_down_quickly': {
      k.walk(k.int(20, 60));
      k.sitDown(true);
      const at = k.now;
      k.sit(k.int(60, 150), k.uni(1, 8), k.uni(20, 60));
      k.flags.push({ at, until: k.now, p: 0.05, delay: [3, 20], hold: [3, 15] });
      break;
    }
    case 'bending':
      k.walk(k.int(20, 50));
      for (let n = k.int(1, 3); n > 0; n--) {
        const at = k.now;
        k.burst(k.int(2, 4), 30, k.uni(30, 65), 15);
        for (let c = k.int(0, 6); c > 0; c--) k.add(k.uni(8, 18));
        k.burst(k.int(1, 2), 20, k.uni(25, 45), 35);
        k.flags.push({ at, until: k.now + 6, p: 0.02, delay: [1, 4], hold: [2, 6] });
        k.walk(k.int(20, 50));
      }
      break;
    case 'lying_on_sofa': {
      k.walk(k.int(20, 60));
      k.sitDown(false);
      k.sit(k.int(5, 20));
      k.burst(k.int(3, 6), 12, k.uni(18, 40), 4);
      const at = k.now;
      k.lie(k.int(60, 150), k.uni(0, 4), k.uni(30, 80), 12, 30, 3);
      // The C1001 calls some deliberate lying-down a fall: the false positive the modes must weigh.
      k.flags.push({ at, until: k.now, p: 0.1, delay: [5, 40], hold: [5, 40] });
      if (k.chance(0.3)) k.walk(k.int(10, 25));
      break;
    }
    case 'fall_still':
      k.impact();
      k.lie(after(), k.uni(0, 4), 60, 10, 20, 1);
      k.fallFlag(k.now, 0.8);
      break;
    case 'fall_slight_movement':
      k.impact();
      k.lie(after(), k.uni(2, 8), k.uni(10, 25), 15, 35, 3);
      k.fallFlag(k.now, 0.8);
      break;
    case 'fall_get_up': {
      k.impact();
      k.lie(k.int(10, 40), k.uni(0, 5), 60, 10, 20, 1);
      const up = k.chance(0.5);
      for (let n = k.int(1, 3); n > 0; n--) {
        k.burst(k.int(3, 8), 15, k.uni(20, 55), 10);
        k.lie(k.int(5, 20), k.uni(1, 6), 30, 10, 25, 2);
      }
      if (up) {
        const gotUp = k.now;
        k.burst(k.int(3, 5), 20, k.uni(30, 50), 15);
        k.walk(k.int(20, 60));
        k.fallFlag(gotUp, 0.75);
      } else {
        k.lie(after(), k.uni(0, 5), 40, 10, 30, 2);
        k.fallFlag(k.now, 0.75);
      }
      break;
    }
    case 'fall_slide': {
      // Legs giving way, mostly from standing, sometimes off a chair: slow, often with a final thud.
      if (k.chance(0.7)) k.walk(k.int(30, 90));
      else {
        k.walk(k.int(10, 20));
        k.sitDown(false);
        k.sit(k.int(30, 70));
      }
      k.fallAt = k.now;
      k.burst(k.int(4, 8), 15, k.uni(18, 38), 15);
      if (k.chance(0.8)) k.add(k.uni(45, 75));
      else k.soft = true;
      k.fallEnd = k.now;
      k.lie(after(), k.uni(0, 5), 40, 10, 25, 2);
      // Slow falls are the ones the sensor's own algorithm misses most.
      k.fallFlag(k.now, 0.45);
      break;
    }
  }
}

/** One labelled sequence of frames for a seed: deterministic per seed (and scenario). */
export function simulateSequence(seed: number, scenario: RadarScenario = scenarioForSeed(seed)): SimSequence {
  const k = new Script(prng(seed));
  play(scenario, k);
  const D = k.s.length;
  // Per-installation and per-day variation of the sensor and its configuration.
  const activeAt = k.uni(22, 28);
  const jitter = k.uni(1.5, 5);
  const dwellS = k.int(10, 25);
  const holdS = k.int(3, 15);
  const pFlicker = k.uni(0, 0.01);
  const pDrop = k.uni(0.005, 0.03);

  // The sensor's fall flag over time.
  const flag = new Uint8Array(D);
  if (k.chance(0.005)) k.flags.push({ at: k.int(0, D - 1), until: D, p: 1, delay: [0, 0], hold: [1, 3] });
  for (const f of k.flags) {
    if (!k.chance(f.p)) continue;
    const start = Math.round(f.at + k.uni(...f.delay));
    const end = Math.min(f.until, start + Math.round(k.uni(...f.hold)));
    for (let t = start; t < end && t < D; t++) if (k.s[t]!.here) flag[t] = 1;
  }

  // What the radar reports each second.
  const out: Omit<RadarFrame, 'ts' | 'device_id'>[] = [];
  // Someone already still when the sequence starts has been for a while (dwell may already be on).
  let stillFor = k.int(0, 3 * dwellS);
  let goneFor = holdS;
  let phantom = 0;
  for (let t = 0; t < D; t++) {
    const { here, x } = k.s[t]!;
    let presence = 0;
    let movement = 0;
    let range = 0;
    if (here) {
      goneFor = 0;
      presence = 1;
      range = Math.round(Math.max(0, Math.min(100, x + k.gauss() * jitter)));
      movement = range + k.gauss() * 3 >= activeAt ? 2 : 1;
    } else if (++goneFor <= holdS) {
      // The radar holds "someone there, still" for a while after they left.
      presence = 1;
      movement = 1;
      range = Math.round(Math.abs(k.gauss()));
    } else if (phantom > 0 || k.chance(0.003)) {
      // Curtains, a pet, the fridge's fan: a few frames of someone-there in an empty room.
      phantom = phantom > 0 ? phantom - 1 : k.int(0, 2);
      presence = 1;
      movement = k.chance(0.5) ? 2 : 1;
      range = k.int(5, 30);
    }
    stillFor = presence === 1 && movement === 1 && range < 15 ? stillFor + 1 : 0;
    let dwell = stillFor >= dwellS ? 1 : 0;
    if (here && k.chance(pFlicker * (x < 5 ? 3 : 1))) {
      // A dropped detection for one frame; the dwell timer survives it.
      presence = movement = range = dwell = 0;
    }
    out.push({ presence, movement, moving_range: range, fall_state: flag[t]!, dwell_state: dwell });
  }

  // Delivery: lost frames, bursts of them, a rare Wi-Fi outage or reboot, a retried POST.
  const boot = k.int(30, 200_000);
  // Outages and reboots are far more frequent here than in a home, so training sees them.
  const outage = k.chance(0.02) ? [k.int(10, D - 10), k.int(8, 30)] : undefined;
  const reboot = k.chance(0.01) ? [k.int(20, D - 20), k.int(6, 15)] : undefined;
  const frames: RadarFrame[] = [];
  const device_id = `sim-${seed}`;
  const within = (w: number[] | undefined, t: number) => w !== undefined && t >= w[0]! && t < w[0]! + w[1]!;
  let burst = 0;
  for (let t = 0; t < D; t++) {
    // The first frame always arrives: the sequence's clock starts there.
    if (t > 0) {
      if (burst > 0) {
        burst--;
        continue;
      }
      if (within(outage, t) || within(reboot, t) || k.chance(pDrop)) continue;
      if (k.chance(0.004)) burst = k.int(1, 3);
    }
    // After a reboot the ESP32's uptime restarts from the moment it went down.
    const ts = reboot && t >= reboot[0]! ? t - reboot[0]! + 1 : boot + t;
    frames.push({ device_id, ...out[t]!, ts });
    if (k.chance(0.003)) frames.push({ device_id, ...out[t]!, ts });
  }
  const fall = (FALL_SCENARIOS as readonly string[]).includes(scenario);
  return {
    seed,
    scenario,
    frames,
    fall,
    ...(fall ? { fallAtS: k.fallAt!, fallEndS: k.fallEnd!, soft: k.soft } : {}),
    durationS: D,
  };
}

/** A sequence as JSON lines, one /events body per line: what `ares fall replay` reads. */
export function toJsonl(frames: readonly RadarFrame[]): string {
  return frames.map((f) => JSON.stringify(f)).join('\n') + '\n';
}
