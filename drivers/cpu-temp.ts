import type { HostRoot } from '../core/host-root.js';
import { readCpuTemperature } from './host/thermal.js';
import { intervalMs, intervalProblems, periodicDriver } from './periodic.js';
import type { Driver, DriverContext, DriverDescriptor } from './types.js';

/**
 * The SoC temperature as a sensor component: `reading('temperature', °C)` every `config.interval_s`.
 * Reads only the host's thermal zone, so it needs no pin.
 */
const INTERVAL_S = { default: 30, min: 1, max: 3600 } as const;

export interface CpuTempDeps {
  read?: (host: HostRoot) => Promise<number>;
}

export function createCpuTempDriver(ctx: DriverContext, deps: CpuTempDeps = {}): Driver {
  const read = deps.read ?? readCpuTemperature;
  let failing = false;
  return periodicDriver(intervalMs(ctx.component, INTERVAL_S), async (isRunning) => {
    try {
      const celsius = await read(ctx.host);
      if (!isRunning()) return;
      if (failing) ctx.log.info('CPU temperature readable again');
      failing = false;
      ctx.out.reading('temperature', celsius);
    } catch (err) {
      // Loud once per streak; the runtime's silence limit marks the component faulty if it lasts.
      if (failing) ctx.log.debug({ err }, 'CPU temperature read failed again');
      else ctx.log.warn({ err }, 'CPU temperature read failed');
      failing = true;
    }
  });
}

const cpuTemp: DriverDescriptor = {
  type: 'cpu_temp',
  actions: [],
  check: (component) => intervalProblems(component, INTERVAL_S),
  // Three missed samples at the component's own interval.
  silenceLimitMs: (component) => 3 * intervalMs(component, INTERVAL_S),
  create: (ctx) => createCpuTempDriver(ctx),
};

export default cpuTemp;
