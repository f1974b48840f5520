// `npm run train:imu-fall [-- --data DIR --out DIR --epochs N]`: trains models/imu-fall from the SisFall
// recordings in shared/data, validates it by subject through the replay path, and writes the TF.js
// artifacts, meta.json and the metrics the model card quotes. Reproducible: the weights are seeded,
// and the batch order comes from our own seeded shuffle (tfjs's fit() shuffle cannot be seeded), on
// the deterministic cpu backend.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { FallDecision, type DecisionSettings } from '../runtime/decision.js';
import { createEngine } from '../runtime/engine.js';
import { fileMetrics, replaySamples, type FileResult } from '../runtime/file-metrics.js';
import { IMU_FEATURE_COUNT, IMU_FEATURES } from '../runtime/imu-features.js';
import { IMU_HOP, IMU_WINDOW } from '../runtime/imu-windows.js';
import type { ModelMeta } from '../runtime/meta.js';
import { SISFALL_RATE_HZ, readSisFall } from '../runtime/sisfall.js';
import { denseClassifier, fitScaler, fitWeighted, saveLayersModel } from './fit.js';
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

// Scaler from the training windows, then the network, fitted with fall windows weighted up (rare).
const { mean, std, xs } = fitScaler(x, rows, IMU_FEATURE_COUNT);
const model = denseClassifier(IMU_FEATURE_COUNT, SEED);
const posWeight = Math.min(30, (rows - positives) / Math.max(1, positives));
await fitWeighted(model, xs, y, IMU_FEATURE_COUNT, { epochs: EPOCHS, batch: BATCH, seed: SEED, posWeight, log });

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
const weightsSha = await saveLayersModel(model, args.out);
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
