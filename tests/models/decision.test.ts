import t from 'tap';
import { FallDecision, type DecisionSettings } from '../../models/runtime/decision.js';

const base: DecisionSettings = { mode: 'model_only', threshold: 0.5, smoothing: 1, sustain: 1, cooldown_s: 30 };

t.test('modes: the truth table of model and sensor', async (t) => {
  const cases: [DecisionSettings['mode'], boolean, boolean, boolean][] = [
    // mode, model fires, sensor fires, alert
    ['model_only', false, false, false],
    ['model_only', true, false, true],
    ['model_only', false, true, false],
    ['model_only', true, true, true],
    ['sensor_only', false, false, false],
    ['sensor_only', true, false, false],
    ['sensor_only', false, true, true],
    ['sensor_only', true, true, true],
    ['sensor_or_model', false, false, false],
    ['sensor_or_model', true, false, true],
    ['sensor_or_model', false, true, true],
    ['sensor_or_model', true, true, true],
    ['sensor_and_model', false, false, false],
    ['sensor_and_model', true, false, false],
    ['sensor_and_model', false, true, false],
    ['sensor_and_model', true, true, true],
  ];
  for (const [mode, model, sensor, alert] of cases) {
    const d = new FallDecision({ ...base, mode });
    const out = d.step(0, model ? 0.9 : 0.1, sensor);
    t.equal(out.kind === 'alert', alert, `${mode}: model ${model}, sensor ${sensor} → ${alert ? 'alert' : 'none'}`);
    if (out.kind === 'alert') t.equal(out.by, model && sensor ? 'both' : model ? 'model' : 'sensor');
  }
});

t.test('smoothing averages the last K probabilities', async (t) => {
  const d = new FallDecision({ ...base, smoothing: 3, threshold: 0.6 });
  t.match(d.step(0, 0.9, undefined), { kind: 'alert', smoothed: 0.9 }, 'the first value alone');
  const e = new FallDecision({ ...base, smoothing: 3, threshold: 0.6 });
  t.match(e.step(0, 0.2, undefined), { kind: 'none' });
  t.match(e.step(1, 0.2, undefined), { kind: 'none' });
  t.match(e.step(2, 0.9, undefined), { kind: 'none', smoothed: (0.2 + 0.2 + 0.9) / 3 }, 'one spike is smoothed away');
  t.match(e.step(3, 0.9, undefined), { kind: 'alert' }, '(0.2 + 0.9 + 0.9) / 3 ≥ 0.6');
});

t.test('sustain needs K consecutive values over the threshold', async (t) => {
  const d = new FallDecision({ ...base, sustain: 3 });
  t.match(d.step(0, 0.9, undefined), { kind: 'none' });
  t.match(d.step(1, 0.9, undefined), { kind: 'none' });
  t.match(d.step(2, 0.1, undefined), { kind: 'none' }, 'the run is broken');
  t.match(d.step(3, 0.9, undefined), { kind: 'none' });
  t.match(d.step(4, 0.9, undefined), { kind: 'none' });
  t.match(d.step(5, 0.9, undefined), { kind: 'alert' });
});

t.test('cooldown: later decisions are suppressed duplicates linked to the first, then alerts again', async (t) => {
  const d = new FallDecision({ ...base, cooldown_s: 10 });
  t.match(d.step(100, 0.9, undefined), { kind: 'alert' });
  t.match(d.step(101, 0.9, undefined), { kind: 'suppressed', firstAtS: 100 });
  t.match(d.step(105, 0.1, true), { kind: 'none' }, 'model_only ignores the sensor');
  t.match(d.step(109.5, 0.95, undefined), { kind: 'suppressed', firstAtS: 100 });
  t.match(d.step(110, 0.95, undefined), { kind: 'alert' }, 'the cooldown is over');
  const s = new FallDecision({ ...base, mode: 'sensor_only', cooldown_s: 5 });
  t.match(s.step(0, undefined, true), { kind: 'alert', smoothed: null, by: 'sensor' }, 'sensor alone: no probability');
  t.match(s.step(1, undefined, true), { kind: 'suppressed' });
});
