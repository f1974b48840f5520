import { cpSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { HostRoot } from '../../core/host-root.js';
import { readDht, type ReadFile } from '../../drivers/host/iio-dht.js';
import { SensorError } from '../../drivers/host/sensor-error.js';
import { SystemSampler } from '../../drivers/host/system-stats.js';
import { readCpuTemperature } from '../../drivers/host/thermal.js';
import { parseThrottled, readThrottled } from '../../drivers/host/vcgencmd.js';

const fixturePath = (name: string) => new URL(`../fixtures/hosts/${name}`, import.meta.url).pathname;
const fixture = (name: string) => new HostRoot(fixturePath(name));
const errno = (code: string) => Object.assign(new Error(code), { code });

/** Reads the real fixture files, but value files fail with `code` the first `times` reads. */
function flaky(code: string, times: number): { read: ReadFile; calls: () => number } {
  let calls = 0;
  return {
    read: async (path) => {
      if (path.endsWith('_input') && calls++ < times) throw errno(code);
      return readFile(path, 'utf8');
    },
    calls: () => calls,
  };
}

t.test('CPU temperature', async (t) => {
  t.equal(await readCpuTemperature(fixture('thermal-pi4')), 48.3, 'millidegrees → °C, one decimal');

  const missing = readCpuTemperature(fixture('no-sensors'));
  await t.rejects(missing, SensorError);
  await t.rejects(missing, { transient: false, message: /thermal_zone0\/temp does not exist/ }, 'names the path');

  const dir = t.testdir({ sys: { class: { thermal: { thermal_zone0: { temp: 'N/A\n' } } } } });
  await t.rejects(readCpuTemperature(new HostRoot(dir)), {
    name: 'SensorError',
    message: /unexpected content in .*thermal_zone0\/temp: "N\/A"/,
  });
});

t.test('DHT22 through IIO', async (t) => {
  const host = fixture('iio-dht22');
  t.same(await readDht(host), { temperature: 21.5, humidity: 45.3, device: 'iio:device0' }, 'first dht11 device');
  t.same(
    await readDht(host, { device: 'iio:device2' }),
    { temperature: -3.2, humidity: 81.7, device: 'iio:device2' },
    'config.iio_device picks another sensor',
  );
  await t.rejects(
    readDht(host, { device: 'iio:device1' }),
    { transient: false, message: /iio:device1 is 'bme280', not a dht11/ },
    'a device of another driver is refused',
  );
  await t.rejects(
    readDht(host, { device: '../../../../etc' }),
    { transient: false, message: /iio_device must look like/ },
    'config cannot name a path outside the IIO directory',
  );

  const twice = flaky('EIO', 2);
  t.same(
    await readDht(host, { readFile: twice.read, pauseMs: 0 }),
    { temperature: 21.5, humidity: 45.3, device: 'iio:device0' },
    'EIO twice, then a good frame',
  );
  t.equal(twice.calls(), 4, 'temperature took 3 reads, humidity 1');

  const always = flaky('EIO', Infinity);
  await t.rejects(
    readDht(host, { readFile: always.read, pauseMs: 0 }),
    { name: 'SensorError', transient: true, message: /in_temp_input: EIO on all 3 attempts/ },
    'EIO every time → transient',
  );
  t.equal(always.calls(), 3, 'gave up after `attempts` reads');

  await t.rejects(readDht(host, { readFile: flaky('ETIMEDOUT', Infinity).read, pauseMs: 0, attempts: 5 }), {
    transient: true,
    message: /ETIMEDOUT on all 5 attempts/,
  });

  await t.rejects(
    readDht(fixture('no-sensors')),
    { name: 'SensorError', transient: false, message: /no dht11 device among 1 IIO devices/ },
    'only an ADC: no device, not transient',
  );
  await t.rejects(readDht(fixture('thermal-pi4')), {
    transient: false,
    message: /no IIO devices at .*dtoverlay=dht11/,
  });
  await t.rejects(
    readDht(host, { readFile: flaky('ENOENT', Infinity).read, pauseMs: 0 }),
    { transient: false, message: /cannot read .*in_temp_input/ },
    'a value file that vanished is not retried',
  );

  const wet = async (path: string) =>
    path.endsWith('in_humidityrelative_input') ? '120000\n' : readFile(path, 'utf8');
  await t.rejects(
    readDht(host, { readFile: wet }),
    { transient: true, message: /humidity 120 % is outside 0…100 %/ },
    'out of range is a bad frame',
  );
});

/** A /proc/stat with the given [busy, idle] jiffies for the aggregate line and each core. */
function stat(rows: [number, number][]): string {
  const line = (name: string, [busy, idle]: [number, number]) => `${name} ${busy} 0 0 ${idle} 0 0 0 0 0 0`;
  const sum = rows.reduce<[number, number]>(([b, i], [rb, ri]) => [b + rb, i + ri], [0, 0]);
  return [line('cpu ', sum), ...rows.map((r, n) => line(`cpu${n}`, r)), 'ctxt 75329001', ''].join('\n');
}

t.test('system sampler', async (t) => {
  const first = await new SystemSampler(fixture('system-pi4')).sample();
  t.match(first, { cpu_average: 7.3, cpu_peak: 10.8, memory_used_pct: 15, uptime_s: 12345 }, 'since boot');
  t.ok(first.disk_used_pct !== undefined && first.disk_used_pct >= 0 && first.disk_used_pct <= 100, 'disk via statfs');

  const dir = t.testdir();
  cpSync(fixturePath('system-pi4'), dir, { recursive: true });
  const statPath = join(dir, 'proc/stat');
  writeFileSync(
    statPath,
    stat([
      [100, 900],
      [100, 900],
      [100, 900],
      [100, 900],
    ]),
  );
  const sampler = new SystemSampler(new HostRoot(dir));
  t.match(await sampler.sample(), { cpu_average: 10, cpu_peak: 10 });
  // +100 jiffies per core; busy +20, +10, +30, +90.
  writeFileSync(
    statPath,
    stat([
      [120, 980],
      [110, 990],
      [130, 970],
      [190, 910],
    ]),
  );
  t.match(await sampler.sample(), { cpu_average: 37.5, cpu_peak: 90 }, 'shares of the span between samples');
  // 550 of 4400 jiffies overall, 190 of 1100 on cpu3.
  t.match(await sampler.sample(), { cpu_average: 12.5, cpu_peak: 17.3 }, 'no time passed: boot totals, not 0/0');

  await t.rejects(new SystemSampler(fixture('no-sensors')).sample(), { name: 'SensorError', message: /proc\/stat/ });
});

t.test('vcgencmd get_throttled', async (t) => {
  t.same(parseThrottled('throttled=0x0\n'), {
    raw: 0,
    under_voltage_now: false,
    freq_capped_now: false,
    throttled_now: false,
    soft_temp_limit_now: false,
    under_voltage_occurred: false,
    freq_capped_occurred: false,
    throttled_occurred: false,
    soft_temp_limit_occurred: false,
  });
  t.same(parseThrottled('throttled=0x50005\n'), {
    raw: 0x50005,
    under_voltage_now: true,
    freq_capped_now: false,
    throttled_now: true,
    soft_temp_limit_now: false,
    under_voltage_occurred: true,
    freq_capped_occurred: false,
    throttled_occurred: true,
    soft_temp_limit_occurred: false,
  });
  t.match(
    parseThrottled('throttled=0x50000'),
    {
      raw: 0x50000,
      under_voltage_now: false,
      throttled_now: false,
      under_voltage_occurred: true,
      throttled_occurred: true,
    },
    'occurred since boot, fine now',
  );
  for (const garbage of ['', 'VCHI initialization failed', 'throttled=', 'throttled=0xZZ', 'temp=48.3'])
    t.equal(parseThrottled(garbage), undefined, `garbage: ${JSON.stringify(garbage)}`);

  t.equal(await readThrottled(() => Promise.reject(errno('ENOENT'))), undefined, 'no vcgencmd: undefined');
  t.match(await readThrottled(async () => 'throttled=0x50005\n'), { under_voltage_now: true });
  await t.rejects(
    readThrottled(() =>
      Promise.reject(Object.assign(new Error('Command failed'), { code: 255, stderr: 'VCHI initialization failed\n' })),
    ),
    { name: 'SensorError', message: /get_throttled failed: VCHI initialization failed/ },
    'other failures carry the reason for the caller to log',
  );
  await t.rejects(
    readThrottled(async () => 'nonsense'),
    { name: 'SensorError' },
  );
});
