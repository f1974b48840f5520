import type { ComponentSpec } from '../sync/components.js';
import { readDht, type DhtOptions } from './host/iio-dht.js';
import { SensorError } from './host/sensor-error.js';
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
  const problems: string[] = [];
  const v = component.config?.['interval_s'];
  const intervalOk = typeof v === 'number' && Number.isFinite(v) && v >= INTERVAL_S.min && v <= INTERVAL_S.max;
  if (v !== undefined && v !== null && !intervalOk)
    problems.push(`config.interval_s must be a number of seconds from ${INTERVAL_S.min} to ${INTERVAL_S.max}`);
  const device = component.config?.['iio_device'];
  if (device !== undefined && device !== null && !(typeof device === 'string' && DEVICE_RE.test(device)))
    problems.push("config.iio_device must look like 'iio:device0'");
  return problems;
}

function settings(component: ComponentSpec): { intervalMs: number; device: string | undefined } {
  const v = component.config?.['interval_s'];
  const s = typeof v === 'number' && Number.isFinite(v) ? v : INTERVAL_S.default;
  const device = component.config?.['iio_device'];
  return {
    // Clamped as well as checked: a timer must never spin even if check() was skipped.
    intervalMs: Math.min(Math.max(s, INTERVAL_S.min), INTERVAL_S.max) * 1000,
    device: typeof device === 'string' ? device : undefined,
  };
}

/** Seams for tests: the file reader and retry pacing of readDht. */
export type Dht22Deps = Pick<DhtOptions, 'readFile' | 'pauseMs' | 'attempts'>;

export function createDht22Driver(ctx: DriverContext, deps: Dht22Deps = {}): Driver {
  const { intervalMs, device } = settings(ctx.component);
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let running = false;
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

  // Never rejects: a timer callback has nobody to throw to.
  const tick = async (): Promise<void> => {
    try {
      const r = await readDht(ctx.host, { ...deps, device });
      if (!running) return;
      if (warned) ctx.log.info({ failures, device: r.device }, 'DHT22 readings are back');
      failures = 0;
      warned = false;
      ctx.out.reading('temperature', r.temperature);
      ctx.out.reading('humidity', r.humidity);
    } catch (err) {
      failed(err);
    }
  };
  // One read at a time: retries can outlast a short interval, and the sensor cannot be hurried.
  const poll = (): Promise<void> => (inFlight ??= tick().finally(() => (inFlight = undefined)));

  return {
    async start() {
      if (running) return;
      running = true;
      await poll(); // a fresh hub shows a value at once, not after the first interval
      if (running) timer = setInterval(() => void poll(), intervalMs);
    },
    async stop() {
      running = false;
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}

const dht22: DriverDescriptor = {
  type: 'dht22',
  actions: [],
  check,
  // The descriptor cannot see a component's interval: 3 × the default one.
  // Three missed samples at the component's own interval.
  silenceLimitMs: (component) => 3 * settings(component).intervalMs,
  create: (ctx) => createDht22Driver(ctx),
};

export default dht22;
