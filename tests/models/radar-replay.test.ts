import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { replayFiles, type ReplayLine } from '../../models/replay.js';
import { createEngine } from '../../models/runtime/engine.js';
import { modelDir } from '../../models/runtime/model-dir.js';
import { RADAR_FEATURES } from '../../models/runtime/radar-features.js';
import { RadarStream } from '../../models/runtime/radar-stream.js';

const engine = await createEngine('wasm');
const shipped = modelDir('radar-fall');
const FIXTURES = fileURLToPath(new URL('../fixtures/radar/', import.meta.url));

function tempDir(tt: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ares-radar-'));
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A copy of the shipped model with one file changed. */
function corrupt(tt: { teardown(fn: () => void): void }, file: string, change: (b: Buffer) => Buffer | string) {
  const dir = tempDir(tt);
  cpSync(shipped, dir, { recursive: true });
  writeFileSync(join(dir, file), change(readFileSync(join(dir, file))));
  return dir;
}

t.test('the shipped radar model loads on wasm and runs in a stream', async (t) => {
  const m = await engine.load(shipped, RADAR_FEATURES);
  t.match(m.meta, { name: 'radar-fall', window: 30, hop: 1, rate_hz: 1, decision: { mode: 'sensor_or_model' } });
  t.doesNotThrow(() => new RadarStream(m, { mode: 'sensor_or_model', ...m.meta.decision }));
  m.dispose();
});

t.test('corrupt or mismatched radar model files: ARES_ERR_MODEL naming what is wrong', async (t) => {
  const edit =
    (f: (m: Record<string, unknown> & { features: string[]; scaler: { mean: number[] } }) => void) => (b: Buffer) => {
      const m = JSON.parse(b.toString()) as Record<string, unknown> & {
        features: string[];
        scaler: { mean: number[] };
      };
      f(m);
      return JSON.stringify(m);
    };
  const cases: [string, string, (b: Buffer) => Buffer | string, RegExp][] = [
    [
      'weights.bin',
      'flipped byte',
      (b) => Buffer.from(b.map((v, i) => (i === 100 ? v ^ 0xff : v))),
      /weights\.bin does not match meta\.json/,
    ],
    [
      'weights.bin',
      "the IMU model's weights",
      () => readFileSync(join(modelDir('imu-fall'), 'weights.bin')),
      /does not match/,
    ],
    ['meta.json', 'features renamed', edit((m) => (m.features[3] = 'movement_mean')), /features do not match/],
    ['meta.json', 'features reordered', edit((m) => m.features.reverse()), /features do not match/],
    [
      'meta.json',
      'a feature dropped',
      edit((m) => {
        m.features.pop();
        m.scaler.mean.pop();
      }),
      /features do not match/,
    ],
    ['meta.json', 'decision out of range', edit((m) => (m['decision'] = { threshold: 0.5 })), /decision needs/],
  ];
  for (const [file, what, change, message] of cases)
    await t.rejects(
      engine.load(corrupt(t, file, change), RADAR_FEATURES),
      { code: 'ARES_ERR_MODEL', message },
      `${file}: ${what}`,
    );
  await t.rejects(
    engine.load(modelDir('imu-fall'), RADAR_FEATURES),
    { code: 'ARES_ERR_MODEL', message: /features do not match/ },
    'the IMU model where the radar one belongs',
  );
});

t.test('ares fall replay on radar JSON lines: alerts per file; a bad line is an error line naming it', async (t) => {
  const dir = tempDir(t);
  const good = readFileSync(join(FIXTURES, 'fall.jsonl'), 'utf8').split('\n');
  writeFileSync(
    join(dir, 'bad-field.jsonl'),
    [...good.slice(0, 2), good[2]!.replace('"presence":1', '"presence":2'), ''].join('\n'),
  );
  writeFileSync(join(dir, 'not-json.jsonl'), `${good[0]}\n{"device_id":\n`);
  // The sensor alone: its flag at the sixth frame, long before the model's first window.
  const flagged = good.slice(0, 10).map((l, i) => (i === 5 ? l.replace('"fall_state":0', '"fall_state":1') : l));
  writeFileSync(join(dir, 'sensor.jsonl'), `${flagged.join('\n')}\n`);
  const files = ['fall.jsonl', 'bad-field.jsonl', 'adl.jsonl', 'not-json.jsonl', 'sensor.jsonl'].map((f) =>
    f.includes('-') || f === 'sensor.jsonl' ? join(dir, f) : join(FIXTURES, f),
  );
  const out: ReplayLine[] = [];
  const code = await replayFiles(files, { backend: 'wasm' }, (l) => out.push(l));
  t.equal(code, 1);
  t.equal(out.length, 5, 'the other files still ran');
  t.match(out[0], { file: files[0], alerts: [{ t_s: Number, prob: Number }] }, 'the fall: one alert, by the model');
  t.equal((out[0] as { alerts: unknown[] }).alerts.length, 1);
  t.same(out[1], { file: files[1], error: `${files[1]}:3: presence: 0 or 1` });
  t.same(out[2], { file: files[2], alerts: [] }, 'sitting watching TV: none');
  t.match(out[3], { file: files[3], error: new RegExp(`not-json\\.jsonl:2: not JSON`) });
  t.match(out[4], { alerts: [{ t_s: 5, prob: null }] }, 'only the sensor decided: prob null');
  const imuOnRadar = await replayFiles([files[0]!], { model: 'imu-fall', backend: 'wasm' }, (l) => out.push(l));
  t.equal(imuOnRadar, 1);
  t.match(out.at(-1), { error: /fall\.jsonl:1/ }, '--model imu-fall on JSON lines: the SisFall parser names the line');
});
