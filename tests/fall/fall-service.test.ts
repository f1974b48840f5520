import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { Pipeline, type ComponentOutput } from '../../daemon/components/pipeline.js';
import { FallService } from '../../daemon/fall/fall-service.js';
import { RECORD_AFTER_S, RECORD_BEFORE_S } from '../../daemon/fall/imu-node.js';
import { encodeImuBatch } from '../../daemon/fall/imu-payload.js';
import { createEngine } from '../../models/runtime/engine.js';
import { IMU_FEATURES } from '../../models/runtime/imu-features.js';
import { modelDir } from '../../models/runtime/model-dir.js';
import type { ComponentSpec } from '../../sync/components.js';
import { retainedHeapGrowth } from '../helpers/heap.js';
import { never, until } from '../helpers/wait.js';

const engine = await createEngine('wasm');
const UUID = '8a0c2f4e-1b3d-4c5e-9f70-112233445566';

const imu = (id: number, config: Record<string, unknown>): ComponentSpec => ({
  id,
  component_type: 'imu',
  name: 'Pendant',
  pin_number: null,
  pin_mode: null,
  default_state: null,
  config,
});

/** A fall in g and °/s: standing, a short free fall, a hard impact, then lying on one side. */
function fallSamples(): number[][] {
  const s: number[][] = [];
  for (let i = 0; i < 250; i++) s.push([0, -1, 0, 0, 0, 0]);
  for (let i = 0; i < 10; i++) s.push([0, -0.16, 0, 183, 0, 0]);
  for (let i = 0; i < 3; i++) s.push([3.5, -4.7, 1.2, 549, 244, 0]);
  for (let i = 0; i < 600; i++) s.push([1, 0, 0, 0, 0, 0]);
  return s;
}

function setup(
  t: { teardown(fn: () => unknown): void },
  components: ComponentSpec[],
  loadModel = () => engine.load(modelDir('imu-fall'), IMU_FEATURES),
  commands: { id: number; action: string; durationS?: number }[] = [],
) {
  const pipeline = new Pipeline(silentLogger());
  const stored: ComponentOutput[] = [];
  pipeline.on('outbox', (out) => {
    stored.push(out);
    return Promise.resolve();
  });
  const published: { topic: string; payload: string; retain: boolean }[] = [];
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 3));
  const fall = new FallService({
    pipeline,
    clock,
    log: silentLogger(),
    components: () => components,
    publish: async (topic, payload, retain) => void published.push({ topic, payload, retain }),
    deviceUuid: UUID,
    loaders: { imu: loadModel },
    command: async (id, cmd) =>
      void commands.push({ id, action: cmd.action, ...(cmd.durationS ? { durationS: cmd.durationS } : {}) }),
  });
  t.teardown(() => fall.stop());
  let seq = 0;
  const send = (node: string, samples: number[][], extra: object = {}) => {
    for (let i = 0; i < samples.length; i += 50)
      fall.fromPayload(
        'imu',
        node,
        Buffer.from(JSON.stringify({ seq: seq++, rate_hz: 50, samples: samples.slice(i, i + 50), ...extra })),
      );
  };
  /** The alerts the LAN was last told about (`alerts/{uuid}`, retained). */
  const lanAlerts = () =>
    published.length === 0 ? [] : (JSON.parse(published.at(-1)!.payload) as { alerts: { status: string }[] }).alerts;
  return { fall, stored, published, lanAlerts, send, clock, pipeline };
}

/** A flooding node, measured before any subtest runs (see retainedHeapGrowth). */
const flood = await (async () => {
  const cleanups: (() => unknown)[] = [];
  const { fall, send } = setup({ teardown: (fn) => void cleanups.push(fn) }, [imu(5, { node_id: 'pendant' })]);
  fall.apply([imu(5, { node_id: 'pendant' })]);
  const still = Array.from({ length: 500 }, () => [0, -1, 0, 0, 0, 0]);
  // Warm-up first (the model's first batches compile and cache), so what is measured is per sample.
  for (let i = 0; i < 20; i++) send('pendant', still);
  await fall.idle();
  const grown = await retainedHeapGrowth(async () => {
    for (let i = 0; i < 400; i++) send('pendant', still); // 200,000 samples
    await fall.idle();
  });
  const nodes = fall.health().nodes;
  for (const c of cleanups) await c();
  return { grown, nodes };
})();

t.test('no imu component: nothing loaded; the first one starts detection', async (t) => {
  let loads = 0;
  const { fall } = setup(t, [], () => {
    loads++;
    return engine.load(modelDir('imu-fall'), IMU_FEATURES);
  });
  fall.apply([]);
  t.equal(fall.health().status, 'off');
  fall.apply([imu(5, { node_id: 'pendant' })]);
  fall.apply([imu(5, { node_id: 'pendant' })]);
  await fall.idle();
  await fall.stop();
  t.equal(loads, 1, 'loaded once');
});

t.test(
  'a fall on a LAN node: an alert stored with the samples before, the recording after, the retained LAN alert',
  async (t) => {
    const { fall, stored, published, send } = setup(t, [imu(5, { node_id: 'pendant' })]);
    fall.apply([imu(5, { node_id: 'pendant' })]);
    send('pendant', fallSamples());
    await fall.idle();
    const alerts = stored.filter((o) => o.name === 'fall_detected');
    t.equal(alerts.length, 1, 'one alert');
    const a = alerts[0]!;
    t.match(a, {
      componentId: 5,
      componentType: 'imu',
      kind: 'event',
      data: { node_id: 'pendant', model: 'imu-fall@1.0.0', rate_hz: 50 },
    });
    const before = a.data!['samples_before'] as number[][];
    t.ok(before.length > 150 && before.length <= RECORD_BEFORE_S * 50, `${before.length} samples before the alert`);
    t.same(before.at(-1), [1, 0, 0, 0, 0, 0]);
    const rec = stored.find((o) => o.name === 'fall_recording');
    t.ok(rec, 'the recording after the alert');
    t.equal(rec!.data!['alert_id'], a.data!['alert_id'], 'linked to its alert');
    t.equal((rec!.data!['samples_after'] as unknown[]).length, RECORD_AFTER_S * 50);
    t.equal(published.length, 1);
    t.match(published[0], { topic: `alerts/${UUID}`, retain: true });
    t.match(JSON.parse(published[0]!.payload), {
      alerts: [{ id: a.data!['alert_id'], node_id: 'pendant', status: 'open' }],
    });
    t.match(fall.health(), { status: 'running', alerts: 1, nodes: [{ node_id: 'pendant', component_id: 5, gaps: 0 }] });
  },
);

t.test('walking about raises nothing', async (t) => {
  const { fall, stored, send } = setup(t, [imu(5, { node_id: 'pendant' })]);
  fall.apply([imu(5, { node_id: 'pendant' })]);
  const walk: number[][] = [];
  for (let i = 0; i < 3000; i++)
    walk.push([0.1 * Math.sin(i / 4), -1 + 0.25 * Math.sin(i / 2), 0.05, 20 * Math.sin(i / 3), 5, 2]);
  send('pendant', walk);
  await fall.idle();
  t.equal(stored.filter((o) => o.name === 'fall_detected').length, 0);
});

t.test('hostile and malformed batches are dropped; gaps and late batches counted; the node carries on', async (t) => {
  const { fall, stored, send } = setup(t, [imu(5, { node_id: 'pendant' })]);
  fall.apply([imu(5, { node_id: 'pendant' })]);
  for (const junk of [
    'not json',
    '[]',
    '{"seq":-1,"rate_hz":50,"samples":[[0,0,0,0,0,0]]}',
    '{"seq":1,"rate_hz":2,"samples":[[0,0,0,0,0,0]]}',
    '{"seq":1,"rate_hz":50,"samples":[]}',
    '{"seq":1,"rate_hz":50,"samples":[[0,0,0]]}',
    '{"seq":1,"rate_hz":50,"samples":[[1e9,0,0,0,0,0]]}',
    '{"seq":1,"rate_hz":50,"samples":[["1",0,0,0,0,0]]}',
    `{"seq":1,"rate_hz":50,"samples":${JSON.stringify(Array(501).fill([0, -1, 0, 0, 0, 0]))}}`,
    '{"seq":1,"rate_hz":50,"samples":[[0,0,0,0,0,0]],"__proto__":{"x":1}}',
    'x'.repeat(70_000),
  ])
    fall.fromPayload('imu', 'pendant', Buffer.from(junk));
  await fall.idle();
  const ok = (seq: number) =>
    fall.fromPayload(
      'imu',
      'pendant',
      Buffer.from(JSON.stringify({ seq, rate_hz: 50, samples: Array(50).fill([0, -1, 0, 0, 0, 0]) })),
    );
  ok(10);
  ok(11);
  ok(13); // 12 lost
  ok(12); // late
  await fall.idle();
  // The __proto__ batch is well-formed (JSON.parse makes it a plain key): accepted as seq 1, harmless.
  t.match(fall.health().nodes, [{ node_id: 'pendant', batches: 5, gaps: 2, out_of_order: 1 }]);
  // A fall after all that is still detected.
  const samples = fallSamples();
  for (let i = 0, seq = 14; i < samples.length; i += 50, seq++)
    fall.fromPayload(
      'imu',
      'pendant',
      Buffer.from(JSON.stringify({ seq, rate_hz: 50, samples: samples.slice(i, i + 50) })),
    );
  await fall.idle();
  t.equal(stored.filter((o) => o.name === 'fall_detected').length, 1);
  void send;
});

t.test('a node at 100 Hz is resampled; one no imu component names is reported, not guessed', async (t) => {
  const { fall, stored, send } = setup(t, [imu(5, { node_id: 'pendant' })]);
  fall.apply([imu(5, { node_id: 'pendant' })]);
  const at100 = fallSamples().flatMap((s) => [s, s]);
  send('pendant', at100, { rate_hz: 100 });
  send('stranger', fallSamples());
  await fall.idle();
  t.equal(stored.filter((o) => o.name === 'fall_detected').length, 1, 'the 100 Hz fall is detected');
  t.match(
    fall.health().nodes.find((n) => n.node_id === 'stranger'),
    { problem: /no imu component/ },
  );
});

t.test('a sensor mode on an IMU is a configuration error, reported in health', async (t) => {
  const { fall, stored, send } = setup(t, [imu(5, { node_id: 'pendant', mode: 'sensor_or_model' })]);
  fall.apply([imu(5, { node_id: 'pendant', mode: 'sensor_or_model' })]);
  send('pendant', fallSamples());
  await fall.idle();
  t.equal(stored.length, 0);
  t.match(fall.health().nodes, [{ node_id: 'pendant', problem: /needs a sensor fall flag/ }]);
});

t.test('corrupt model files: detection is down and says why; the service keeps answering', async (t) => {
  const dir = t.testdir();
  cpSync(modelDir('imu-fall'), dir, { recursive: true });
  writeFileSync(join(dir, 'weights.bin'), Buffer.alloc(10));
  const { fall, stored, send } = setup(t, [imu(5, { node_id: 'pendant' })], () => engine.load(dir, IMU_FEATURES));
  fall.apply([imu(5, { node_id: 'pendant' })]);
  send('pendant', fallSamples());
  await fall.idle();
  t.match(fall.health(), { status: 'down', reason: /weights\.bin does not match/ });
  t.match(
    stored,
    [{ name: 'detection_down', componentId: 5, data: { reason: /imu-fall model failed to load: .*weights\.bin/ } }],
    'the family is told detection is down: one detection_down, no fall records',
  );
  t.match(fall.health().detection_down, [{ key: 'model:imu-fall' }]);
});

t.test('a node silent past its limit is a detection-down alert; heard again, restored', async (t) => {
  const comps = [imu(5, { node_id: 'pendant', silent_after_s: 30 }), imu(6, { node_id: 'belt' })];
  const { fall, stored, send, clock } = setup(t, comps);
  fall.apply(comps);
  await fall.checkNodes();
  const still = Array.from({ length: 50 }, () => [0, -1, 0, 0, 0, 0]);
  send('pendant', still);
  send('belt', still);
  await fall.idle();
  clock.advance(29_000);
  await fall.checkNodes();
  t.equal(stored.filter((o) => o.name === 'detection_down').length, 0, 'not before the limit');
  clock.advance(2_000);
  await fall.checkNodes();
  await fall.checkNodes();
  const down = stored.filter((o) => o.name === 'detection_down');
  t.match(down, [{ componentId: 5, data: { node_id: 'pendant', reason: /silent for more than 30 s/ } }], 'once');
  t.match(fall.health().detection_down, [{ key: 'node:pendant' }]);
  clock.advance(30_000);
  await fall.checkNodes();
  t.match(
    stored.filter((o) => o.name === 'detection_down').map((o) => o.data!['node_id']),
    ['pendant', 'belt'],
    'the belt node’s default limit is 60 s',
  );
  send('pendant', still);
  await fall.idle();
  const restored = stored.filter((o) => o.name === 'detection_restored');
  t.match(restored, [{ data: { alert_id: down[0]!.data!['alert_id'], node_id: 'pendant' } }], 'restored when heard');
  t.same(
    fall.health().detection_down.map((d) => d.key),
    ['node:belt'],
  );
});

t.test(
  'a second fall inside the cooldown is a duplicate: counted and linked to the first, never dropped',
  async (t) => {
    const { fall, stored, published, send } = setup(t, [imu(5, { node_id: 'pendant' })]);
    fall.apply([imu(5, { node_id: 'pendant' })]);
    send('pendant', [...fallSamples(), ...fallSamples()]); // two falls ~17 s apart; cooldown 30 s
    await fall.idle();
    await fall.desk.flushDuplicates();
    const alerts = stored.filter((o) => o.name === 'fall_detected');
    t.equal(alerts.length, 1, 'one alert');
    const dup = stored.filter((o) => o.name === 'fall_duplicates');
    t.equal(dup.length, 1, 'one coalesced report');
    const suppressed = fall.health().nodes[0]!.suppressed;
    t.ok(suppressed > 0, `${suppressed} suppressed decisions`);
    t.match(dup[0]!.data, { alert_id: alerts[0]!.data!['alert_id'], duplicates: suppressed });
    t.match(JSON.parse(published.at(-1)!.payload), { alerts: [{ duplicates: suppressed }] });
  },
);

t.test('binary batches (int16) detect a fall like JSON ones', async (t) => {
  const { fall, stored } = setup(t, [imu(5, { node_id: 'pendant' })]);
  fall.apply([imu(5, { node_id: 'pendant' })]);
  const samples = fallSamples();
  for (let i = 0, seq = 0; i < samples.length; i += 50, seq++)
    fall.fromPayload('imu', 'pendant', encodeImuBatch({ seq, rateHz: 50, samples: samples.slice(i, i + 50) }, 'int16'));
  await fall.idle();
  t.equal(stored.filter((o) => o.name === 'fall_detected').length, 1);
  t.match(fall.health().nodes, [{ node_id: 'pendant', gaps: 0, out_of_order: 0 }]);
});

t.test('a cancel from the app stops the alarm at any time and is recorded', async (t) => {
  const config = { node_id: 'pendant', alarm_component_id: 9, cancel_window_s: 10 };
  const commands: { id: number; action: string; durationS?: number }[] = [];
  const { fall, stored, published, send, clock } = setup(
    t,
    [imu(5, config)],
    () => engine.load(modelDir('imu-fall'), IMU_FEATURES),
    commands,
  );
  fall.apply([imu(5, config)]);
  send('pendant', fallSamples());
  await fall.idle();
  const alertId = stored.find((o) => o.name === 'fall_detected')!.data!['alert_id'] as string;
  clock.advance(300_000); // long past the button's window
  t.equal(await fall.desk.cancel('no-such-alert', { by: 'app', who: 'x' }), false);
  t.equal(await fall.desk.cancel(alertId, { by: 'app', who: 'carer@example.com' }), true);
  t.equal(await fall.desk.cancel(alertId, { by: 'app', who: 'carer@example.com' }), false, 'once');
  t.same(commands.at(-1), { id: 9, action: 'off' });
  t.match(
    stored.find((o) => o.name === 'fall_cancelled'),
    {
      data: { alert_id: alertId, by: 'app', who: 'carer@example.com' },
    },
  );
  t.match(JSON.parse(published.at(-1)!.payload), { alerts: [{ id: alertId, status: 'cancelled' }] });
});

t.test('the alarm signals at once; the cancel button within the window cancels, keeping the alert', async (t) => {
  const config = {
    node_id: 'pendant',
    alarm_component_id: 9,
    cancel_button_component_id: 8,
    cancel_window_s: 60,
    alarm_s: 120,
  };
  const commands: { id: number; action: string; durationS?: number }[] = [];
  const { fall, stored, published, lanAlerts, send, clock, pipeline } = setup(
    t,
    [imu(5, config)],
    () => engine.load(modelDir('imu-fall'), IMU_FEATURES),
    commands,
  );
  fall.apply([imu(5, config)]);
  send('pendant', fallSamples());
  await fall.idle();
  t.same(commands, [{ id: 9, action: 'on', durationS: 120 }], 'alarm on');
  const alertId = stored.find((o) => o.name === 'fall_detected')!.data!['alert_id'];
  // Another button, or a release, is not "I'm OK".
  pipeline.emit({ componentId: 7, componentType: 'button', kind: 'state', name: 'state', state: 'PRESSED', ts: 0 });
  pipeline.emit({ componentId: 8, componentType: 'button', kind: 'state', name: 'state', state: 'RELEASED', ts: 0 });
  clock.advance(20_000);
  pipeline.emit({ componentId: 8, componentType: 'button', kind: 'state', name: 'state', state: 'PRESSED', ts: 0 });
  // The cancel's last step: the LAN hears the alert cancelled.
  await until('the press cancels the alert', () => lanAlerts().some((a) => a.status === 'cancelled'));
  t.match(
    stored.find((o) => o.name === 'fall_cancelled'),
    {
      kind: 'event',
      data: { alert_id: alertId, node_id: 'pendant', by: 'button', after_s: 20 },
    },
  );
  t.same(commands.at(-1), { id: 9, action: 'off' }, 'alarm off');
  t.match(JSON.parse(published.at(-1)!.payload), { alerts: [{ id: alertId, status: 'cancelled' }] });
  t.ok(
    stored.some((o) => o.name === 'fall_detected'),
    'the alert record stays',
  );
});

t.test('after the cancel window a press changes nothing; bad alert settings are reported', async (t) => {
  const config = { node_id: 'pendant', alarm_component_id: 9, cancel_button_component_id: 8, cancel_window_s: 10 };
  const { fall, stored, lanAlerts, send, clock, pipeline } = setup(t, [imu(5, config)]);
  fall.apply([imu(5, config)]);
  send('pendant', fallSamples());
  await fall.idle();
  t.match(lanAlerts(), [{ status: 'open' }]);
  clock.advance(11_000);
  pipeline.emit({ componentId: 8, componentType: 'button', kind: 'state', name: 'state', state: 'PRESSED', ts: 0 });
  // The same press inside the window cancels (the test above); here nothing may change.
  await never(
    'a press after the window cancels the alert',
    () => stored.some((o) => o.name === 'fall_cancelled') || lanAlerts().some((a) => a.status !== 'open'),
    300,
  );
  t.notOk(
    stored.some((o) => o.name === 'fall_cancelled'),
    'too late to cancel on the hub',
  );

  const bad = setup(t, [imu(6, { node_id: 'p2', alarm_component_id: 'the led' })]);
  bad.fall.apply([imu(6, { node_id: 'p2', alarm_component_id: 'the led' })]);
  bad.send('p2', fallSamples());
  await bad.fall.idle();
  t.match(bad.fall.health().nodes, [{ node_id: 'p2', problem: /config\.alarm_component_id: expected a component id/ }]);
});

t.test('a flooding node: memory stays bounded (one window and the recorder per node)', (t) => {
  // 2 MB is 10 bytes a sample: any per-sample leak shows; GC noise is far below it.
  t.ok(flood.grown < 2 * 1024 * 1024, `heap retained ${(flood.grown / 1048576).toFixed(2)} MB after 200,000 samples`);
  t.match(flood.nodes, [{ batches: 4200 }]);
  t.end();
});
