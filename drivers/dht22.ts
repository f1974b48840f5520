import type { ComponentSpec } from '../sync/components.js';
import { readDht, type DhtOptions } from './host/iio-dht.js';
import { SensorError } from './host/sensor-error.js';
import { intervalMs, intervalProblems, periodicDriver } from './periodic.js';
import type { Driver, DriverContext, DriverDescriptor } from './types.js';

/**
 * A DHT22 read through the kernel's IIO driver: `reading('temperature')` and `reading('humidity')`
 * every `config.interval_s`. The `dht11` overlay owns the GPIO pin, so this driver opens none;
 * `pin_number` is documentation of where the overlay put it.
 */
const INTERVAL_S = { default: 30, min: 2, max: 3600 } as const; // the DHT22 needs 2 s between reads
const DEVICE_RE = /^iio:device\d+$/;
/** Bad frames are routine; only this many failed ticks in a row are worth a warning. */
const WARN_AFTER_TRANSIENT = 3;

function check(component: ComponentSpec): string[] {
  const problems = intervalProblems(component, INTERVAL_S);
  const device = component.config?.['iio_device'];
  if (device !== undefined && device !== null && !(typeof device === 'string' && DEVICE_RE.test(device)))
    problems.push("config.iio_device must look like 'iio:device0'");
  return problems;
}

function iioDevice(component: ComponentSpec): string | undefined {
  const device = component.config?.['iio_device'];
  return typeof device === 'string' ? device : undefined;
}

/** Seams for tests: the file reader and retry pacing of readDht. */
export type Dht22Deps = Pick<DhtOptions, 'readFile' | 'pauseMs' | 'attempts'>;

export function createDht22Driver(ctx: DriverContext, deps: Dht22Deps = {}): Driver {
  const device = iioDevice(ctx.component);
  let failures = 0;
  let warned = false;

  const failed = (err: unknown): void => {
    failures++;
    const serious = !(err instanceof SensorError && err.transient) || failures >= WARN_AFTER_TRANSIENT;
    if (serious && !warned) {
      warned = true;
      ctx.log.warn({ err, failures }, 'DHT22 read failed');
    } else {
      ctx.log.debug({ err, failures }, 'DHT22 read failed');
    }
  };

  // One read at a time: retries can outlast a short interval, and the sensor cannot be hurried.
  return periodicDriver(intervalMs(ctx.component, INTERVAL_S), async (isRunning) => {
    try {
      const r = await readDht(ctx.host, { ...deps, device });
      if (!isRunning()) return;
      if (warned) ctx.log.info({ failures, device: r.device }, 'DHT22 readings are back');
      failures = 0;
      warned = false;
      ctx.out.reading('temperature', r.temperature);
      ctx.out.reading('humidity', r.humidity);
    } catch (err) {
      failed(err);
    }
  });
}

const dht22: DriverDescriptor = {
  type: 'dht22',
  actions: [],
  check,
  // Three missed samples at the component's own interval.
  silenceLimitMs: (component) => 3 * intervalMs(component, INTERVAL_S),
  create: (ctx) => createDht22Driver(ctx),
};

export default dht22;
