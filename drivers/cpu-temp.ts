import type { HostRoot } from '../core/host-root.js';
import type { ComponentSpec } from '../sync/components.js';
import { readCpuTemperature } from './host/thermal.js';
import type { Driver, DriverContext, DriverDescriptor } from './types.js';

/**
 * The SoC temperature as a sensor component: `reading('temperature', °C)` every `config.interval_s`.
 * Reads only the host's thermal zone, so it needs no pin.
 */
const INTERVAL_S = { default: 30, min: 1, max: 3600 } as const;

function check(component: ComponentSpec): string[] {
  const v = component.config?.['interval_s'];
  if (v === undefined || v === null) return [];
  if (typeof v === 'number' && Number.isFinite(v) && v >= INTERVAL_S.min && v <= INTERVAL_S.max) return [];
  return [`config.interval_s must be a number of seconds from ${INTERVAL_S.min} to ${INTERVAL_S.max}`];
}

/** Clamped as well as checked: a timer must never spin even if check() was skipped. */
function intervalMs(component: ComponentSpec): number {
  const v = component.config?.['interval_s'];
  const s = typeof v === 'number' && Number.isFinite(v) ? v : INTERVAL_S.default;
  return Math.min(Math.max(s, INTERVAL_S.min), INTERVAL_S.max) * 1000;
}

export interface CpuTempDeps {
  read?: (host: HostRoot) => Promise<number>;
}

export function createCpuTempDriver(ctx: DriverContext, deps: CpuTempDeps = {}): Driver {
  const read = deps.read ?? readCpuTemperature;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let running = false;
  let failing = false;

  // Never rejects: a timer callback has nobody to throw to.
  const tick = async (): Promise<void> => {
    try {
      const celsius = await read(ctx.host);
      if (!running) return;
      if (failing) ctx.log.info('CPU temperature readable again');
      failing = false;
      ctx.out.reading('temperature', celsius);
    } catch (err) {
      // Loud once per streak; the runtime's silence limit marks the component faulty if it lasts.
      if (failing) ctx.log.debug({ err }, 'CPU temperature read failed again');
      else ctx.log.warn({ err }, 'CPU temperature read failed');
      failing = true;
    }
  };
  // One sample at a time: a slow read skips a tick instead of piling up.
  const poll = (): Promise<void> => (inFlight ??= tick().finally(() => (inFlight = undefined)));

  return {
    async start() {
      if (running) return;
      running = true;
      await poll(); // a fresh hub shows a value at once, not after the first interval
      if (running) timer = setInterval(() => void poll(), intervalMs(ctx.component));
    },
    async stop() {
      running = false;
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}

const cpuTemp: DriverDescriptor = {
  type: 'cpu_temp',
  actions: [],
  check,
  // The descriptor cannot see a component's interval: 3 × the default one.
  // Three missed samples at the component's own interval.
  silenceLimitMs: (component) => 3 * intervalMs(component),
  create: (ctx) => createCpuTempDriver(ctx),
};

export default cpuTemp;
