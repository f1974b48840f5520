import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { Pipeline, type ComponentOutput } from '../../daemon/components/pipeline.js';
import { NodeIntake } from '../../daemon/nodes/intake.js';
import { FallService } from '../../daemon/fall/fall-service.js';
import { RADAR_FRAMES_AFTER } from '../../daemon/fall/radar-node.js';
import { createEngine } from '../../models/runtime/engine.js';
import { modelDir } from '../../models/runtime/model-dir.js';
import { RADAR_FEATURES } from '../../models/runtime/radar-features.js';
import type { RadarFrame } from '../../models/runtime/radar-frame.js';
import { parseRadarJsonl } from '../../models/runtime/radar-replay.js';
import { retainedHeapGrowth } from '../helpers/heap.js';
import type { ComponentSpec } from '../../sync/components.js';

/*
 * Radar frames on the hub, the CareDian path end to end: a frame (POST /events or local/{node}/radar)
 * is stored as readings by RadarIntake, then goes through the node's RadarStream — the radar-fall
 * model and the decision with the C1001's own fall_state in the component's mode — to an alert.
 */
const engine = await createEngine('wasm');
const fixture = (name: string) =>
  parseRadarJsonl(readFileSync(new URL(`../fixtures/radar/${name}.jsonl`, import.meta.url), 'utf8'), name);

const radar = (id: number, config: Record<string, unknown>): ComponentSpec => ({
  id,
  component_type: 'radar',
  name: 'Bedroom',
  pin_number: null,
  pin_mode: null,
  default_state: null,
  config,
});

function setup(
  t: { teardown(fn: () => unknown): void },
  components: ComponentSpec[],
  loadRadarModel = () => engine.load(modelDir('radar-fall'), RADAR_FEATURES),
) {
  const pipeline = new Pipeline(silentLogger());
  const stored: ComponentOutput[] = [];
  pipeline.on('outbox', (out) => {
    stored.push(out);
    return Promise.resolve();
  });
  const published: string[] = [];
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 3));
  const fall = new FallService({
    pipeline,
    clock,
    log: silentLogger(),
    components: () => components,
    publish: async (_topic, payload) => void published.push(payload),
    deviceUuid: '8a0c2f4e-1b3d-4c5e-9f70-112233445566',
    loaders: { imu: () => Promise.reject(new Error('no imu here')), radar: loadRadarModel },
  });
  t.teardown(() => fall.stop());
  const intake = new NodeIntake({
    pipeline,
    clock,
    components: () => components,
    log: silentLogger(),
    onMessage: (type, nodeId, frame) => fall.accept(type, nodeId, frame),
  });
  fall.apply(components);
  /** Frames a second apart, as the ESP32 posts them; resolves once every decision ran. */
  const play = async (frames: RadarFrame[], nodeId = 'radar1') => {
    for (const f of frames) {
      await intake.accept('radar', nodeId, f);
      clock.advance(1000);
    }
    await fall.idle();
  };
  const alerts = () => stored.filter((o) => o.name === 'fall_detected');
  return { fall, stored, published, play, alerts, intake };
}

const quiet = (n: number, from = 1000, extra: Partial<RadarFrame> = {}): RadarFrame[] =>
  Array.from({ length: n }, (_, i) => ({
    device_id: 'radar1',
    presence: 1,
    movement: 1,
    moving_range: 20,
    fall_state: 0,
    dwell_state: 1,
    ts: from + i,
    ...extra,
  }));

/**
 * A flooding radar node, measured before any subtest runs (see retainedHeapGrowth): 20,000 frames
 * as fast as they come, then one late and one for a second already seen.
 */
const flood = await (async () => {
  const cleanups: (() => unknown)[] = [];
  const s = setup({ teardown: (fn) => void cleanups.push(fn) }, [radar(7, { node_id: 'radar1' })]);
  await s.fall.ready();
  // Warm-up first (the model's first batches compile and cache), so what is measured is per frame.
  for (let i = 0; i < 1000; i++) s.fall.accept('radar', 'radar1', quiet(1, 4000 + i)[0]!);
  await s.fall.idle();
  const grown = await retainedHeapGrowth(async () => {
    for (let i = 0; i < 20_000; i++) s.fall.accept('radar', 'radar1', quiet(1, 5000 + i)[0]!);
    s.fall.accept('radar', 'radar1', quiet(1, 24_998)[0]!); // late
    s.fall.accept('radar', 'radar1', quiet(1, 24_999)[0]!); // the same second again
    await s.fall.idle();
  });
  const nodes = s.fall.health().nodes;
  for (const c of cleanups) await c();
  return { grown, nodes };
})();

t.test('a simulated fall through the radar path raises one alert with its frames; daily life none', async (t) => {
  const s = setup(t, [radar(7, { node_id: 'radar1' })]);
  await s.fall.ready();
  t.match(s.fall.health(), { status: 'running', model: /radar-fall@/ });
  await s.play(fixture('adl'));
  t.equal(s.alerts().length, 0, 'the ADL recording raises nothing');
  await s.play(fixture('fall').map((f) => ({ ...f, ts: f.ts + 100_000 })));
  await s.play(quiet(RADAR_FRAMES_AFTER, 300_000, { movement: 0, moving_range: 0 }));
  const [alert] = s.alerts();
  t.equal(s.alerts().length, 1, 'the fall recording raises one alert');
  t.match(alert, {
    componentId: 7,
    componentType: 'radar',
    data: { node_id: 'radar1', by: /model|sensor|both/, model: /radar-fall@/ },
  });
  t.ok((alert!.data!['frames_before'] as unknown[]).length > 0, 'with the frames before it');
  const rec = s.stored.find((o) => o.name === 'fall_recording');
  t.match(rec, { componentType: 'radar', data: { alert_id: alert!.data!['alert_id'] } });
  t.equal((rec!.data!['frames_after'] as unknown[]).length, RADAR_FRAMES_AFTER, 'and the frames after');
  t.match(JSON.parse(s.published.at(-1)!), { alerts: [{ node_id: 'radar1', status: 'open' }] });
  t.match(s.fall.health().nodes, [{ node_id: 'radar1', kind: 'radar', batches: 236 + RADAR_FRAMES_AFTER }]);
});

t.test('the decision modes on a radar: the sensor flag and the model combined as configured', async (t) => {
  // Quiet frames the model calls harmless, with the sensor's own flag raised for 5 s.
  const flagged = [...quiet(40), ...quiet(5, 1040, { fall_state: 1 }), ...quiet(10, 1045)];
  const run = async (mode: string) => {
    const s = setup(t, [radar(7, { node_id: 'radar1', mode, cooldown_s: 60 })]);
    await s.fall.ready();
    await s.play(flagged);
    return s.alerts();
  };
  const sensorOnly = await run('sensor_only');
  t.equal(sensorOnly.length, 1, 'sensor_only: the flag alone alerts, once (the rest are duplicates)');
  t.match(sensorOnly[0]!.data, { by: 'sensor', prob: null });
  t.equal((await run('sensor_or_model')).length, 1, 'sensor_or_model: the flag is enough');
  t.equal((await run('sensor_and_model')).length, 0, 'sensor_and_model: the model must agree');
  t.equal((await run('model_only')).length, 0, 'model_only: the flag is ignored');
  const bad = setup(t, [radar(7, { node_id: 'radar1', mode: 'whatever' })]);
  await bad.fall.ready();
  await bad.play(quiet(3));
  t.match(bad.fall.health().nodes, [{ node_id: 'radar1', problem: /config\.mode: expected one of/ }]);
});

t.test('a corrupt radar model: detection reported down, the sensor flag still raises alerts', async (t) => {
  const dir = t.testdir();
  cpSync(modelDir('radar-fall'), dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), '{"modelTopology":');
  const s = setup(t, [radar(7, { node_id: 'radar1' })], () => engine.load(dir, RADAR_FEATURES));
  await s.fall.ready();
  t.match(s.fall.health(), { status: 'down', reason: /model\.json|unreadable/ });
  t.match(s.stored, [{ name: 'detection_down', data: { reason: /radar-fall model failed to load.*own fall flag/ } }]);
  await s.play([...quiet(5), ...quiet(3, 1005, { fall_state: 1 })]);
  t.match(s.alerts(), [{ data: { by: 'sensor', prob: null, model: null } }]);
});

t.test('a flooding radar node: memory stays bounded, out-of-order and repeated frames counted', (t) => {
  // 1 MB is 50 bytes a frame: any per-frame leak shows; what stays is tens of kilobytes.
  t.ok(flood.grown < 1024 * 1024, `heap retained ${(flood.grown / 1048576).toFixed(2)} MB after 20,000 frames`);
  t.match(flood.nodes, [{ node_id: 'radar1', batches: 21_002, out_of_order: 2 }]);
  t.end();
});
