import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import { HostRoot } from '../../core/host-root.js';
import { createLogger } from '../../core/logger.js';
import cpuTemp, { createCpuTempDriver } from '../../drivers/cpu-temp.js';
import dht22, { createDht22Driver } from '../../drivers/dht22.js';
import type { GpioPort } from '../../drivers/gpio/port.js';
import { parseThrottled } from '../../drivers/host/vcgencmd.js';
import system, { createSystemDriver } from '../../drivers/system.js';
import type { DriverContext, DriverOutput } from '../../drivers/types.js';
import type { ComponentSpec } from '../../sync/components.js';

const fixture = (name: string) => new HostRoot(new URL(`../fixtures/hosts/${name}`, import.meta.url).pathname);

const spec = (component_type: string, config: Record<string, unknown> | null = null): ComponentSpec => ({
  id: 7,
  component_type,
  name: null,
  pin_number: null,
  pin_mode: null,
  default_state: null,
  config,
});

type Call = [kind: 'reading' | 'state' | 'event', name: string, value?: unknown];
interface LogLine {
  level: number;
  msg: string;
}
const WARN = 40;

/** A context on a fixture tree whose output and log are recorded. GPIO is never touched by these drivers. */
function harness(hostName: string, component: ComponentSpec) {
  const calls: Call[] = [];
  const logs: LogLine[] = [];
  const out: DriverOutput = {
    reading: (name, value) => calls.push(['reading', name, value]),
    state: (state) => calls.push(['state', state]),
    event: (name, data) => calls.push(['event', name, data]),
  };
  const ctx: DriverContext = {
    log: createLogger('debug', { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }),
    clock: new ManualClock(),
    host: fixture(hostName),
    gpio: {} as GpioPort,
    component,
    out,
  };
  const readings = () => Object.fromEntries(calls.filter((c) => c[0] === 'reading').map((c) => [c[1], c[2]]));
  const warnings = () => logs.filter((l) => l.level >= WARN).map((l) => l.msg);
  return { ctx, calls, logs, readings, warnings };
}

const acceptedIntervals = (check: (c: ComponentSpec) => string[], type: string, values: unknown[]) =>
  values.filter((interval_s) => check(spec(type, { interval_s })).length === 0);

t.test('descriptors', async (t) => {
  for (const d of [cpuTemp, dht22, system]) t.same(d.actions, [], `${d.type}: a sensor takes no commands`);
  t.same([cpuTemp.type, dht22.type, system.type], ['cpu_temp', 'dht22', 'system']);
  const limit = (d: typeof cpuTemp, config: Record<string, unknown> | null) =>
    typeof d.silenceLimitMs === 'function' ? d.silenceLimitMs(spec(d.type, config ?? undefined)) : d.silenceLimitMs;
  t.same(
    [limit(cpuTemp, null), limit(dht22, null), limit(system, null)],
    [90_000, 90_000, 180_000],
    'three default intervals',
  );
  t.same(
    [limit(cpuTemp, { interval_s: 300 }), limit(dht22, { interval_s: 300 }), limit(system, { interval_s: 600 })],
    [900_000, 900_000, 1_800_000],
    'three of the configured intervals',
  );

  const bad = [0, 0.05, -5, 3601, '30', Number.NaN, Infinity, true];
  t.same(acceptedIntervals(cpuTemp.check, 'cpu_temp', bad), [], 'cpu_temp rejects every bad interval');
  t.same(acceptedIntervals(system.check, 'system', bad), [], 'system rejects every bad interval');
  t.same(acceptedIntervals(dht22.check, 'dht22', [...bad, 1, 1.9]), [], 'dht22: nothing under 2 s');
  t.same(acceptedIntervals(cpuTemp.check, 'cpu_temp', [1, 30, 3600, null]), [1, 30, 3600, null]);
  t.same(acceptedIntervals(dht22.check, 'dht22', [2, 30, 3600]), [2, 30, 3600]);
  t.same(cpuTemp.check(spec('cpu_temp')), [], 'no config at all: defaults');
  t.match(cpuTemp.check(spec('cpu_temp', { interval_s: 0 })), [
    /interval_s must be a number of seconds from 1 to 3600/,
  ]);

  t.same(dht22.check({ ...spec('dht22', { iio_device: 'iio:device2' }), pin_number: 4 }), [], 'pin is documentation');
  t.match(dht22.check(spec('dht22', { iio_device: '../../etc' })), [/iio_device must look like 'iio:device0'/]);
});

t.test('cpu_temp', async (t) => {
  const h = harness('thermal-pi4', spec('cpu_temp', { interval_s: 1 }));
  const driver = cpuTemp.create(h.ctx);
  t.same(h.calls, [], 'create() does nothing');
  await driver.start();
  t.same(h.calls, [['reading', 'temperature', 48.3]], 'start() emits the first reading at once');
  await driver.stop();
  await driver.stop();
  t.pass('stop() is idempotent');

  const dead = harness('no-sensors', spec('cpu_temp'));
  const d = cpuTemp.create(dead.ctx);
  await d.start();
  t.same(dead.calls, [], 'no thermal zone: nothing emitted');
  t.same(dead.warnings(), ['CPU temperature read failed'], 'logged, not thrown');
  await d.stop();

  await cpuTemp.create(harness('thermal-pi4', spec('cpu_temp')).ctx).stop();
  t.pass('stop() before start() is clean');
});

t.test('cpu_temp: stop() while the first read is in flight', async (t) => {
  const h = harness('thermal-pi4', spec('cpu_temp'));
  let release: (v: number) => void = () => undefined;
  const driver = createCpuTempDriver(h.ctx, { read: () => new Promise<number>((r) => (release = r)) });
  const starting = driver.start();
  const stopping = driver.stop();
  release(50);
  await Promise.all([starting, stopping]);
  t.same(h.calls, [], 'a sample that lands after stop() is dropped');
});

t.test('dht22', async (t) => {
  const h = harness('iio-dht22', { ...spec('dht22', { interval_s: 2 }), pin_number: 4 });
  const driver = dht22.create(h.ctx);
  await driver.start();
  t.same(h.calls, [
    ['reading', 'temperature', 21.5],
    ['reading', 'humidity', 45.3],
  ]);
  await driver.stop();

  const second = harness('iio-dht22', spec('dht22', { iio_device: 'iio:device2' }));
  const d2 = dht22.create(second.ctx);
  await d2.start();
  t.same(second.readings(), { temperature: -3.2, humidity: 81.7 }, 'config.iio_device');
  await d2.stop();

  const dead = harness('no-sensors', spec('dht22'));
  const d3 = dht22.create(dead.ctx);
  await d3.start();
  t.same(dead.calls, []);
  t.same(dead.warnings(), ['DHT22 read failed'], 'no device (overlay missing) is worth a warning at once');
  await d3.stop();

  const noisy = harness('iio-dht22', spec('dht22'));
  const eio = (path: string) =>
    path.endsWith('_input') ? Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) : readFile(path, 'utf8');
  const d4 = createDht22Driver(noisy.ctx, { readFile: eio, pauseMs: 0 });
  await d4.start();
  t.same(noisy.calls, [], 'bad frames: nothing emitted');
  t.same(noisy.warnings(), [], 'one transient failure is only a debug line');
  t.match(
    noisy.logs.find((l) => l.msg === 'DHT22 read failed'),
    { level: 20 },
  );
  await d4.stop();
});

t.test('system', async (t) => {
  const h = harness('system-pi4', spec('system', { interval_s: 1 }));
  const driver = createSystemDriver(h.ctx, { throttled: async () => parseThrottled('throttled=0x50005') });
  await driver.start();
  const r = h.readings();
  t.match(r, {
    cpu_average: 7.3,
    cpu_peak: 10.8,
    memory_used_pct: 15,
    uptime_s: 12345,
    under_voltage: 1,
    throttled: 1,
  });
  t.type(r['disk_used_pct'], 'number');
  t.same(
    h.calls.filter((c) => c[0] === 'event'),
    [
      [
        'event',
        'power_problem',
        {
          raw: '0x50005',
          under_voltage_now: true,
          freq_capped_now: false,
          throttled_now: true,
          soft_temp_limit_now: false,
          under_voltage_occurred: true,
          freq_capped_occurred: false,
          throttled_occurred: true,
          soft_temp_limit_occurred: false,
        },
      ],
    ],
    'under-voltage since boot: one power_problem event',
  );
  await driver.stop();

  const healthy = harness('system-pi4', spec('system'));
  const d2 = createSystemDriver(healthy.ctx, { throttled: async () => parseThrottled('throttled=0x0') });
  await d2.start();
  t.match(healthy.readings(), { under_voltage: 0, throttled: 0 });
  t.notOk(
    healthy.calls.some((c) => c[0] === 'event'),
    'no event without under-voltage',
  );
  await d2.stop();

  const pc = harness('system-pi4', spec('system'));
  const d3 = createSystemDriver(pc.ctx, { throttled: async () => undefined });
  await d3.start();
  t.notOk('under_voltage' in pc.readings(), 'no vcgencmd: no power readings');
  t.ok('cpu_average' in pc.readings(), 'the rest still reported');
  t.same(pc.warnings(), [], 'a missing vcgencmd is not a warning');
  await d3.stop();

  const dead = harness('no-sensors', spec('system'));
  const d4 = createSystemDriver(dead.ctx, { throttled: async () => undefined });
  await d4.start();
  t.same(dead.calls, [], 'no /proc: nothing emitted');
  t.same(dead.warnings(), ['system stats failed'], 'logged, not thrown');
  await d4.stop();
});
