import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import { HostRoot } from '../../core/host-root.js';
import { silentLogger } from '../../core/logger.js';
import { Pipeline, type ComponentOutput } from '../../daemon/components/pipeline.js';
import { ComponentRuntime } from '../../daemon/components/runtime.js';
import type { GpioPort } from '../../drivers/gpio/port.js';
import type { DriverDescriptor } from '../../drivers/types.js';
import type { ComponentSpec } from '../../sync/components.js';
import { until } from '../helpers/wait.js';

const spec = (id: number, component_type: string, config: Record<string, unknown> | null = null): ComponentSpec => ({
  id,
  component_type,
  name: null,
  pin_number: null,
  pin_mode: null,
  default_state: null,
  config,
});

/** Fake drivers (our own interface): record lifecycle calls; `fail` makes start() throw N times. */
function fakes() {
  const calls: string[] = [];
  let failures = 0;
  const make = (type: string, extra: Partial<DriverDescriptor> = {}): DriverDescriptor => ({
    type,
    actions: ['on', 'off'],
    check: (c) => (c.config?.['bad'] ? ['config.bad is set'] : []),
    create: (ctx) => ({
      async start() {
        calls.push(`start ${ctx.component.id}`);
        if (type === 'flaky' && failures-- > 0) throw new Error('sensor not answering');
        ctx.out.state('ON');
      },
      async stop() {
        calls.push(`stop ${ctx.component.id}`);
      },
      async command(cmd) {
        ctx.out.state(cmd.action.toUpperCase());
        return { state: cmd.action.toUpperCase() };
      },
    }),
    ...extra,
  });
  const registry: Record<string, DriverDescriptor> = {
    thing: make('thing'),
    flaky: make('flaky'),
    quiet: make('quiet', { silenceLimitMs: 1000 }),
  };
  return { calls, registry, failNext: (n: number) => (failures = n) };
}

function setup(t: { teardown(fn: () => unknown): void }) {
  const f = fakes();
  const clock = new ManualClock();
  const pipeline = new Pipeline(silentLogger());
  const outputs: ComponentOutput[] = [];
  pipeline.on('test', (o) => void outputs.push(o));
  const runtime = new ComponentRuntime({
    log: silentLogger(),
    clock,
    host: new HostRoot('/nonexistent'),
    gpio: {} as GpioPort,
    pipeline,
    load: async (type) => f.registry[type],
    retryBaseMs: 20,
  });
  t.teardown(() => runtime.stop());
  return { ...f, clock, pipeline, outputs, runtime };
}

t.test('apply starts, restarts changed and stops removed components only', async (t) => {
  const s = setup(t);
  await s.runtime.apply([spec(1, 'thing'), spec(2, 'thing')]);
  t.same(s.calls, ['start 1', 'start 2']);
  t.same(
    s.runtime.status().map((x) => x.health),
    ['ok', 'ok'],
  );
  t.same(
    s.outputs.map((o) => [o.componentId, o.state]),
    [
      [1, 'ON'],
      [2, 'ON'],
    ],
    'outputs reach the pipeline',
  );
  await s.runtime.apply([spec(1, 'thing'), spec(2, 'thing', { mode: 'x' }), spec(3, 'thing')]);
  t.same(s.calls.slice(2), ['stop 2', 'start 2', 'start 3'], 'component 1 untouched, 2 restarted, 3 started');
  await s.runtime.apply([spec(3, 'thing')]);
  t.same(s.calls.slice(5).sort(), ['stop 1', 'stop 2']);
  t.same(
    s.runtime.status().map((x) => x.id),
    [3],
  );
});

t.test('unknown types and invalid components are reported, never fatal', async (t) => {
  const s = setup(t);
  await s.runtime.apply([spec(1, 'laser'), spec(2, 'thing', { bad: true }), spec(3, 'thing')]);
  const st = s.runtime.status();
  t.match(st[0], { id: 1, health: 'faulty', reason: /no driver for component type laser/ });
  t.match(st[1], { id: 2, health: 'faulty', reason: /config\.bad is set/ });
  t.match(st[2], { id: 3, health: 'ok' });
});

t.test('components a LAN node serves (radar, imu) are not run by a driver, nor reported faulty', async (t) => {
  const s = setup(t);
  await s.runtime.apply([spec(1, 'radar', { node_id: 'r1' }), spec(2, 'imu', { node_id: 'p1' }), spec(3, 'thing')]);
  t.same(
    s.runtime.status().map((x) => [x.id, x.health]),
    [[3, 'ok']],
  );
});

t.test('a driver that fails to start is retried with backoff; others are unaffected', async (t) => {
  const s = setup(t);
  s.failNext(2);
  await s.runtime.apply([spec(1, 'flaky'), spec(2, 'thing')]);
  t.match(s.runtime.status()[0], { health: 'faulty', reason: /start failed: sensor not answering/ });
  t.equal(s.runtime.status()[1]!.health, 'ok');
  await until('the flaky driver recovers', () => s.runtime.status()[0]!.health === 'ok');
  t.equal(s.runtime.status()[0]!.health, 'ok', 'recovered after retries');
  t.equal(s.calls.filter((c) => c === 'start 1').length, 3);
});

t.test('a silent sensor becomes faulty and recovers when it speaks again', async (t) => {
  const s = setup(t);
  await s.runtime.apply([spec(1, 'quiet')]);
  s.clock.advance(500);
  s.runtime.checkSilenceNow();
  t.equal(s.runtime.status()[0]!.health, 'ok');
  s.clock.advance(1500);
  s.runtime.checkSilenceNow();
  t.match(s.runtime.status()[0], { health: 'faulty', reason: /silent/ });
  await s.runtime.command(1, { action: 'on' }).catch(() => undefined);
  t.equal(s.runtime.status()[0]!.health, 'faulty', 'commands are refused while faulty');
});

t.test('commands are validated at one entry point', async (t) => {
  const s = setup(t);
  await s.runtime.apply([spec(1, 'thing')]);
  t.same(await s.runtime.command(1, { action: 'off' }), { state: 'OFF' });
  t.equal(s.outputs.at(-1)!.state, 'OFF');
  await t.rejects(s.runtime.command(9, { action: 'on' }), { code: 'ARES_ERR_NOT_FOUND' });
  await t.rejects(s.runtime.command(1, { action: 'explode' }), {
    code: 'ARES_ERR_UNPROCESSABLE',
    message: /not one of on, off/,
  });
  for (const d of [0, -1, Number.NaN, 1e9])
    await t.rejects(
      s.runtime.command(1, { action: 'on', durationS: d }),
      { code: 'ARES_ERR_BAD_REQUEST' },
      `duration ${d}`,
    );
});

t.test('a failing pipeline subscriber does not silence the others', async (t) => {
  const s = setup(t);
  s.pipeline.on('broken', () => {
    throw new Error('boom');
  });
  await s.runtime.apply([spec(1, 'thing')]);
  t.equal(s.outputs.length, 1);
  t.same(s.pipeline.latest(1)?.state, 'ON');
});

t.test('every health change is reported (the LAN state shows a dead sensor)', async (t) => {
  const f = fakes();
  const clock = new ManualClock();
  const pipeline = new Pipeline(silentLogger());
  const changes: string[] = [];
  const runtime = new ComponentRuntime({
    log: silentLogger(),
    clock,
    host: new HostRoot('/nonexistent'),
    gpio: {} as GpioPort,
    pipeline,
    load: async (type) => f.registry[type],
    onHealth: (s) => changes.push(`${s.id}:${s.health}${s.reason ? ` (${s.reason})` : ''}`),
  });
  t.teardown(() => runtime.stop());
  await runtime.apply([spec(1, 'quiet'), spec(2, 'laser')]);
  clock.advance(2000);
  runtime.checkSilenceNow();
  runtime.checkSilenceNow();
  t.same(
    changes,
    ['1:ok', '2:faulty (no driver for component type laser)', '1:faulty (silent for more than 1 s)'],
    'each change once; a new component begins as starting',
  );
});
