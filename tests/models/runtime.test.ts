import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { replayFiles, type ReplayLine } from '../../models/replay.js';
import { createEngine } from '../../models/runtime/engine.js';
import { IMU_FEATURES } from '../../models/runtime/imu-features.js';
import { ImuStream, Resampler } from '../../models/runtime/imu-stream.js';
import { modelDir } from '../../models/runtime/model-dir.js';
import { IMU_CHANNELS, parseSisFall, parseSisFallName } from '../../models/runtime/sisfall.js';

const engine = await createEngine('wasm');
const shipped = modelDir('imu-fall');

/** A copy of the shipped model with one file changed. */
function corrupt(
  t: { teardown(fn: () => void): void },
  file: string,
  change: (text: Buffer) => Buffer | string,
): string {
  const dir = mkdtempSync(join(tmpdir(), 'ares-model-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(shipped, dir, { recursive: true });
  writeFileSync(join(dir, file), change(readFileSync(join(dir, file))));
  return dir;
}

t.test('the shipped model loads on the wasm and cpu backends, with a warm-up', async (t) => {
  t.equal(engine.backend, 'wasm');
  const m = await engine.load(shipped, IMU_FEATURES);
  t.equal(m.meta.features.length, IMU_FEATURES.length);
  const p = await m.predict(new Float32Array(IMU_FEATURES.length * 2), 2);
  t.equal(p.length, 2);
  t.ok(
    p.every((v) => v >= 0 && v <= 1),
    'probabilities',
  );
  m.dispose();
});

t.test('corrupt or mismatched model files: a clear ARES_ERR_MODEL naming what is wrong', async (t) => {
  const cases: [string, string, (b: Buffer) => Buffer | string, RegExp][] = [
    ['weights.bin', 'truncated weights', (b) => b.subarray(0, b.length - 8), /weights\.bin does not match meta\.json/],
    ['weights.bin', 'flipped byte', (b) => Buffer.from(b.map((v, i) => (i === 10 ? v ^ 0xff : v))), /does not match/],
    ['meta.json', 'not JSON', () => '{"name":', /unreadable/],
    [
      'meta.json',
      'scaler of the wrong length',
      (b) => {
        const m = JSON.parse(b.toString()) as { scaler: { mean: number[] } };
        m.scaler.mean.pop();
        return JSON.stringify(m);
      },
      /scaler\.mean and scaler\.std must have 18/,
    ],
    [
      'meta.json',
      'features of another runtime',
      (b) => {
        const m = JSON.parse(b.toString()) as { features: string[] };
        m.features[0] = 'something_else';
        return JSON.stringify(m);
      },
      /features do not match/,
    ],
    [
      'meta.json',
      'zero std',
      (b) => {
        const m = JSON.parse(b.toString()) as { scaler: { std: number[] } };
        m.scaler.std[3] = 0;
        return JSON.stringify(m);
      },
      /std > 0/,
    ],
    [
      'meta.json',
      'threshold out of range',
      (b) => {
        const m = JSON.parse(b.toString()) as { decision: { threshold: number } };
        m.decision.threshold = 1.5;
        return JSON.stringify(m);
      },
      /threshold/,
    ],
    [
      'model.json',
      'garbage topology',
      () => JSON.stringify({ modelTopology: { nope: 1 }, weightsManifest: [] }),
      /invalid/,
    ],
    ['model.json', 'not a layers model', () => '[]', /not a TF\.js layers model/],
  ];
  for (const [file, what, change, message] of cases) {
    const dir = corrupt(t, file, change);
    await t.rejects(engine.load(dir, IMU_FEATURES), { code: 'ARES_ERR_MODEL', message }, `${file}: ${what}`);
  }
  const empty = t.testdir();
  await t.rejects(engine.load(empty), { code: 'ARES_ERR_MODEL', message: /unreadable/ }, 'missing files');
});

t.test('SisFall files: names, units, malformed lines', async (t) => {
  t.same(parseSisFallName('x/F03_SA01_R02.txt'), { activity: 'F03', subject: 'SA01', trial: 'R02', fall: true });
  t.equal(parseSisFallName('notes.txt'), undefined);
  const s = parseSisFall('256,-256,0,16384,0,-16384,1,2,3;\n  0,0,512,0,0,0,1,1,1;\n');
  t.equal(s.length, 2 * IMU_CHANNELS);
  t.same(Array.from(s.subarray(0, 6)), [1, -1, 0, 1000, 0, -1000], '256 counts = 1 g; 16384 counts = 1000 °/s');
  t.throws(() => parseSisFall('1,2,3,4,5,6,7,8,9\n', 'f'), /f:1: expected nine comma-separated integers/);
  t.throws(() => parseSisFall('1,2,x,4,5,6,7,8,9;\n', 'f'), /f:1: column 3 is not an integer/);
  t.throws(() => parseSisFall('1,2;\n', 'f'), /f:1/);
});

t.test('resampling: 100 Hz to 50 Hz and 25 Hz to 50 Hz, across batches', async (t) => {
  const ramp = (n: number, step: number) => {
    const a = new Float32Array(n * IMU_CHANNELS);
    for (let i = 0; i < n; i++) a[i * IMU_CHANNELS] = i * step;
    return a;
  };
  const down = new Resampler(100, 50);
  const out = [...down.push(ramp(10, 1)), ...down.push(ramp(10, 1).map((v, i) => (i % 6 === 0 ? v + 10 : v)))];
  t.same(
    out.filter((_, i) => i % 6 === 0),
    [0, 2, 4, 6, 8, 10, 12, 14, 16, 18],
    'every other sample, seamless',
  );
  const up = new Resampler(25, 50);
  const a = up.push(ramp(3, 2));
  const b = up.push(ramp(2, 2).map((v, i) => (i % 6 === 0 ? v + 6 : v)));
  t.same(
    [...a, ...b].filter((_, i) => i % 6 === 0),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
    'interpolated, seamless',
  );
  t.same(new Resampler(50, 50).push(ramp(3, 1)), ramp(3, 1), 'same rate: unchanged');
});

t.test('a flooding node: the stream keeps one window of samples and a bounded queue', async (t) => {
  const model = await engine.load(shipped, IMU_FEATURES);
  const stream = new ImuStream(model, { ...model.meta.decision, mode: 'model_only' }, 8);
  const second = new Float32Array(50 * IMU_CHANNELS).fill(0.1);
  for (let i = 0; i < 2000; i++) stream.push(second); // 2000 s without a flush
  const windows = 1 + Math.floor((2000 * 50 - 150) / 25);
  t.equal(stream.droppedWindows, windows - 8, 'all but the newest 8 windows dropped, and counted');
  t.equal((await stream.flush()).length, 0);
  t.equal(await stream.flush().then((a) => a.length), 0, 'nothing left queued');
  model.dispose();
});

t.test('ares fall replay: one line per file; an unreadable file is an error line and exit 1', async (t) => {
  const dir = t.testdir();
  // A synthetic fall: standing still, a free fall, a 6 g impact, then lying still on one side.
  const lines: string[] = [];
  for (let i = 0; i < 250; i++) lines.push('0,-256,0,0,0,0,0,0,0;');
  for (let i = 0; i < 10; i++) lines.push('0,-40,0,3000,0,0,0,0,0;');
  for (let i = 0; i < 3; i++) lines.push('900,-1200,300,9000,4000,0,0,0,0;');
  for (let i = 0; i < 300; i++) lines.push('256,0,0,0,0,0,0,0,0;');
  writeFileSync(join(dir, 'F01_SA99_R01.txt'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'D01_SA99_R01.txt'), `${lines.slice(0, 250).join('\n')}\n`);
  writeFileSync(join(dir, 'broken.txt'), 'not a recording\n');
  const out: ReplayLine[] = [];
  const code = await replayFiles(
    [join(dir, 'F01_SA99_R01.txt'), join(dir, 'broken.txt'), join(dir, 'D01_SA99_R01.txt')],
    { backend: 'wasm' },
    (l) => out.push(l),
  );
  t.equal(code, 1);
  t.equal(out.length, 3, 'the other files still ran');
  t.match(out[0], { alerts: [{ t_s: Number, prob: Number }] }, 'the fall raises one alert');
  t.match(out[1], { error: /broken\.txt:1/ });
  t.same(out[2], { file: join(dir, 'D01_SA99_R01.txt'), alerts: [] });
  const missing = await replayFiles([join(dir, 'F01_SA99_R01.txt')], { modelDirOf: () => dir }, (l) => out.push(l));
  t.equal(missing, 1);
  t.match(out.at(-1), { error: /unreadable/ }, 'a missing model is an error line, not a crash');
});
