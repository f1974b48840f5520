import type { LoadedModel } from '../../models/runtime/engine.js';

/** A shipped model on the best backend here (tfjs-node if installed, else wasm). */
async function loadShipped(name: string): Promise<LoadedModel> {
  // Imported when needed: TensorFlow.js is loaded only by hubs with an IMU or a radar.
  const { createEngine } = await import('../../models/runtime/engine.js');
  const { modelDir } = await import('../../models/runtime/model-dir.js');
  const features =
    name === 'imu-fall'
      ? (await import('../../models/runtime/imu-features.js')).IMU_FEATURES
      : (await import('../../models/runtime/radar-features.js')).RADAR_FEATURES;
  return (await createEngine()).load(modelDir(name), features);
}

export const loadShippedFallModel = (): Promise<LoadedModel> => loadShipped('imu-fall');
export const loadShippedRadarModel = (): Promise<LoadedModel> => loadShipped('radar-fall');
