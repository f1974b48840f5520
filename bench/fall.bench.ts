// Fall detection on the CPU: per-window latency of the imu-fall model (features + inference, one window
// at a time as the live pipeline runs it) on each TensorFlow.js backend available here, p50 and p99.
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

async function measure(backend: Backend): Promise<{ p50: number; p99: number } | undefined> {
  const engine = await createEngine(backend);
  if (engine.backend !== backend) return undefined;
  const model = await engine.load(modelDir('imu-fall'), IMU_FEATURES);
  const features = new Float32Array(IMU_FEATURE_COUNT);
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS + 200; i++) {
    const t0 = performance.now();
    const s = (i * 25) % starts;
    imuFeatures(samples, s * IMU_CHANNELS, IMU_WINDOW, features);
    await model.predict(features, 1);
    if (i >= 200) times.push(performance.now() - t0); // the first 200: JIT warm-up
  }
  model.dispose();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const measured = new Map<Backend, { p50: number; p99: number }>();
for (const b of BACKENDS) {
  const m = await measure(b);
  if (m) {
    measured.set(b, m);
    log(`${b}: p50 ${round(m.p50)} ms, p99 ${round(m.p99)} ms per window`);
  } else log(`${b}: not available here`);
}
const cpu = measured.get('cpu')!;
const results = [...measured].flatMap(([b, m]) =>
  (['p50', 'p99'] as const).map((p) => ({
    name: `imu_fall_window_latency_${p}_${b}`,
    value: round(m[p]),
    unit: 'ms',
    baseline_name: `cpu_backend_${p}`,
    baseline_value: round(cpu[p]),
    ratio: round(m[p] / cpu[p], 3),
    target: null,
    pass: null,
  })),
);
process.stdout.write(`${JSON.stringify({ bench: 'fall', results })}\n`);
