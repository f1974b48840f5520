// `npm run train:imu-fall [-- --data DIR --out DIR --epochs N]`: trains models/imu-fall from the SisFall
// recordings in shared/data, validates it by subject through the replay path, and writes the TF.js
// artifacts, meta.json and the metrics the model card quotes. Reproducible: the weights are seeded,
// and the batch order comes from our own seeded shuffle (tfjs's fit() shuffle cannot be seeded), on
// the deterministic cpu backend.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { FallDecision, type DecisionSettings } from '../runtime/decision.js';
import { createEngine } from '../runtime/engine.js';
import { fileMetrics, replaySamples, type FileResult } from '../runtime/file-metrics.js';
import { IMU_FEATURE_COUNT, IMU_FEATURES } from '../runtime/imu-features.js';
import { IMU_HOP, IMU_WINDOW } from '../runtime/imu-windows.js';
import type { ModelMeta } from '../runtime/meta.js';
import { SISFALL_RATE_HZ, readSisFall } from '../runtime/sisfall.js';
import {
  VALIDATION_SUBJECTS,
  labelled,
  listRecordings,
  loadRecording,
  sisfallDir,
  type Recording,
} from './imu-dataset.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: sisfallDir() },
    out: { type: 'string', default: join(ROOT, 'models/imu-fall') },
    epochs: { type: 'string', default: '40' },
    seed: { type: 'string', default: '20261123' },
  },
});
const SEED = Number(args.seed);
const EPOCHS = Number(args.epochs);
const BATCH = 512;
const log = (m: string) => void process.stderr.write(`[train:imu-fall] ${m}\n`);

/** mulberry32: a small seeded PRNG for the batch order. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

tf.env().set('PROD', true);
await tf.setBackend('cpu');
const all = listRecordings(args.data);
const isVal = (s: string) => (VALIDATION_SUBJECTS as readonly string[]).includes(s);
log(`loading ${all.length} recordings from ${args.data}`);
const train: Recording[] = [];
for (const r of all) if (!isVal(r.name.subject)) train.push(loadRecording(r.path, r.name));
const valFiles = all.filter((r) => isVal(r.name.subject));
const { x, y } = labelled(train);
const rows = y.length;
const positives = y.reduce((s, v) => s + v, 0);
log(`training: ${train.length} recordings, ${rows} windows (${positives} fall windows)`);

// Scaler from the training windows.
const mean = new Array<number>(IMU_FEATURE_COUNT).fill(0);
const std = new Array<number>(IMU_FEATURE_COUNT).fill(0);
for (let i = 0; i < rows; i++)
  for (let k = 0; k < IMU_FEATURE_COUNT; k++) mean[k]! += x[i * IMU_FEATURE_COUNT + k]! / rows;
for (let i = 0; i < rows; i++)
  for (let k = 0; k < IMU_FEATURE_COUNT; k++) std[k]! += (x[i * IMU_FEATURE_COUNT + k]! - mean[k]!) ** 2 / rows;
for (let k = 0; k < IMU_FEATURE_COUNT; k++) std[k] = Math.sqrt(std[k]!) || 1;
const xs = new Float32Array(x.length);
for (let i = 0; i < x.length; i++) xs[i] = (x[i]! - mean[i % IMU_FEATURE_COUNT]!) / std[i % IMU_FEATURE_COUNT]!;

// A small dense network: a few thousand multiply-adds per decision, fast on every backend.
const model = tfl.sequential({
  layers: [
    tfl.layers.dense({
      units: 32,
      activation: 'relu',
      inputShape: [IMU_FEATURE_COUNT],
      kernelInitializer: tfl.initializers.glorotUniform({ seed: SEED }),
    }),
    tfl.layers.dense({
      units: 16,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: SEED + 1 }),
    }),
    tfl.layers.dense({
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: SEED + 2 }),
    }),
  ],
});
const optimizer = tf.train.adam(0.003);
// Falls are rare windows: weight them up so the loss does not learn "never".
const posWeight = Math.min(30, (rows - positives) / Math.max(1, positives));
const random = prng(SEED);
const order = Array.from({ length: rows }, (_, i) => i);
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  let lossSum = 0;
  for (let b = 0; b < rows; b += BATCH) {
    const idx = order.slice(b, b + BATCH);
    const bx = new Float32Array(idx.length * IMU_FEATURE_COUNT);
    const by = new Float32Array(idx.length);
    idx.forEach((r, i) => {
      bx.set(xs.subarray(r * IMU_FEATURE_COUNT, (r + 1) * IMU_FEATURE_COUNT), i * IMU_FEATURE_COUNT);
      by[i] = y[r]!;
    });
    const loss = optimizer.minimize(
      () =>
        tf.tidy(() => {
          const xt = tf.tensor2d(bx, [idx.length, IMU_FEATURE_COUNT]);
          const yt = tf.tensor2d(by, [idx.length, 1]);
          const p = tf.clipByValue(model.apply(xt, { training: true }) as tf.Tensor, 1e-6, 1 - 1e-6);
          const one = tf.scalar(1);
          const w = tf.add(tf.mul(yt, posWeight - 1), one);
          const bce = tf.neg(tf.add(tf.mul(yt, tf.log(p)), tf.mul(tf.sub(one, yt), tf.log(tf.sub(one, p)))));
          return tf.mean(tf.mul(bce, w)) as tf.Scalar;
        }),
      true,
    );
    lossSum += (await loss!.data())[0]! * idx.length;
    loss!.dispose();
  }
  if (epoch % 5 === 0 || epoch === 1) log(`epoch ${epoch}: loss ${(lossSum / rows).toFixed(4)}`);
}

// Decision settings chosen on the training recordings only (validation stays unseen): the
// smallest smoothing/sustain and the threshold that best balance file-level sensitivity and
// specificity there.
async function windowProbs(recs: Recording[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const rec of recs) {
    const n = rec.starts.length;
    if (n === 0) {
      out.push(new Float32Array(0));
      continue;
    }
    const f = new Float32Array(rec.features.length);
    for (let i = 0; i < f.length; i++)
      f[i] = (rec.features[i]! - mean[i % IMU_FEATURE_COUNT]!) / std[i % IMU_FEATURE_COUNT]!;
    const p = tf.tidy(() => model.predict(tf.tensor2d(f, [n, IMU_FEATURE_COUNT])) as tf.Tensor);
    out.push((await p.data()) as Float32Array);
    p.dispose();
  }
  return out;
}
const trainProbs = await windowProbs(train);
let best: { settings: DecisionSettings; score: number; m: ReturnType<typeof fileMetrics> } | undefined;
for (const smoothing of [1, 2, 3])
  for (const sustain of [1, 2])
    for (let th = 0.3; th <= 0.96; th += 0.05) {
      const settings: DecisionSettings = {
        mode: 'model_only',
        threshold: Math.round(th * 100) / 100,
        smoothing,
        sustain,
        cooldown_s: 30,
      };
      const results: FileResult[] = train.map((rec, r) => {
        const d = new FallDecision(settings);
        let alerts = 0;
        trainProbs[r]!.forEach((p, i) => {
          if (d.step((rec.starts[i]! + IMU_WINDOW) / SISFALL_RATE_HZ, p, undefined).kind === 'alert') alerts++;
        });
        return { fall: rec.fall, seconds: rec.seconds, alerts };
      });
      const m = fileMetrics(results);
      const score = Math.min(m.sensitivity, m.specificity) - m.false_alarms_per_hour / 1000;
      if (!best || score > best.score) best = { settings, score, m };
    }
log(`decision (chosen on training files): ${JSON.stringify(best!.settings)} → ${JSON.stringify(best!.m)}`);

// Save the artifacts, then validate by loading them the way the hub does.
mkdirSync(args.out, { recursive: true });
let weightsSha = '';
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const data = Buffer.from(artifacts.weightData as ArrayBuffer);
    weightsSha = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(args.out, 'weights.bin'), data);
    writeFileSync(
      join(args.out, 'model.json'),
      `${JSON.stringify({
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      })}\n`,
    );
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }),
);
const meta: ModelMeta = {
  name: 'imu-fall',
  version: '1.0.0',
  features: [...IMU_FEATURES],
  window: IMU_WINDOW,
  hop: IMU_HOP,
  rate_hz: SISFALL_RATE_HZ,
  scaler: { mean: mean.map((v) => Number(v.toPrecision(8))), std: std.map((v) => Number(v.toPrecision(8))) },
  decision: { ...best!.settings, mode: 'model_only' },
  weights_sha256: weightsSha,
};
writeFileSync(join(args.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);

const engine = await createEngine('cpu');
const loaded = await engine.load(args.out, IMU_FEATURES);
const settings: DecisionSettings = { ...meta.decision, mode: 'model_only' };
const results: (FileResult & { file: string })[] = [];
for (const f of valFiles) {
  const alerts = await replaySamples(loaded, settings, readSisFall(f.path));
  results.push({
    file: f.path,
    fall: f.name.fall,
    seconds: readSisFall(f.path).length / 6 / SISFALL_RATE_HZ,
    alerts: alerts.length,
  });
}
const validation = { subjects: [...VALIDATION_SUBJECTS], ...fileMetrics(results) };
meta.validation = validation;
writeFileSync(join(args.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
const missed = results.filter((r) => r.fall && r.alerts === 0).map((r) => r.file.split('/').pop());
const falseAlarms = results.filter((r) => !r.fall && r.alerts > 0).map((r) => r.file.split('/').pop());
log(`validation: ${JSON.stringify(validation)}`);
log(`missed falls: ${missed.join(' ') || 'none'}`);
log(`ADL files with alerts: ${falseAlarms.join(' ') || 'none'}`);
