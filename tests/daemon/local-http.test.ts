import t, { type Test } from 'tap';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { NodeRegistry } from '../../daemon/broker/nodes.js';
import { Pipeline, type ComponentOutput } from '../../daemon/components/pipeline.js';
import { NodeIntake } from '../../daemon/nodes/intake.js';
import type { RadarFrame } from '../../daemon/http/radar-frame.js';
import { buildLocalHttp } from '../../daemon/http/local-http.js';
import { openHubDb } from '../../daemon/state/hub-db.js';
import type { ComponentSpec } from '../../sync/components.js';
import { never, until } from '../helpers/wait.js';

const FRAME = {
  device_id: 'radar1',
  presence: 1,
  movement: 2,
  moving_range: 35,
  fall_state: 0,
  dwell_state: 1,
  ts: 12345,
};

async function setup(t: Test) {
  const db = openHubDb(t.testdir());
  t.teardown(() => db.close());
  const nodes = new NodeRegistry(db);
  await nodes.add('radar1', { legacyHttp: true });
  await nodes.add('pinned', { legacyHttp: true, sourceAddr: '192.0.2.9' });
  await nodes.add('mqttnode');
  const pipeline = new Pipeline(silentLogger());
  const outputs: ComponentOutput[] = [];
  const frames: [string, number][] = [];
  pipeline.on('test', (o) => void outputs.push(o));
  const components: ComponentSpec[] = [
    {
      id: 7,
      component_type: 'radar',
      name: 'Bedroom',
      pin_number: null,
      pin_mode: null,
      default_state: null,
      config: { node_id: 'radar1' },
    },
  ];
  const radar = new NodeIntake({
    pipeline,
    clock: new ManualClock(),
    components: () => components,
    log: silentLogger(),
    onMessage: (_type, nodeId, frame) => void frames.push([nodeId, (frame as RadarFrame).fall_state]),
  });
  const app = await buildLocalHttp({
    log: silentLogger(),
    nodes,
    health: () => ({
      provisioned: true,
      centralReachable: false,
      clockSynced: true,
      components: [{ id: 7, component_type: 'radar', health: 'ok' }],
      sync: {
        lanes: [
          { lane: 'alert', depth: 0, bytes: 0, oldestTs: null },
          { lane: 'event', depth: 2, bytes: 300, oldestTs: Date.now() - 60_000 },
          { lane: 'telemetry', depth: 40, bytes: 5000, oldestTs: Date.now() - 120_000 },
        ],
        bytes: 5300,
        evicted: 3,
        deadLettered: 1,
        lastUploadAt: Date.UTC(2026, 10, 23, 12),
      },
    }),
    onRadarFrame: (nodeId, frame) => radar.accept('radar', nodeId, frame),
  });
  t.teardown(() => app.close());
  return { app, outputs, radar, frames };
}

t.test('POST /events accepts the CareDian radar JSON unchanged from registered legacy nodes', async (t) => {
  const s = await setup(t);
  const res = await s.app.inject({ method: 'POST', url: '/events', payload: { ...FRAME, firmware_extra: 'ignored' } });
  t.equal(res.statusCode, 202);
  t.same(
    s.outputs.map((o) => [o.componentId, o.name, o.value]),
    [
      [7, 'presence', 1],
      [7, 'movement', 2],
      [7, 'moving_range', 35],
      [7, 'fall_state', 0],
      [7, 'dwell_state', 1],
    ],
    'readings of the radar component that names the node',
  );
  const fall = await s.app.inject({ method: 'POST', url: '/events', payload: { ...FRAME, fall_state: 1 } });
  t.equal(fall.statusCode, 202);
  t.match(s.outputs.at(-2), { name: 'fall_state', value: 1 }, 'the sensor flag is a reading');
  t.notOk(
    s.outputs.some((o) => o.kind === 'event'),
    'not an alert by itself: the fall decision (its mode) decides',
  );
  t.same(
    s.frames,
    [
      ['radar1', 0],
      ['radar1', 1],
    ],
    'each stored frame goes on to fall detection',
  );
});

t.test('unknown, unpinned-address and MQTT-only nodes get 403', async (t) => {
  const s = await setup(t);
  const unknown = await s.app.inject({ method: 'POST', url: '/events', payload: { ...FRAME, device_id: 'ghost' } });
  t.equal(unknown.statusCode, 403);
  t.match(unknown.json(), { error: { code: 'forbidden', message: /ares hub nodes add ghost --legacy-http/ } });
  t.equal(
    (
      await s.app.inject({
        method: 'POST',
        url: '/events',
        payload: { ...FRAME, device_id: 'pinned' },
        remoteAddress: '192.0.2.10',
      })
    ).statusCode,
    403,
    'wrong source address',
  );
  t.equal(
    (
      await s.app.inject({
        method: 'POST',
        url: '/events',
        payload: { ...FRAME, device_id: 'pinned' },
        remoteAddress: '192.0.2.9',
      })
    ).statusCode,
    202,
    'pinned address',
  );
  t.equal(
    (await s.app.inject({ method: 'POST', url: '/events', payload: { ...FRAME, device_id: 'mqttnode' } })).statusCode,
    403,
    'an MQTT node is not a legacy HTTP node',
  );
  t.equal(s.outputs.length, 0, 'pinned node has no radar component: accepted, not attributed');
});

t.test('hostile /events input is a 4xx and the daemon keeps serving', async (t) => {
  const s = await setup(t);
  const bad: [string, unknown][] = [
    ['truncated JSON', '{"device_id":"radar1",'],
    ['not JSON', 'presence=1'],
    ['array', [FRAME]],
    ['missing field', { ...FRAME, presence: undefined }],
    ['wrong type', { ...FRAME, presence: 'yes' }],
    ['huge number', { ...FRAME, moving_range: 1e308 }],
    ['negative', { ...FRAME, movement: -1 }],
    ['SQL in device_id', { ...FRAME, device_id: "radar1' OR '1'='1" }],
    ['unicode device_id', { ...FRAME, device_id: 'ꙮradar' }],
    ['proto pollution', JSON.parse('{"__proto__":{"presence":1},"device_id":"radar1"}')],
    ['oversized', { ...FRAME, pad: 'x'.repeat(10_000) }],
  ];
  for (const [what, payload] of bad) {
    const res = await s.app.inject({
      method: 'POST',
      url: '/events',
      headers: { 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${what}: ${res.statusCode}`);
    t.type(res.json().error?.message, 'string', `${what}: error body`);
  }
  t.equal(s.outputs.length, 0, 'nothing entered the pipeline');
  t.equal((await s.app.inject({ method: 'POST', url: '/events', payload: FRAME })).statusCode, 202, 'still serving');
});

t.test('radar frames over MQTT are validated before they count', async (t) => {
  const s = await setup(t);
  await s.radar.fromMqtt('radar1', 'radar', Buffer.from('{broken'));
  await s.radar.fromMqtt('radar1', 'radar', Buffer.from(JSON.stringify({ ...FRAME, presence: 7 })));
  await s.radar.fromMqtt('radar1', 'imu', Buffer.from('whatever'));
  t.equal(s.outputs.length, 0);
  await s.radar.fromMqtt('radar1', 'radar', Buffer.from(JSON.stringify(FRAME)));
  t.equal(s.outputs.length, 5);
});

t.test('/healthz and /metrics', async (t) => {
  const s = await setup(t);
  const health = (await s.app.inject({ method: 'GET', url: '/healthz' })).json<{
    buffer: { disk_written_bytes: number | null };
  }>();
  t.type(health.buffer.disk_written_bytes, 'number', 'bytes this process wrote to disk (/proc/self/io)');
  t.same(
    health,
    {
      status: 'degraded',
      provisioned: true,
      central: { reachable: false },
      clock_synced: true,
      buffer: {
        lanes: {
          alert: { depth: 0, bytes: 0, oldest_age_s: null },
          event: { depth: 2, bytes: 300, oldest_age_s: 60 },
          telemetry: { depth: 40, bytes: 5000, oldest_age_s: 120 },
        },
        bytes: 5300,
        evicted: 3,
        dead_lettered: 1,
        last_upload_at: '2026-11-23T12:00:00.000Z',
        disk_written_bytes: health.buffer.disk_written_bytes,
      },
      fall: { status: 'off', nodes: [], alerts: 0, detection_down: [] },
      components: [{ id: 7, component_type: 'radar', health: 'ok' }],
    },
    'degraded while central is unreachable',
  );
  const metrics = await s.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /ares_hub_component_ok\{component_id="7",component_type="radar"\} 1/);
  t.match(metrics.body, /ares_hub_central_reachable 0/);
  t.match(metrics.body, /ares_hub_buffer_records\{lane="telemetry"\} 40/);
  t.match(metrics.body, /ares_hub_buffer_oldest_age_seconds\{lane="event"\} 60/);
  t.match(metrics.body, /ares_hub_buffer_evicted_total 3/);
  t.match(metrics.body, /ares_hub_buffer_dead_lettered_total 1/);
  t.match(metrics.body, /ares_hub_clock_synced 1/);
  t.match(metrics.body, /ares_hub_disk_written_bytes \d+/);
});

t.test('POST /events answers 202 only once the frame is stored', async (t) => {
  const db = openHubDb(t.testdir());
  t.teardown(() => db.close());
  const nodes = new NodeRegistry(db);
  await nodes.add('radar1', { legacyHttp: true });
  let stored: (() => void) | undefined;
  const app = await buildLocalHttp({
    log: silentLogger(),
    nodes,
    health: () => ({ provisioned: true, centralReachable: true, clockSynced: true, components: [], sync: undefined }),
    onRadarFrame: () => new Promise<void>((resolve) => (stored = resolve)),
  });
  t.teardown(() => app.close());
  let answered = false;
  const res = app.inject({ method: 'POST', url: '/events', payload: FRAME }).then((r) => ((answered = true), r));
  await until('the frame is handed on to be stored', () => stored !== undefined);
  await never('an answer while the frame is not stored', () => answered, 300);
  t.notOk(answered, 'no answer while the frame is not stored');
  stored!();
  t.equal((await res).statusCode, 202);
});
