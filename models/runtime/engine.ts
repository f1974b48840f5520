import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AresError } from '../../core/errors.js';
import { checkMeta, type ModelMeta } from './meta.js';

export const BACKENDS = ['tfjs-node', 'wasm', 'cpu'] as const;
export type Backend = (typeof BACKENDS)[number];

/** A loaded model: standardises features with its meta's scaler and returns one probability per row. */
export interface LoadedModel {
  readonly meta: ModelMeta;
  readonly backend: Backend;
  predict(features: Float32Array, rows: number): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Runs models. The implementations are TensorFlow.js backends: `tfjs-node` (native libtensorflow,
 * used when the optional package installed), `wasm` (the default: ships in the npm package, fast for
 * small dense models) and `cpu` (plain JS, always there). TensorFlow.js keeps its backend per
 * process, so one engine per process picks it once.
 */
export interface InferenceEngine {
  readonly backend: Backend;
  load(dir: string, expectFeatures?: readonly string[]): Promise<LoadedModel>;
}

type Tf = typeof import('@tensorflow/tfjs-core');
type Tfl = typeof import('@tensorflow/tfjs-layers');

const require = createRequire(import.meta.url);

/** The backend in force, or the first that works of `wanted` then wasm then cpu. */
export async function createEngine(wanted?: Backend): Promise<InferenceEngine> {
  const tf: Tf = await import('@tensorflow/tfjs-core');
  const tfl: Tfl = await import('@tensorflow/tfjs-layers');
  await import('@tensorflow/tfjs-backend-cpu');
  // Production mode: no debug checks, and no console banners (replay's stdout is JSON lines).
  tf.env().set('PROD', true);
  const order: Backend[] = [...new Set<Backend>([...(wanted ? [wanted] : ['tfjs-node' as const]), 'wasm', 'cpu'])];
  let chosen: Backend | undefined;
  for (const b of order) {
    if (await tryBackend(tf, b)) {
      chosen = b;
      break;
    }
  }
  if (!chosen) throw new AresError('ARES_ERR_MODEL', 'no TensorFlow.js backend could start');
  const backend = chosen;
  return { backend, load: (dir, expect) => loadModel(tf, tfl, backend, dir, expect) };
}

async function tryBackend(tf: Tf, b: Backend): Promise<boolean> {
  try {
    if (b === 'tfjs-node') {
      // Optional: absent on machines where its libtensorflow download cannot install.
      await import('@tensorflow/tfjs-node' as string);
      return (await tf.setBackend('tensorflow')) && tf.getBackend() === 'tensorflow';
    }
    if (b === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    }
    const ok = await tf.setBackend(b);
    await tf.ready();
    return ok && tf.getBackend() === b;
  } catch {
    return false;
  }
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: object[] }[];
  format?: string;
}

async function loadModel(
  tf: Tf,
  tfl: Tfl,
  backend: Backend,
  dir: string,
  expectFeatures?: readonly string[],
): Promise<LoadedModel> {
  const fail = (why: string, cause?: unknown) =>
    new AresError('ARES_ERR_MODEL', `model ${dir}: ${why}`, cause ? { cause } : undefined);
  let meta: ModelMeta;
  let json: ModelJson;
  let weights: Buffer;
  try {
    meta = checkMeta(JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')), dir, expectFeatures);
    json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelJson;
    weights = readFileSync(join(dir, 'weights.bin'));
  } catch (err) {
    if (err instanceof AresError) throw err;
    throw fail(`unreadable (${(err as Error).message})`, err);
  }
  if (createHash('sha256').update(weights).digest('hex') !== meta.weights_sha256)
    throw fail('weights.bin does not match meta.json (corrupt or from another model)');
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw fail('model.json is not a TF.js layers model');
  let model: import('@tensorflow/tfjs-layers').LayersModel;
  try {
    const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
        weightData,
      }),
    );
  } catch (err) {
    throw fail(`model.json or weights.bin is invalid (${(err as Error).message})`, err);
  }
  const inputs = model.inputs[0]?.shape;
  if (!inputs || inputs.at(-1) !== meta.features.length)
    throw fail(`the model takes ${String(inputs?.at(-1))} inputs but meta.json names ${meta.features.length} features`);
  const n = meta.features.length;
  const mean = Float32Array.from(meta.scaler.mean);
  const std = Float32Array.from(meta.scaler.std);
  const loaded: LoadedModel = {
    meta,
    backend,
    async predict(features, rows) {
      const x = new Float32Array(rows * n);
      for (let i = 0; i < rows * n; i++) x[i] = (features[i]! - mean[i % n]!) / std[i % n]!;
      const out = tf.tidy(() => model.predict(tf.tensor2d(x, [rows, n])) as import('@tensorflow/tfjs-core').Tensor);
      try {
        return (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
  // Warm-up: the first call compiles kernels; a fall must not wait for that.
  await loaded.predict(
    new Float32Array(n).fill(0).map((_, i) => mean[i]!),
    1,
  );
  return loaded;
}
