import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
await tf.setBackend('cpu'); await tf.ready();
const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 16, inputShape: [20], activation: 'relu' }), tfl.layers.dense({ units: 1, activation: 'sigmoid' })] });
for (const b of ['cpu', 'wasm']) {
  const ok = await tf.setBackend(b); await tf.ready();
  const x = tf.randomNormal([256, 20]);
  let t0 = performance.now(); for (let i = 0; i < 100; i++) { const y = m.predict(x); await y.data(); y.dispose(); } 
  console.log(b, ok, tf.getBackend(), ((performance.now() - t0) / 100).toFixed(3), 'ms per 256-batch');
}
