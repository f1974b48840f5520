import { SystemSampler } from './host/system-stats.js';
import { readThrottled, type Throttled } from './host/vcgencmd.js';
import { intervalMs, intervalProblems, periodicDriver } from './periodic.js';
import type { Driver, DriverContext, DriverDescriptor } from './types.js';

/**
 * The hub's own health as a sensor component: CPU, memory, disk and uptime readings every
 * `config.interval_s`, plus the firmware's under-voltage/throttling flags where vcgencmd exists,
 * and a `power_problem` event the first time the firmware reports under-voltage.
 */
const INTERVAL_S = { default: 60, min: 1, max: 3600 } as const;

export interface SystemDeps {
  /** Seam for tests: what `vcgencmd get_throttled` reports (undefined = no vcgencmd). */
  throttled?: () => Promise<Throttled | undefined>;
}

export function createSystemDriver(ctx: DriverContext, deps: SystemDeps = {}): Driver {
  const sampler = new SystemSampler(ctx.host);
  const throttled = deps.throttled ?? (() => readThrottled());
  let statsFailing = false;
  let flagsFailing = false;
  /** Set once vcgencmd turns out not to exist: it will not appear while we run. */
  let noVcgencmd = false;
  let underVoltageReported = false;

  const sampleStats = async (isRunning: () => boolean): Promise<void> => {
    try {
      const s = await sampler.sample();
      if (!isRunning()) return;
      if (statsFailing) ctx.log.info('system stats readable again');
      statsFailing = false;
      // The sample's keys are the metric names; an absent disk figure is simply not reported.
      for (const [metric, value] of Object.entries(s)) ctx.out.reading(metric, value);
    } catch (err) {
      // Loud once per streak; the runtime's silence limit marks the component faulty if it lasts.
      if (statsFailing) ctx.log.debug({ err }, 'system stats failed again');
      else ctx.log.warn({ err }, 'system stats failed');
      statsFailing = true;
    }
  };

  const sampleFlags = async (isRunning: () => boolean): Promise<void> => {
    if (noVcgencmd) return;
    try {
      const flags = await throttled();
      if (!isRunning()) return;
      if (!flags) {
        noVcgencmd = true;
        ctx.log.info('vcgencmd not found (not Raspberry Pi OS?): no under-voltage readings');
        return;
      }
      flagsFailing = false;
      ctx.out.reading('under_voltage', flags.under_voltage_now ? 1 : 0);
      ctx.out.reading('throttled', flags.throttled_now ? 1 : 0);
      // The occurred-bits stick until reboot: report the first sighting, not every sample.
      if (flags.under_voltage_occurred && !underVoltageReported) {
        underVoltageReported = true;
        ctx.out.event('power_problem', { ...flags, raw: `0x${flags.raw.toString(16)}` });
      }
    } catch (err) {
      if (flagsFailing) ctx.log.debug({ err }, 'vcgencmd failed again');
      else ctx.log.warn({ err }, 'vcgencmd failed');
      flagsFailing = true;
    }
  };

  // Both halves catch their own errors; one sample at a time, so a slow vcgencmd skips a tick.
  return periodicDriver(intervalMs(ctx.component, INTERVAL_S), async (isRunning) => {
    await sampleStats(isRunning);
    await sampleFlags(isRunning);
  });
}

const system: DriverDescriptor = {
  type: 'system',
  actions: [],
  check: (component) => intervalProblems(component, INTERVAL_S),
  // Three missed samples at the component's own interval.
  silenceLimitMs: (component) => 3 * intervalMs(component, INTERVAL_S),
  create: (ctx) => createSystemDriver(ctx),
};

export default system;
