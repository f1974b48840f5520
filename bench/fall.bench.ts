// Fall detection on the CPU: per-window latency of the imu-fall and radar-fall models (features +
// inference, one window at a time as the live pipeline runs it) on each TensorFlow.js backend
// available here, p50 and p99.
// Baseline in the same run: the plain-JS cpu backend. tfjs-node is reported when it is installed (it is
// not on machines where its libtensorflow download cannot install).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, createEngine, type Backend } from '../models/runtime/engine.js';
import { IMU_FEATURE_COUNT, IMU_FEATURES, imuFeatures } from '../models/runtime/imu-features.js';
import { IMU_WINDOW } from '../models/runtime/imu-windows.js';
import { modelDir } from '../models/runtime/model-dir.js';
import { IMU_CHANNELS, readSisFall } from '../models/runtime/sisfall.js';
import { sisfallDir } from '../models/train/imu-dataset.js';
import {
  RADAR_CHANNELS,
  RADAR_FEATURE_COUNT,
  RADAR_FEATURES,
  radarFeatures,
} from '../models/runtime/radar-features.js';
import { frameChannels } from '../models/runtime/radar-features.js';
import { simulateSequence } from '../models/train/radar-sim.js';

const ITERATIONS = Number(process.env['ARES_BENCH_FALL_ITERATIONS'] ?? 3000);
const log = (m: string) => void process.stderr.write(`[fall] ${m}\n`);
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

// A real recording (a fall) when the data is here; otherwise a synthetic walk.
const DATA = join(sisfallDir(), 'SA01/F05_SA01_R01.txt');
const samples = existsSync(DATA)
  ? readSisFall(DATA)
  : Float32Array.from({ length: 750 * IMU_CHANNELS }, (_, i) => Math.sin(i / 17) * (i % 6 < 3 ? 1 : 50));
const starts = samples.length / IMU_CHANNELS - IMU_WINDOW;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// A simulated fall sequence's frames on the 1 Hz grid, as the radar stream holds them.
const frames = simulateSequence(2_000_002, 'fall_still').frames;
const grid = Float32Array.from(frames.flatMap((f) => frameChannels(f)));
const RADAR_WIN = 30;

type Which = 'imu' | 'radar';

async function measure(backend: Backend, which: Which): Promise<{ p50: number; p99: number } | undefined> {
  const engine = await createEngine(backend);
  if (engine.backend !== backend) return undefined;
  const model =
    which === 'imu'
      ? await engine.load(modelDir('imu-fall'), IMU_FEATURES)
      : await engine.load(modelDir('radar-fall'), RADAR_FEATURES);
  const features = new Float32Array(which === 'imu' ? IMU_FEATURE_COUNT : RADAR_FEATURE_COUNT);
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS + 200; i++) {
    const t0 = performance.now();
    if (which === 'imu') imuFeatures(samples, ((i * 25) % starts) * IMU_CHANNELS, IMU_WINDOW, features);
    else radarFeatures(grid, (i % (frames.length - RADAR_WIN)) * RADAR_CHANNELS, RADAR_WIN, features);
    await model.predict(features, 1);
    if (i >= 200) times.push(performance.now() - t0); // the first 200: JIT warm-up
  }
  model.dispose();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const results: object[] = [];
for (const which of ['imu', 'radar'] as const) {
  const measured = new Map<Backend, { p50: number; p99: number }>();
  for (const b of BACKENDS) {
    const m = await measure(b, which);
    if (m) {
      measured.set(b, m);
      log(`${which}-fall ${b}: p50 ${round(m.p50)} ms, p99 ${round(m.p99)} ms per window`);
    } else log(`${which}-fall ${b}: not available here`);
  }
  const cpu = measured.get('cpu')!;
  for (const [b, m] of measured)
    for (const p of ['p50', 'p99'] as const)
      results.push({
        name: `${which}_fall_window_latency_${p}_${b}`,
        value: round(m[p]),
        unit: 'ms',
        baseline_name: `cpu_backend_${p}`,
        baseline_value: round(cpu[p]),
        ratio: round(m[p] / cpu[p], 3),
        target: null,
        pass: null,
      });
}
process.stdout.write(`${JSON.stringify({ bench: 'fall', results })}\n`);
