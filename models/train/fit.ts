// The fitting both fall models share: a seeded PRNG, the standardising scaler, the small dense
// network, and our own seeded mini-batch loop (tfjs's fit() shuffle cannot be seeded) with a
// class-weighted binary cross-entropy. Same operations in the same order: byte-identical weights.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** mulberry32: a small seeded PRNG (batch order, the radar simulator). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mean and std per feature of `rows` rows of `f` features, and the rows standardised with them. */
export function fitScaler(
  x: Float32Array,
  rows: number,
  f: number,
): { mean: number[]; std: number[]; xs: Float32Array } {
  const mean = new Array<number>(f).fill(0);
  const std = new Array<number>(f).fill(0);
  for (let i = 0; i < rows; i++) for (let k = 0; k < f; k++) mean[k]! += x[i * f + k]! / rows;
  for (let i = 0; i < rows; i++) for (let k = 0; k < f; k++) std[k]! += (x[i * f + k]! - mean[k]!) ** 2 / rows;
  for (let k = 0; k < f; k++) std[k] = Math.sqrt(std[k]!) || 1;
  const xs = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) xs[i] = (x[i]! - mean[i % f]!) / std[i % f]!;
  return { mean, std, xs };
}

/**
 * A small dense network over window features (f → 32 → 16 → 1): a few thousand multiply-adds per
 * decision, fast on every backend, and no per-timestep recurrent kernels (slow on wasm).
 */
export function denseClassifier(f: number, seed: number): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 32,
        activation: 'relu',
        inputShape: [f],
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.dense({
        units: 16,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
      tfl.layers.dense({
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }),
      }),
    ],
  });
}

/**
 * Adam over seeded mini-batches; fall rows (y = 1) weigh `posWeight` in the loss, so a model of rare
 * falls does not learn "never".
 */
export async function fitWeighted(
  model: tfl.Sequential,
  xs: Float32Array,
  y: ArrayLike<number>,
  f: number,
  opts: { epochs: number; batch: number; seed: number; posWeight: number; log: (m: string) => void },
): Promise<void> {
  const rows = y.length;
  const optimizer = tf.train.adam(0.003);
  const random = prng(opts.seed);
  const order = Array.from({ length: rows }, (_, i) => i);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let lossSum = 0;
    for (let b = 0; b < rows; b += opts.batch) {
      const idx = order.slice(b, b + opts.batch);
      const bx = new Float32Array(idx.length * f);
      const by = new Float32Array(idx.length);
      idx.forEach((r, i) => {
        bx.set(xs.subarray(r * f, (r + 1) * f), i * f);
        by[i] = y[r]!;
      });
      const loss = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const xt = tf.tensor2d(bx, [idx.length, f]);
            const yt = tf.tensor2d(by, [idx.length, 1]);
            const p = tf.clipByValue(model.apply(xt, { training: true }) as tf.Tensor, 1e-6, 1 - 1e-6);
            const one = tf.scalar(1);
            const w = tf.add(tf.mul(yt, opts.posWeight - 1), one);
            const bce = tf.neg(tf.add(tf.mul(yt, tf.log(p)), tf.mul(tf.sub(one, yt), tf.log(tf.sub(one, p)))));
            return tf.mean(tf.mul(bce, w)) as tf.Scalar;
          }),
        true,
      );
      lossSum += (await loss!.data())[0]! * idx.length;
      loss!.dispose();
    }
    if (epoch % 5 === 0 || epoch === 1) opts.log(`epoch ${epoch}: loss ${(lossSum / rows).toFixed(4)}`);
  }
}

/**
 * Writes the model as `dir/model.json` + `dir/weights.bin` (the layers-model format the hub's engine
 * loads) with a fixed save date, so two trainings with the same seeds give byte-identical files.
 * Returns the sha256 of the weights, for meta.json.
 */
export async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  let weightsSha = '';
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = Buffer.from(artifacts.weightData as ArrayBuffer);
      weightsSha = createHash('sha256').update(data).digest('hex');
      writeFileSync(join(dir, 'weights.bin'), data);
      writeFileSync(
        join(dir, 'model.json'),
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
  return weightsSha;
}
