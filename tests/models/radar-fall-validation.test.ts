import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DECISION_MODES } from '../../models/runtime/decision.js';
import { createEngine } from '../../models/runtime/engine.js';
import { modelDir } from '../../models/runtime/model-dir.js';
import { RADAR_FEATURES } from '../../models/runtime/radar-features.js';
import { replayMetrics } from '../../models/runtime/radar-replay.js';
import { VALIDATION_SEEDS, simulateRange } from '../../models/train/radar-sim.js';

/*
 * Guards the shipped radar-fall model by re-running it, through the replay path (stream, model,
 * decision), on the simulator seeds held out from training — never by reading its model card. The
 * data are simulated (no recordings of this sensor exist): this checks the artifacts and the
 * pipeline against what training measured, not how the model does in a real home.
 */
t.test('radar-fall on held-out simulator seeds: every mode as measured in training; the default ≥ 0.95', async (t) => {
  t.setTimeout(300_000);
  const engine = await createEngine('wasm');
  const model = await engine.load(modelDir('radar-fall'), RADAR_FEATURES);
  const reported = (
    JSON.parse(readFileSync(join(modelDir('radar-fall'), 'meta.json'), 'utf8')) as {
      validation: { mode: string; by_mode: Record<string, Record<string, number | null>> };
    }
  ).validation;
  t.equal(reported.mode, model.meta.decision.mode, 'meta.json validates its own default mode');
  const sequences = simulateRange(VALIDATION_SEEDS);
  for (const mode of DECISION_MODES) {
    const m = await replayMetrics(model, { ...model.meta.decision, mode }, sequences);
    t.comment(`${mode}: ${JSON.stringify(m)}`);
    // What training reported is what the shipped files do (on another backend than training's cpu).
    t.same(m, reported.by_mode[mode], `${mode}: the meta.json figures are reproduced`);
    if (mode === model.meta.decision.mode) {
      t.ok(m.sensitivity >= 0.95, `default ${mode}: sensitivity ${m.sensitivity} (falls raise an alert)`);
      t.ok(m.specificity >= 0.95, `default ${mode}: specificity ${m.specificity} (ADL sequences raise none)`);
    }
  }
  model.dispose();
});
